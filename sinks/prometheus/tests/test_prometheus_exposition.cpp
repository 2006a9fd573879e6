// SPDX-License-Identifier: MIT
// The Prometheus exposition (sinks/prometheus/exposition.hpp): golden files of
// both formats from a fixed batch, the mapping of the standard measurements
// and the generic rule, the bound on series (with flow_top fed a million
// flows), and promtool's verdict on the output and on the example alerts.
//
// To regenerate the golden files after an intended change of output, run
//   NETMON_UPDATE_GOLDEN=1 build/bin/test_prometheus_exposition
// then read the diff (git diff golden/) line by line before committing.
#include "exposition.hpp"
#include "flow_collector.hpp"
#include "flow_samples.hpp"
#include "mapping.hpp"

#include <netmon/bpf/classes.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "standard_batch.hpp"
#include "support/unit_util.hpp"

namespace fs = std::filesystem;
using netmon::Batch;
using netmon::Sample;
using netmon::prometheus::render;
using netmon::prometheus::RenderOptions;
using netmon::prometheus::wants_openmetrics;
using netmon::unit::expect_golden;
using netmon::unit::read_file;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const fs::path kGoldenDir = fs::path(NETMON_TEST_OWN_DIR) / "golden";
const fs::path kSourceDir = fs::path(NETMON_TEST_SOURCE_DIR).parent_path();
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr const char* kPromtool = "/usr/bin/promtool";

// The fixed batch both golden files render: every standard measurement, a
// third-party measurement with values to escape, 2^64-1, NaN and infinities,
// odd names, and one family name a third party uses with another type.
Batch golden_batch() {
  Batch b;
  b.timestamp_ns = 1'795'536'678'004'073'596;
  b.interval_ns = 1'000'000'000;
  b.sequence = 7;
  b.samples.push_back(Sample("xdp_stats")
                          .tag("ifname", "eth0")
                          .tag("ifindex", "2")
                          .counter("packets", 20123)
                          .counter("bytes", 4869766)
                          .counter("malformed_packets", 3)
                          .text("mode", "native")
                          .gauge_f("packets_per_sec", 9998.8)
                          .gauge_f("bytes_per_sec", 2419713.1)
                          .gauge_f("malformed_packets_per_sec", 0.0));
  auto xcls = [](const char* ifname, const char* ifindex, const char* l3, const char* l4, std::uint64_t p,
                 std::uint64_t by) {
    return Sample("xdp_stats_class")
        .tag("ifname", ifname)
        .tag("ifindex", ifindex)
        .tag("l3", l3)
        .tag("l4", l4)
        .counter("packets", p)
        .counter("bytes", by)
        .gauge_f("packets_per_sec", 1.5)
        .gauge_f("bytes_per_sec", 100.25);
  };
  b.samples.push_back(xcls("eth0", "2", "ipv4", "tcp", 15000, 4000000));
  b.samples.push_back(xcls("eth0", "2", "ipv6", "icmp", 100, 12000));
  b.samples.push_back(xcls("eth0", "2", "arp", "none", 20, 1200));
  b.samples.push_back(Sample("xdp_stats")
                          .tag("ifname", "eth1")
                          .tag("ifindex", "3")
                          .counter("packets", 512)
                          .counter("bytes", 65536)
                          .counter("malformed_packets", 0)
                          .text("mode", "generic")
                          .gauge_f("packets_per_sec", 0.4)
                          .gauge_f("bytes_per_sec", 51.2)
                          .gauge_f("malformed_packets_per_sec", 0.0));
  b.samples.push_back(xcls("eth1", "3", "ipv6", "tcp", 512, 65536));
  for (const char* dir : {"ingress", "egress"}) {
    b.samples.push_back(Sample("tc_stats")
                            .tag("ifname", "eth0")
                            .tag("ifindex", "2")
                            .tag("direction", dir)
                            .counter("packets", 700)
                            .counter("bytes", 70000)
                            .counter("malformed_packets", 1)
                            .text("attach", "tcx")
                            .gauge_f("packets_per_sec", 7.0)
                            .gauge_f("bytes_per_sec", 700.0)
                            .gauge_f("malformed_packets_per_sec", 0.0));
    b.samples.push_back(Sample("tc_stats_class")
                            .tag("ifname", "eth0")
                            .tag("ifindex", "2")
                            .tag("direction", dir)
                            .tag("l3", "ipv4")
                            .tag("l4", "udp")
                            .counter("packets", 700)
                            .counter("bytes", 70000)
                            .gauge_f("packets_per_sec", 7.0)
                            .gauge_f("bytes_per_sec", 700.0));
  }
  b.samples.push_back(
      netmon::unit::flow_top_sample(1, "eth0", "2", "egress", "10.0.0.1", "192.0.2.10", 51000, 443, 1200, 1'500'000));
  Sample v6 =
      netmon::unit::flow_top_sample(2, "eth0", "2", "ingress", "2001:db8::1", "2001:db8::2", 5353, 53, 40, 4000);
  v6.tags[4].value = "ipv6";
  v6.tags[5].value = "udp";
  b.samples.push_back(std::move(v6));
  b.samples.push_back(Sample("flow_top_other")
                          .tag("sort", "packets")
                          .gauge("flows", 12)
                          .gauge("packets", 300)
                          .gauge("bytes", 45000)
                          .gauge_f("bytes_per_sec", 20.5));
  b.samples.push_back(Sample("flow_top_table")
                          .gauge("entries", 14)
                          .gauge("capacity", 65536)
                          .counter("insert_failures", 0)
                          .counter("untracked_packets", 9)
                          .counter("ended_idle", 4)
                          .counter("ended_active_timeout", 0)
                          .counter("ended_tcp_fin", 2)
                          .counter("ended_tcp_rst", 1)
                          .counter("evicted", 0)
                          .text("read_method", "batch")
                          .gauge("read_duration_us", 250));
  b.samples.push_back(Sample("flow_top_end")
                          .tag("ifname", "eth0")
                          .tag("reason", "idle")
                          .gauge("packets", 5)
                          .gauge("bytes", 500)
                          .event());
  // A third-party plugin's record: an event too, so no series either.
  b.samples.push_back(Sample("acme_records").tag("reason", "idle").counter("records", 1).event());
  Sample probe("acme_probe");
  probe.timestamp_ns = 1'795'536'677'500'000'000;
  probe.tag("host", "db-1")
      .tag("path", "a;b=c\\d")
      .tag("note", "a,b \"quoted\"\nnext line")
      .tag("9zone", "x")
      .tag("__meta", "y")
      .text("comment", "strings are not exported")
      .counter("wrap", kMax)
      .counter("errors_total", 5)
      .counter("rx_bytes", 123456789)
      .gauge_f("rx_bytes_per_sec", 1234.5)
      .gauge_i("offset", -42)
      .flag("healthy", true)
      .flag("degraded", false)
      .gauge_f("load", 0.75)
      .gauge("queue", 7)
      .gauge("latency_us", 1500)
      .gauge_f("ratio", std::nan(""))
      .gauge_f("ceiling", std::numeric_limits<double>::infinity())
      .gauge_f("floor", -std::numeric_limits<double>::infinity())
      .gauge_f("huge", 1e300);
  b.samples.push_back(std::move(probe));
  b.samples.push_back(Sample("acme.disk-io").tag("device", "sda").counter("read ops", 77));
  // A third party's gauge under a standard counter's family name: left out.
  b.samples.push_back(Sample("xdp").tag("ifname", "eth0").gauge("packets", 1));
  b.samples.push_back(Sample("netmon_host")
                          .gauge("plugins", 3)
                          .gauge("collect_duration_us", 120)
                          .text("version", "0.1.0")
                          .text("abi", "1.1"));
  b.samples.push_back(Sample("netmon_host_plugin")
                          .tag("plugin", "xdp_stats")
                          .gauge("up", 1)
                          .gauge("collect_duration_us", 35)
                          .counter("collect_errors", 0)
                          .gauge_f("collect_errors_per_sec", 0.0));
  b.samples.push_back(Sample("netmon_host_plugin")
                          .tag("plugin", "flow_top")
                          .gauge("up", 0)
                          .gauge("collect_duration_us", 2100)
                          .counter("collect_errors", 4)
                          .gauge_f("collect_errors_per_sec", 1.0));
  b.samples.push_back(Sample("netmon_host_sink")
                          .tag("sink", "prometheus")
                          .counter("dropped_batches", 2)
                          .counter("delivered_batches", 40)
                          .gauge_f("dropped_batches_per_sec", 0.0)
                          .gauge_f("delivered_batches_per_sec", 1.0));
  return b;
}

// The sample lines (neither comments nor empty) of an exposition.
std::vector<std::string> sample_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs a shell command, its stderr with its stdout.
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool have_promtool() {
  if (::access(kPromtool, X_OK) == 0) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true")
    ADD_FAILURE() << kPromtool << " is missing (scripts/install-deps.sh installs it)";
  return false;
}

bool name_char(char c, bool first, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
         (!first && c >= '0' && c <= '9');
}

// Takes a metric name (colon: true) or a label name off the front of s.
bool take_name(std::string_view& s, bool colon, std::string* out = nullptr) {
  std::size_t n = 0;
  while (n < s.size() && name_char(s[n], n == 0, colon)) ++n;
  if (n == 0) return false;
  if (out) *out = std::string(s.substr(0, n));
  s.remove_prefix(n);
  return true;
}

// Takes an escaped string (no raw '"', '\' or newline; escapes \\ \n \") up
// to `end` (not taken) or the end of s.
bool take_escaped(std::string_view& s, char end) {
  while (!s.empty() && s.front() != end) {
    if (s.front() == '"' || s.front() == '\n') return false;
    if (s.front() == '\\') {
      if (s.size() < 2 || (s[1] != '\\' && s[1] != 'n' && s[1] != '"')) return false;
      s.remove_prefix(1);
    }
    s.remove_prefix(1);
  }
  return true;
}

bool is_number(std::string_view s) {
  if (s == "NaN" || s == "+Inf" || s == "-Inf") return true;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  std::size_t digits = 0;
  auto take_digits = [&s] {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    s.remove_prefix(n);
    return n;
  };
  digits += take_digits();
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    digits += take_digits();
  }
  if (digits == 0) return false;
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
    if (take_digits() == 0) return false;
  }
  return s.empty();
}

// Checks an OpenMetrics 1.0 exposition against the rules of its ABNF and of
// its metric types that apply here; returns what breaks them, or "".
std::string openmetrics_violations(const std::string& om) {
  if (!om.ends_with("# EOF\n")) return "no # EOF at the end";
  std::set<std::string> done;  // families already closed
  std::string family, type;    // the current family
  std::set<std::string> seen;  // its label sets
  bool samples = false;
  std::string_view rest(om.data(), om.size() - 6);
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return "a line without newline";
    const std::string line(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    std::string_view l = line;
    if (l.starts_with("#")) {
      std::string keyword, name;
      for (const char* k : {"# HELP ", "# TYPE ", "# UNIT "})
        if (l.starts_with(k)) keyword = std::string(k).substr(2, 4);
      if (keyword.empty()) return "bad metadata line: " + line;
      l.remove_prefix(7);
      if (!take_name(l, true, &name) || !l.starts_with(" ")) return "bad metadata line: " + line;
      l.remove_prefix(1);
      if (name != family) {
        if (!family.empty()) done.insert(family);
        if (done.count(name)) return "family twice: " + name;
        family = name;
        type.clear();
        seen.clear();
        samples = false;
      } else if (samples) {
        return "metadata after samples: " + line;
      }
      const std::string value(l);
      if (keyword == "TYPE") {
        type = value;
        if (type != "counter" && type != "gauge" && type != "info") return "type " + type;
        if ((type == "counter" && name.ends_with("_total")) || (type == "info" && name.ends_with("_info")))
          return "family name with its type's suffix: " + name;
      } else if (keyword == "UNIT") {
        if (!name.ends_with("_" + value)) return "unit not a suffix of " + name;
      } else if (!take_escaped(l, '\n')) {
        return "bad help: " + line;
      }
      continue;
    }
    std::string name;
    if (!take_name(l, true, &name)) return "bad sample line: " + line;
    const std::string_view labels_start = l;
    if (l.starts_with("{")) {
      l.remove_prefix(1);
      while (true) {
        if (!take_name(l, false) || !l.starts_with("=\"")) return "bad label: " + line;
        l.remove_prefix(2);
        if (!take_escaped(l, '"') || !l.starts_with("\"")) return "bad label value: " + line;
        l.remove_prefix(1);
        if (l.starts_with(",")) {
          l.remove_prefix(1);
          continue;
        }
        if (!l.starts_with("}")) return "bad label set: " + line;
        l.remove_prefix(1);
        break;
      }
    }
    const std::string label_set(labels_start.substr(0, labels_start.size() - l.size()));
    if (!l.starts_with(" ")) return "bad sample line: " + line;
    l.remove_prefix(1);
    const std::string value(l);
    if (type.empty()) return "sample before TYPE: " + line;
    samples = true;
    const std::string want = type == "counter" ? family + "_total" : type == "info" ? family + "_info" : family;
    if (name != want) return "sample " + name + " in family " + family;
    if (!is_number(value)) return "bad value: " + line;
    if (type == "info" && value != "1") return "info value not 1: " + line;
    if (type == "counter" && (value.starts_with("-") || value == "NaN")) return "bad counter value: " + line;
    if (!seen.insert(label_set).second) return "label set twice: " + line;
  }
  return "";
}

// ---- golden files ------------------------------------------------------------

TEST(PrometheusExposition, TextMatchesGolden) { expect_golden("sample.prom", render(golden_batch())->text); }

TEST(PrometheusExposition, OpenMetricsMatchesGolden) {
  expect_golden("sample.openmetrics.txt", render(golden_batch())->openmetrics);
}

TEST(PrometheusExposition, PromtoolAcceptsTheGoldenText) {
  if (!have_promtool()) GTEST_SKIP() << "no " << kPromtool;
  const CommandResult r = run(std::string(kPromtool) + " check metrics < " + (kGoldenDir / "sample.prom").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST(PrometheusExposition, PromtoolAcceptsAFullStandardSet) {
  if (!have_promtool()) GTEST_SKIP() << "no " << kPromtool;
  netmon::unit::TempDir tmp;
  const fs::path file = tmp / "standard.prom";
  netmon::unit::write_file(file, render(netmon::unit::standard_batch(2, 100, 2))->text);
  const CommandResult r = run(std::string(kPromtool) + " check metrics < " + file.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST(PrometheusExposition, PromtoolAcceptsTheExampleAlerts) {
  if (!have_promtool()) GTEST_SKIP() << "no " << kPromtool;
  const CommandResult r =
      run(std::string(kPromtool) + " check rules " + (kSourceDir / "sinks/prometheus/alerts.yml").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("SUCCESS"));
}

// ---- the formats -------------------------------------------------------------

TEST(PrometheusExposition, BothFormatsHoldTheSameSampleLines) {
  const auto s = render(golden_batch());
  const auto text = sample_lines(s->text), om = sample_lines(s->openmetrics);
  EXPECT_EQ(text, om);
  EXPECT_EQ(text.size(), s->series);
  EXPECT_TRUE(s->openmetrics.ends_with("\n# EOF\n"));
  EXPECT_EQ(s->openmetrics.find("# EOF"), s->openmetrics.size() - 6);  // once, at the end
  EXPECT_THAT(s->text, Not(HasSubstr("# EOF")));
  EXPECT_THAT(s->text, Not(HasSubstr("# UNIT")));
}

TEST(PrometheusExposition, OpenMetricsFollowsItsGrammar) {
  EXPECT_EQ(openmetrics_violations(read_file(kGoldenDir / "sample.openmetrics.txt")), "");
  EXPECT_EQ(openmetrics_violations(render(netmon::unit::standard_batch(2, 100, 2))->openmetrics), "");
  // The checker catches what it should.
  EXPECT_NE(openmetrics_violations("# TYPE a_total counter\na_total 1\n# EOF\n"), "");
  EXPECT_NE(openmetrics_violations("# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n# EOF\n"), "");
  EXPECT_NE(openmetrics_violations("# TYPE a_bytes gauge\n# UNIT a_bytes seconds\na_bytes 1\n# EOF\n"), "");
  EXPECT_NE(openmetrics_violations("# TYPE a gauge\na 1\n"), "");
  EXPECT_NE(openmetrics_violations("# TYPE a gauge\na{x=\"\\q\"} 1\n# EOF\n"), "");
  EXPECT_NE(openmetrics_violations("# TYPE a gauge\na 1 2\n# EOF\n"), "");
  EXPECT_NE(openmetrics_violations("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# HELP a x\n# EOF\n"), "");
  EXPECT_EQ(openmetrics_violations("# HELP a x \\\"q\\\"\n# TYPE a counter\na_total 1\n# EOF\n"), "");
}

TEST(PrometheusExposition, CountersAreFamiliesWithoutTotalInOpenMetrics) {
  const auto s = render(golden_batch());
  EXPECT_TRUE(has_line(s->text, "# TYPE netmon_xdp_bytes_total counter"));
  EXPECT_TRUE(has_line(s->openmetrics, "# TYPE netmon_xdp_bytes counter"));
  EXPECT_TRUE(has_line(s->openmetrics, "# UNIT netmon_xdp_bytes bytes"));
  EXPECT_TRUE(has_line(s->openmetrics, "netmon_xdp_bytes_total{ifname=\"eth0\",l3=\"ipv4\",l4=\"tcp\"} 4000000"));
  EXPECT_TRUE(has_line(s->openmetrics, "# TYPE netmon_build info"));
  EXPECT_TRUE(has_line(s->text, "# TYPE netmon_build_info gauge"));
  EXPECT_TRUE(has_line(s->text, "netmon_build_info{abi=\"1.1\",version=\"0.1.0\"} 1"));
  EXPECT_TRUE(has_line(s->openmetrics, "# UNIT netmon_collect_duration_seconds seconds"));
  EXPECT_THAT(s->openmetrics, Not(HasSubstr("# TYPE netmon_xdp_bytes_total")));
}

TEST(PrometheusExposition, ValuesAreExactAndNonFiniteAsTheFormatsWant) {
  const auto s = render(golden_batch());
  EXPECT_THAT(s->text, HasSubstr("netmon_acme_probe_wrap_total{"));
  EXPECT_THAT(s->text, HasSubstr("} 18446744073709551615\n"));
  EXPECT_THAT(s->text, HasSubstr("netmon_acme_probe_offset{"));
  EXPECT_THAT(s->text, HasSubstr("} -42\n"));
  EXPECT_THAT(s->text, HasSubstr("} NaN\n"));
  EXPECT_THAT(s->text, HasSubstr("} +Inf\n"));
  EXPECT_THAT(s->text, HasSubstr("} -Inf\n"));
  EXPECT_THAT(s->text, HasSubstr("} 1e+300\n"));
  EXPECT_TRUE(has_line(s->text, "netmon_collect_duration_seconds 0.00012"));
  EXPECT_TRUE(has_line(s->text, "netmon_flow_table_read_duration_seconds 0.00025"));
  // No timestamps: two fields, name{labels} and value, per line.
  for (const auto& line : sample_lines(s->text)) {
    const std::size_t close = line.rfind('}');
    const std::string tail = line.substr(close == std::string::npos ? 0 : close + 1);
    EXPECT_EQ(std::count(tail.begin(), tail.end(), ' '), 1) << line;
  }
}

TEST(PrometheusExposition, LabelValuesAndHelpAreEscaped) {
  Batch b;
  b.samples.push_back(Sample("odd\\name\nx").tag("v", "back\\slash \"q\"\nnl\ttab").gauge("g", 1));
  const auto s = render(b);
  EXPECT_TRUE(has_line(s->text, "netmon_odd_name_x_g{v=\"back\\\\slash \\\"q\\\"\\nnl\ttab\"} 1"));
  // HELP: text escapes \ and newline; OpenMetrics escapes the quote too.
  EXPECT_TRUE(has_line(s->text, "# HELP netmon_odd_name_x_g Field g of measurement odd\\\\name\\nx (gauge)."));
  EXPECT_TRUE(has_line(s->openmetrics, "# HELP netmon_odd_name_x_g Field g of measurement odd\\\\name\\nx (gauge)."));
  Batch q;
  q.samples.push_back(Sample("m\"q").gauge("g", 1));
  EXPECT_THAT(render(q)->text, HasSubstr("measurement m\"q (gauge)"));
  EXPECT_THAT(render(q)->openmetrics, HasSubstr("measurement m\\\"q (gauge)"));
}

TEST(PrometheusExposition, InvalidUtf8BecomesReplacementCharacter) {
  Batch b;
  b.samples.push_back(Sample("m").tag("v", std::string("a\xff") + "b\xc3\xa9" + "\xe2\x82").gauge("g", 1));
  EXPECT_TRUE(has_line(render(b)->text,
                       "netmon_m_g{v=\"a\xEF\xBF\xBD"
                       "b\xc3\xa9\xEF\xBF\xBD\xEF\xBF\xBD\"} 1"));
}

TEST(PrometheusExposition, ContentNegotiation) {
  // What Prometheus 2.x and 3.x send by default.
  EXPECT_TRUE(
      wants_openmetrics("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  EXPECT_TRUE(wants_openmetrics(
      "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;"
      "version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,"
      "*/*;q=0.2"));
  EXPECT_TRUE(wants_openmetrics("Application/OpenMetrics-Text"));
  EXPECT_TRUE(wants_openmetrics("application/openmetrics-text; version=\"1.0.0\"; charset=utf-8"));
  // Prometheus configured to prefer the text format.
  EXPECT_FALSE(wants_openmetrics("text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4"));
  EXPECT_FALSE(wants_openmetrics(""));
  EXPECT_FALSE(wants_openmetrics("*/*"));
  EXPECT_FALSE(wants_openmetrics("text/plain"));
  EXPECT_FALSE(wants_openmetrics("application/openmetrics-text;q=0"));
  EXPECT_FALSE(wants_openmetrics("application/openmetrics-text;version=2.0.0"));
  EXPECT_FALSE(wants_openmetrics("application/json"));
}

// ---- the mapping -------------------------------------------------------------

TEST(PrometheusMapping, EveryStandardMeasurementIsMapped) {
  const auto s = render(netmon::unit::standard_batch(1, 1, 1));
  for (const char* family : {"netmon_xdp_packets_total{",
                             "netmon_xdp_bytes_total{",
                             "netmon_xdp_malformed_packets_total{",
                             "netmon_xdp_attach_info{",
                             "netmon_tc_packets_total{",
                             "netmon_tc_bytes_total{",
                             "netmon_tc_malformed_packets_total{",
                             "netmon_tc_attach_info{",
                             "netmon_flow_packets_total{",
                             "netmon_flow_bytes_total{",
                             "netmon_flow_other_flows{",
                             "netmon_flow_other_packets{",
                             "netmon_flow_other_bytes{",
                             "netmon_flow_table_entries ",
                             "netmon_flow_table_capacity ",
                             "netmon_flow_table_insert_failures_total ",
                             "netmon_flow_untracked_packets_total ",
                             "netmon_flows_ended_total{reason=\"idle\"} ",
                             "netmon_flows_ended_total{reason=\"active_timeout\"} ",
                             "netmon_flows_ended_total{reason=\"tcp_fin\"} ",
                             "netmon_flows_ended_total{reason=\"tcp_rst\"} ",
                             "netmon_flow_table_evicted_total ",
                             "netmon_flow_table_read_duration_seconds ",
                             "netmon_build_info{",
                             "netmon_plugins_running ",
                             "netmon_collect_duration_seconds ",
                             "netmon_plugin_up{",
                             "netmon_plugin_collect_duration_seconds{",
                             "netmon_plugin_collect_errors_total{",
                             "netmon_sink_dropped_batches_total{",
                             "netmon_sink_delivered_batches_total{"})
    EXPECT_THAT(s->text, HasSubstr("\n" + std::string(family))) << family;
  // Nothing else from the standard set: no generic family for any of its fields.
  for (const auto& line : sample_lines(s->text)) {
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_THAT(name, Not(HasSubstr("_stats"))) << line;
    EXPECT_THAT(name, Not(HasSubstr("flow_top"))) << line;
  }
}

TEST(PrometheusMapping, StandardTotalsAreNotExportedTwice) {
  const auto s = render(golden_batch());
  // xdp_stats' packets/bytes are the sums of xdp_stats_class: only the classes.
  EXPECT_THAT(s->text, Not(HasSubstr("netmon_xdp_packets_total{ifname=\"eth0\"} ")));
  EXPECT_THAT(s->text, Not(HasSubstr("netmon_xdp_packets_total{ifname=\"eth1\"} ")));
  EXPECT_THAT(s->text, Not(HasSubstr("netmon_tc_bytes_total{direction=\"egress\",ifname=\"eth0\"} ")));
  EXPECT_TRUE(has_line(s->text, "netmon_xdp_packets_total{ifname=\"eth1\",l3=\"ipv6\",l4=\"tcp\"} 512"));
  // No host rates, no ifindex, no rank.
  EXPECT_THAT(s->text, Not(HasSubstr("per_sec")));
  EXPECT_THAT(s->text, Not(HasSubstr("ifindex")));
  EXPECT_THAT(s->text, Not(HasSubstr("rank")));
  // Events (flow_top_end, and any plugin's) are not series.
  EXPECT_THAT(s->text, Not(HasSubstr("ifname=\"eth0\",reason=\"idle\"")));
  EXPECT_THAT(s->text, HasSubstr("netmon_flows_ended_total{reason=\"idle\"} 4"));  // the counter holds them
  EXPECT_THAT(s->text, Not(HasSubstr("acme_records")));
  EXPECT_TRUE(has_line(s->text,
                       "netmon_flow_bytes_total{direction=\"egress\",dport=\"443\",dst=\"192.0.2.10\",family=\"ipv4\","
                       "ifname=\"eth0\",proto=\"tcp\",sport=\"51000\",src=\"10.0.0.1\"} 1500000"));
}

TEST(PrometheusMapping, GenericRule) {
  Batch b;
  b.samples.push_back(Sample("dns_queries")
                          .tag("server", "10.0.0.53")
                          .tag("qtype", "AAAA")
                          .counter("queries", 10)
                          .gauge_f("queries_per_sec", 2.5)  // the host's rate of a counter: not exported
                          .gauge_f("answers_per_sec", 1.5)  // no counter `answers`: an ordinary gauge
                          .counter("requests_total", 3)     // _total not doubled
                          .counter("busy_us", 2'500'000)    // a counter in µs: seconds
                          .gauge("latency_ms", 12)          // ms: seconds
                          .gauge("wait_ns", 1500)           // ns: seconds
                          .gauge_i("delta", -7)
                          .gauge_f("ratio", 0.5)
                          .flag("ok", true)
                          .flag("bad", false)
                          .gauge("cache_bytes", 4096)
                          .counter("rx_bytes", 100)
                          .text("server_name", "ns1"));  // strings: not exported
  const auto s = render(b);
  const std::string l = "{qtype=\"AAAA\",server=\"10.0.0.53\"}";
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_queries_total" + l + " 10"));
  EXPECT_TRUE(has_line(s->text, "# TYPE netmon_dns_queries_queries_total counter"));
  EXPECT_THAT(s->text, Not(HasSubstr("queries_per_sec")));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_answers_per_sec" + l + " 1.5"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_requests_total" + l + " 3"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_busy_seconds_total" + l + " 2.5"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_latency_seconds" + l + " 0.012"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_wait_seconds" + l + " 1.5e-06"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_delta" + l + " -7"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_ratio" + l + " 0.5"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_ok" + l + " 1"));
  EXPECT_TRUE(has_line(s->text, "netmon_dns_queries_bad" + l + " 0"));
  EXPECT_TRUE(has_line(s->text, "# TYPE netmon_dns_queries_cache_bytes gauge"));
  EXPECT_TRUE(has_line(s->openmetrics, "# UNIT netmon_dns_queries_cache_bytes bytes"));
  EXPECT_TRUE(has_line(s->openmetrics, "# UNIT netmon_dns_queries_rx_bytes bytes"));
  EXPECT_TRUE(has_line(s->openmetrics, "# TYPE netmon_dns_queries_busy_seconds counter"));
  EXPECT_TRUE(has_line(s->openmetrics, "# UNIT netmon_dns_queries_busy_seconds seconds"));
  EXPECT_TRUE(has_line(s->openmetrics, "# UNIT netmon_dns_queries_latency_seconds seconds"));
  EXPECT_THAT(s->text, Not(HasSubstr("ns1")));
  EXPECT_THAT(s->text, Not(HasSubstr("requests_total_total")));
  // 14 fields: one host rate and one string left out; 3 self-metrics.
  EXPECT_EQ(s->series, 12u + netmon::prometheus::kSelfSeries);
  EXPECT_EQ(s->skipped, 0u);
}

TEST(PrometheusMapping, NamesAreSanitized) {
  EXPECT_EQ(netmon::prometheus::sanitize_metric_name("a.b-c d:e"), "a_b_c_d_e");
  EXPECT_EQ(netmon::prometheus::sanitize_metric_name("9lives"), "9lives");  // follows netmon_
  EXPECT_EQ(netmon::prometheus::sanitize_metric_name(""), "_");
  EXPECT_EQ(netmon::prometheus::sanitize_label_name("9zone"), "_9zone");
  EXPECT_EQ(netmon::prometheus::sanitize_label_name("__meta"), "_meta");
  EXPECT_EQ(netmon::prometheus::sanitize_label_name("a-b"), "a_b");
  EXPECT_EQ(netmon::prometheus::sanitize_label_name(""), "_");
  Batch b;
  b.samples.push_back(Sample("netmon_custom").tag("x.y", "1").tag("x_y", "2").counter("n", 1));
  const auto s = render(b);
  // No netmon_netmon_; two tags that sanitize to one label name: the first wins.
  EXPECT_TRUE(has_line(s->text, "netmon_custom_n_total{x_y=\"1\"} 1"));
}

TEST(PrometheusMapping, ConflictingTypesKeepTheFirstFamily) {
  const auto s = render(golden_batch());
  EXPECT_TRUE(has_line(s->text, "netmon_prometheus_skipped_series{reason=\"type_conflict\"} 1"));
  EXPECT_THAT(s->text, Not(HasSubstr("\nnetmon_xdp_packets{")));
  EXPECT_EQ(s->skipped, 1u);

  // A counter x and a gauge x_total would share the text name x_total.
  Batch b;
  b.samples.push_back(Sample("m").counter("x", 1));
  b.samples.push_back(Sample("m").gauge("x_total", 2));
  b.samples.push_back(Sample("m").gauge("x", 3));  // OpenMetrics family x is the counter's
  const auto c = render(b);
  EXPECT_TRUE(has_line(c->text, "netmon_m_x_total 1"));
  EXPECT_TRUE(has_line(c->text, "netmon_prometheus_skipped_series{reason=\"type_conflict\"} 2"));
  EXPECT_EQ(c->series, 1 + netmon::prometheus::kSelfSeries);
}

TEST(PrometheusMapping, DuplicateLabelSetsAreEmittedOnce) {
  Batch b;
  b.samples.push_back(Sample("m").tag("a", "1").tag("b", "2").gauge("g", 1));
  b.samples.push_back(Sample("m").tag("b", "2").tag("a", "1").gauge("g", 2));  // same set, other order
  b.samples.push_back(Sample("m").tag("a", "1").tag("b", "3").gauge("g", 3));
  const auto s = render(b);
  EXPECT_TRUE(has_line(s->text, "netmon_m_g{a=\"1\",b=\"2\"} 1"));
  EXPECT_TRUE(has_line(s->text, "netmon_m_g{a=\"1\",b=\"3\"} 3"));
  EXPECT_THAT(s->text, Not(HasSubstr("} 2\n")));
  EXPECT_TRUE(has_line(s->text, "netmon_prometheus_skipped_series{reason=\"duplicate\"} 1"));
  EXPECT_EQ(s->series, 2 + netmon::prometheus::kSelfSeries);
}

TEST(PrometheusMapping, AnEmptyLabelValueIsNoLabel) {
  // Prometheus reads l="" as no label l: these two are one series.
  Batch b;
  b.samples.push_back(Sample("m").tag("a", "1").tag("b", "").gauge("g", 1));
  b.samples.push_back(Sample("m").tag("a", "1").gauge("g", 2));
  b.samples.push_back(Sample("m").tag("c", "").gauge("h", 3));
  b.samples.push_back(Sample("netmon_host").text("version", "0.2.0"));  // no abi
  const auto s = render(b);
  EXPECT_TRUE(has_line(s->text, "netmon_m_g{a=\"1\"} 1"));
  EXPECT_TRUE(has_line(s->text, "netmon_m_h 3"));
  EXPECT_TRUE(has_line(s->text, "netmon_build_info{version=\"0.2.0\"} 1"));
  EXPECT_TRUE(has_line(s->text, "netmon_prometheus_skipped_series{reason=\"duplicate\"} 1"));
}

TEST(PrometheusMapping, NegativeCountersAreLeftOut) {
  Batch b;  // a plugin that publishes a standard measurement with the wrong types
  b.samples.push_back(
      Sample("xdp_stats_class").tag("ifname", "x").gauge_i("packets", -1).gauge_f("bytes", std::nan("")));
  b.samples.push_back(Sample("xdp_stats_class").tag("ifname", "y").gauge_i("packets", 5).gauge_f("bytes", 2.5));
  const auto s = render(b);
  EXPECT_TRUE(has_line(s->text, "netmon_xdp_packets_total{ifname=\"y\"} 5"));
  EXPECT_TRUE(has_line(s->text, "netmon_xdp_bytes_total{ifname=\"y\"} 2.5"));
  EXPECT_THAT(s->text, Not(HasSubstr("ifname=\"x\"")));
  EXPECT_TRUE(has_line(s->text, "netmon_prometheus_skipped_series{reason=\"type_conflict\"} 2"));
}

TEST(PrometheusMapping, FamiliesAreGroupedAndSorted) {
  const auto s = render(netmon::unit::standard_batch(2, 10, 1));
  std::vector<std::string> types;
  std::size_t pos = 0;
  while ((pos = s->text.find("# TYPE ", pos)) != std::string::npos) {
    pos += 7;
    types.push_back(s->text.substr(pos, s->text.find(' ', pos) - pos));
  }
  const std::set<std::string> unique(types.begin(), types.end());
  EXPECT_EQ(unique.size(), types.size()) << "a family's metadata appears twice";
  // Sorted by OpenMetrics family name; the same render twice is the same text.
  EXPECT_EQ(render(netmon::unit::standard_batch(2, 10, 1))->text, s->text);
  EXPECT_EQ(types.front(), "netmon_build_info");
}

// ---- the bound on series -----------------------------------------------------

TEST(PrometheusBound, StandardSetHasTheDocumentedNumberOfSeries) {
  for (const std::size_t interfaces : {1u, 2u, 4u})
    for (const std::size_t top : {1u, 10u, 100u})
      EXPECT_EQ(render(netmon::unit::standard_batch(interfaces, top, 1))->series,
                netmon::unit::standard_series(interfaces, top, 3, 1))
          << interfaces << " interfaces, top " << top;
  EXPECT_EQ(netmon::unit::standard_series(2, 10, 3, 1), 183u);   // README.md's example
  EXPECT_EQ(netmon::unit::standard_series(2, 100, 3, 1), 363u);  // ... and with top 100
}

flow_top_key flow_key(std::uint32_t i) {
  flow_top_key k{};
  k.ifindex = 2;
  k.direction = FLOW_TOP_INGRESS;
  k.family = NETMON_L3_IPV4;
  k.ip_proto = 6;
  k.saddr[0] = htonl(0x0A000000u | (i >> 16));
  k.daddr[0] = htonl(0xC0000201u);
  k.sport = htons(static_cast<std::uint16_t>(i & 0xFFFF));
  k.dport = htons(443);
  return k;
}

// flow_top's own code (the collector and the sample builder) with a million
// distinct flows in the table and the largest top N it accepts.
TEST(PrometheusBound, AMillionFlowsStayWithinTheBound) {
  constexpr std::size_t kFlows = 1'000'000, kTop = 1000;  // top's maximum
  netmon::flow_top::CollectorConfig config;
  config.top = kTop;
  netmon::flow_top::FlowCollector collector(config, 0);
  std::vector<netmon::flow_top::FlowEntry> entries(kFlows);
  for (std::uint32_t i = 0; i < kFlows; ++i) {
    entries[i].key = flow_key(i);
    entries[i].value.packets = 1 + (i * 7919ull) % 100'000;
    entries[i].value.bytes = entries[i].value.packets * 100;
    entries[i].value.first_seen = 1;
    entries[i].value.last_seen = 1'000'000'000;
  }
  const auto& result = collector.collect(entries, 1'000'000'000, [](const flow_top_key&) { return std::nullopt; });
  ASSERT_EQ(result.top.size(), kTop);
  ASSERT_EQ(result.other.flows, kFlows - kTop);
  netmon::flow_top::TableInfo table;
  table.capacity = 1 << 20;
  table.read_method = "batch";
  netmon::flow_top::SampleOptions opts;
  opts.ifname = [](std::uint32_t) { return std::string("eth0"); };
  Batch b;
  b.samples = netmon::flow_top::build_samples(result, table, opts);
  ASSERT_EQ(b.samples.size(), kTop + 2);

  const auto s = render(b);
  // flow_top: 2 × top + 13, whatever the traffic; plus the 3 self-metrics.
  EXPECT_EQ(s->series, 2 * kTop + 13 + netmon::prometheus::kSelfSeries);
  EXPECT_LE(s->series, RenderOptions{}.max_series);
  EXPECT_EQ(s->skipped, 0u);
  EXPECT_TRUE(has_line(s->text, "netmon_flow_other_flows{sort=\"packets\"} 999000"));
  EXPECT_TRUE(has_line(s->text, "netmon_flow_table_entries 1000000"));
  EXPECT_THAT(s->text, Not(HasSubstr("rank")));
}

TEST(PrometheusBound, AFlowThatLeavesTheTopLeavesTheScrape) {
  netmon::flow_top::CollectorConfig config;
  config.top = 2;
  netmon::flow_top::FlowCollector collector(config, 0);
  auto entry = [](std::uint32_t i, std::uint64_t packets) {
    netmon::flow_top::FlowEntry e{};
    e.key = flow_key(i);
    e.value.packets = packets;
    e.value.bytes = packets * 100;
    e.value.first_seen = 1;
    e.value.last_seen = 1;
    return e;
  };
  auto none = [](const flow_top_key&) { return std::nullopt; };
  netmon::flow_top::SampleOptions opts;
  opts.ifname = [](std::uint32_t) { return std::string("eth0"); };
  auto scrape = [&](const std::vector<netmon::flow_top::FlowEntry>& e, std::int64_t now) {
    Batch b;
    b.samples = netmon::flow_top::build_samples(collector.collect(e, now, none), {}, opts);
    return render(b)->text;
  };
  const std::string first = scrape({entry(1, 100), entry(2, 50), entry(3, 10)}, 1'000'000'000);
  EXPECT_THAT(first, HasSubstr("sport=\"1\""));
  EXPECT_THAT(first, HasSubstr("sport=\"2\""));
  EXPECT_THAT(first, Not(HasSubstr("sport=\"3\"")));
  const std::string second = scrape({entry(1, 100), entry(2, 50), entry(3, 500)}, 2'000'000'000);
  EXPECT_THAT(second, HasSubstr("sport=\"3\""));
  EXPECT_THAT(second, Not(HasSubstr("sport=\"2\"")));
  EXPECT_EQ(sample_lines(first).size(), sample_lines(second).size());
}

TEST(PrometheusBound, MaxSeriesHoldsWhateverAPluginPublishes) {
  // A third-party plugin with a label per packet, say: a million series.
  Batch b;
  b.samples.reserve(1'000'000);
  for (std::uint32_t i = 0; i < 1'000'000; ++i)
    b.samples.push_back(Sample("leaky").tag("id", std::to_string(i)).counter("hits", i));
  RenderOptions opts;
  const auto s = render(b, opts);
  EXPECT_EQ(s->series, opts.max_series);
  EXPECT_EQ(s->skipped, 1'000'000 - (opts.max_series - netmon::prometheus::kSelfSeries));
  EXPECT_TRUE(has_line(s->text, "netmon_prometheus_skipped_series{reason=\"limit\"} " +
                                    std::to_string(1'000'000 - (opts.max_series - netmon::prometheus::kSelfSeries))));
  opts.max_series = 1;  // below the self-metrics: they still come
  EXPECT_EQ(render(b, opts)->series, netmon::prometheus::kSelfSeries);
}

}  // namespace
