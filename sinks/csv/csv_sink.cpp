// SPDX-License-Identifier: MIT
// csv sink: RFC 4180 CSV in long format, one row per field:
//   timestamp_ns,time,measurement,tags,field,value
// tags are key=value pairs joined by ';' ('\', ';' and '=' escaped with '\').
// Schema: docs/SAMPLES.md.
#include <netmon/output.hpp>
#include <netmon/sink.hpp>
#include <netmon/timefmt.hpp>

#include <fmt/format.h>

namespace {

// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string escape_tag(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ';' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

class CsvSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options(ctx.options, "csv").finish();
    out_.open(ctx.target, "csv");
    header_pending_ = true;
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    std::string text;
    if (header_pending_) {
      text += "timestamp_ns,time,measurement,tags,field,value\r\n";
      header_pending_ = false;
    }
    for (const auto& s : batch.samples) {
      const std::int64_t ts = s.timestamp_ns ? s.timestamp_ns : batch.timestamp_ns;
      std::string tags;
      for (const auto& t : s.tags) tags += (tags.empty() ? "" : ";") + escape_tag(t.key) + "=" + escape_tag(t.value);
      const std::string prefix = std::to_string(ts) + "," + netmon::iso8601_utc(ts) + "," + csv_field(s.measurement) +
                                 "," + csv_field(tags) + ",";
      for (const auto& f : s.fields)
        text += prefix + csv_field(f.key) + "," + csv_field(netmon::field_text(f.value)) + "\r\n";
    }
    return out_.write(text) ? netmon::WriteResult::ok : netmon::WriteResult::closed;
  }

  void close() override { out_.close(); }

 private:
  netmon::Output out_;
  bool header_pending_ = true;
};

}  // namespace

NETMON_SINK(CsvSink, "csv", "0.1.0", "RFC 4180 CSV, one row per field (stdout, or csv:PATH)")
