// SPDX-License-Identifier: MIT
// flow_top's BPF programs, run with bpf_prog_test_run_opts on crafted frames:
// each frame makes exactly the flow key the parser defines, with exact packet
// and byte counts, TCP flags ORed, one key per direction, non-IP frames
// counted aside, TC_ACT_UNSPEC always; a full table stays bounded and keeps
// the newest flows; the table reader (batch and key by key) and removal; the
// flow cache in front of the table drains into it exactly, also while packets
// are being counted.
#include <netmon/bpf.hpp>

#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string_view>
#include <thread>

#include "flow_cache.hpp"
#include "flow_clock.hpp"
#include "flow_samples.hpp"
#include "flow_table.hpp"
#include "flow_test_util.hpp"
#include "flow_top.skel.h"
#include "support/bpf_run.hpp"
#include "support/packet.hpp"
#include "support/root.hpp"

namespace {

using namespace netmon::flow_top;
using namespace netmon::flow_top::test;
using netmon::bpf::Skeleton;
using netmon::test::Packet;

constexpr auto kUnspec = static_cast<std::uint32_t>(TC_ACT_UNSPEC);
constexpr std::uint32_t kLo = 1;  // test_run gives the skb the loopback device unless told otherwise

// With the flow cache on unless told otherwise, as the plugin runs.
Skeleton<flow_top> load(std::uint32_t table_size = FLOW_TOP_DEFAULT_ENTRIES, bool cache = true) {
  return Skeleton<flow_top>::open_and_load("flow_top", [table_size, cache](flow_top& s) {
    ASSERT_EQ(bpf_map__set_max_entries(s.maps.flows, table_size), 0);
    configure_flow_cache(s, cache);
  });
}

// The table after a drain of the cache, as the plugin reads it.
std::vector<FlowEntry> read_all(const Skeleton<flow_top>& skel, ReadMethod m = ReadMethod::batch) {
  drain_flow_cache(*skel);
  FlowTableReader reader(bpf_map__fd(skel->maps.flows), m);
  reader.set_clock(read_stamp_clock(*skel));
  std::vector<FlowEntry> out;
  reader.read(out);
  return out;
}

flow_top_stats read_stats(const Skeleton<flow_top>& skel) {
  flow_top_stats sum{};
  for (const auto& s : netmon::bpf::lookup_percpu<flow_top_stats>(bpf_map__fd(skel->maps.stats), 0u)) {
    sum.untracked_packets += s.untracked_packets;
    sum.insert_failures += s.insert_failures;
  }
  return sum;
}

// The totals of slot 0 (an interface without a slot: these tests' lo) and a direction.
flow_top_total read_totals(const Skeleton<flow_top>& skel, std::uint32_t direction) {
  flow_top_total sum{};
  for (const auto& t : netmon::bpf::lookup_percpu<flow_top_total>(bpf_map__fd(skel->maps.totals), direction)) {
    sum.packets += t.packets;
    sum.bytes += t.bytes;
    sum.ip_bytes += t.ip_bytes;
  }
  return sum;
}

// The frame's link-layer header as these cases build it: Ethernet and its VLAN tags.
std::size_t link_header(std::string_view case_name) {
  if (case_name.rfind("vlan_", 0) == 0) return 14 + 4;
  if (case_name.rfind("qinq_", 0) == 0) return 14 + 8;
  return 14;
}

std::int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * kSec + ts.tv_nsec;
}

// test_run on the CPU it starts on, so per-CPU effects (LRU lists) are
// deterministic; restored at the end of the scope.
class PinToOneCpu {
 public:
  PinToOneCpu() {
    sched_getaffinity(0, sizeof old_, &old_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof one, &one);
  }
  ~PinToOneCpu() { sched_setaffinity(0, sizeof old_, &old_); }

 private:
  cpu_set_t old_{};
};

// ---- one frame, one flow ------------------------------------------------------

struct Case {
  const char* name;
  std::vector<std::uint8_t> frame;
  flow_top_key key;  // as expected (ifindex lo, ingress)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }  // not 80 bytes of hex in the test name

std::vector<Case> cases() {
  const char* a4 = "192.0.2.1";
  const char* b4 = "198.51.100.7";
  const char* a6 = "2001:db8::1";
  const char* b6 = "2001:db8::2";
  return {
      {.name = "ipv4_tcp",
       .frame = Packet().eth().ipv4(a4, b4).tcp(40000, 22, 0x02).payload(10).build(),
       .key = key4(a4, b4, 40000, 22, 6, kLo)},
      {.name = "ipv4_udp",
       .frame = Packet().eth().ipv4(a4, b4).udp(5353, 53).payload(30).build(),
       .key = key4(a4, b4, 5353, 53, 17, kLo)},
      {.name = "ipv4_icmp_echo",
       .frame = Packet().eth().ipv4(a4, b4).icmp(8, 0).payload(56).build(),
       .key = key4(a4, b4, 0, 0x0800, 1, kLo)},
      {.name = "ipv4_icmp_unreachable",
       .frame = Packet().eth().ipv4(a4, b4).icmp(3, 3).payload(28).build(),
       .key = key4(a4, b4, 0, 0x0303, 1, kLo)},
      {.name = "ipv4_gre_no_ports",
       .frame = Packet().eth().ipv4(a4, b4, 0, 0, 47).payload(24).build(),
       .key = key4(a4, b4, 0, 0, 47, kLo)},
      {.name = "ipv4_options_udp",
       .frame = Packet().eth().ipv4(a4, b4, 12).udp(1, 2).payload(4).build(),
       .key = key4(a4, b4, 1, 2, 17, kLo)},
      {.name = "ipv4_udp_header_cut",
       .frame = Packet().eth().ipv4(a4, b4).udp(1, 2).truncate(14 + 20 + 4).build(),
       .key = key4(a4, b4, 0, 0, 17, kLo)},
      {.name = "ipv6_udp",
       .frame = Packet().eth().ipv6(a6, b6).udp(5353, 53).payload(40).build(),
       .key = key6(a6, b6, 5353, 53, 17, kLo)},
      {.name = "ipv6_tcp",
       .frame = Packet().eth().ipv6(a6, b6).tcp(1, 443).build(),
       .key = key6(a6, b6, 1, 443, 6, kLo)},
      {.name = "ipv6_icmpv6_echo",
       .frame = Packet().eth().ipv6(a6, b6).icmp6(128, 0).payload(8).build(),
       .key = key6(a6, b6, 0, 0x8000, 58, kLo)},
      {.name = "ipv6_hopbyhop_udp",
       .frame = Packet().eth().ipv6(a6, b6).ipv6_ext(0).udp(7, 8).build(),
       .key = key6(a6, b6, 7, 8, 17, kLo)},
      {.name = "vlan_ipv4_udp",
       .frame = Packet().eth().vlan(100).ipv4(a4, b4).udp(1000, 2000).build(),
       .key = key4(a4, b4, 1000, 2000, 17, kLo)},
      {.name = "qinq_ipv6_tcp",
       .frame = Packet().eth().vlan(10, 0x88A8).vlan(20).ipv6(a6, b6).tcp(3, 4).build(),
       .key = key6(a6, b6, 3, 4, 6, kLo)},
  };
}

class FlowTopBpfKey : public ::testing::TestWithParam<Case> {};

TEST_P(FlowTopBpfKey, OneFrameMakesItsFlowWithExactCounts) {
  NETMON_REQUIRE_ROOT();
  const Case& c = GetParam();
  auto skel = load();
  const int prog = bpf_program__fd(skel->progs.flow_top_ingress);
  constexpr std::uint32_t kRuns = 3;
  const std::int64_t before = mono_ns();
  for (std::uint32_t i = 0; i < kRuns; ++i) EXPECT_EQ(netmon::test::test_run(prog, c.frame).retval, kUnspec);
  const std::int64_t after = mono_ns();

  const auto flows = read_all(skel);
  ASSERT_EQ(flows.size(), 1u);
  const auto& f = flows[0];
  EXPECT_TRUE(same_key(f.key, c.key)) << "ifindex " << f.key.ifindex << " dir " << int(f.key.direction) << " family "
                                      << int(f.key.family) << " proto " << int(f.key.ip_proto) << " sport "
                                      << ntohs(f.key.sport) << " dport " << ntohs(f.key.dport);
  EXPECT_EQ(f.value.packets, kRuns);
  EXPECT_EQ(f.value.bytes, kRuns * c.frame.size());
  // IPFIX's octets: from the IP header on, the tags looked through.
  EXPECT_EQ(f.value.ip_bytes, kRuns * (c.frame.size() - link_header(c.name)));
  // The totals count the same packets, in the ingress slot only.
  const flow_top_total in = read_totals(skel, FLOW_TOP_INGRESS);
  EXPECT_EQ(in.packets, kRuns);
  EXPECT_EQ(in.bytes, kRuns * c.frame.size());
  EXPECT_EQ(in.ip_bytes, kRuns * (c.frame.size() - link_header(c.name)));
  EXPECT_EQ(read_totals(skel, FLOW_TOP_EGRESS).packets, 0u);
  // The program's clock has a tick's precision (10 ms at most) and lags.
  EXPECT_GE(static_cast<std::int64_t>(f.value.first_seen), before - 20'000'000);
  EXPECT_LE(static_cast<std::int64_t>(f.value.last_seen), after);
  EXPECT_LE(f.value.first_seen, f.value.last_seen);
  EXPECT_EQ(read_stats(skel).untracked_packets, 0u);
  EXPECT_EQ(read_stats(skel).insert_failures, 0u);
}

INSTANTIATE_TEST_SUITE_P(Frames, FlowTopBpfKey, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// The three ways the plugin lays out the totals (flow_top.cpp picks one by
// the attached interfaces' indexes): indexed by ifindex; by a slot found in
// an if_slot array; by a slot found in an if_slot hash. bpf_prog_test_run's
// packets arrive on lo (ifindex 1), which gets slot 3 where there are slots.
enum class TotalsLayout { direct, slot_array, slot_hash };

class FlowTopTotalsLayout : public ::testing::TestWithParam<TotalsLayout> {};

// With the cache, the packets it holds reach the totals at the drain, which
// finds the element from the flow's key, through the same layout.
TEST_P(FlowTopTotalsLayout, EveryPacketLandsInItsInterfacesElement) {
  NETMON_REQUIRE_ROOT();
  const TotalsLayout layout = GetParam();
  constexpr std::uint32_t kSlot = 3, kLo = 1;
  for (const bool cache : {false, true}) {
    SCOPED_TRACE(cache ? "with the cache" : "without the cache");
    auto skel = Skeleton<flow_top>::open_and_load("flow_top", [layout, cache](flow_top& s) {
      s.rodata->totals_direct = layout == TotalsLayout::direct;
      if (layout == TotalsLayout::slot_hash) {
        ASSERT_EQ(bpf_map__set_type(s.maps.if_slot, BPF_MAP_TYPE_HASH), 0);
      }
      ASSERT_EQ(bpf_map__set_max_entries(s.maps.if_slot, 8), 0);
      ASSERT_EQ(bpf_map__set_max_entries(s.maps.totals, 16), 0);
      ASSERT_EQ(bpf_map__set_max_entries(s.maps.failed, 16), 0);
      configure_flow_cache(s, cache);
    });
    if (layout != TotalsLayout::direct) {
      ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel->maps.if_slot), &kLo, &kSlot, BPF_ANY), 0);
    }
    const auto frame = Packet().eth().ipv4("192.0.2.1", "198.51.100.7").udp(1, 2).payload(50).build();
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(netmon::test::test_run(bpf_program__fd(skel->progs.flow_top_egress), frame).retval, kUnspec);
    const std::uint32_t want = (layout == TotalsLayout::direct ? kLo : kSlot) * 2 + FLOW_TOP_EGRESS;
    const auto element = [&](std::uint32_t idx) {
      flow_top_total sum{};
      for (const auto& t : netmon::bpf::lookup_percpu<flow_top_total>(bpf_map__fd(skel->maps.totals), idx))
        sum.packets += t.packets, sum.bytes += t.bytes;
      return sum;
    };
    if (cache) {
      EXPECT_EQ(element(want).packets, 0u) << "in the cache, not yet in the totals";
      drain_flow_cache(*skel);
    }
    for (std::uint32_t idx = 0; idx < 16; ++idx) {
      const flow_top_total t = element(idx);
      EXPECT_EQ(t.packets, idx == want ? 5u : 0u) << "element " << idx;
      EXPECT_EQ(t.bytes, idx == want ? 5u * frame.size() : 0u) << "element " << idx;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, FlowTopTotalsLayout,
                         ::testing::Values(TotalsLayout::direct, TotalsLayout::slot_array, TotalsLayout::slot_hash),
                         [](const ::testing::TestParamInfo<TotalsLayout>& info) {
                           switch (info.param) {
                             case TotalsLayout::direct: return std::string("direct");
                             case TotalsLayout::slot_array: return std::string("slot_array");
                             case TotalsLayout::slot_hash: return std::string("slot_hash");
                           }
                           return std::string("?");
                         });

// ---- the clock ----------------------------------------------------------------------

TEST(FlowTopBpf, TheProgramsClockMapsToMonotonicTime) {
  NETMON_REQUIRE_ROOT();
  auto skel = load(1024);
  const std::int64_t before = mono_ns();
  const StampClock a = read_stamp_clock(*skel);
  timespec pause{0, 50'000'000};
  nanosleep(&pause, nullptr);
  const StampClock b = read_stamp_clock(*skel);
  const std::int64_t after = mono_ns();
  const std::uint32_t hz = skel->bss->clock_hz;
  // This kernel's configuration is readable (/proc/config.gz): stamps are jiffies.
  EXPECT_TRUE(hz == 100 || hz == 250 || hz == 300 || hz == 1000) << hz;
  EXPECT_EQ(a.hz, hz);
  EXPECT_GE(a.ref_ns, before - 20'000'000);
  EXPECT_LE(b.ref_ns, after);
  // 50 ms later, give or take a tick, on both clocks.
  EXPECT_NEAR(static_cast<double>(b.ref_ns - a.ref_ns), 50e6, 25e6);
  EXPECT_NEAR(static_cast<double>(b.ref_stamp - a.ref_stamp) * 1e9 / hz, 50e6, 25e6);
  // A stamp converts through either reference to the same time, within a tick.
  EXPECT_NEAR(static_cast<double>(a.to_ns(b.ref_stamp)), static_cast<double>(b.ref_ns), 1e9 / hz + 1);
  EXPECT_EQ(a.to_ns(0), 0u);
}

// ---- flags, directions, untracked frames ------------------------------------------

TEST(FlowTopBpf, TcpFlagsAreOredOverThePackets) {
  NETMON_REQUIRE_ROOT();
  auto skel = load();
  const int prog = bpf_program__fd(skel->progs.flow_top_ingress);
  const auto seg = [](std::uint8_t flags) {
    return Packet().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(40000, 80, flags).build();
  };
  EXPECT_EQ(netmon::test::test_run(prog, seg(NETMON_TCP_SYN)).retval, kUnspec);
  auto flows = read_all(skel);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].value.tcp_flags, NETMON_TCP_SYN);
  EXPECT_EQ(netmon::test::test_run(prog, seg(NETMON_TCP_ACK)).retval, kUnspec);
  EXPECT_EQ(netmon::test::test_run(prog, seg(NETMON_TCP_ACK | NETMON_TCP_FIN)).retval, kUnspec);
  flows = read_all(skel);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].value.packets, 3u);
  EXPECT_EQ(flows[0].value.tcp_flags, NETMON_TCP_SYN | NETMON_TCP_ACK | NETMON_TCP_FIN);
  EXPECT_EQ(tcp_flags_text(flows[0].value.tcp_flags), "SYN|ACK|FIN");
}

TEST(FlowTopBpf, IngressAndEgressMakeDistinctFlows) {
  NETMON_REQUIRE_ROOT();
  auto skel = load();
  const auto frame = Packet().eth().ipv4("10.0.0.1", "10.0.0.2").udp(1000, 2000).payload(100).build();
  EXPECT_EQ(netmon::test::test_run(bpf_program__fd(skel->progs.flow_top_ingress), frame, 4).retval, kUnspec);
  EXPECT_EQ(netmon::test::test_run(bpf_program__fd(skel->progs.flow_top_egress), frame, 9).retval, kUnspec);
  auto flows = read_all(skel);
  ASSERT_EQ(flows.size(), 2u);
  std::sort(flows.begin(), flows.end(), [](const auto& a, const auto& b) { return a.key.direction < b.key.direction; });
  EXPECT_TRUE(same_key(flows[0].key, key4("10.0.0.1", "10.0.0.2", 1000, 2000, 17, kLo, FLOW_TOP_INGRESS)));
  EXPECT_TRUE(same_key(flows[1].key, key4("10.0.0.1", "10.0.0.2", 1000, 2000, 17, kLo, FLOW_TOP_EGRESS)));
  EXPECT_EQ(flows[0].value.packets, 4u);
  EXPECT_EQ(flows[1].value.packets, 9u);
  EXPECT_EQ(flows[1].value.bytes, 9u * frame.size());
}

TEST(FlowTopBpf, NonIpFramesAreUntrackedNotFlows) {
  NETMON_REQUIRE_ROOT();
  auto skel = load();
  const int in = bpf_program__fd(skel->progs.flow_top_ingress);
  const int out = bpf_program__fd(skel->progs.flow_top_egress);
  EXPECT_EQ(netmon::test::test_run(in, Packet().eth().arp().build(), 2).retval, kUnspec);
  EXPECT_EQ(netmon::test::test_run(out, Packet().eth().arp().build(), 1).retval, kUnspec);
  EXPECT_EQ(netmon::test::test_run(in, Packet().eth_type(0x88CC).payload(46).build()).retval, kUnspec);  // LLDP
  // IPv4 with an impossible header length: no trustworthy addresses, no flow.
  // (A frame cut inside the IP header cannot be tested here: the kernel's skb
  // test_run refuses IP frames shorter than an IP header.)
  EXPECT_EQ(
      netmon::test::test_run(in, Packet().eth().ipv4("10.0.0.1", "10.0.0.2").ipv4_raw_ihl(3).udp(1, 2).build()).retval,
      kUnspec);
  EXPECT_TRUE(read_all(skel).empty());
  EXPECT_EQ(read_stats(skel).untracked_packets, 5u);
}

TEST(FlowTopBpf, ManyRepetitionsCountExactly) {
  NETMON_REQUIRE_ROOT();
  auto skel = load();
  const auto frame = Packet().eth().ipv6("2001:db8::1", "2001:db8::2").tcp(443, 50000, 0x18).payload(1000).build();
  EXPECT_EQ(netmon::test::test_run(bpf_program__fd(skel->progs.flow_top_egress), frame, 100000).retval, kUnspec);
  const auto flows = read_all(skel);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].value.packets, 100000u);
  EXPECT_EQ(flows[0].value.bytes, 100000u * frame.size());
}

// ---- a full table -------------------------------------------------------------------

// The table itself, so without the cache (which inserts the flows it holds
// at the drain, in slot order, not in the order they came).
TEST(FlowTopBpf, AFullTableStaysBoundedAndKeepsTheNewestFlows) {
  NETMON_REQUIRE_ROOT();
  constexpr std::uint32_t kCapacity = 64;
  constexpr std::uint16_t kFlows = 1000;
  PinToOneCpu pin;
  auto skel = load(kCapacity, false);
  const int prog = bpf_program__fd(skel->progs.flow_top_ingress);
  FlowTableReader reader(bpf_map__fd(skel->maps.flows), ReadMethod::batch);
  std::vector<FlowEntry> flows;
  for (std::uint16_t i = 0; i < kFlows; ++i) {
    const auto sport = static_cast<std::uint16_t>(10000 + i);
    const auto frame = Packet().eth().ipv4("10.0.0.1", "10.0.0.2").udp(sport, 53).build();
    ASSERT_EQ(netmon::test::test_run(prog, frame).retval, kUnspec);
    if (i % 50 == 49) {
      reader.read(flows);
      ASSERT_LE(flows.size(), kCapacity) << "after " << i + 1 << " flows";
    }
  }
  reader.read(flows);
  ASSERT_LE(flows.size(), kCapacity);
  ASSERT_GT(flows.size(), 0u);
  std::set<std::uint16_t> present;
  for (const auto& f : flows) {
    EXPECT_EQ(f.value.packets, 1u);
    present.insert(static_cast<std::uint16_t>(ntohs(f.key.sport) - 10000));
  }
  // LRU: the newest flows are the ones kept (the kernel evicts in batches, so
  // fewer than the capacity may remain, but never the newest ones).
  for (std::uint16_t i = kFlows - 8; i < kFlows; ++i) EXPECT_TRUE(present.count(i)) << "flow " << i << " missing";
  EXPECT_GE(*present.begin(), kFlows - 2 * kCapacity) << "an old flow survived";

  // insert_failures is whatever the kernel counted (an LRU makes room rather
  // than fail, so usually 0), and the published sample says exactly that.
  const flow_top_stats st = read_stats(skel);
  FlowCollector collector(CollectorConfig{}, mono_ns());
  const auto& r = collector.collect(flows, mono_ns(), {});
  TableInfo info;
  info.capacity = kCapacity;
  info.insert_failures = st.insert_failures;
  info.untracked_packets = st.untracked_packets;
  info.read_method = to_string(reader.method());
  const auto samples = build_samples(r, info, SampleOptions{});
  const auto& table = samples.back();
  ASSERT_EQ(table.measurement, "flow_top_table");
  EXPECT_EQ(table.u64("insert_failures"), st.insert_failures);
  EXPECT_EQ(table.u64("entries"), flows.size());
  EXPECT_EQ(table.u64("capacity"), kCapacity);
}

// ---- the flow cache ----------------------------------------------------------------

// Flow i of these tests: TCP from 10.2.(i / 256).(i % 256):(1024 + i) to 10.3.0.1:80.
std::vector<std::uint8_t> cache_frame(std::uint32_t i, std::uint8_t flags, std::size_t payload) {
  const std::string src = "10.2." + std::to_string(i / 256) + "." + std::to_string(i % 256);
  return Packet()
      .eth()
      .ipv4(src.c_str(), "10.3.0.1")
      .tcp(static_cast<std::uint16_t>(1024 + i), 80, flags)
      .payload(payload)
      .build();
}

std::uint32_t flow_number(const flow_top_key& k) { return ntohs(k.sport) - 1024u; }

// More flows than the cache has slots, so flows share slots: some are
// counted in the cache, some straight into the table, some both, with
// drains in between. Every flow's counts and flags come out exact, the same
// as without the cache, and the table adds up to the totals.
TEST(FlowTopCache, FlowsSharingItsSlotsCountExactly) {
  NETMON_REQUIRE_ROOT();
  constexpr std::uint32_t kFlows = 1500;  // per CPU the cache holds 256 at a time
  std::map<bool, std::vector<FlowEntry>> tables;
  for (const bool cache : {true, false}) {
    auto skel = load(8192, cache);
    const int prog = bpf_program__fd(skel->progs.flow_top_ingress);
    for (std::uint32_t round = 0; round < 5; ++round) {
      for (std::uint32_t i = 0; i < kFlows; ++i) {
        if (round > i % 5) continue;  // flow i gets i % 5 + 1 packets, the first a SYN
        ASSERT_EQ(netmon::test::test_run(prog, cache_frame(i, round == 0 ? 0x02 : 0x10, i % 64)).retval, kUnspec);
      }
      if (round == 1 || round == 3) drain_flow_cache(*skel);
    }
    auto flows = read_all(skel);
    ASSERT_EQ(flows.size(), kFlows) << "cache " << cache;
    std::uint64_t packets = 0, bytes = 0;
    for (const auto& f : flows) {
      const std::uint32_t i = flow_number(f.key);
      const std::uint64_t n = i % 5 + 1;
      const std::size_t size = cache_frame(i, 0, i % 64).size();
      ASSERT_EQ(f.value.packets, n) << "flow " << i << ", cache " << cache;
      ASSERT_EQ(f.value.bytes, n * size) << "flow " << i;
      ASSERT_EQ(f.value.ip_bytes, n * (size - 14)) << "flow " << i;
      ASSERT_EQ(f.value.tcp_flags, n == 1 ? 0x02 : 0x12) << "flow " << i;
      ASSERT_NE(f.value.first_seen, 0u);
      ASSERT_LE(f.value.first_seen, f.value.last_seen);
      packets += f.value.packets;
      bytes += f.value.bytes;
    }
    const flow_top_total t = read_totals(skel, FLOW_TOP_INGRESS);
    EXPECT_EQ(t.packets, packets);
    EXPECT_EQ(t.bytes, bytes);
    EXPECT_EQ(read_stats(skel).insert_failures, 0u);
    std::sort(flows.begin(), flows.end(),
              [](const auto& a, const auto& b) { return flow_number(a.key) < flow_number(b.key); });
    tables[cache] = std::move(flows);
  }
  for (std::uint32_t i = 0; i < kFlows; ++i) {
    const auto &a = tables[true][i].value, &b = tables[false][i].value;
    ASSERT_TRUE(a.packets == b.packets && a.bytes == b.bytes && a.ip_bytes == b.ip_bytes && a.tcp_flags == b.tcp_flags)
        << "flow " << i;
  }
}

// Packets counted on one CPU while another drains the cache again and again:
// the grace period between retiring a half and draining it loses none.
TEST(FlowTopCache, DrainingWhilePacketsAreCountedLosesNone) {
  NETMON_REQUIRE_ROOT();
  constexpr std::uint32_t kFlows = 600, kRounds = 150, kRepeat = 20;
  auto skel = load(8192);
  const int prog = bpf_program__fd(skel->progs.flow_top_ingress);
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::uint32_t i = 0; i < kFlows; ++i) frames.push_back(cache_frame(i, 0x10, 0));
  const auto pin = [](int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
  };
  std::atomic<bool> done{false};
  std::atomic<bool> failed{false};
  std::thread sender([&] {
    pin(0);
    for (std::uint32_t r = 0; r < kRounds && !failed; ++r)
      for (const auto& f : frames)
        if (netmon::test::test_run(prog, f, kRepeat).retval != kUnspec) failed = true;
    done = true;
  });
  cpu_set_t old{};
  sched_getaffinity(0, sizeof old, &old);
  pin(std::thread::hardware_concurrency() > 1 ? 1 : 0);  // one CPU: the two threads take turns
  int drains = 0;
  while (!done) {
    drain_flow_cache(*skel);
    ++drains;
  }
  sender.join();
  sched_setaffinity(0, sizeof old, &old);
  ASSERT_FALSE(failed);
  EXPECT_GE(drains, 3) << "the drains did not overlap the counting";
  const auto flows = read_all(skel);
  ASSERT_EQ(flows.size(), kFlows);
  for (const auto& f : flows)
    ASSERT_EQ(f.value.packets, std::uint64_t{kRounds} * kRepeat) << "flow " << flow_number(f.key);
  EXPECT_EQ(read_totals(skel, FLOW_TOP_INGRESS).packets, std::uint64_t{kFlows} * kRounds * kRepeat);
}

// ---- reading and removing -------------------------------------------------------------

// Fills the skeleton's table from user space with distinct per-CPU values.
std::map<std::uint16_t, flow_top_value> fill(const Skeleton<flow_top>& skel, std::uint16_t n) {
  const std::size_t ncpus = static_cast<std::size_t>(netmon::bpf::possible_cpus());
  std::vector<flow_top_value> per_cpu(ncpus);
  std::map<std::uint16_t, flow_top_value> expected;
  for (std::uint16_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < ncpus; ++c) {
      // CPU 0 saw it first; the others later, or (one flow in three) not at all: zeros.
      const bool seen = i % 3 != 1 || c == 0;
      per_cpu[c] = seen ? value(i + c + 1, (i + c + 1) * 100u, 1000 + i + static_cast<std::int64_t>(c),
                                2000 + i + static_cast<std::int64_t>(c), static_cast<std::uint8_t>(1u << (c % 8)))
                        : flow_top_value{};
    }
    const auto k = key4("10.1.0.1", "10.1.0.2", i, 80, 6, 7);
    EXPECT_EQ(bpf_map_update_elem(bpf_map__fd(skel->maps.flows), &k, per_cpu.data(), BPF_NOEXIST), 0);
    expected[i] = merge_percpu(per_cpu.data(), ncpus, sizeof(flow_top_value));
  }
  return expected;
}

std::map<std::uint16_t, flow_top_value> by_sport(const std::vector<FlowEntry>& flows) {
  std::map<std::uint16_t, flow_top_value> out;
  for (const auto& f : flows) out[ntohs(f.key.sport)] = f.value;
  return out;
}

bool same_value(const flow_top_value& a, const flow_top_value& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(FlowTopReader, BatchAndIterateReadTheSameTenThousandFlows) {
  NETMON_REQUIRE_ROOT();
  constexpr std::uint16_t kN = 10000;
  auto skel = load(32768);
  const auto expected = fill(skel, kN);
  const int fd = bpf_map__fd(skel->maps.flows);

  FlowTableReader batch(fd, ReadMethod::batch);
  FlowTableReader tiny(fd, ReadMethod::batch, {}, 0, 1);  // one entry per call: grows on ENOSPC
  FlowTableReader iterate(fd, ReadMethod::iterate);
  FlowTableReader automatic(fd, ReadMethod::automatic);
  std::vector<FlowEntry> a, b, c, d;
  batch.read(a);
  tiny.read(b);
  iterate.read(c);
  automatic.read(d);
  EXPECT_EQ(batch.method(), ReadMethod::batch);
  EXPECT_EQ(iterate.method(), ReadMethod::iterate);
  EXPECT_EQ(automatic.method(), ReadMethod::batch);  // this kernel has batch lookups
  ASSERT_EQ(a.size(), kN);
  ASSERT_EQ(b.size(), kN);
  ASSERT_EQ(c.size(), kN);
  ASSERT_EQ(d.size(), kN);
  const auto ma = by_sport(a), mb = by_sport(b), mc = by_sport(c), md = by_sport(d);
  ASSERT_EQ(ma.size(), kN);  // no duplicates
  for (const auto& [sport, v] : expected) {
    ASSERT_TRUE(ma.count(sport) && mb.count(sport) && mc.count(sport) && md.count(sport)) << sport;
    EXPECT_TRUE(same_value(ma.at(sport), v)) << sport;
    EXPECT_TRUE(same_value(mb.at(sport), v)) << sport;
    EXPECT_TRUE(same_value(mc.at(sport), v)) << sport;
    EXPECT_TRUE(same_value(md.at(sport), v)) << sport;
  }
  // The per-CPU merge: sum, earliest non-zero first_seen, latest last_seen, ORed flags.
  // Flow 2 was seen by every CPU: CPU c has 3 + c packets, first seen at 1002 + c.
  const auto ncpus = static_cast<std::uint64_t>(netmon::bpf::possible_cpus());
  EXPECT_EQ(ma.at(2).packets, 3 * ncpus + ncpus * (ncpus - 1) / 2);
  EXPECT_EQ(ma.at(2).first_seen, 1002u);
  EXPECT_EQ(ma.at(2).last_seen, 2002u + ncpus - 1);
}

TEST(FlowTopReader, AnEmptyTableReadsAsEmpty) {
  NETMON_REQUIRE_ROOT();
  auto skel = load(1024);
  EXPECT_TRUE(read_all(skel, ReadMethod::batch).empty());
  EXPECT_TRUE(read_all(skel, ReadMethod::iterate).empty());
}

// The reader on the table alone (without the cache, the packets go straight to it).
TEST(FlowTopReader, RemoveReturnsTheFinalCountsAndDeletes) {
  NETMON_REQUIRE_ROOT();
  auto skel = load(1024, false);
  const auto frame = Packet().eth().ipv4("10.0.0.1", "10.0.0.2").udp(7, 9).payload(50).build();
  const int prog = bpf_program__fd(skel->progs.flow_top_ingress);
  netmon::test::test_run(prog, frame, 5);
  FlowTableReader reader(bpf_map__fd(skel->maps.flows), ReadMethod::batch);
  std::vector<FlowEntry> flows;
  reader.read(flows);
  ASSERT_EQ(flows.size(), 1u);
  netmon::test::test_run(prog, frame, 2);  // after the read, before the removal
  const auto last = reader.remove(flows[0].key);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->packets, 7u);
  EXPECT_EQ(last->bytes, 7u * frame.size());
  EXPECT_FALSE(reader.remove(flows[0].key));  // gone
  reader.read(flows);
  EXPECT_TRUE(flows.empty());
  // The next packet starts the flow afresh.
  netmon::test::test_run(prog, frame, 1);
  reader.read(flows);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].value.packets, 1u);
}

TEST(FlowTopReader, RefusesAMapOfAnotherLayout) {
  NETMON_REQUIRE_ROOT();
  netmon::bpf::UniqueFd fd(bpf_map_create(BPF_MAP_TYPE_HASH, "not_flows", 8, 8, 16, nullptr));
  ASSERT_TRUE(fd);
  try {
    FlowTableReader reader(fd.get(), ReadMethod::automatic);
    FAIL() << "accepted a map with 8-byte keys";
  } catch (const netmon::Error& e) {
    EXPECT_NE(std::string(e.what()).find("key/value sizes 8/8"), std::string::npos) << e.what();
  }
}

}  // namespace
