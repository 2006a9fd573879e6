// SPDX-License-Identifier: MIT
// The SDK's per-interface attach helpers against the kernel, with real
// packets on veth pairs: netmon::PerInterface (interfaces that come and go),
// attach_tc_pair and the tcx placement (before or after someone else's
// program that drops), percpu_sum, and netmon::bpf::Link. Needs root.
#include <netmon/bpf.hpp>
#include <netmon/iface.hpp>
#include <netmon/tc.hpp>

#include <gtest/gtest.h>
#include <net/if.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "foreign_tc.skel.h"
#include "foreign_xdp.skel.h"
#include "support/bpf_run.hpp"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"
#include "tc_stats.h"
#include "tc_stats_bpf.skel.h"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS static_cast<bpf_attach_type>(46)
#endif

namespace netmon::bpf {
// gtest names a placement by its name.
void PrintTo(TcPlacement p, std::ostream* os) { *os << to_string(p); }
}  // namespace netmon::bpf

namespace {

using netmon::test::percpu_array;
using netmon::test::prog_id;
using netmon::test::read_u64;
using namespace std::chrono_literals;
using netmon::bpf::Skeleton;
using netmon::bpf::TcAttach;
using netmon::bpf::TcMode;
using netmon::bpf::TcPair;
using netmon::bpf::TcPlacement;
using netmon::bpf::UniqueFd;
using netmon::test::VethPair;

constexpr int kDropPort = 9000;  // the foreign program drops UDP to this port
constexpr int kPassPort = 9001;

netmon::Interface iface_of(const VethPair& v) { return {if_nametoindex(v.host_if().c_str()), v.host_if()}; }

std::vector<std::string> logged;
void capture(void*, int, const char* message) { logged.emplace_back(message); }
netmon::Logger capturing_logger() { return netmon::Logger(capture, nullptr); }

// What a tc_stats program pair counted at one direction, over every CPU.
netmon_class_counters counted(const Skeleton<tc_stats_bpf>& skel, std::uint32_t dir) {
  return netmon::bpf::percpu_sum<netmon_class_counters>(bpf_map__fd(skel->maps.stats), dir);
}
std::uint64_t udp_packets(const Skeleton<tc_stats_bpf>& skel, std::uint32_t dir) {
  return counted(skel, dir).cls[NETMON_L3_IPV4][NETMON_L4_UDP].packets;
}

// Programs are freed a moment after their last reference goes.
bool wait_prog_gone(std::uint32_t id) {
  for (int i = 0; i < 100; ++i) {
    if (netmon::test::prog_name(id).empty()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Someone else's program that drops the UDP datagrams to kDropPort, on the
// tcx ingress hook of v before anything of netmon's.
struct Dropper {
  Skeleton<foreign_tc> skel;
  UniqueFd link;
  explicit Dropper(const VethPair& v)
      : skel(Skeleton<foreign_tc>::open_and_load("foreign_tc",
                                                 [](foreign_tc& s) { s.rodata->drop_udp_dport = kDropPort; })) {
    bpf_link_create_opts opts{};
    opts.sz = sizeof opts;
    link = UniqueFd(bpf_link_create(bpf_program__fd(skel->progs.foreign_tc),
                                    static_cast<int>(if_nametoindex(v.host_if().c_str())), BPF_TCX_INGRESS, &opts));
    EXPECT_TRUE(link) << "tcx link: " << std::strerror(errno);
  }
  std::uint64_t dropped() const { return read_u64(skel->maps.dropped); }
};

// ---- the tcx placement ----------------------------------------------------------

class TcxPlacement : public ::testing::TestWithParam<TcPlacement> {};

// The foreign program drops every datagram to kDropPort. Placed first,
// netmon's program runs before it and counts every one of them; placed last,
// it runs after it and counts none, while both count every datagram that
// passes. The hook's own list says the same order.
TEST_P(TcxPlacement, FirstCountsWhatAForeignProgramDropsAndLastCountsNone) {
  NETMON_REQUIRE_ROOT();
  if (!netmon::bpf::kernel_has_tcx()) GTEST_SKIP() << "the kernel has no tcx";
  const TcPlacement placement = GetParam();
  VethPair v;
  Dropper foreign(v);
  auto skel = Skeleton<tc_stats_bpf>::open_and_load("tc_stats");
  TcPair links = netmon::bpf::attach_tc_pair(skel->progs.tc_stats_ingress, skel->progs.tc_stats_egress, iface_of(v),
                                             TcAttach{TcMode::tcx, placement, 49153}, netmon::Logger());
  EXPECT_EQ(links.mode(), TcMode::tcx);

  const std::uint32_t ours = prog_id(skel->progs.tc_stats_ingress), theirs = prog_id(foreign.skel->progs.foreign_tc);
  const auto chain = netmon::test::tcx_prog_ids(v.host_if(), "ingress");
  if (placement == TcPlacement::first) EXPECT_EQ(chain, (std::vector<std::uint32_t>{ours, theirs}));
  else EXPECT_EQ(chain, (std::vector<std::uint32_t>{theirs, ours}));
  EXPECT_EQ(netmon::test::tcx_prog_ids(v.host_if(), "egress"),
            std::vector<std::uint32_t>{prog_id(skel->progs.tc_stats_egress)});

  constexpr std::uint64_t kDropped = 700, kPassed = 300;
  netmon::test::send_udp(v, kDropped, 40, 1, kDropPort);
  netmon::test::send_udp(v, kPassed, 40, 1, kPassPort);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(foreign.dropped(), kDropped);
  EXPECT_EQ(udp_packets(skel, TC_STATS_INGRESS), (placement == TcPlacement::first ? kDropped : 0) + kPassed);

  links = TcPair();  // detached: the foreign program alone is left
  EXPECT_EQ(netmon::test::tcx_prog_ids(v.host_if(), "ingress"), std::vector<std::uint32_t>{theirs});
  EXPECT_TRUE(netmon::test::tcx_prog_ids(v.host_if(), "egress").empty());
}

INSTANTIATE_TEST_SUITE_P(Placements, TcxPlacement, ::testing::Values(TcPlacement::first, TcPlacement::last),
                         [](const ::testing::TestParamInfo<TcPlacement>& i) {
                           return std::string(netmon::bpf::to_string(i.param));
                         });

// A netlink filter runs after every tcx program, in the order of its
// priority: `first` cannot be had there and is refused, with nothing left.
TEST(TcxPlacementNetlink, FirstIsRefusedAndNothingIsLeft) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  auto skel = Skeleton<tc_stats_bpf>::open_and_load("tc_stats");
  try {
    (void)netmon::bpf::attach_tc_pair(skel->progs.tc_stats_ingress, skel->progs.tc_stats_egress, iface_of(v),
                                      TcAttach{TcMode::netlink, TcPlacement::first, 49153}, netmon::Logger());
    ADD_FAILURE() << "placement first was accepted with a netlink attach";
  } catch (const netmon::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              v.host_if() +
                  ": cannot place the TC ingress program first: placement needs a tcx link (kernel 6.6 or later), "
                  "and a netlink filter runs after every tcx program, in the order of its priority (use attach auto "
                  "or tcx on a kernel with tcx, or placement last)");
  }
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  EXPECT_FALSE(netmon::test::tc_has_clsact(v.host_if()));
  // `last` there is the netlink attach as it always was.
  {
    TcPair links = netmon::bpf::attach_tc_pair(skel->progs.tc_stats_ingress, skel->progs.tc_stats_egress, iface_of(v),
                                               TcAttach{TcMode::netlink, TcPlacement::last, 49153}, netmon::Logger());
    EXPECT_EQ(links.mode(), TcMode::netlink);
    netmon::test::send_udp(v, 50, 40, 1, kPassPort);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(udp_packets(skel, TC_STATS_INGRESS), 50u);
  }
  // Egress went first, then ingress, which made the clsact and removed it.
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "egress").empty());
  EXPECT_FALSE(netmon::test::tc_has_clsact(v.host_if()));
}

TEST(TcxPlacementNames, FirstAndLastOnly) {
  EXPECT_EQ(netmon::bpf::parse_tc_placement("first"), TcPlacement::first);
  EXPECT_EQ(netmon::bpf::parse_tc_placement("last"), TcPlacement::last);
  EXPECT_STREQ(netmon::bpf::to_string(TcPlacement::first), "first");
  EXPECT_STREQ(netmon::bpf::to_string(TcPlacement::last), "last");
  EXPECT_THROW((void)netmon::bpf::parse_tc_placement("middle"), netmon::Error);
  EXPECT_THROW((void)netmon::bpf::parse_tc_placement("First"), netmon::Error);
}

// ---- PerInterface ------------------------------------------------------------

struct Attached {
  Skeleton<tc_stats_bpf> skel;
  TcPair links;  // after skel: detached before the programs are freed
};

Attached attach_counter(const netmon::Interface& iface) {
  auto skel = Skeleton<tc_stats_bpf>::open_and_load("tc_stats");
  TcPair links = netmon::bpf::attach_tc_pair(skel->progs.tc_stats_ingress, skel->progs.tc_stats_egress, iface,
                                             TcAttach{TcMode::automatic, TcPlacement::last, 49153}, netmon::Logger());
  return Attached{std::move(skel), std::move(links)};
}

// Interfaces come and go: attach() adds the new ones only; a deleted one's
// entry goes at the next drop_vanished(), with one warning, its programs
// freed; the others go on counting every packet; clear() leaves nothing.
TEST(PerInterface, AttachesNewInterfacesAndDropsTheAttachmentsOfDeletedOnes) {
  NETMON_REQUIRE_ROOT();
  auto a = std::make_unique<VethPair>();
  VethPair b;
  const netmon::Interface ia = iface_of(*a), ib = iface_of(b);
  netmon::PerInterface<Attached> held;
  int made = 0;
  const auto make = [&](const netmon::Interface& i) {
    ++made;
    return attach_counter(i);
  };
  EXPECT_EQ(held.attach({ia, ib}, make), 2u);
  EXPECT_EQ(held.attach({ia, ib}, make), 0u);  // held already
  EXPECT_EQ(made, 2);
  ASSERT_EQ(held.size(), 2u);
  std::vector<std::string> order;
  for (const auto& [iface, at] : held) order.push_back(iface.name);
  EXPECT_EQ(order, (std::vector<std::string>{ia.name, ib.name}));  // as attached
  const std::uint32_t a_ingress = prog_id(held.find(ia.ifindex)->skel->progs.tc_stats_ingress);

  logged.clear();
  EXPECT_EQ(held.drop_vanished(capturing_logger()), 0u);  // both there
  EXPECT_TRUE(logged.empty());

  a.reset();  // the veth pair deleted
  EXPECT_EQ(held.drop_vanished(capturing_logger()), 1u);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], ia.name + " (ifindex " + std::to_string(ia.ifindex) + ") is gone: no longer monitored");
  EXPECT_FALSE(held.contains(ia.ifindex));
  ASSERT_TRUE(held.contains(ib.ifindex));
  EXPECT_TRUE(wait_prog_gone(a_ingress)) << "the deleted interface's programs are still loaded";
  EXPECT_EQ(held.drop_vanished(capturing_logger()), 0u);
  EXPECT_EQ(logged.size(), 1u);  // once

  // The one left counts exactly what it receives.
  netmon::test::send_udp(b, 400, 40, 1, kPassPort);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(udp_packets(held.find(ib.ifindex)->skel, TC_STATS_INGRESS), 400u);

  // A new interface is attached; the held one is not attached again.
  VethPair c;
  const netmon::Interface ic = iface_of(c);
  EXPECT_EQ(held.attach({ib, ic}, make), 1u);
  EXPECT_EQ(made, 3);
  netmon::test::send_udp(c, 250, 40, 1, kPassPort);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(udp_packets(held.find(ic.ifindex)->skel, TC_STATS_INGRESS), 250u);
  EXPECT_EQ(udp_packets(held.find(ib.ifindex)->skel, TC_STATS_INGRESS), 400u);
  EXPECT_EQ(netmon::test::tcx_prog_ids(c.host_if(), "ingress").size(), 1u);

  held.clear();
  EXPECT_TRUE(held.empty());
  for (const VethPair* v : {&b, &c})
    for (const char* dir : {"ingress", "egress"}) EXPECT_TRUE(netmon::test::tcx_prog_ids(v->host_if(), dir).empty());
}

// If attaching one interface throws, the ones that call attached are
// detached again: all of them or none.
TEST(PerInterface, AttachIsAllOrNothing) {
  NETMON_REQUIRE_ROOT();
  VethPair a, b, c;
  netmon::PerInterface<Attached> held;
  EXPECT_EQ(held.attach({iface_of(a)}, attach_counter), 1u);
  int n = 0;
  EXPECT_THROW(held.attach({iface_of(b), iface_of(c)},
                           [&n](const netmon::Interface& i) -> Attached {
                             if (++n == 2) throw netmon::Error("the second one fails");
                             return attach_counter(i);  // b: attached, then detached again
                           }),
               netmon::Error);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(held.size(), 1u);
  EXPECT_TRUE(held.contains(iface_of(a).ifindex));
  EXPECT_EQ(netmon::test::tcx_prog_ids(a.host_if(), "ingress").size(), 1u);  // attached before: kept
  for (const VethPair* v : {&b, &c})
    for (const char* dir : {"ingress", "egress"}) EXPECT_TRUE(netmon::test::tcx_prog_ids(v->host_if(), dir).empty());
}

// ---- percpu_sum ----------------------------------------------------------------

struct Counters {
  std::uint64_t packets, bytes;
  std::uint64_t by_kind[3];
};
struct Narrow {  // not all uint64_t: summed by the function given
  std::uint32_t a, b;
};

TEST(PercpuSum, SumsEveryCpusCopyExactly) {
  NETMON_REQUIRE_ROOT();
  const auto n = static_cast<std::uint64_t>(netmon::bpf::possible_cpus());
  const std::uint64_t cpu_sum = n * (n - 1) / 2;  // 0 + 1 + ... + (n - 1)
  const std::uint32_t zero = 0;

  auto counters = percpu_array<Counters>([](std::size_t c) {
    return Counters{c + 1, 1000 * (c + 1), {c, 2 * c, (1ull << 40) + c}};
  });
  const Counters s = netmon::bpf::percpu_sum<Counters>(counters.get(), zero);
  EXPECT_EQ(s.packets, cpu_sum + n);
  EXPECT_EQ(s.bytes, 1000 * (cpu_sum + n));
  EXPECT_EQ(s.by_kind[0], cpu_sum);
  EXPECT_EQ(s.by_kind[1], 2 * cpu_sum);
  EXPECT_EQ(s.by_kind[2], (n << 40) + cpu_sum);

  // An integer of 4 bytes (the kernel's stride is 8).
  auto u32 = percpu_array<std::uint32_t>([](std::size_t c) { return static_cast<std::uint32_t>(7 * c + 1); });
  EXPECT_EQ(netmon::bpf::percpu_sum<std::uint32_t>(u32.get(), zero), static_cast<std::uint32_t>(7 * cpu_sum + n));

  // Any other value, with the sum of two.
  auto narrow = percpu_array<Narrow>([](std::size_t c) { return Narrow{0xffffffffu, static_cast<std::uint32_t>(c)}; });
  const Narrow ns = netmon::bpf::percpu_sum<Narrow>(narrow.get(), zero, [](Narrow& sum, const Narrow& cpu) {
    sum.a = std::max(sum.a, cpu.a);
    sum.b += cpu.b;
  });
  EXPECT_EQ(ns.a, 0xffffffffu);  // no carry into b, as a wider sum would make
  EXPECT_EQ(ns.b, cpu_sum);

  const std::uint32_t past_the_end = 1;
  EXPECT_THROW((void)netmon::bpf::percpu_sum<Counters>(counters.get(), past_the_end), netmon::Error);
}

// ---- Link --------------------------------------------------------------------

// A libbpf link, owned: attached while held, detached when destroyed.
TEST(Link, OwnsAnyLibbpfLinkAndDetachesWhenDestroyed) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const int ifindex = static_cast<int>(if_nametoindex(v.host_if().c_str()));
  auto skel = Skeleton<foreign_xdp>::open_and_load("foreign_xdp");
  {
    auto link = netmon::bpf::Link::check(bpf_program__attach_xdp(skel->progs.foreign_xdp, ifindex), "foreign_xdp");
    ASSERT_TRUE(link);
    EXPECT_GE(link.fd(), 0);
    EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), prog_id(skel->progs.foreign_xdp));
    netmon::bpf::Link moved = std::move(link);
    EXPECT_FALSE(link);
    EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), prog_id(skel->progs.foreign_xdp));
  }
  EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), 0u) << "the program is still attached";

  // A failed attach (no such interface) throws with what and why.
  try {
    (void)netmon::bpf::Link::check(bpf_program__attach_xdp(skel->progs.foreign_xdp, 0x7ffffff0), "attach to nowhere");
    ADD_FAILURE() << "no exception";
  } catch (const netmon::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("attach to nowhere: ", 0), 0u) << e.what();
  }
}

}  // namespace
