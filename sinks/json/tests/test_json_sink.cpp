// SPDX-License-Identifier: MIT
// The json sink as netmon-host loads it: its golden file, every line parsed
// back exactly, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/sink_run.hpp"

namespace fs = std::filesystem;
using netmon::Batch;
using netmon::Error;
using netmon::Sample;
using netmon::host::load_sink_library;
using netmon::host::SinkInstance;
using namespace netmon::unit;  // golden_batch(), render(), run_sink() and friends
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SinkGolden, Json) { expect_golden("sample.jsonl", render("json")); }

TEST(JsonSink, EveryLineParsesBackExactly) {
  const Batch batch = golden_batch();
  const std::string text = render("json");
  const auto lines = split_lines(text);
  ASSERT_EQ(lines.size(), batch.samples.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i]);
    const json j = json::parse(lines[i]);  // throws on invalid JSON
    const Sample& s = batch.samples[i];
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["measurement"], s.measurement);
    const std::int64_t ts = s.timestamp_ns ? s.timestamp_ns : batch.timestamp_ns;
    EXPECT_EQ(j["timestamp_ns"].get<std::int64_t>(), ts);
    EXPECT_EQ(j["time"], ts == kBatchTs ? "2026-11-24T16:11:18.004Z" : "2026-11-24T16:11:17.500Z");
    ASSERT_EQ(j["tags"].size(), s.tags.size());
    for (const auto& t : s.tags) EXPECT_EQ(j["tags"][t.key], t.value);
    ASSERT_EQ(j["fields"].size(), s.fields.size());
    // Keys keep the sample's order.
    const auto ordered = nlohmann::ordered_json::parse(lines[i]);
    std::vector<std::string> keys;
    for (const auto& [key, value] : ordered["fields"].items()) keys.push_back(key);
    std::vector<std::string> expected;
    for (const auto& f : s.fields) expected.push_back(f.key);
    EXPECT_EQ(keys, expected);
    keys.clear();
    for (const auto& [key, value] : ordered.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"measurement", "time", "timestamp_ns", "tags", "fields"}));
  }
  const json eth0 = json::parse(lines[0]);
  EXPECT_TRUE(eth0["fields"]["packets"].is_number_unsigned());
  EXPECT_EQ(eth0["fields"]["packets"].get<std::uint64_t>(), 20123u);
  EXPECT_EQ(eth0["fields"]["mode"], "native");
  EXPECT_DOUBLE_EQ(eth0["fields"]["packets_per_sec"].get<double>(), 9998.8);
  EXPECT_DOUBLE_EQ(eth0["fields"]["bytes_per_sec"].get<double>(), 2419713.1);

  const json probe = json::parse(lines[8]);
  EXPECT_EQ(probe["measurement"], "acme_probe");
  EXPECT_TRUE(probe["fields"]["wrap"].is_number_unsigned());
  EXPECT_EQ(probe["fields"]["wrap"].get<std::uint64_t>(), kMax);
  EXPECT_TRUE(probe["fields"]["offset"].is_number_integer());
  EXPECT_EQ(probe["fields"]["offset"].get<std::int64_t>(), -42);
  EXPECT_EQ(probe["fields"]["healthy"], true);
  EXPECT_EQ(probe["fields"]["degraded"], false);
  EXPECT_EQ(probe["fields"]["note"], kNote);
  EXPECT_EQ(probe["fields"]["queue"].get<std::uint64_t>(), 7u);
  EXPECT_EQ(probe["tags"]["path"], kPath);
  // Exact 64-bit integer in the text itself, never via a double.
  EXPECT_THAT(lines[8], HasSubstr("\"wrap\":18446744073709551615"));
  EXPECT_THAT(lines[8], Not(HasSubstr("e+19")));
}

TEST(JsonSink, InvalidUtf8IsReplacedNotFatal) {
  Batch b;
  b.timestamp_ns = kBatchTs;
  b.samples.push_back(Sample("m").tag("k", "bad\xff").text("s", "x\xc3"));
  const auto run = run_sink("json", {b});
  EXPECT_EQ(run.codes, std::vector<int>{NETMON_OK});
  const json j = json::parse(split_lines(run.output).at(0));
  EXPECT_EQ(j["tags"]["k"], "bad\xef\xbf\xbd");  // U+FFFD
}

TEST(JsonSink, OneWritePerBatchAppends) {
  Batch a = golden_batch(), b = golden_batch();
  b.timestamp_ns += 1'000'000'000;
  const auto run = run_sink("json", {a, b});
  EXPECT_EQ(split_lines(run.output).size(), a.samples.size() + b.samples.size());
}

TEST(JsonSink, OpenInMissingDirectoryNamesThePath) {
  TempDir tmp;
  const std::string target = (tmp / "no" / "such" / "dir" / "out.jsonl").string();
  SinkInstance sink(load_sink_library(kPluginDir / "libnetmon_json.so"), "json:" + target);
  netmon_sink_context ctx{};
  ctx.struct_size = sizeof ctx;
  ctx.target = target.c_str();
  ctx.options_json = "{}";
  const auto msg = error_of<Error>([&] { sink.open(ctx); });
  EXPECT_THAT(msg, HasSubstr(target));
  EXPECT_THAT(msg, HasSubstr("No such file or directory"));
  EXPECT_THAT(msg, HasSubstr("sink json:"));
  EXPECT_FALSE(fs::exists(tmp / "no"));
}

TEST(JsonSink, UnknownOptionIsRefused) {
  const auto msg = error_of<Error>([] { run_sink("json", {}, R"({"pretty": true})"); });
  EXPECT_THAT(msg, HasSubstr("unknown option json.pretty"));
}

// A refused option is a usage error (exit 2), shown as the sink wrote it: it
// names the option (json.pretty), so the host puts no "sink json: " in front.
// An unwritable path is not a usage error.
TEST(JsonSink, RefusedOptionIsAUsageErrorNamedOnce) {
  const auto msg = error_of<netmon::UsageError>([] { run_sink("json", {}, R"({"pretty": true})"); });
  EXPECT_EQ(msg, "unknown option json.pretty (it takes no options)");
  SinkInstance sink(load_sink_library(kPluginDir / "libnetmon_json.so"), "json:/nonexistent-dir/x");
  netmon_sink_context ctx{};
  ctx.struct_size = sizeof ctx;
  ctx.target = "/nonexistent-dir/x";
  ctx.options_json = "{}";
  try {
    sink.open(ctx);
    ADD_FAILURE() << "open succeeded";
  } catch (const netmon::UsageError& e) {
    ADD_FAILURE() << "an unwritable path is no usage error: " << e.what();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "sink json:/nonexistent-dir/x: cannot open /nonexistent-dir/x for writing: No such file or directory "
              "(choose a writable path: --sink json:PATH)");
  }
}
