// SPDX-License-Identifier: MIT
// The csv sink as netmon-host loads it: its golden file and its output read
// back by an RFC 4180 reader.
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

namespace {

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

}  // namespace

TEST(SinkGolden, Csv) { expect_golden("sample.csv", render("csv")); }

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
  // The expected CSV, a record a line.
  // clang-format off
  EXPECT_EQ(text, "timestamp_ns,time,measurement,tags,field,value\r\n" +
                      p + "comma,\"a,b\"\r\n" +
                      p + "quote,\"say \"\"hi\"\"\"\r\n" +
                      p + "newline,\"line\nbreak\"\r\n" +
                      p + "cr,\"x\ry\"\r\n" +
                      p + "plain,simple text\r\n" +
                      "1000000000,1970-01-01T00:00:01.000Z,\"m,2\",\"k=v,w\",n,1\r\n");
  // clang-format on
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
