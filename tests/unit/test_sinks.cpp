// SPDX-License-Identifier: MIT
// The real sink libraries (json, csv, console from NETMON_TEST_PLUGIN_DIR),
// loaded as netmon-host loads them, render one fixed batch into a file that
// must equal the golden file in tests/golden/.
//
// To regenerate the golden files after an intended change of output, run
//   NETMON_UPDATE_GOLDEN=1 build/bin/test_sinks
// then read the diff (git diff tests/golden) line by line before committing.
#include "loader.hpp"

#include <netmon/error.hpp>
#include <netmon/output.hpp>
#include <netmon/plugin_abi.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "unit_util.hpp"

namespace fs = std::filesystem;
using netmon::Batch;
using netmon::Error;
using netmon::Sample;
using netmon::host::load_sink_library;
using netmon::host::SinkInstance;
using netmon::unit::error_of;
using netmon::unit::expect_golden;
using netmon::unit::read_file;
using netmon::unit::TempDir;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const fs::path kPluginDir = NETMON_TEST_PLUGIN_DIR;

constexpr std::int64_t kBatchTs = 1'795'536'678'004'073'596;  // 2026-11-24T16:11:18.004Z
constexpr std::int64_t kProbeTs = 1'795'536'677'500'000'000;  // 2026-11-24T16:11:17.500Z
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
const std::string kNote = "a,b \"quoted\"\nnext line";
const std::string kPath = "a;b=c\\d";

// Console times are local: make local UTC for the whole program.
class UtcEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};
[[maybe_unused]] ::testing::Environment* const utc_env = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

Sample xdp(const std::string& ifname, const std::string& ifindex, std::uint64_t packets, std::uint64_t bytes,
           std::uint64_t malformed, const std::string& mode, double pps, double bps) {
  return Sample("xdp_stats")
      .tag("ifname", ifname)
      .tag("ifindex", ifindex)
      .counter("packets", packets)
      .counter("bytes", bytes)
      .counter("malformed_packets", malformed)
      .text("mode", mode)
      .gauge_f("packets_per_sec", pps)
      .gauge_f("bytes_per_sec", bps)
      .gauge_f("malformed_packets_per_sec", 0.0);
}

Sample cls(const std::string& ifname, const std::string& ifindex, const std::string& l3, const std::string& l4,
           std::uint64_t packets, std::uint64_t bytes, double pps, double bps) {
  return Sample("xdp_stats_class")
      .tag("ifname", ifname)
      .tag("ifindex", ifindex)
      .tag("l3", l3)
      .tag("l4", l4)
      .counter("packets", packets)
      .counter("bytes", bytes)
      .gauge_f("packets_per_sec", pps)
      .gauge_f("bytes_per_sec", bps);
}

// The fixed batch every golden file renders.
Batch golden_batch() {
  Batch b;
  b.timestamp_ns = kBatchTs;
  b.interval_ns = 1'000'000'000;
  b.sequence = 7;
  b.samples.push_back(xdp("eth0", "2", 20123, 4869766, 3, "native", 9998.8, 2419713.1));
  b.samples.push_back(cls("eth0", "2", "ipv4", "tcp", 15000, 4000000, 7500.5, 2000000.25));
  b.samples.push_back(cls("eth0", "2", "ipv4", "udp", 4000, 800000, 2000.0, 400000.0));
  b.samples.push_back(cls("eth0", "2", "ipv6", "icmp", 100, 12000, 50.0, 6000.0));
  b.samples.push_back(cls("eth0", "2", "arp", "none", 20, 1200, 10.0, 600.0));
  b.samples.push_back(cls("eth0", "2", "other", "none", 3, 180, 1.5, 90.0));
  b.samples.push_back(xdp("eth1", "3", 512, 65536, 0, "generic", 0.4, 51.2));
  b.samples.push_back(cls("eth1", "3", "ipv6", "tcp", 512, 65536, 0.4, 51.2));
  Sample probe("acme_probe");  // a third-party measurement, with its own timestamp
  probe.timestamp_ns = kProbeTs;
  probe.tag("host", "db-1")
      .tag("path", kPath)
      .text("note", kNote)
      .counter("wrap", kMax)
      .gauge_i("offset", -42)
      .flag("healthy", true)
      .flag("degraded", false)
      .gauge_f("load", 0.75)
      .gauge("queue", 7);
  b.samples.push_back(std::move(probe));
  b.samples.push_back(Sample("netmon_host").gauge("plugins", 1).gauge("collect_duration_us", 120));
  b.samples.push_back(Sample("netmon_host_sink")
                          .tag("sink", "csv")
                          .counter("dropped_batches", 2)
                          .counter("delivered_batches", 40)
                          .gauge_f("dropped_batches_per_sec", 0.0)
                          .gauge_f("delivered_batches_per_sec", 1.0));
  return b;
}

struct SinkRun {
  std::string output;
  std::vector<int> codes;
};

// Loads the sink, opens it on a file, writes the batches, closes it, and
// returns what the file holds.
SinkRun run_sink(const std::string& name, const std::vector<Batch>& batches, const std::string& options = "{}") {
  TempDir tmp;
  const std::string target = (tmp / ("out." + name)).string();
  SinkInstance sink(load_sink_library(kPluginDir / ("libnetmon_" + name + ".so")), name + ":" + target);
  netmon_sink_context ctx{};
  ctx.struct_size = sizeof ctx;
  ctx.target = target.c_str();
  ctx.interval_ns = 1'000'000'000;
  ctx.options_json = options.c_str();
  sink.open(ctx);
  SinkRun run;
  for (const auto& b : batches) run.codes.push_back(sink.write(b));
  sink.close();
  run.output = read_file(target);
  return run;
}

std::string render(const std::string& name) {
  auto run = run_sink(name, {golden_batch()});
  EXPECT_EQ(run.codes, std::vector<int>{NETMON_OK});
  return run.output;
}

// RFC 4180 reader: records of fields; every record must end with CRLF.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  std::size_t i = 0;
  bool quoted = false, field_started = false;
  while (i < text.size()) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      field += c;
      ++i;
      continue;
    }
    if (c == '"') {
      if (field_started) ADD_FAILURE() << "quote inside an unquoted field at byte " << i;
      quoted = true;
      field_started = true;
      ++i;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
      field_started = false;
      ++i;
    } else if (c == '\r') {
      if (i + 1 >= text.size() || text[i + 1] != '\n') ADD_FAILURE() << "CR without LF at byte " << i;
      record.push_back(field);
      field.clear();
      field_started = false;
      records.push_back(record);
      record.clear();
      i += 2;
    } else if (c == '\n') {
      ADD_FAILURE() << "bare LF outside quotes at byte " << i;
      ++i;
    } else {
      field += c;
      field_started = true;
      ++i;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(record.empty() && field.empty()) << "last record does not end with CRLF";
  return records;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  EXPECT_EQ(start, text.size()) << "output does not end with a newline";
  return lines;
}

std::size_t total_fields(const Batch& b) {
  std::size_t n = 0;
  for (const auto& s : b.samples) n += s.fields.size();
  return n;
}

}  // namespace

// ---- golden files -------------------------------------------------------------

TEST(SinkGolden, Json) { expect_golden("sample.jsonl", render("json")); }
TEST(SinkGolden, Csv) { expect_golden("sample.csv", render("csv")); }
TEST(SinkGolden, Console) { expect_golden("sample.console.txt", render("console")); }

// ---- json ---------------------------------------------------------------------

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

// The fix names where the path came from: the target, or an option.
TEST(Output, OpenFailureNamesWhereThePathWasGiven) {
  TempDir tmp;
  const std::string path = (tmp / "no" / "out.txt").string();
  netmon::Output out;
  EXPECT_EQ(error_of<Error>([&] { out.open(path, "my_sink"); }),
            "cannot open " + path + " for writing: No such file or directory (choose a writable path: --sink my_sink:PATH)");
  const auto msg = error_of<Error>([&] { out.open(path, "my_sink", "-o my_sink.path=PATH"); });
  EXPECT_EQ(msg, "cannot open " + path + " for writing: No such file or directory (choose a writable path: -o "
                 "my_sink.path=PATH)");
  EXPECT_THAT(msg, Not(HasSubstr("--sink")));
  out.open(std::string("-"), "my_sink", "-o my_sink.path=PATH");
  EXPECT_EQ(out.describe(), "stdout");
}

// ---- csv ----------------------------------------------------------------------

TEST(CsvSink, ParsesBackAsRfc4180) {
  const Batch batch = golden_batch();
  const auto records = parse_csv(render("csv"));
  ASSERT_EQ(records.size(), 1 + total_fields(batch));
  EXPECT_EQ(records[0], (std::vector<std::string>{"timestamp_ns", "time", "measurement", "tags", "field", "value"}));
  std::size_t r = 1;
  for (const auto& s : batch.samples) {
    for (const auto& f : s.fields) {
      ASSERT_EQ(records[r].size(), 6u) << "record " << r;
      EXPECT_EQ(records[r][2], s.measurement);
      EXPECT_EQ(records[r][4], f.key);
      ++r;
    }
  }
  auto find = [&](const std::string& m, const std::string& key) -> const std::vector<std::string>* {
    for (const auto& rec : records)
      if (rec[2] == m && rec[4] == key) return &rec;
    return nullptr;
  };
  const auto* note = find("acme_probe", "note");
  ASSERT_NE(note, nullptr);
  EXPECT_EQ((*note)[5], kNote);
  EXPECT_EQ((*note)[0], std::to_string(kProbeTs));
  EXPECT_EQ((*note)[1], "2026-11-24T16:11:17.500Z");
  EXPECT_EQ((*note)[3], "host=db-1;path=a\\;b\\=c\\\\d");
  EXPECT_EQ((*find("acme_probe", "wrap"))[5], "18446744073709551615");
  EXPECT_EQ((*find("acme_probe", "offset"))[5], "-42");
  EXPECT_EQ((*find("acme_probe", "healthy"))[5], "true");
  EXPECT_EQ((*find("acme_probe", "degraded"))[5], "false");
  EXPECT_EQ((*find("acme_probe", "load"))[5], "0.75");
  const auto* pkts = find("xdp_stats", "packets");
  ASSERT_NE(pkts, nullptr);
  EXPECT_EQ((*pkts)[0], std::to_string(kBatchTs));
  EXPECT_EQ((*pkts)[1], "2026-11-24T16:11:18.004Z");
  EXPECT_EQ((*pkts)[3], "ifname=eth0;ifindex=2");
  EXPECT_EQ((*pkts)[5], "20123");
  EXPECT_EQ((*find("xdp_stats", "bytes_per_sec"))[5], "2419713.1");
}

TEST(CsvSink, FieldQuoting) {
  Batch b;
  b.timestamp_ns = 1'000'000'000;
  b.samples.push_back(Sample("m")
                          .text("comma", "a,b")
                          .text("quote", "say \"hi\"")
                          .text("newline", "line\nbreak")
                          .text("cr", "x\ry")
                          .text("plain", "simple text"));
  b.samples.push_back(Sample("m,2").tag("k", "v,w").counter("n", 1));
  const std::string text = run_sink("csv", {b}).output;
  const std::string p = "1000000000,1970-01-01T00:00:01.000Z,m,,";
  EXPECT_EQ(text, "timestamp_ns,time,measurement,tags,field,value\r\n" +
                      p + "comma,\"a,b\"\r\n" +
                      p + "quote,\"say \"\"hi\"\"\"\r\n" +
                      p + "newline,\"line\nbreak\"\r\n" +
                      p + "cr,\"x\ry\"\r\n" +
                      p + "plain,simple text\r\n" +
                      "1000000000,1970-01-01T00:00:01.000Z,\"m,2\",\"k=v,w\",n,1\r\n");
}

TEST(CsvSink, HeaderOnlyOnce) {
  Batch a = golden_batch(), b = golden_batch();
  b.timestamp_ns += 1'000'000'000;
  const auto run = run_sink("csv", {a, b});
  const auto records = parse_csv(run.output);
  EXPECT_EQ(records.size(), 1 + total_fields(a) + total_fields(b));
  std::size_t headers = 0;
  for (const auto& r : records) headers += (r.at(0) == "timestamp_ns");
  EXPECT_EQ(headers, 1u);
}

// ---- console --------------------------------------------------------------------

TEST(ConsoleSink, SectionsAndOtherMeasurements) {
  const std::string text = render("console");
  EXPECT_THAT(text, HasSubstr("Traffic Statistics [16:11:18]"));
  EXPECT_THAT(text, HasSubstr("Global Statistics:"));
  EXPECT_THAT(text, HasSubstr("  eth0 (index 2, native XDP):"));
  EXPECT_THAT(text, HasSubstr("  eth1 (index 3, generic XDP):"));
  // Global RX adds both interfaces: 20123 + 512 packets.
  EXPECT_THAT(text, HasSubstr("RX: 20.6K packets, 4.9 MB"));
  EXPECT_THAT(text, HasSubstr("Other Measurements:"));
  EXPECT_THAT(text, HasSubstr("acme_probe{host=db-1,path=a;b=c\\d}:"));
  EXPECT_THAT(text, HasSubstr("wrap=18446744073709551615"));
  EXPECT_THAT(text, HasSubstr("offset=-42"));
  EXPECT_THAT(text, HasSubstr("healthy=true"));
  EXPECT_THAT(text, HasSubstr("Note: sink csv dropped 2 batches"));
  // The host's own measurements are not listed as "other".
  EXPECT_THAT(text, Not(HasSubstr("netmon_host")));
  // Not a terminal: no screen control codes.
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(ConsoleSink, BlocksFollowOneAnother) {
  const std::string one = render("console");
  const auto run = run_sink("console", {golden_batch(), golden_batch()});
  EXPECT_EQ(run.output, one + "\n" + one);
}
