// SPDX-License-Identifier: MIT
// The tcx placement option of tc_stats and flow_top, end to end: someone
// else's tcx program on the ingress hook (as a Cilium-like datapath would be)
// drops the UDP datagrams to one port. With placement=first netmon's programs
// run before it and count every datagram, dropped or not; with
// placement=last (the default) they run after it and count none of the
// dropped ones. The hook's own list of programs shows the order, and after
// SIGINT only the foreign program is left on it.
#include <netmon/bpf.hpp>

#include <gtest/gtest.h>
#include <net/if.h>
#include <signal.h>

#include <cstring>
#include <thread>

#include "foreign_tc.skel.h"
#include "support/bpf_run.hpp"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS static_cast<bpf_attach_type>(46)
#endif

namespace {

using namespace std::chrono_literals;
using netmon::test::field_u64;
using netmon::test::HostRun;
using netmon::test::sample_of;
using netmon::test::VethPair;

constexpr int kDropPort = 9000, kPassPort = 9001;
constexpr std::uint64_t kDropped = 2000, kPassed = 500, kPayload = 60;

std::uint64_t dropped_by(const netmon::bpf::Skeleton<foreign_tc>& f) { return netmon::test::read_u64(f->maps.dropped); }

class E2eTcPlacement : public ::testing::TestWithParam<std::string> {};

TEST_P(E2eTcPlacement, FirstCountsWhatAForeignTcxProgramDropsLastCountsNone) {
  NETMON_REQUIRE_ROOT();
  const std::string placement = GetParam();
  const bool first = placement == "first";
  VethPair v;
  const int ifindex = static_cast<int>(if_nametoindex(v.host_if().c_str()));
  // The foreign program, on the hook before netmon starts.
  auto foreign = netmon::bpf::Skeleton<foreign_tc>::open_and_load(
      "foreign_tc", [](foreign_tc& s) { s.rodata->drop_udp_dport = kDropPort; });
  bpf_link_create_opts lopts{};
  lopts.sz = sizeof lopts;
  netmon::bpf::UniqueFd link(
      bpf_link_create(bpf_program__fd(foreign->progs.foreign_tc), ifindex, BPF_TCX_INGRESS, &lopts));
  ASSERT_TRUE(link) << "tcx link: " << std::strerror(errno);
  const std::uint32_t theirs = netmon::test::prog_id(foreign->progs.foreign_tc);

  std::vector<std::string> args{"--plugins", "tc_stats,flow_top", "--iface", v.host_if(), "--sink",
                                "json",      "--interval",        "200ms"};
  if (placement != "default")
    for (const char* plugin : {"tc_stats", "flow_top"})
      args.insert(args.end(), {"-o", std::string(plugin) + ".placement=" + placement});
  HostRun host(args);
  const auto in_udp =
      sample_of("tc_stats_class", {{"ifname", v.host_if()}, {"direction", "ingress"}, {"l3", "ipv4"}, {"l4", "udp"}});
  const auto totals = sample_of("flow_top_totals", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  ASSERT_TRUE(host.wait_for(totals, 15s)) << host.stderr_text();
  ASSERT_TRUE(host.wait_for(in_udp, 5s)) << host.stderr_text();

  // The hook runs, in order: tc_stats, then flow_top (each attached in turn,
  // first puts flow_top in front of tc_stats), around the foreign program.
  const auto chain = netmon::test::tcx_prog_ids(v.host_if(), "ingress");
  ASSERT_EQ(chain.size(), 3u);
  std::vector<std::string> names;
  for (const auto id : chain) names.push_back(id == theirs ? "foreign" : netmon::test::prog_name(id));
  if (first) EXPECT_EQ(names, (std::vector<std::string>{"flow_top_ingres", "tc_stats_ingres", "foreign"}));
  else EXPECT_EQ(names, (std::vector<std::string>{"foreign", "tc_stats_ingres", "flow_top_ingres"}));

  const auto base_udp = *host.last(in_udp), base_totals = *host.last(totals);
  const std::uint64_t d0 = dropped_by(foreign);
  netmon::test::send_udp(v, kDropped, kPayload, 1, kDropPort);
  netmon::test::send_udp(v, kPassed, kPayload, 1, kPassPort);
  std::this_thread::sleep_for(600ms);  // past two intervals
  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();

  // The foreign program dropped every datagram to its port, whatever netmon's place.
  EXPECT_EQ(dropped_by(foreign) - d0, kDropped);
  // Before it, netmon saw them all; after it, only those it let pass.
  const std::uint64_t expected = (first ? kDropped : 0) + kPassed;
  EXPECT_EQ(host.delta(in_udp, base_udp, "packets"), expected);
  EXPECT_EQ(host.delta(in_udp, base_udp, "bytes"), expected * (14 + 20 + 8 + kPayload));
  EXPECT_EQ(host.delta(totals, base_totals, "packets"), expected);
  // flow_top's flow to the dropped port: exact before it, absent after it.
  std::optional<nlohmann::json> dropped_flow;
  for (const auto& s : host.samples())
    if (s["measurement"] == "flow_top" && s["tags"]["direction"] == "ingress" && s["tags"]["proto"] == "udp" &&
        s["tags"]["dport"] == std::to_string(kDropPort))
      dropped_flow = s;
  if (first) {
    ASSERT_TRUE(dropped_flow) << "no flow_top sample of the dropped flow";
    EXPECT_EQ(field_u64(*dropped_flow, "packets"), kDropped);
  } else {
    EXPECT_FALSE(dropped_flow) << dropped_flow->dump();
  }

  // netmon is gone from the hook; the foreign program stays, first and alone.
  EXPECT_EQ(netmon::test::tcx_prog_ids(v.host_if(), "ingress"), std::vector<std::uint32_t>{theirs});
  EXPECT_TRUE(netmon::test::tcx_prog_ids(v.host_if(), "egress").empty());
  netmon::test::expect_nothing_left(v.host_if());
}

// "default": no option given, which is `last`.
INSTANTIATE_TEST_SUITE_P(Placement, E2eTcPlacement, ::testing::Values("first", "last", "default"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
