// SPDX-License-Identifier: MIT
// The README's main command runs scripts/run.sh, which installs, builds and
// then runs scripts/demo.sh: this runs that demo as a user would, with the
// json sink, and checks what it promises (netmon-host runs until the traffic
// has ended, so the last samples hold every packet however slow the machine). Its traffic is known (3 UDP flows
// of 10,000 datagrams each, and a TCP connection): XDP must count it exactly;
// afterwards its namespace, its veth pair and every program are gone.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

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
      60s);
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
  // Each UDP flow: the demo sends 10,000 datagrams of 200 bytes on it.
  // Generic XDP sees every one (it runs before the veth's receive backlog);
  // on a busy machine the backlog may drop some before TC sees them.
  std::uint64_t flow_packets = 0;
  for (int f = 0; f < 3; ++f) {
    const auto flow = last(netmon::test::sample_of(
        "flow_top", {{"ifname", "nmdemo0"}, {"proto", "udp"}, {"sport", std::to_string(40000 + f)}, {"dport", "9000"}}));
    ASSERT_TRUE(flow) << "UDP flow " << f;
    EXPECT_LE(field_u64(*flow, "packets"), 10000u);
    EXPECT_GE(field_u64(*flow, "packets"), 5000u) << "most of the flow's datagrams arrive";
    EXPECT_EQ(field_u64(*flow, "bytes"), field_u64(*flow, "packets") * (14 + 20 + 8 + 200));
    flow_packets += field_u64(*flow, "packets");
  }
  const auto udp_class = [](const char* m, std::vector<std::pair<std::string, std::string>> tags) {
    tags.insert(tags.end(), {{"ifname", "nmdemo0"}, {"l3", "ipv4"}, {"l4", "udp"}});
    return netmon::test::sample_of(m, tags);
  };
  const auto xdp_udp = last(udp_class("xdp_stats_class", {}));
  const auto tc_udp = last(udp_class("tc_stats_class", {{"direction", "ingress"}}));
  ASSERT_TRUE(xdp_udp && tc_udp);
  EXPECT_EQ(field_u64(*xdp_udp, "packets"), 30000u);
  EXPECT_EQ(field_u64(*xdp_udp, "bytes"), 30000u * (14 + 20 + 8 + 200));
  EXPECT_LE(field_u64(*tc_udp, "packets"), field_u64(*xdp_udp, "packets"));
  EXPECT_LE(flow_packets, field_u64(*tc_udp, "packets"));
  // The TCP connection both ways, and the interface totals at XDP and TC.
  for (const char* dir : {"ingress", "egress"})
    EXPECT_TRUE(last(netmon::test::sample_of("flow_top", {{"direction", dir}, {"proto", "tcp"}}))) << dir;
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
