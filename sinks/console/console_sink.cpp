// SPDX-License-Identifier: MIT
// console sink: the human view, one block per interval, in the sections the
// original monitor showed (docs/SAMPLES.md lists what each section reads).
// On a terminal each block redraws the screen in place; otherwise blocks
// follow one another, so the output can be logged or piped.
#include <netmon/output.hpp>
#include <netmon/sink.hpp>

#include "console_view.hpp"

namespace {

class ConsoleSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options(ctx.options, "console").finish();
    out_.open(ctx.target, "console");
    redraw_ = out_.is_terminal();
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    // On a terminal: home the cursor and clear, so each block redraws in place.
    std::string text = redraw_ ? "\x1b[H\x1b[2J" : (first_ ? "" : "\n");
    first_ = false;
    text += netmon::console::render(batch);
    return out_.write(text) ? netmon::WriteResult::ok : netmon::WriteResult::closed;
  }

  void close() override { out_.close(); }

 private:
  netmon::Output out_;
  bool redraw_ = false;
  bool first_ = true;
};

}  // namespace

NETMON_SINK(ConsoleSink, "console", "0.1.0", "Human view: global, per-device and top-flow sections (stdout)")
