// SPDX-License-Identifier: MIT
// tc_stats end to end, through tcx links and through the netlink (clsact)
// fallback: exact ingress and egress counts against the kernel's own
// interface counters, and nothing of ours left after SIGINT, or after SIGKILL
// and a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "support/host.hpp"
#include "support/host_on_veth.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::field_u64;
using netmon::test::HostRun;
using netmon::test::sample_of;

constexpr std::uint64_t kUdp = 5000;
constexpr std::uint64_t kExchanges = 400;

// Root, a veth pair, netmon-host on its host end; the parameter is the attach mode.
class E2eTc : public netmon::test::HostOnVethWithParam<std::string> {};

TEST_P(E2eTc, IngressAndEgressMatchTheKernelCountersExactly) {
  const auto& v = veth();
  const std::string mode = GetParam();
  auto& host =
      start_host({"--plugins", "tc_stats", "--sink", "json", "--interval", "200ms", "-o", "tc_stats.attach=" + mode});
  const auto in = sample_of("tc_stats", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  const auto out = sample_of("tc_stats", {{"ifname", v.host_if()}, {"direction", "egress"}});
  const auto in_udp =
      sample_of("tc_stats_class", {{"ifname", v.host_if()}, {"direction", "ingress"}, {"l3", "ipv4"}, {"l4", "udp"}});
  const auto in_tcp =
      sample_of("tc_stats_class", {{"ifname", v.host_if()}, {"direction", "ingress"}, {"l3", "ipv4"}, {"l4", "tcp"}});
  const auto out_tcp =
      sample_of("tc_stats_class", {{"ifname", v.host_if()}, {"direction", "egress"}, {"l3", "ipv4"}, {"l4", "tcp"}});
  ASSERT_TRUE(host.wait_for(out_tcp, 10s)) << host.stderr_text();
  const auto base_in = *host.last(in), base_out = *host.last(out);
  const auto base_udp = *host.last(in_udp), base_tcp_in = *host.last(in_tcp), base_tcp_out = *host.last(out_tcp);
  EXPECT_EQ(base_in["fields"]["attach"], mode);
  if (mode == "netlink") {
    EXPECT_TRUE(netmon::test::tc_has_clsact(v.host_if()));
    EXPECT_EQ(netmon::test::tc_filters(v.host_if(), "ingress").size(), 2u);  // the priority head and the filter
  }
  const auto k0 = netmon::test::if_counters(v);
  const auto s0 = netmon::test::tcp_segments(v);

  netmon::test::send_udp(v, kUdp, 100);
  {
    netmon::test::TcpEchoServer server(v, 9100);
    netmon::test::tcp_exchanges(v, 9100, kExchanges);
    EXPECT_TRUE(server.finished(10s));
  }
  std::this_thread::sleep_for(300ms);  // let the last segments of the teardown land
  const auto k1 = netmon::test::if_counters(v);
  const auto s1 = netmon::test::tcp_segments(v);

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  // What the kernel counted on the interface, exactly.
  EXPECT_EQ(host.delta(in, base_in, "packets"), k1.rx_packets - k0.rx_packets);
  EXPECT_EQ(host.delta(in, base_in, "bytes"), k1.rx_bytes - k0.rx_bytes);
  EXPECT_EQ(host.delta(out, base_out, "packets"), k1.tx_packets - k0.tx_packets);
  EXPECT_EQ(host.delta(out, base_out, "bytes"), k1.tx_bytes - k0.tx_bytes);
  // What was sent, exactly: every datagram, every TCP segment of the namespace.
  EXPECT_EQ(host.delta(in_udp, base_udp, "packets"), kUdp);
  EXPECT_EQ(host.delta(in_udp, base_udp, "bytes"), kUdp * (14 + 20 + 8 + 100));
  EXPECT_EQ(host.delta(in_tcp, base_tcp_in, "packets"), s1.out - s0.out);
  EXPECT_EQ(host.delta(out_tcp, base_tcp_out, "packets"), s1.in - s0.in);
  EXPECT_GE(s1.out - s0.out, kExchanges);
  expect_nothing_left();
}

TEST_P(E2eTc, SigkillThenRestartLeavesNothing) {
  const auto& v = veth();
  const std::string mode = GetParam();
  const std::vector<std::string> args{"--plugins",  "tc_stats", "--sink", "json",
                                      "--interval", "100ms",    "-o",     "tc_stats.attach=" + mode};
  {
    HostRun host(host_args(args));
    ASSERT_TRUE(host.wait_for(sample_of("tc_stats", {{"ifname", v.host_if()}}), 10s)) << host.stderr_text();
    ASSERT_TRUE(host.stop(SIGKILL));
  }
  if (mode == "netlink") {
    // netlink filters outlive their process: the kill leaves them...
    EXPECT_FALSE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  } else {
    // ...tcx links do not.
    EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
    EXPECT_TRUE(netmon::test::wait_no_programs_named("tc_stats_ingres"));
  }
  auto& again = start_host(args);
  ASSERT_TRUE(again.wait_for(sample_of("tc_stats", {{"ifname", v.host_if()}}), 10s)) << again.stderr_text();
  const auto st = again.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << again.stderr_text();
  if (mode == "netlink") {
    EXPECT_NE(again.stderr_text().find("removed a stale TC ingress filter"), std::string::npos) << again.stderr_text();
  }
  expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Attach, E2eTc, ::testing::Values("tcx", "netlink"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
