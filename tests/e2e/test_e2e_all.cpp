// SPDX-License-Identifier: MIT
// All three standard plugins at once on a veth pair: three UDP flows of known
// sizes and a real TCP connection (both directions) from the namespace. The
// JSON output must give exact ingress and egress counts (equal to the
// kernel's interface counters), every flow with its exact packet count,
// ranked, and top-N plus "other" adding up to the table. After SIGINT, and
// after SIGKILL and a restart, nothing of ours is left.
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

constexpr std::uint64_t kPayload = 80;
constexpr std::uint64_t kUdpFrame = 14 + 20 + 8 + kPayload;
// Three UDP flows of different sizes, so their rank is known.
constexpr std::uint64_t kFlowPackets[3] = {3000, 2000, 1000};
constexpr std::uint64_t kExchanges = 500;

// Root, a veth pair, netmon-host on its host end.
class E2eAll : public netmon::test::HostOnVeth {};

// The flow samples of the last batch (the samples sharing the last flow_top_other's timestamp).
std::vector<nlohmann::json> last_batch(const HostRun& host, const std::string& measurement) {
  const auto other = host.last(sample_of("flow_top_other", {}));
  std::vector<nlohmann::json> out;
  if (!other) return out;
  for (const auto& s : host.samples())
    if (s["measurement"] == measurement && s["timestamp_ns"] == (*other)["timestamp_ns"]) out.push_back(s);
  return out;
}

const nlohmann::json* find_flow(const std::vector<nlohmann::json>& flows,
                                const std::vector<std::pair<std::string, std::string>>& tags) {
  for (const auto& f : flows) {
    bool all = true;
    for (const auto& [k, v] : tags) all = all && f["tags"].contains(k) && f["tags"][k] == v;
    if (all) return &f;
  }
  return nullptr;
}

TEST_F(E2eAll, ExactCountsFlowsAndRanksWithAllThreePlugins) {
  const auto& v = veth();
  auto& host = start_host({"--plugins", "xdp_stats,tc_stats,flow_top", "--sink", "json", "--interval", "200ms", "-o",
                           "flow_top.top=10", "-o", "flow_top.finished=true"});
  const auto in = sample_of("tc_stats", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  const auto out = sample_of("tc_stats", {{"ifname", v.host_if()}, {"direction", "egress"}});
  const auto xdp = sample_of("xdp_stats", {{"ifname", v.host_if()}});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 10s)) << host.stderr_text();
  ASSERT_TRUE(host.last(in) && host.last(out) && host.last(xdp));
  const auto base_in = *host.last(in), base_out = *host.last(out), base_xdp = *host.last(xdp);
  const auto k0 = netmon::test::if_counters(v);
  const auto s0 = netmon::test::tcp_segments(v);

  for (int f = 0; f < 3; ++f) netmon::test::send_udp(v, kFlowPackets[f], kPayload, 1, 9000, 40000 + f);
  {
    netmon::test::TcpEchoServer server(v, 9100);
    netmon::test::tcp_exchanges(v, 9100, kExchanges);
    EXPECT_TRUE(server.finished(10s));
  }
  std::this_thread::sleep_for(600ms);  // past one interval: the TCP flows end (FIN) and are published
  const auto k1 = netmon::test::if_counters(v);
  const auto s1 = netmon::test::tcp_segments(v);
  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();

  // Interfaces: exactly what the kernel counted.
  EXPECT_EQ(host.delta(in, base_in, "packets"), k1.rx_packets - k0.rx_packets);
  EXPECT_EQ(host.delta(in, base_in, "bytes"), k1.rx_bytes - k0.rx_bytes);
  EXPECT_EQ(host.delta(out, base_out, "packets"), k1.tx_packets - k0.tx_packets);
  EXPECT_EQ(host.delta(out, base_out, "bytes"), k1.tx_bytes - k0.tx_bytes);
  EXPECT_EQ(host.delta(xdp, base_xdp, "packets"), k1.rx_packets - k0.rx_packets);

  // UDP flows: still in the table, each with its exact count, ranked by packets.
  const auto flows = last_batch(host, "flow_top");
  ASSERT_FALSE(flows.empty());
  std::uint64_t rank_of[3] = {};
  for (int f = 0; f < 3; ++f) {
    const auto* flow = find_flow(flows, {{"direction", "ingress"},
                                         {"proto", "udp"},
                                         {"src", v.peer_ip()},
                                         {"sport", std::to_string(40000 + f)},
                                         {"dst", v.host_ip()},
                                         {"dport", "9000"}});
    ASSERT_NE(flow, nullptr) << "UDP flow from port " << 40000 + f << " missing";
    EXPECT_EQ(field_u64(*flow, "packets"), kFlowPackets[f]);
    EXPECT_EQ(field_u64(*flow, "bytes"), kFlowPackets[f] * kUdpFrame);
    EXPECT_EQ((*flow)["tags"]["ifname"], v.host_if());
    rank_of[f] = std::stoull((*flow)["tags"]["rank"].get<std::string>());
  }
  EXPECT_LT(rank_of[0], rank_of[1]);
  EXPECT_LT(rank_of[1], rank_of[2]);
  // Ranks are 1..N in order of packets.
  std::uint64_t previous = UINT64_MAX;
  for (std::size_t r = 1; r <= flows.size(); ++r) {
    const auto* f = find_flow(flows, {{"rank", std::to_string(r)}});
    ASSERT_NE(f, nullptr) << "rank " << r << " missing";
    EXPECT_LE(field_u64(*f, "packets"), previous);
    previous = field_u64(*f, "packets");
  }
  // Top-N plus the remainder is the whole table.
  const auto other = host.last(sample_of("flow_top_other", {}));
  const auto table = host.last(sample_of("flow_top_table", {}));
  ASSERT_TRUE(other && table);
  EXPECT_EQ(flows.size() + field_u64(*other, "flows"), field_u64(*table, "entries"));

  // The TCP connection ended with FIN: published once as finished flows, exact in both directions.
  std::vector<nlohmann::json> ended;
  for (const auto& s : host.samples())
    if (s["measurement"] == "flow_top_end" && s["tags"]["proto"] == "tcp") ended.push_back(s);
  const auto* tcp_in = find_flow(ended, {{"direction", "ingress"}, {"dst", v.host_ip()}, {"dport", "9100"}});
  const auto* tcp_out = find_flow(ended, {{"direction", "egress"}, {"src", v.host_ip()}, {"sport", "9100"}});
  ASSERT_NE(tcp_in, nullptr) << "no finished TCP ingress flow";
  ASSERT_NE(tcp_out, nullptr) << "no finished TCP egress flow";
  EXPECT_EQ(field_u64(*tcp_in, "packets"), s1.out - s0.out);
  EXPECT_EQ(field_u64(*tcp_out, "packets"), s1.in - s0.in);
  EXPECT_EQ((*tcp_in)["tags"]["reason"], "tcp_fin");
  EXPECT_NE((*tcp_in)["fields"]["tcp_flags"].get<std::string>().find("SYN"), std::string::npos);

  expect_nothing_left();
}

TEST_F(E2eAll, SigkillThenRestartLeavesNothing) {
  const std::vector<std::string> args{"--plugins", "xdp_stats,tc_stats,flow_top", "--sink", "json", "--interval",
                                      "100ms"};
  {
    HostRun host(host_args(args));
    ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 10s)) << host.stderr_text();
    ASSERT_TRUE(host.stop(SIGKILL));
  }
  expect_nothing_left();  // bpf_links and tcx links die with their process
  auto& again = start_host(args);
  ASSERT_TRUE(again.wait_for(sample_of("flow_top_table", {}), 10s)) << again.stderr_text();
  const auto st = again.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << again.stderr_text();
  expect_nothing_left();
}

}  // namespace
