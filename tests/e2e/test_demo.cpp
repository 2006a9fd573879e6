// SPDX-License-Identifier: MIT
// The README's main command runs scripts/run.sh, which installs, builds and
// then runs scripts/demo.sh: this runs that demo as a user would, with the
// json sink, and checks what it promises: the traffic starts once netmon-host
// is attached and it runs until the traffic has ended, so the last samples
// hold every packet however slow the machine. Its traffic is known (3 UDP
// flows of 10,000 datagrams each, and a TCP connection): every plugin must
// count it exactly; afterwards its namespace, its veth pair and every program
// are gone.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "support/host.hpp"
#include "support/root.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::field_u64;

TEST(Demo, RunsWithRealTrafficCountsItExactlyAndLeavesNothing) {
  NETMON_REQUIRE_ROOT();
  const std::string bin_dir = std::filesystem::path(NETMON_TEST_HOST_BIN).parent_path();
  const auto r = netmon::test::run(
      {"/usr/bin/env", "NETMON_BIN_DIR=" + bin_dir, std::string(NETMON_TEST_SOURCE_DIR) + "/../scripts/demo.sh",
       "--sink", "json"},
      120s);  // longer than the demo's own 60 s wait for netmon-host, so the demo reports a slow start itself
  ASSERT_EQ(r.status.code, 0) << r.err;

  const auto samples = netmon::test::json_lines(r.out);  // JSON only: a line that is not throws
  ASSERT_FALSE(samples.empty()) << r.err;
  const auto last = [&samples](const std::function<bool(const nlohmann::json&)>& pred) {
    return netmon::test::last_of(samples, pred);
  };
  // About 13 s watched (10 s of traffic), one sample per second of each kind.
  std::size_t intervals = 0;
  for (const auto& j : samples) intervals += j["measurement"] == "netmon_host";
  EXPECT_GE(intervals, 11u);
  EXPECT_LE(intervals, 20u);
  // Each UDP flow: the demo sends 10,000 datagrams of 200 bytes on it, and
  // starts only once netmon-host has attached every plugin (--ready-file),
  // so each plugin sees the whole of it. Generic XDP sees every datagram (it
  // runs before the veth's receive backlog); TC, where tc_stats and flow_top
  // count, sees what the backlog let through: all of it unless the machine
  // is too busy to drain 3000 datagrams a second.
  const auto cls = [](const char* m, const char* l4, std::vector<std::pair<std::string, std::string>> tags) {
    tags.insert(tags.end(), {{"ifname", "nmdemo0"}, {"l3", "ipv4"}, {"l4", l4}});
    return netmon::test::sample_of(m, tags);
  };
  const auto xdp_udp = last(cls("xdp_stats_class", "udp", {}));
  const auto tc_udp = last(cls("tc_stats_class", "udp", {{"direction", "ingress"}}));
  ASSERT_TRUE(xdp_udp && tc_udp);
  EXPECT_EQ(field_u64(*xdp_udp, "packets"), 30000u);
  EXPECT_EQ(field_u64(*xdp_udp, "bytes"), 30000u * (14 + 20 + 8 + 200));
  EXPECT_LE(field_u64(*tc_udp, "packets"), field_u64(*xdp_udp, "packets"));
  const bool tc_saw_all = field_u64(*tc_udp, "packets") == 30000u;
  if (!tc_saw_all) {
    std::cerr << "note: the veth's backlog dropped " << 30000u - field_u64(*tc_udp, "packets")
              << " datagrams before TC; flows are checked against TC's count\n";
  }
  std::uint64_t flow_packets = 0;
  for (int f = 0; f < 3; ++f) {
    const auto flow = last(netmon::test::sample_of(
        "flow_top",
        {{"ifname", "nmdemo0"}, {"proto", "udp"}, {"sport", std::to_string(40000 + f)}, {"dport", "9000"}}));
    ASSERT_TRUE(flow) << "UDP flow " << f;
    if (tc_saw_all) {
      EXPECT_EQ(field_u64(*flow, "packets"), 10000u) << "UDP flow " << f;
    }
    EXPECT_LE(field_u64(*flow, "packets"), 10000u) << "UDP flow " << f;
    EXPECT_EQ(field_u64(*flow, "bytes"), field_u64(*flow, "packets") * (14 + 20 + 8 + 200));
    flow_packets += field_u64(*flow, "packets");
  }
  // flow_top and tc_stats run on the same hook: the same packets, exactly.
  EXPECT_EQ(flow_packets, field_u64(*tc_udp, "packets"));
  // The TCP connection, each way one flow, whole: from its SYN (sent after
  // netmon-host was ready) to its FIN, every segment tc_stats counted.
  for (const char* dir : {"ingress", "egress"}) {
    const auto flow =
        last(netmon::test::sample_of("flow_top", {{"ifname", "nmdemo0"}, {"direction", dir}, {"proto", "tcp"}}));
    const auto tc_tcp = last(cls("tc_stats_class", "tcp", {{"direction", dir}}));
    ASSERT_TRUE(flow && tc_tcp) << dir;
    EXPECT_EQ(field_u64(*flow, "packets"), field_u64(*tc_tcp, "packets")) << dir;
    EXPECT_EQ(field_u64(*flow, "bytes"), field_u64(*tc_tcp, "bytes")) << dir;
    const std::string flags = (*flow)["fields"]["tcp_flags"].get<std::string>();
    EXPECT_NE(flags.find("SYN"), std::string::npos) << dir << ": " << flags;
    EXPECT_NE(flags.find("FIN"), std::string::npos) << dir << ": " << flags;
  }
  const auto xdp = last(netmon::test::sample_of("xdp_stats", {{"ifname", "nmdemo0"}}));
  const auto in = last(netmon::test::sample_of("tc_stats", {{"ifname", "nmdemo0"}, {"direction", "ingress"}}));
  ASSERT_TRUE(xdp && in);
  EXPECT_GE(field_u64(*xdp, "packets"), 30000u);
  EXPECT_GE(field_u64(*in, "packets"), 30000u);

  EXPECT_NE(netmon::test::sh("ip netns list | grep -q '^netmon-demo '"), 0) << "the demo's namespace is left";
  EXPECT_NE(netmon::test::sh("ip link show nmdemo0 >/dev/null 2>&1"), 0) << "the demo's veth is left";
  netmon::test::expect_nothing_left("nmdemo0");
}

}  // namespace
