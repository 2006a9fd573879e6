// SPDX-License-Identifier: MIT
// influx: writes every sample as InfluxDB line protocol, to stdout or to
// --sink influx:PATH, one line per sample, flushed every interval:
//
//   dns_queries,ifname=eth0,direction=ingress queries=42u,queries_per_sec=1.5 1795536678004073596
//
// Escaping follows the line protocol: commas and spaces in measurement names,
// commas, '=' and spaces in tag keys and values and field keys; string field
// values are quoted with '"' and '\' escaped. Unsigned integers end in 'u',
// signed ones in 'i'. The protocol has no NaN or infinity: a float field
// that is not finite is left out (and a sample left with no field at all is
// not written). Built only against the installed netmon SDK.
#include <netmon/output.hpp>
#include <netmon/sink.hpp>

#include <charconv>
#include <cmath>
#include <string>

namespace {

std::string escape(const std::string& s, const char* special) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {  // a line break would end the line: never let one through
      out += "\\n";
      continue;
    }
    if (std::string_view(special).find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string field_value(const netmon::FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, netmon::Counter>) return std::to_string(x.value) + "u";
        else if constexpr (std::is_same_v<T, std::uint64_t>) return std::to_string(x) + "u";
        else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(x) + "i";
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          const auto r = std::to_chars(buf, buf + sizeof buf, x);
          return std::string(buf, r.ptr);
        } else return "\"" + escape(x, "\"\\") + "\"";
      },
      v);
}

class InfluxSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options(ctx.options, "influx").finish();
    out_.open(ctx.target, "influx");
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    std::string text;
    for (const auto& s : batch.samples) {
      std::string line = escape(s.measurement, ", ");
      for (const auto& t : s.tags)
        if (!t.value.empty()) line += "," + escape(t.key, ",= ") + "=" + escape(t.value, ",= ");
      std::string fields;
      for (const auto& f : s.fields) {
        // NaN and +-infinity: not representable (to_chars would write "nan", "inf").
        if (const auto* d = std::get_if<double>(&f.value); d && !std::isfinite(*d)) continue;
        fields += (fields.empty() ? "" : ",") + escape(f.key, ",= ") + "=" + field_value(f.value);
      }
      if (fields.empty()) continue;  // the line protocol needs at least one field
      line += " " + fields + " " + std::to_string(s.timestamp_ns ? s.timestamp_ns : batch.timestamp_ns) + "\n";
      text += line;
    }
    return out_.write(text) ? netmon::WriteResult::ok : netmon::WriteResult::closed;
  }

  void close() override { out_.close(); }

 private:
  netmon::Output out_;
};

}  // namespace

NETMON_SINK(InfluxSink, "influx", "1.0.0", "InfluxDB line protocol, one line per sample (stdout, or influx:PATH)")
