// SPDX-License-Identifier: MIT
// The full-screen view's layout: one batch and the view's state to the lines
// of a width x height screen. Pure: the tests compare it with golden screens
// at 80x24 and 200x50; console_tui.cpp puts the lines on the terminal.
#pragma once

#include <netmon/sample.hpp>

#include <string>
#include <vector>

namespace netmon::console {

// The order of the top flows: the plugin's own (its rank), or by packets,
// bytes or rate (bytes per second over 2 s), busiest first.
enum class FlowSort { plugin, packets, bytes, rate };

// What the keys change, and what the screen shows besides the batch.
struct ScreenState {
  int width = 80;
  int height = 24;
  FlowSort sort = FlowSort::plugin;
  std::string filter;           // flows whose protocol, addresses, ports or interface contain it
  bool editing_filter = false;  // the filter is being typed: the last line shows it
  bool paused = false;          // the display is frozen (collection goes on)
  std::string iface;            // "": every interface; else only this one
  bool show_interfaces = true;  // the per-interface lines
  bool show_others = true;      // drops, tcp_health and other plugins' samples
  bool help = false;            // the help screen instead
  std::string status;           // the last log line, if any
};

// The smallest screen the view draws on; below it, one line says so.
constexpr int kMinWidth = 60;
constexpr int kMinHeight = 12;

struct ScreenLine {
  enum class Style { plain, title, heading, keys };
  std::string text;  // printable ASCII, at most the screen's width
  Style style = Style::plain;
  int bar = 0;  // the columns from the left drawn as the flow's bar
};

// The interfaces the batch names, sorted: what the interface key cycles through.
std::vector<std::string> interfaces(const Batch& batch);

std::vector<ScreenLine> layout(const Batch& batch, const ScreenState& st);

// The lines' text, one per line, for golden files and tests.
std::string screen_text(const std::vector<ScreenLine>& lines);

}  // namespace netmon::console
