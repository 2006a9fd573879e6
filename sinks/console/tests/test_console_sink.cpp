// SPDX-License-Identifier: MIT
// The console sink as netmon-host loads it, not on a terminal: its golden
// file and its sections.
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

TEST(SinkGolden, Console) { expect_golden("sample.console.txt", render("console")); }

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

// The drops plugin's section: every reason with its count and rate, the
// busiest first by rate (not by count), the total with what was ignored or
// lost, and the per-key detail left to the json and csv sinks.
TEST(ConsoleSink, DropReasonsSortedByRate) {
  Batch b;
  b.timestamp_ns = golden_batch().timestamp_ns;
  b.interval_ns = 1'000'000'000;
  const auto reason = [](const char* name, std::uint64_t packets, double rate) {
    return Sample("drops_reason")
        .tag("reason", name)
        .counter("packets", packets)
        .counter("bytes", packets * 100)
        .gauge_f("packets_per_sec", rate)
        .gauge_f("bytes_per_sec", rate * 100);
  };
  b.samples.push_back(reason("NO_SOCKET", 5000, 1.0));
  b.samples.push_back(reason("NETFILTER_DROP", 200, 40.0));
  b.samples.push_back(reason("SOCKET_RCVBUFF", 900, 0.0));
  b.samples.push_back(Sample("drops")
                          .tag("reason", "NO_SOCKET")
                          .tag("netns", "1")
                          .tag("ifindex", "2")
                          .counter("packets", 5000)
                          .counter("bytes", 500000));
  b.samples.push_back(Sample("drops_total")
                          .counter("packets", 6107)
                          .counter("ignored_packets", 7)
                          .counter("lost_packets", 0)
                          .gauge_f("packets_per_sec", 41.0));
  const std::string text = run_sink("console", {b}).output;
  EXPECT_THAT(text, HasSubstr("\nPacket Drops (by rate):\n"
                              "  Total: 6.1K packets (41 pkt/s); 7 ignored, 0 lost (table full)\n"
                              "  NETFILTER_DROP  200 packets, 20.0 KB (40 pkt/s, 4.0 KB/s)\n"
                              "  NO_SOCKET       5.0K packets, 500.0 KB (1.0 pkt/s, 100 B/s)\n"
                              "  SOCKET_RCVBUFF  900 packets, 90.0 KB (0 pkt/s, 0 B/s)\n"))
      << text;
  EXPECT_THAT(text, Not(HasSubstr("Other Measurements")));
}

// The tcp_health plugin's section: the connections in their rank order, with
// their resets and smoothed RTT when they have them, the host's totals, and
// what the top N leaves out.
TEST(ConsoleSink, TcpConnectionsByRetransmits) {
  Batch b;
  b.timestamp_ns = golden_batch().timestamp_ns;
  b.interval_ns = 1'000'000'000;
  const auto conn = [](int rank, const char* l3, const char* local, const char* remote, std::uint64_t retrans,
                       double rate, std::uint64_t resets_received) {
    return Sample("tcp_health")
        .tag("rank", std::to_string(rank))
        .tag("netns", "4026531840")
        .tag("l3", l3)
        .tag("local", local)
        .tag("local_port", "43210")
        .tag("remote", remote)
        .tag("remote_port", "443")
        .counter("retransmits", retrans)
        .counter("retransmit_failures", 0)
        .counter("resets_sent", 0)
        .counter("resets_received", resets_received)
        .gauge_f("retransmits_per_sec", rate);
  };
  // Published in rank order by the plugin, but a sink may not rely on it.
  b.samples.push_back(conn(2, "ipv6", "2001:db8::1", "2001:db8::2", 40, 2.0, 1));
  b.samples.push_back(conn(1, "ipv4", "192.0.2.1", "198.51.100.7", 1500, 25.0, 0).gauge("srtt_us", 1250));
  b.samples.push_back(Sample("tcp_health_total")
                          .counter("retransmits", 1545)
                          .counter("retransmit_failures", 2)
                          .counter("resets_sent", 3)
                          .counter("resets_received", 1)
                          .counter("other_retransmits", 5)
                          .counter("other_resets_sent", 3)
                          .counter("other_resets_received", 0)
                          .counter("lost_events", 0)
                          .gauge("connections", 7)
                          .gauge_f("retransmits_per_sec", 27.0));
  const std::string text = run_sink("console", {b}).output;
  EXPECT_THAT(text, HasSubstr("\nTCP Health (by retransmits, 2 of 7 connections):\n"
                              "  Total: 1.5K retransmits (27/s), 2 failed; resets: 3 sent (0/s), 1 received (0/s); "
                              "0 lost (table full)\n"
                              "  1. TCP 192.0.2.1:43210 -> 198.51.100.7:443  1.5K retransmits (25/s), srtt 1.25 ms\n"
                              "  2. TCP [2001:db8::1]:43210 -> [2001:db8::2]:443  40 retransmits (2.0/s), resets 0 "
                              "sent 1 received\n"
                              "  Other connections: 5 retransmits, resets 3 sent 0 received\n"))
      << text;
  EXPECT_THAT(text, Not(HasSubstr("Other Measurements")));
}

// The full-screen view only on a terminal: asked for on a file, refused with
// the option named; plain or auto there are today's blocks.
TEST(ConsoleSink, ScreenModeNeedsATerminalPlainAndAutoGiveTheBlocks) {
  const auto msg = error_of<netmon::UsageError>([] { run_sink("console", {}, R"({"mode": "screen"})"); });
  EXPECT_THAT(msg, HasSubstr("option console.mode: screen needs stdout to be a terminal"));
  const std::string blocks = render("console");
  for (const char* mode : {"plain", "auto"})
    EXPECT_EQ(run_sink("console", {golden_batch()}, std::string(R"({"mode": ")") + mode + "\"}").output, blocks)
        << mode;
  EXPECT_THAT(error_of<netmon::UsageError>([] { run_sink("console", {}, R"({"mode": "fancy"})"); }),
              HasSubstr("console.mode"));
}
