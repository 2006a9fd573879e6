// SPDX-License-Identifier: MIT
// The full-screen view's layout (console_screen.cpp) for a fixed batch: the
// golden screens at 80x24 and 200x50, and what each key's state changes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "console_screen.hpp"
#include "support/sink_run.hpp"

namespace {

using netmon::Batch;
using netmon::Sample;
using netmon::console::FlowSort;
using netmon::console::layout;
using netmon::console::screen_text;
using netmon::console::ScreenLine;
using netmon::console::ScreenState;
using ::testing::HasSubstr;
using ::testing::Not;

Sample flow(int rank, const std::string& family, const std::string& proto, const std::string& src, int sport,
            const std::string& dst, int dport, std::uint64_t packets, std::uint64_t bytes, double rate2s,
            const std::string& dir = "ingress", const std::string& ifname = "eth0") {
  return Sample("flow_top")
      .tag("ifname", ifname)
      .tag("ifindex", ifname == "eth0" ? "2" : "3")
      .tag("direction", dir)
      .tag("family", family)
      .tag("proto", proto)
      .tag("src", src)
      .tag("dst", dst)
      .tag("sport", std::to_string(sport))
      .tag("dport", std::to_string(dport))
      .tag("rank", std::to_string(rank))
      .gauge("packets", packets)
      .gauge("bytes", bytes)
      .gauge_f("packets_per_sec", static_cast<double>(packets) / 10)
      .gauge_f("bytes_per_sec", rate2s * 1.1)
      .gauge_f("bytes_per_sec_2s", rate2s)
      .gauge_f("bytes_per_sec_10s", rate2s / 2)
      .gauge_f("bytes_per_sec_40s", rate2s / 4)
      .text("tcp_flags", proto == "tcp" ? "SYN|ACK|PSH" : "")
      .gauge("ip_proto", proto == "tcp"   ? 6
                         : proto == "udp" ? 17
                                          : 1);
}

Sample tc(const std::string& ifname, const std::string& dir, std::uint64_t packets, double pps) {
  return Sample("tc_stats")
      .tag("ifname", ifname)
      .tag("ifindex", ifname == "eth0" ? "2" : "3")
      .tag("direction", dir)
      .counter("packets", packets)
      .counter("bytes", packets * 100)
      .text("attach", "tcx")
      .gauge_f("packets_per_sec", pps)
      .gauge_f("bytes_per_sec", pps * 100);
}

// The golden batch (two interfaces at XDP, a third-party probe) with TC,
// 14 top flows (IPv4 and IPv6, TCP, UDP, ICMP, both directions), the table,
// drops and TCP health.
Batch screen_batch() {
  Batch b = netmon::unit::golden_batch();
  b.samples.push_back(tc("eth0", "ingress", 20000, 9900.5));
  b.samples.push_back(tc("eth0", "egress", 15000, 7000.0));
  b.samples.push_back(tc("eth1", "ingress", 512, 0.4));
  b.samples.push_back(tc("eth1", "egress", 0, 0));
  int rank = 0;
  b.samples.push_back(flow(++rank, "ipv4", "tcp", "192.0.2.10", 443, "198.51.100.7", 51234, 9000, 12000000, 1.2e6));
  b.samples.push_back(flow(++rank, "ipv6", "tcp", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", 8443,
                           "2001:db8:1111:2222:3333:4444:5555:6666", 40000, 5000, 7000000, 2.5e6, "egress"));
  b.samples.push_back(flow(++rank, "ipv4", "udp", "10.0.0.1", 53, "10.0.0.2", 33000, 3000, 300000, 30000));
  b.samples.push_back(flow(++rank, "ipv4", "icmp", "10.0.0.3", 0, "10.0.0.1", 8 << 8, 1000, 98000, 9800));
  for (int i = 0; i < 10; ++i)
    b.samples.push_back(flow(++rank, "ipv4", "udp", "10.0.1." + std::to_string(i + 1), 40000 + i, "10.0.0.1", 9000,
                             900 - static_cast<std::uint64_t>(i) * 50, 90000 - static_cast<std::uint64_t>(i) * 5000,
                             1000.0 + i * 500, "ingress", i % 2 ? "eth1" : "eth0"));
  b.samples.push_back(Sample("flow_top_other")
                          .tag("sort", "packets")
                          .gauge("flows", 25)
                          .gauge("packets", 1200)
                          .gauge("bytes", 85400)
                          .gauge_f("bytes_per_sec", 100.0));
  b.samples.push_back(Sample("flow_top_table")
                          .gauge("entries", 39)
                          .gauge("capacity", 4096)
                          .counter("evicted", 2)
                          .counter("insert_failures", 0)
                          .counter("evicted_unseen_packets", 3)
                          .counter("evicted_unseen_bytes", 300));
  b.samples.push_back(Sample("drops_total")
                          .counter("packets", 6107)
                          .counter("ignored_packets", 7)
                          .counter("lost_packets", 0)
                          .gauge_f("packets_per_sec", 41.0));
  b.samples.push_back(
      Sample("drops_reason").tag("reason", "NETFILTER_DROP").counter("packets", 200).gauge_f("packets_per_sec", 40.0));
  b.samples.push_back(Sample("tcp_health_total")
                          .counter("retransmits", 12)
                          .gauge_f("retransmits_per_sec", 3.0)
                          .counter("resets_sent", 1)
                          .counter("resets_received", 2)
                          .gauge("connections", 1));
  return b;
}

// Row of the first line holding text, or -1.
int row_of(const std::vector<ScreenLine>& screen, const std::string& text) {
  for (std::size_t i = 0; i < screen.size(); ++i)
    if (screen[i].text.find(text) != std::string::npos) return static_cast<int>(i);
  return -1;
}

void expect_fits(const std::vector<ScreenLine>& screen, const ScreenState& st) {
  EXPECT_EQ(static_cast<int>(screen.size()), st.height);
  for (const auto& l : screen) {
    EXPECT_LE(static_cast<int>(l.text.size()), st.width) << l.text;
    EXPECT_LE(l.bar, st.width);
    for (const unsigned char c : l.text) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "not printable ASCII: " << l.text;
  }
}

TEST(ConsoleScreen, Golden80x24) {
  ScreenState st;
  const auto screen = layout(screen_batch(), st);
  expect_fits(screen, st);
  netmon::unit::expect_golden("screen-80x24.txt", screen_text(screen));
  // The header, the totals and at least ten flows, the busiest first.
  EXPECT_THAT(screen[0].text, HasSubstr("netmon 16:11:18  every 1s  eth0 eth1"));
  EXPECT_EQ(screen[1].text.rfind("All       RX 20.6K pkt 4.9 MB 2.4 MB/s | TX 15.0K pkt", 0), 0u) << screen[1].text;
  const int heading = row_of(screen, "PROTO SOURCE");
  ASSERT_GT(heading, 0);
  EXPECT_THAT(screen[static_cast<std::size_t>(heading) + 1].text, HasSubstr("192.0.2.10:443"));
  int flows = 0;
  for (const auto& l : screen) flows += l.bar > 0;
  EXPECT_GE(flows, 10);
  // The busiest flow's bar is the whole width, the others in proportion.
  EXPECT_EQ(screen[static_cast<std::size_t>(heading) + 1].bar, st.width);
  EXPECT_EQ(screen[static_cast<std::size_t>(heading) + 2].bar, 44);  // 5000 / 9000 of 80
  EXPECT_THAT(screen.back().text, HasSubstr("q quit"));
}

TEST(ConsoleScreen, Golden200x50) {
  ScreenState st;
  st.width = 200;
  st.height = 50;
  const auto screen = layout(screen_batch(), st);
  expect_fits(screen, st);
  netmon::unit::expect_golden("screen-200x50.txt", screen_text(screen));
  // Wider: every rate, the interface and the flags; the IPv6 addresses whole.
  EXPECT_THAT(screen_text(screen), HasSubstr("[2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:8443"));
  const int heading = row_of(screen, "PROTO SOURCE");
  for (const char* col : {"NOW", "2s", "10s", "40s", "IFACE", "FLAGS"})
    EXPECT_THAT(screen[static_cast<std::size_t>(heading)].text, HasSubstr(col));
  // Every flow, then the other plugins' lines.
  EXPECT_GE(row_of(screen, "Drops 6.1K pkt"), 0);
  EXPECT_GE(row_of(screen, "TCP health 12 retrans"), 0);
  EXPECT_GE(row_of(screen, "acme_probe{host=db-1"), 0);
}

TEST(ConsoleScreen, AddressesShortenInTheMiddleAt80Columns) {
  const auto screen = layout(screen_batch(), ScreenState{});
  const int row = row_of(screen, ":8443");
  ASSERT_GE(row, 0);
  EXPECT_THAT(screen[static_cast<std::size_t>(row)].text, HasSubstr("[2001:d..eee:1]:8443")) << screen_text(screen);
}

TEST(ConsoleScreen, SortKeysReorderTheFlows) {
  ScreenState st;
  st.height = 40;
  const auto first_flow = [&st] {
    const auto screen = layout(screen_batch(), st);
    return screen[static_cast<std::size_t>(row_of(screen, "PROTO SOURCE")) + 1].text;
  };
  EXPECT_THAT(first_flow(), HasSubstr("192.0.2.10:443"));  // the plugin's order: packets
  st.sort = FlowSort::rate;                                // 2.5 MB/s over 2 s: the IPv6 flow
  EXPECT_THAT(first_flow(), HasSubstr(":8443"));
  st.sort = FlowSort::bytes;
  EXPECT_THAT(first_flow(), HasSubstr("192.0.2.10:443"));
  EXPECT_GE(row_of(layout(screen_batch(), st), "flows by bytes"), 0);
}

TEST(ConsoleScreen, FilterAndInterfaceHideTheOtherFlows) {
  ScreenState st;
  st.height = 40;
  st.filter = "10.0.1.3";
  auto text = screen_text(layout(screen_batch(), st));
  EXPECT_THAT(text, HasSubstr("10.0.1.3:40002"));
  EXPECT_THAT(text, Not(HasSubstr("192.0.2.10")));
  EXPECT_THAT(text, HasSubstr("1 of 39 flows"));
  st.filter = "ICMP";  // protocols match whatever the case
  text = screen_text(layout(screen_batch(), st));
  EXPECT_THAT(text, HasSubstr("10.0.0.3"));
  EXPECT_THAT(text, HasSubstr("1 of 39 flows"));
  st.filter.clear();
  st.iface = "eth1";
  text = screen_text(layout(screen_batch(), st));
  EXPECT_THAT(text, HasSubstr("5 of 39 flows"));
  EXPECT_THAT(text, Not(HasSubstr("eth0      XDP")));
  EXPECT_THAT(text, HasSubstr("eth1      XDP generic 512 pkt"));
  EXPECT_EQ(netmon::console::interfaces(screen_batch()), (std::vector<std::string>{"eth0", "eth1"}));
}

TEST(ConsoleScreen, PausedFilterAndStatusAreShown) {
  ScreenState st;
  st.paused = true;
  st.status = "netmon-host: warn: a message";
  st.editing_filter = true;
  st.filter = "10.0";
  const auto screen = layout(screen_batch(), st);
  expect_fits(screen, st);
  EXPECT_THAT(screen[0].text, HasSubstr("PAUSED"));
  // The log's last line, after the notes of the batch.
  EXPECT_EQ(screen[screen.size() - 2].text, "sink csv dropped 2 batches (too slow); netmon-host: warn: a message");
  EXPECT_THAT(screen.back().text, HasSubstr("Filter: 10.0_"));
}

TEST(ConsoleScreen, TooSmallSaysSoAndHelpListsTheKeys) {
  ScreenState st;
  st.width = 40;
  st.height = 10;
  const auto small = layout(screen_batch(), st);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].text, "terminal too small: 40x10; netmon's view");
  st.width = 80;
  st.height = 24;
  st.help = true;
  const auto help = screen_text(layout(screen_batch(), st));
  for (const char* key : {"  p ", "  b ", "  r ", "  space ", "  /  l ", "  i ", "  q "})
    EXPECT_THAT(help, HasSubstr(key));
}

// A batch of 1,000 flows: the screen holds what fits, the rest is summed.
TEST(ConsoleScreen, AThousandFlowsFitTheScreen) {
  Batch b = screen_batch();
  for (int i = 0; i < 1000; ++i)
    b.samples.push_back(flow(100 + i, "ipv4", "udp", "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250),
                             1024 + i, "10.0.0.1", 9000, 10, 1000, 10));
  ScreenState st;
  const auto screen = layout(b, st);
  expect_fits(screen, st);
}

}  // namespace
