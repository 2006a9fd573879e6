// SPDX-License-Identifier: MIT
// console sink: the human view. On a terminal, a full-screen view that fits
// it and answers keys (console_tui.cpp, its layout console_screen.cpp);
// piped, written to a file, with TERM=dumb or -o console.mode=plain, one
// block per interval in the sections the original monitor showed
// (console_view.cpp; docs/SAMPLES.md lists what each section reads), the
// blocks following one another so the output can be logged or piped.
#include <netmon/options.hpp>
#include <netmon/output.hpp>
#include <netmon/sink.hpp>

#include <memory>

#include "console_tui.hpp"
#include "console_view.hpp"

namespace {

constexpr netmon::option::Choice kMode{
    .key = "mode",
    .values = "auto|screen|plain",
    .def = "auto",
    .help = "screen: the full-screen view; plain: a block per interval; auto: screen on a terminal"};
constexpr netmon::OptionList kOptions{kMode};

class ConsoleSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options opts(ctx.options, "console", kOptions);
    const std::string mode = opts.get(kMode);
    opts.finish();
    // The screen only on stdout: a file target gets blocks.
    const bool terminal = !ctx.target && netmon::console::screen_possible();
    if (mode == "screen" && !terminal)
      throw netmon::UsageError(
          "option console.mode: screen needs stdout to be a terminal with a known TERM (not dumb, not a file); "
          "use auto or plain");
    if (terminal && mode != "plain") {
      tui_ = std::make_unique<netmon::console::Tui>();
      return;
    }
    out_.open(ctx.target, "console");
    redraw_ = out_.is_terminal();
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    if (tui_) {
      tui_->show(batch);
      return netmon::WriteResult::ok;
    }
    // On a terminal (plain mode): home the cursor and clear, so each block
    // redraws in place.
    std::string text = redraw_ ? "\x1b[H\x1b[2J" : (first_ ? "" : "\n");
    first_ = false;
    text += netmon::console::render(batch);
    return out_.write(text) ? netmon::WriteResult::ok : netmon::WriteResult::closed;
  }

  void close() override {
    if (tui_) tui_->stop();
    tui_.reset();
    out_.close();
  }

 private:
  netmon::Output out_;
  std::unique_ptr<netmon::console::Tui> tui_;
  bool redraw_ = false;
  bool first_ = true;
};

}  // namespace

NETMON_SINK_WITH_OPTIONS(ConsoleSink, "console", "0.2.0",
                         "Human view: a full-screen view on a terminal (keys: ? for help), else a block per interval",
                         kOptions)
