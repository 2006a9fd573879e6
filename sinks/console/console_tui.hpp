// SPDX-License-Identifier: MIT
// The full-screen view on a terminal: ncurses draws the lines layout() makes
// (it sends only what changed), a thread of the sink's own reads the keys
// and follows the terminal's size, and the terminal is given back as it was
// on every way out. While the view is up, what is written to stderr (the
// host's log) is shown in the status line and printed after the view ends,
// never over the screen. When the view ends, its last screen is printed as
// text, so the final counts stay on the terminal.
#pragma once

#include <netmon/sample.hpp>

#include <memory>

namespace netmon::console {

// Whether stdout is a terminal the view can draw on: a terminal, a TERM
// known to the terminfo database, not "dumb".
bool screen_possible();

class Tui {
 public:
  // Takes over the terminal (stdout, keys from stdin when it is one).
  // Throws netmon::Error if it cannot.
  Tui();
  ~Tui();  // stop()
  Tui(const Tui&) = delete;
  Tui& operator=(const Tui&) = delete;

  // The batch of a new interval: drawn at once, unless the view is paused.
  void show(const Batch& batch);
  // Gives the terminal back (idempotent), then prints the log kept meanwhile.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netmon::console
