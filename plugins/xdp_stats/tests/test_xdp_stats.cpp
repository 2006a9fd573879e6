// SPDX-License-Identifier: MIT
// xdp_stats' BPF program, run with bpf_prog_test_run_opts on crafted frames:
// each frame lands in exactly one class with its exact length, the verdict is
// always XDP_PASS, and malformed frames are counted as such.
#include <netmon/bpf.hpp>
#include <netmon/classes.hpp>

#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "support/bpf_run.hpp"
#include "support/packet.hpp"
#include "support/root.hpp"
#include "xdp_stats.h"
#include "xdp_stats.skel.h"

namespace {

using netmon::test::Packet;

struct Case {
  const char* name;
  std::vector<std::uint8_t> frame;
  int l3;
  int l4;
  bool malformed;
};

netmon_class_counters read_sum(const netmon::bpf::Skeleton<xdp_stats>& skel) {
  return netmon::sum_counters(netmon::bpf::lookup_percpu<netmon_class_counters>(bpf_map__fd(skel->maps.stats), 0u));
}

std::vector<Case> cases() {
  const char* a4 = "192.0.2.1";
  const char* b4 = "198.51.100.7";
  const char* a6 = "2001:db8::1";
  const char* b6 = "2001:db8::2";
  // A case's name and frame, then the class it gets, on one line: laid out
  // by hand (clang-format would give every field a line of its own).
  // clang-format off
  return {
      {.name = "ipv4_tcp",
       .frame = Packet().eth().ipv4(a4, b4).tcp(40000, 22, 0x02).payload(10).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_TCP, .malformed = false},
      {.name = "ipv4_udp",
       .frame = Packet().eth().ipv4(a4, b4).udp(5353, 53).payload(30).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_UDP, .malformed = false},
      {.name = "ipv4_icmp",
       .frame = Packet().eth().ipv4(a4, b4).icmp(8, 0).payload(56).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_ICMP, .malformed = false},
      {.name = "ipv4_gre_other",
       .frame = Packet().eth().ipv4(a4, b4, 0, 0, 47).payload(24).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_OTHER, .malformed = false},
      {.name = "ipv4_options_udp",
       .frame = Packet().eth().ipv4(a4, b4, 12).udp(1, 2).payload(4).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_UDP, .malformed = false},
      {.name = "ipv6_udp",
       .frame = Packet().eth().ipv6(a6, b6).udp(5353, 53).payload(40).build(),
       .l3 = NETMON_L3_IPV6, .l4 = NETMON_L4_UDP, .malformed = false},
      {.name = "ipv6_tcp",
       .frame = Packet().eth().ipv6(a6, b6).tcp(1, 443).build(),
       .l3 = NETMON_L3_IPV6, .l4 = NETMON_L4_TCP, .malformed = false},
      {.name = "ipv6_icmpv6",
       .frame = Packet().eth().ipv6(a6, b6).icmp6(128, 0).payload(8).build(),
       .l3 = NETMON_L3_IPV6, .l4 = NETMON_L4_ICMP, .malformed = false},
      {.name = "ipv6_hopbyhop_udp",
       .frame = Packet().eth().ipv6(a6, b6).ipv6_ext(0).udp(1, 2).build(),
       .l3 = NETMON_L3_IPV6, .l4 = NETMON_L4_UDP, .malformed = false},
      {.name = "arp",
       .frame = Packet().eth().arp().build(),
       .l3 = NETMON_L3_ARP, .l4 = NETMON_L4_NONE, .malformed = false},
      {.name = "vlan_ipv4_udp",
       .frame = Packet().eth().vlan(100).ipv4(a4, b4).udp(1, 2).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_UDP, .malformed = false},
      {.name = "qinq_ipv4_tcp",
       .frame = Packet().eth().vlan(10, 0x88A8).vlan(20).ipv4(a4, b4).tcp(1, 2).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_TCP, .malformed = false},
      {.name = "unknown_ethertype",
       .frame = Packet().eth_type(0x88CC).payload(46).build(),
       .l3 = NETMON_L3_OTHER, .l4 = NETMON_L4_NONE, .malformed = false},
      // Truncated and malformed: counted, classified as far as known, flagged.
      {.name = "truncated_eth_only",
       .frame = Packet().eth_type(0x0800).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_OTHER, .malformed = true},
      {.name = "truncated_ipv4_header",
       .frame = Packet().eth().ipv4(a4, b4).udp(1, 2).truncate(14 + 10).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_OTHER, .malformed = true},
      {.name = "truncated_udp_header",
       .frame = Packet().eth().ipv4(a4, b4).udp(1, 2).truncate(14 + 20 + 4).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_UDP, .malformed = true},
      {.name = "truncated_ipv6_header",
       .frame = Packet().eth().ipv6(a6, b6).udp(1, 2).truncate(14 + 30).build(),
       .l3 = NETMON_L3_IPV6, .l4 = NETMON_L4_OTHER, .malformed = true},
      {.name = "truncated_vlan_tag",
       .frame = Packet().eth().vlan(7).ipv4(a4, b4).truncate(16).build(),
       .l3 = NETMON_L3_OTHER, .l4 = NETMON_L4_NONE, .malformed = true},
      {.name = "ipv4_ihl_too_small",
       .frame = Packet().eth().ipv4(a4, b4).ipv4_raw_ihl(3).udp(1, 2).build(),
       .l3 = NETMON_L3_IPV4, .l4 = NETMON_L4_OTHER, .malformed = true},
  };
  // clang-format on
}

class XdpStatsBpf : public ::testing::TestWithParam<Case> {};

TEST_P(XdpStatsBpf, CountsOneFrameInItsClassAndPasses) {
  NETMON_REQUIRE_ROOT();
  const Case& c = GetParam();
  auto skel = netmon::bpf::Skeleton<xdp_stats>::open_and_load("xdp_stats");
  const int fd = bpf_program__fd(skel->progs.xdp_stats_rx);

  constexpr std::uint32_t kRuns = 3;
  for (std::uint32_t i = 0; i < kRuns; ++i) {
    const auto r = netmon::test::test_run(fd, c.frame);
    EXPECT_EQ(r.retval, static_cast<std::uint32_t>(XDP_PASS)) << c.name;
  }
  const netmon_class_counters sum = read_sum(skel);
  for (int a = 0; a < NETMON_L3_MAX; ++a)
    for (int b = 0; b < NETMON_L4_MAX; ++b) {
      const bool expected = a == c.l3 && b == c.l4;
      EXPECT_EQ(sum.cls[a][b].packets, expected ? kRuns : 0u) << c.name << " class " << a << "/" << b;
      EXPECT_EQ(sum.cls[a][b].bytes, expected ? kRuns * c.frame.size() : 0u) << c.name << " class " << a << "/" << b;
    }
  EXPECT_EQ(sum.malformed.packets, c.malformed ? kRuns : 0u) << c.name;
  EXPECT_EQ(sum.malformed.bytes, c.malformed ? kRuns * c.frame.size() : 0u) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Frames, XdpStatsBpf, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(XdpStatsBpfRepeat, ARepeatedRunCountsEveryRepetition) {
  NETMON_REQUIRE_ROOT();
  auto skel = netmon::bpf::Skeleton<xdp_stats>::open_and_load("xdp_stats");
  const auto frame = Packet().eth().ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(64).build();
  const auto r = netmon::test::test_run(bpf_program__fd(skel->progs.xdp_stats_rx), frame, 100000);
  EXPECT_EQ(r.retval, static_cast<std::uint32_t>(XDP_PASS));
  const auto sum = read_sum(skel);
  EXPECT_EQ(sum.cls[NETMON_L3_IPV4][NETMON_L4_UDP].packets, 100000u);
  EXPECT_EQ(sum.cls[NETMON_L3_IPV4][NETMON_L4_UDP].bytes, 100000u * frame.size());
}

}  // namespace
