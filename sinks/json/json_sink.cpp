// SPDX-License-Identifier: MIT
// json sink: one JSON object per sample per line (JSON Lines), for jq.
// Schema: docs/SAMPLES.md. 64-bit counters are written as exact integers.
#include <netmon/output.hpp>
#include <netmon/sink.hpp>
#include <netmon/timefmt.hpp>

#include <nlohmann/json.hpp>

namespace {

using ojson = nlohmann::ordered_json;

ojson field_json(const netmon::FieldValue& v) {
  return std::visit(
      [](const auto& x) -> ojson {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, netmon::Counter>) return x.value;
        else return x;
      },
      v);
}

class JsonSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options(ctx.options, "json").finish();
    out_.open(ctx.target, "json");
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    std::string text;
    for (const auto& s : batch.samples) {
      const std::int64_t ts = s.timestamp_ns ? s.timestamp_ns : batch.timestamp_ns;
      ojson line;
      line["measurement"] = s.measurement;
      line["time"] = netmon::iso8601_utc(ts);
      line["timestamp_ns"] = ts;
      ojson tags = ojson::object();
      for (const auto& t : s.tags) tags[t.key] = t.value;
      line["tags"] = std::move(tags);
      ojson fields = ojson::object();
      for (const auto& f : s.fields) fields[f.key] = field_json(f.value);
      line["fields"] = std::move(fields);
      // Invalid UTF-8 from a plugin becomes U+FFFD rather than an exception.
      text += line.dump(-1, ' ', false, ojson::error_handler_t::replace);
      text += '\n';
    }
    // One write per interval: the batch reaches the reader now, whole.
    return out_.write(text) ? netmon::WriteResult::ok : netmon::WriteResult::closed;
  }

  void close() override { out_.close(); }

 private:
  netmon::Output out_;
};

}  // namespace

NETMON_SINK(JsonSink, "json", "0.1.0", "JSON Lines: one object per sample (stdout, or json:PATH)")
