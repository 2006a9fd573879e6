// SPDX-License-Identifier: MIT
// tc_stats' programs with bpf_prog_test_run_opts: the ingress program counts
// into the ingress entry, the egress one into the egress entry, each frame in
// its class with skb->len bytes, and both return TC_ACT_UNSPEC.
#include <netmon/bpf.hpp>
#include <netmon/classes.hpp>

#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include "support/bpf_run.hpp"
#include "support/packet.hpp"
#include "support/root.hpp"
#include "tc_stats.h"
#include "tc_stats_bpf.skel.h"

namespace {

using netmon::test::Packet;

netmon_class_counters read(const netmon::bpf::Skeleton<tc_stats_bpf>& skel, std::uint32_t dir) {
  return netmon::sum_counters(netmon::bpf::lookup_percpu<netmon_class_counters>(bpf_map__fd(skel->maps.stats), dir));
}

TEST(TcStatsBpf, EachDirectionCountsItsOwnFramesExactly) {
  NETMON_REQUIRE_ROOT();
  auto skel = netmon::bpf::Skeleton<tc_stats_bpf>::open_and_load("tc_stats");
  const auto udp = Packet().eth().ipv4("10.0.0.1", "10.0.0.2").udp(1000, 2000).payload(100).build();
  const auto tcp6 = Packet().eth().ipv6("2001:db8::1", "2001:db8::2").tcp(1, 2, 0x18).payload(10).build();
  const auto arp = Packet().eth().arp().build();
  const auto cut = Packet().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).truncate(14 + 20 + 10).build();

  const int in = bpf_program__fd(skel->progs.tc_stats_ingress);
  const int out = bpf_program__fd(skel->progs.tc_stats_egress);
  const auto unspec = static_cast<std::uint32_t>(TC_ACT_UNSPEC);
  EXPECT_EQ(netmon::test::test_run(in, udp, 7).retval, unspec);
  EXPECT_EQ(netmon::test::test_run(in, arp, 2).retval, unspec);
  EXPECT_EQ(netmon::test::test_run(in, cut, 1).retval, unspec);
  EXPECT_EQ(netmon::test::test_run(out, tcp6, 5).retval, unspec);

  const auto i = read(skel, TC_STATS_INGRESS);
  EXPECT_EQ(i.cls[NETMON_L3_IPV4][NETMON_L4_UDP].packets, 7u);
  EXPECT_EQ(i.cls[NETMON_L3_IPV4][NETMON_L4_UDP].bytes, 7u * udp.size());
  EXPECT_EQ(i.cls[NETMON_L3_ARP][NETMON_L4_NONE].packets, 2u);
  EXPECT_EQ(i.cls[NETMON_L3_IPV4][NETMON_L4_TCP].packets, 1u);
  EXPECT_EQ(i.malformed.packets, 1u);
  EXPECT_EQ(i.malformed.bytes, cut.size());
  const netmon_counter ti = netmon_class_counters_total(&i);
  EXPECT_EQ(ti.packets, 10u);
  EXPECT_EQ(ti.bytes, 7 * udp.size() + 2 * arp.size() + cut.size());

  const auto o = read(skel, TC_STATS_EGRESS);
  EXPECT_EQ(o.cls[NETMON_L3_IPV6][NETMON_L4_TCP].packets, 5u);
  EXPECT_EQ(o.cls[NETMON_L3_IPV6][NETMON_L4_TCP].bytes, 5u * tcp6.size());
  EXPECT_EQ(netmon_class_counters_total(&o).packets, 5u);
  EXPECT_EQ(o.malformed.packets, 0u);
}

}  // namespace
