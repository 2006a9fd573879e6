// SPDX-License-Identifier: MIT
// Soak: netmon-host with all three plugins under steady UDP and TCP traffic
// for 10 minutes (NETMON_SOAK_SECONDS to change it), its resident memory and
// open file descriptors sampled every second, and the spacing of its
// intervals measured. After a warm-up both must be flat and every interval
// within 5% of its nominal length. The figures are printed.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <thread>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::HostRun;
using netmon::test::sample_of;
using netmon::test::Subprocess;
using netmon::test::VethPair;

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// The descriptors that stay open: the least of three counts 5 ms apart, so a
// socket opened for a moment (if_indextoname() opens one on every call) is
// not taken for a leak, while a leaked descriptor shows in all three.
std::size_t lasting_fds(pid_t pid) {
  std::size_t n = open_fds(pid);
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_for(5ms);
    n = std::min(n, open_fds(pid));
  }
  return n;
}

double mean(const std::vector<std::uint64_t>& v, std::size_t from, std::size_t to) {
  to = std::min(to, v.size());
  if (from >= to) return 0;
  return std::accumulate(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to), 0.0) /
         static_cast<double>(to - from);
}

TEST(Soak, MemoryAndDescriptorsFlatIntervalsOnTime) {
  NETMON_REQUIRE_ROOT();
  const char* env = std::getenv("NETMON_SOAK_SECONDS");
  const int seconds = env ? std::max(30, std::atoi(env)) : 600;
  const std::size_t warmup = static_cast<std::size_t>(std::min(60, seconds / 5));

  VethPair v;
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--interval", "1s"});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 20s)) << host.stderr_text();
  const pid_t pid = host.process().pid();

  // Steady traffic for the whole run: 4 UDP flows at 2000 datagrams/s, and a
  // TCP connection echoing 100 bytes a second.
  netmon::test::TcpEchoServer server(v, 9100);
  const std::string traffic = std::string(NETMON_TEST_TRAFFIC_BIN) + " --dst " + v.host_ip();
  Subprocess udp({"/bin/sh", "-c",
                  v.in_ns(traffic + " --port 9000 --flows 4 --rate 2000 --count 1000000000 --seconds " +
                          std::to_string(seconds))});
  Subprocess tcp(
      {"/bin/sh", "-c", v.in_ns(traffic + " --tcp --port 9100 --rate 100 --count " + std::to_string(seconds * 100))});

  std::vector<std::uint64_t> rss, fds;
  const auto start = std::chrono::steady_clock::now();
  for (int s = 0; s < seconds; ++s) {
    // Drain the samples as they come (the pipe must not fill), then measure.
    host.wait_for([](const nlohmann::json&) { return false; },
                  std::chrono::duration_cast<std::chrono::milliseconds>(start + std::chrono::seconds(s + 1) -
                                                                        std::chrono::steady_clock::now()));
    rss.push_back(netmon::test::rss_kb(pid));
    fds.push_back(lasting_fds(pid));
  }
  const auto udp_done = udp.wait(30s);
  const auto tcp_done = tcp.wait(60s);
  const auto st = host.stop(SIGINT, 30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  EXPECT_TRUE(udp_done && udp_done->code == 0) << udp.stderr_text();
  EXPECT_TRUE(tcp_done && tcp_done->code == 0) << tcp.stderr_text();

  // Interval spacing, from the host's own sample of each interval.
  std::vector<double> deviation;  // |gap - 1 s| / 1 s
  std::int64_t previous = 0;
  for (const auto& j : host.samples()) {
    if (j["measurement"] != "netmon_host") continue;
    const std::int64_t t = j["timestamp_ns"];
    if (previous) deviation.push_back(std::abs(static_cast<double>(t - previous) / 1e9 - 1.0));
    previous = t;
  }
  if (!deviation.empty()) deviation.pop_back();  // the last: the final collection after SIGINT, early by design
  ASSERT_GT(deviation.size(), static_cast<std::size_t>(seconds) - 5);
  std::vector<double> sorted = deviation;
  std::sort(sorted.begin(), sorted.end());
  const double worst = sorted.back(), p99 = sorted[sorted.size() * 99 / 100];

  // The first and the last minute after the warm-up (shorter, never
  // overlapping windows on a short run).
  const std::size_t window = std::min<std::size_t>(60, (rss.size() - warmup) / 2);
  const double rss_first = mean(rss, warmup, warmup + window), rss_last = mean(rss, rss.size() - window, rss.size());
  const auto [fd_min, fd_max] = std::minmax_element(fds.begin() + static_cast<long>(warmup), fds.end());
  const auto [rss_min, rss_max] = std::minmax_element(rss.begin() + static_cast<long>(warmup), rss.end());
  std::cout << "[ soak     ] " << seconds << " s under traffic, sampled every second after a " << warmup
            << " s warm-up:\n"
            << "[ soak     ]   RSS " << rss_first / 1024 << " MB (mean of the first minute) -> " << rss_last / 1024
            << " MB (mean of the last), min " << *rss_min << " kB, max " << *rss_max << " kB\n"
            << "[ soak     ]   open fds " << *fd_min << " to " << *fd_max << "\n"
            << "[ soak     ]   interval deviation from 1 s: worst " << worst * 100 << " %, 99th percentile "
            << p99 * 100 << " %, over " << deviation.size() << " intervals\n";
  RecordProperty("rss_first_kb", static_cast<int>(rss_first));
  RecordProperty("rss_last_kb", static_cast<int>(rss_last));
  // Flat: the last minute within 2% (at least 512 kB, the allocator's slack) of the first.
  EXPECT_LE(rss_last, rss_first + std::max(rss_first * 0.02, 512.0)) << "resident memory grows";
  EXPECT_EQ(*fd_min, *fd_max) << "open file descriptors change";
  EXPECT_LE(worst, 0.05) << "an interval was more than 5% off";
  netmon::test::expect_nothing_left(v.host_if());
}

}  // namespace
