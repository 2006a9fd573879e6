// SPDX-License-Identifier: MIT
// drops end to end: packets dropped on purpose in a namespace the test
// creates, for three reasons, counted exactly and checked against what the
// kernel counts itself (nstat's UdpNoPorts and UdpRcvbufErrors, an nftables
// rule's counter); and nothing of ours left after SIGINT, SIGKILL and a
// restart, or an exception in collect.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "loader.hpp"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::HostRun;
using netmon::test::in_netns;
using netmon::test::nstat;
using netmon::test::VethPair;

constexpr std::uint64_t kN = 200;
constexpr std::uint64_t kPayload = 100;
constexpr std::uint64_t kIpBytes = 20 + 8 + kPayload;  // drops counts from the network header on

// Sends n UDP datagrams of kPayload bytes from the test's namespace to ip:port.
void send_udp(const std::string& ip, int port, std::uint64_t n) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ASSERT_EQ(::inet_pton(AF_INET, ip.c_str(), &to.sin_addr), 1);
  const std::string payload(kPayload, 'd');
  for (std::uint64_t i = 0; i < n; ++i) {
    // ICMP port unreachable answers may make a send fail with ECONNREFUSED
    // on a connected socket only: this one is not connected.
    ASSERT_EQ(::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(payload.size()))
        << "datagram " << i;
    if (i % 50 == 49) std::this_thread::sleep_for(2ms);  // the peer's backlog queue is 1000 long
  }
  ::close(fd);
}

// The sum of the last `field` of every `drops` sample of this namespace and
// reason (one per interface and class), as the host last published them.
std::uint64_t dropped(const std::vector<nlohmann::json>& samples, std::uint64_t netns, const std::string& reason,
                      const std::string& field = "packets") {
  std::map<std::string, std::uint64_t> last;
  for (const auto& j : samples) {
    if (j["measurement"] != "drops" || j["tags"].value("netns", "") != std::to_string(netns) ||
        j["tags"].value("reason", "") != reason)
      continue;
    last[j["tags"].dump()] = j["fields"][field].get<std::uint64_t>();
  }
  std::uint64_t sum = 0;
  for (const auto& [tags, n] : last) sum += n;
  return sum;
}

class Drops : public ::testing::Test {
 protected:
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    veth_.emplace();
    cookie_ = in_netns(veth_->ns(), netmon::test::netns_cookie);
    // The neighbours first: no datagram waits (or is dropped) for ARP.
    ASSERT_EQ(netmon::test::sh("ping -c 1 -W 2 " + veth_->peer_ip() + " >/dev/null"), 0);
  }

  HostRun& start_host(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--plugins", "drops", "--sink", "json", "--interval", "200ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto& h = hosts_.emplace_back(args);
    EXPECT_TRUE(h.wait_for(netmon::test::sample_of("drops_total", {}), 10s)) << h.stderr_text();
    return h;
  }

  // Stops the host after the drops are in, and returns the drops of reason
  // in the namespace since `before`.
  std::uint64_t stop_and_count(HostRun& h, const std::string& reason, std::uint64_t before,
                               const std::string& field = "packets") {
    const auto st = h.stop(SIGINT);  // with a last collection
    EXPECT_TRUE(st && st->code == 0) << h.stderr_text();
    return dropped(h.samples(), cookie_, reason, field) - before;
  }

  std::optional<VethPair> veth_;
  std::uint64_t cookie_ = 0;
  std::list<HostRun> hosts_;
};

TEST_F(Drops, DatagramsToAClosedPortAreNoSocketAsUdpNoPortsCounts) {
  auto& host = start_host();
  const std::uint64_t k0 = nstat(*veth_, "UdpNoPorts");
  send_udp(veth_->peer_ip(), 9555, kN);
  std::this_thread::sleep_for(300ms);
  const std::uint64_t k1 = nstat(*veth_, "UdpNoPorts");
  EXPECT_EQ(k1 - k0, kN);
  EXPECT_EQ(stop_and_count(host, "NO_SOCKET", 0), k1 - k0) << host.stderr_text();
  EXPECT_EQ(dropped(host.samples(), cookie_, "NO_SOCKET", "bytes"), kN * kIpBytes);
  // Keyed by the receiving interface of that namespace, as UDP over IPv4.
  const auto key = host.last(netmon::test::sample_of(
      "drops", {{"netns", std::to_string(cookie_)}, {"reason", "NO_SOCKET"}, {"l3", "ipv4"}, {"l4", "udp"}}));
  ASSERT_TRUE(key);
  const std::string ifindex = netmon::test::sh_out(veth_->in_ns("cat /sys/class/net/" + veth_->peer_if() + "/ifindex"));
  EXPECT_EQ((*key)["tags"]["ifindex"], ifindex.substr(0, ifindex.find('\n')));
  EXPECT_FALSE((*key)["tags"].contains("ifname")) << "another namespace's index names nothing here";
}

TEST_F(Drops, AnNftablesDropRuleIsNetfilterDropAsItsCounterCounts) {
  ASSERT_EQ(netmon::test::sh(veth_->in_ns("nft -f - <<'EOF'\n"
                                          "table inet netmon_drops_test {\n"
                                          "  chain input {\n"
                                          "    type filter hook input priority 0;\n"
                                          "    udp dport 9556 counter drop\n"
                                          "  }\n"
                                          "}\n"
                                          "EOF")),
            0);
  auto& host = start_host();
  send_udp(veth_->peer_ip(), 9556, kN);
  std::this_thread::sleep_for(300ms);
  const auto rules =
      nlohmann::json::parse(netmon::test::sh_out(veth_->in_ns("nft -j list chain inet netmon_drops_test input")));
  std::uint64_t counted = 0;
  for (const auto& item : rules["nftables"])
    if (item.contains("rule"))
      for (const auto& expr : item["rule"]["expr"])
        if (expr.contains("counter")) counted = expr["counter"]["packets"].get<std::uint64_t>();
  EXPECT_EQ(counted, kN);
  EXPECT_EQ(stop_and_count(host, "NETFILTER_DROP", 0), counted) << host.stderr_text();
  EXPECT_EQ(dropped(host.samples(), cookie_, "NETFILTER_DROP", "bytes"), kN * kIpBytes);
}

TEST_F(Drops, AFullReceiveBufferIsSocketRcvbuffAsUdpRcvbufErrorsCounts) {
  // A socket in the namespace whose buffer is as small as the kernel allows,
  // never read.
  const int fd = in_netns(veth_->ns(), [this] {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(9557);
    ::inet_pton(AF_INET, veth_->peer_ip().c_str(), &at.sin_addr);
    if (s < 0 || ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &one, sizeof one) != 0 ||
        ::bind(s, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
      throw std::runtime_error("cannot bind the small socket");
    return s;
  });
  auto& host = start_host();
  // Fill it: what it still takes is queued, the rest dropped already.
  send_udp(veth_->peer_ip(), 9557, 50);
  std::this_thread::sleep_for(300ms);
  const std::uint64_t k0 = nstat(*veth_, "UdpRcvbufErrors");
  ASSERT_GT(k0, 0u) << "the buffer never filled";
  ASSERT_TRUE(host.wait_for(
      [&](const nlohmann::json&) { return dropped(host.samples(), cookie_, "SOCKET_RCVBUFF") == k0; }, 5s))
      << "drops did not see the " << k0 << " drops of the fill";

  send_udp(veth_->peer_ip(), 9557, kN);  // every one dropped: the socket is full and never read
  std::this_thread::sleep_for(300ms);
  const std::uint64_t k1 = nstat(*veth_, "UdpRcvbufErrors");
  EXPECT_EQ(k1 - k0, kN);
  EXPECT_EQ(stop_and_count(host, "SOCKET_RCVBUFF", k0), k1 - k0) << host.stderr_text();
  ::close(fd);
}

// Ignored reasons are not counted by key, but still in drops_total: every
// drop accounted for.
TEST_F(Drops, IgnoredReasonsAreCountedInTheTotalOnly) {
  auto& host = start_host({"-o", "drops.ignore=NO_SOCKET,NOT_SPECIFIED"});
  const auto total0 = *host.last(netmon::test::sample_of("drops_total", {}));
  send_udp(veth_->peer_ip(), 9555, kN);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(stop_and_count(host, "NO_SOCKET", 0), 0u);
  const auto total1 = *host.last(netmon::test::sample_of("drops_total", {}));
  // At least ours: other namespaces may drop too meanwhile.
  EXPECT_GE(netmon::test::field_u64(total1, "ignored_packets") - netmon::test::field_u64(total0, "ignored_packets"),
            kN);
  EXPECT_EQ(netmon::test::field_u64(total1, "lost_packets"), 0u);
  // packets = every reason published + other + ignored + lost.
  std::map<std::string, std::uint64_t> reasons;
  for (const auto& j : host.samples())
    if (j["measurement"] == "drops_reason") reasons[j["tags"]["reason"]] = j["fields"]["packets"];
  std::uint64_t sum = 0;
  for (const auto& [r, n] : reasons) sum += n;
  EXPECT_EQ(netmon::test::field_u64(total1, "packets"), sum + netmon::test::field_u64(total1, "other_packets") +
                                                            netmon::test::field_u64(total1, "ignored_packets") +
                                                            netmon::test::field_u64(total1, "lost_packets"));
}

// Every measurement, tag and field drops publishes is in docs/SAMPLES.md.
TEST_F(Drops, SamplesDocumentEveryMeasurementTagAndField) {
  auto& host = start_host({"-o", "drops.ignore="});
  send_udp(veth_->peer_ip(), 9555, 10);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(stop_and_count(host, "NO_SOCKET", 0), 10u);
  std::vector<nlohmann::json> ours;
  std::set<std::string> seen;
  for (const auto& j : host.samples())
    if (const std::string m = j["measurement"]; m.starts_with("drops")) {
      seen.insert(m);
      ours.push_back(j);
    }
  netmon::test::expect_documented(ours);
  EXPECT_EQ(seen, (std::set<std::string>{"drops", "drops_reason", "drops_total"}));
}

// ---- attach and detach -------------------------------------------------------

int links_of_drops() { return netmon::test::links_of_plugin("drops"); }

TEST_F(Drops, SigintAndSigkillThenRestartLeaveNothingAttached) {
  ASSERT_EQ(links_of_drops(), 0);
  {
    auto& host = start_host();
    EXPECT_EQ(netmon::test::loaded_programs_named("drops_kfree_skb"), 1);
    EXPECT_GE(links_of_drops(), 1);
    const auto st = host.stop(SIGINT);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->code, 0) << host.stderr_text();
  }
  EXPECT_TRUE(netmon::test::wait_no_programs_named("drops_kfree_skb"));
  EXPECT_EQ(links_of_drops(), 0);
  {
    auto& host = start_host();
    const auto st = host.stop(SIGKILL);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->signal, SIGKILL);
  }
  // A link held by a process dies with it: nothing pinned, nothing left.
  EXPECT_TRUE(netmon::test::wait_no_programs_named("drops_kfree_skb"));
  EXPECT_EQ(links_of_drops(), 0);
  auto& again = start_host();
  send_udp(veth_->peer_ip(), 9555, kN);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(stop_and_count(again, "NO_SOCKET", 0), kN);
  EXPECT_TRUE(netmon::test::wait_no_programs_named("drops_kfree_skb"));
}

// Host-wide plugins alone need no CAP_NET_ADMIN (and no interface): the
// check asks for what the loaded plugins attach to.
TEST(DropsPlugin, RunsWithoutCapNetAdminAndWithoutAnInterface) {
  NETMON_REQUIRE_ROOT();
  const auto r = netmon::test::run_host_without_cap_net_admin(
      {"--plugins", "drops", "--sink", "json", "--interval", "100ms", "--count", "2"});
  EXPECT_EQ(r.status.code, 0) << r.err;
  int totals = 0;
  for (const auto& j : netmon::test::json_lines(r.out)) totals += j["measurement"] == "drops_total";
  EXPECT_EQ(totals, 2) << r.out;
  EXPECT_NE(r.err.find("host-wide"), std::string::npos) << r.err;
  EXPECT_TRUE(netmon::test::wait_no_programs_named("drops_kfree_skb"));
}

// The plugin in-process, as netmon-host drives it: when collect fails (here
// its map's descriptor is taken from under it), the host stops it, and stop
// leaves nothing.
TEST(DropsPlugin, AnExceptionInCollectThenStopLeavesNothingAttached) {
  NETMON_REQUIRE_ROOT();
  netmon::host::PluginInstance p(
      netmon::host::load_plugin_library(std::string(NETMON_TEST_PLUGIN_DIR) + "/libnetmon_drops.so"));
  p.configure("{}");
  const netmon_start_context ctx{
      sizeof(netmon_start_context), 0, nullptr, 1'000'000'000, nullptr, nullptr, NETMON_SCOPE_HOST, 0};
  p.start(ctx);
  EXPECT_EQ(netmon::test::loaded_programs_named("drops_kfree_skb"), 1);
  std::vector<netmon::Sample> got;
  p.collect(0, [&got](netmon::Sample&& s) { got.push_back(std::move(s)); });
  EXPECT_FALSE(got.empty());
  // Every map of ours becomes /dev/null: the next read fails.
  const int replaced = netmon::test::break_bpf_map_fds();
  EXPECT_GE(replaced, 3);
  EXPECT_THROW(p.collect(0, [](netmon::Sample&&) {}), std::exception);
  p.stop();
  EXPECT_TRUE(netmon::test::wait_no_programs_named("drops_kfree_skb"));
  EXPECT_EQ(links_of_drops(), 0);
}

}  // namespace
