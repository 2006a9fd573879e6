// SPDX-License-Identifier: MIT
// @NAME@: a netmon sink (made by netmon-new-plugin --sink). Writes one line
// per sample, to stdout or to the file of --sink @NAME@:PATH:
//
//   1795536678004073596 xdp_stats ifname=eth0 rx_packets=42 rx_bytes=4200 ...
//
// Options: -o @NAME@.KEY=VALUE; -o @NAME@#N.KEY=VALUE for the Nth of several
// --sink @NAME@. Each is declared once below (kOptions); --list-plugins shows
// the text made from the declarations.
#include <netmon/options.hpp>
#include <netmon/output.hpp>
#include <netmon/sink.hpp>

#include <string>

namespace {

constexpr netmon::option::String kOnly{
    .key = "only", .values = "MEASUREMENT", .help = "write only this measurement's samples (none: every sample)"};
constexpr netmon::option::String kPrefix{.key = "prefix", .values = "TEXT", .help = "put before every line"};
constexpr netmon::OptionList kOptions{kOnly, kPrefix};

// One sample is one line: a line break inside a tag or a string is escaped.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

class LineSink final : public netmon::Sink {
 public:
  // On netmon-host's main thread, before any plugin starts: a bad option or
  // an unwritable path fails here, before anything is attached.
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options opts(ctx.options, "@NAME@", kOptions);
    only_ = opts.get(kOnly);
    prefix_ = one_line(opts.get(kPrefix));
    opts.finish();                    // an unknown key is refused, naming the valid ones
    out_.open(ctx.target, "@NAME@");  // stdout, or --sink @NAME@:PATH
    log_ = ctx.log;
    log_.debug("writing to " + out_.describe());
  }

  // On the sink's own thread, one batch (one interval) at a time. May block:
  // the host queues batches meanwhile and drops the oldest when 16 wait.
  netmon::WriteResult write(const netmon::Batch& batch) override {
    std::string text;
    for (const auto& s : batch.samples) {
      if (!only_.empty() && s.measurement != only_) continue;
      const std::int64_t ts = s.timestamp_ns ? s.timestamp_ns : batch.timestamp_ns;
      text += prefix_ + std::to_string(ts) + " " + one_line(s.measurement);
      for (const auto& t : s.tags) text += " " + one_line(t.key) + "=" + one_line(t.value);
      for (const auto& f : s.fields) text += " " + one_line(f.key) + "=" + one_line(netmon::field_text(f.value));
      text += "\n";
    }
    // One write per batch. false: the reader went away (EPIPE, as with
    // | head): report closed and the host stops cleanly, exit code 0. Any
    // other error (ENOSPC, EIO) throws netmon::Error: this sink stops, the
    // others go on, and netmon-host exits 1 at the end.
    if (!out_.write(text)) return netmon::WriteResult::closed;
    return netmon::WriteResult::ok;
  }

  // At the end (or when the run ended before the first batch): close the file.
  void close() override { out_.close(); }

 private:
  netmon::Output out_;
  netmon::Logger log_;
  std::string only_;
  std::string prefix_;
};

}  // namespace

NETMON_SINK_WITH_OPTIONS(LineSink, "@NAME@", "0.1.0", "One line per sample (stdout, or @NAME@:PATH)", kOptions)
