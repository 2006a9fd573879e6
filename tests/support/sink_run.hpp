// SPDX-License-Identifier: MIT
// The standard sinks' tests share this: the real sink library (from
// NETMON_TEST_PLUGIN_DIR), loaded as netmon-host loads it, renders one fixed
// batch (golden_batch()) into a file, which a test compares with its golden
// file (expect_golden(), sinks/<name>/tests/golden/) or parses back.
//
// To regenerate a sink's golden file after an intended change of output, run
//   NETMON_UPDATE_GOLDEN=1 build/bin/test_<name>_sink
// then read the diff line by line before committing it.
#pragma once

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

#include "support/unit_util.hpp"

namespace netmon::unit {

namespace fs = std::filesystem;
using netmon::Batch;
using netmon::Sample;
using netmon::host::load_sink_library;
using netmon::host::SinkInstance;

inline const fs::path kPluginDir = NETMON_TEST_PLUGIN_DIR;

inline constexpr std::int64_t kBatchTs = 1'795'536'678'004'073'596;  // 2026-11-24T16:11:18.004Z
inline constexpr std::int64_t kProbeTs = 1'795'536'677'500'000'000;  // 2026-11-24T16:11:17.500Z
inline constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
inline const std::string kNote = "a,b \"quoted\"\nnext line";
inline const std::string kPath = "a;b=c\\d";

// Console times are local: make local UTC for the whole program.
class UtcEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};
[[maybe_unused]] inline ::testing::Environment* const utc_env = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

inline Sample xdp(const std::string& ifname, const std::string& ifindex, std::uint64_t packets, std::uint64_t bytes,
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

inline Sample cls(const std::string& ifname, const std::string& ifindex, const std::string& l3, const std::string& l4,
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
inline Batch golden_batch() {
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
inline SinkRun run_sink(const std::string& name, const std::vector<Batch>& batches, const std::string& options = "{}") {
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

inline std::string render(const std::string& name) {
  auto run = run_sink(name, {golden_batch()});
  EXPECT_EQ(run.codes, std::vector<int>{NETMON_OK});
  return run.output;
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(text.substr(start, nl - start));
  EXPECT_EQ(start, text.size()) << "output does not end with a newline";
  return lines;
}

inline std::size_t total_fields(const Batch& b) {
  std::size_t n = 0;
  for (const auto& s : b.samples) n += s.fields.size();
  return n;
}

}  // namespace netmon::unit
