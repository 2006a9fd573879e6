// SPDX-License-Identifier: MIT
// tcp_health end to end, between two network namespaces the test creates
// and joins with a veth pair: an nftables rule in the server's namespace
// drops every 20th data segment of one connection, and the plugin's count
// of that connection's retransmitted segments equals what the kernel counts
// itself (TcpRetransSegs of the client's namespace, where nothing else
// retransmits, and the socket's own tcpi_total_retrans); a connection to a
// closed port shows the reset on both ends (TcpOutRsts agrees); and nothing
// of ours is left after SIGINT, SIGKILL and a restart, or an exception in
// collect.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <list>
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
using netmon::test::sample_of;
using netmon::test::VethPair;

constexpr int kPort = 5301;        // the server's
constexpr int kClosedPort = 5302;  // nothing listens
constexpr std::size_t kBytes = 8 << 20;

sockaddr_in address(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + ip);
  return a;
}

// A TCP socket in namespace ns bound to ip:port (0: any port), with
// 10-second timeouts so that a broken test fails instead of hanging.
int tcp_socket(const std::string& ns, const std::string& ip, int port) {
  return in_netns(ns, [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    const timeval tv{10, 0};
    const sockaddr_in at = address(ip, port);
    if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
        ::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
      throw std::runtime_error("cannot bind a TCP socket to " + ip);
    return fd;
  });
}

int local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  return ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0 ? ntohs(a.sin_port) : -1;
}

// Of the last tcp_health samples, the one of this namespace and local port.
std::optional<nlohmann::json> connection(const HostRun& h, std::uint64_t netns, int port) {
  return h.last(sample_of("tcp_health", {{"netns", std::to_string(netns)}, {"local_port", std::to_string(port)}}));
}

// The tcp_health samples of the last collection (published before its total).
std::vector<nlohmann::json> last_batch(const HostRun& h) {
  std::vector<nlohmann::json> last, batch;
  for (const auto& j : h.samples()) {
    if (j["measurement"] == "tcp_health_total") {
      last = std::move(batch);
      batch.clear();
    } else if (j["measurement"] == "tcp_health") {
      batch.push_back(j);
    }
  }
  return last;
}

class TcpHealth : public ::testing::Test {
 protected:
  // client_.ns() <-> server_.ns(): the server pair's first end moves into
  // the client's namespace, so neither end is in the test's own.
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    client_.emplace();
    server_.emplace();
    const std::string link = server_->host_if();
    ASSERT_EQ(netmon::test::sh("ip link set " + link + " netns " + client_->ns()), 0);
    ASSERT_EQ(
        netmon::test::sh(client_->in_ns("sh -c 'sysctl -qw net.ipv6.conf." + link + ".disable_ipv6=1 && ip addr add " +
                                        client_ip() + "/24 dev " + link + " && ip link set " + link +
                                        " up && ping -c 1 -W 2 " + server_ip() + " >/dev/null'")),
        0);
    client_netns_ = in_netns(client_->ns(), netmon::test::netns_cookie);
    server_netns_ = in_netns(server_->ns(), netmon::test::netns_cookie);
  }

  [[nodiscard]] const std::string& client_ip() const { return server_->host_ip(); }
  [[nodiscard]] const std::string& server_ip() const { return server_->peer_ip(); }

  HostRun& start_host(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--plugins", "tcp_health", "--sink", "json", "--interval", "200ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto& h = hosts_.emplace_back(args);
    EXPECT_TRUE(h.wait_for(sample_of("tcp_health_total", {}), 10s)) << h.stderr_text();
    return h;
  }

  // One connection from the client's namespace that sends `bytes` to the
  // server's, which reads them all; returns the client's port and the
  // socket's own count of segments retransmitted (tcpi_total_retrans).
  std::pair<int, std::uint64_t> transfer(std::size_t bytes) {
    const int listener = tcp_socket(server_->ns(), server_ip(), kPort);
    EXPECT_EQ(::listen(listener, 1), 0);
    std::thread reader([listener] {
      const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      const timeval tv{10, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::vector<char> buf(1 << 16);
      while (::read(c, buf.data(), buf.size()) > 0) {
      }
      ::close(c);
    });
    const int fd = tcp_socket(client_->ns(), client_ip(), 0);
    const int port = local_port(fd);
    const sockaddr_in to = address(server_ip(), kPort);
    std::uint64_t retrans = 0;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
      const std::vector<char> chunk(1 << 16, 'r');
      for (std::size_t sent = 0; sent < bytes;) {
        const ssize_t n = ::write(fd, chunk.data(), std::min(chunk.size(), bytes - sent));
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      // Everything acknowledged: the server saw our FIN and closed.
      ::shutdown(fd, SHUT_WR);
      char c = 0;
      EXPECT_EQ(::read(fd, &c, 1), 0) << "the server did not close";
      tcp_info info{};
      socklen_t len = sizeof info;
      EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
      retrans = info.tcpi_total_retrans;
    } else {
      ADD_FAILURE() << "cannot connect: " << std::strerror(errno);
    }
    ::close(fd);
    ::shutdown(listener, SHUT_RDWR);  // wakes an accept that never got a connection
    reader.join();
    ::close(listener);
    return {port, retrans};
  }

  // Drops every 20th data segment (longer than 100 bytes) to the server's port.
  void drop_every_20th_segment() {
    ASSERT_EQ(netmon::test::sh(server_->in_ns("nft -f - <<'EOF'\n"
                                              "table inet netmon_tcp_health_test {\n"
                                              "  chain input {\n"
                                              "    type filter hook input priority 0;\n"
                                              "    tcp dport " +
                                              std::to_string(kPort) +
                                              " ip length > 100 numgen inc mod 20 == 0 counter drop\n"
                                              "  }\n"
                                              "}\n"
                                              "EOF")),
              0);
  }

  // The client's namespace first (its link to the server goes with it).
  void TearDown() override {
    hosts_.clear();
    client_.reset();
    server_.reset();
  }

  std::optional<VethPair> client_, server_;
  std::uint64_t client_netns_ = 0, server_netns_ = 0;
  std::list<HostRun> hosts_;
};

TEST_F(TcpHealth, SegmentsDroppedOnPurposeAreRetransmitsAsTcpRetransSegsCounts) {
  drop_every_20th_segment();
  auto& host = start_host({"-o", "tcp_health.top=1000"});
  const std::uint64_t k0 = nstat(*client_, "TcpRetransSegs");
  const auto [port, socket_retrans] = host.reading_while([this] { return transfer(kBytes); });
  std::this_thread::sleep_for(300ms);
  const std::uint64_t k1 = nstat(*client_, "TcpRetransSegs");
  ASSERT_GT(k1 - k0, 0u) << "nothing was retransmitted: is the nft rule there?";
  EXPECT_EQ(socket_retrans, k1 - k0) << "something else retransmitted in the client's namespace";
  const auto st = host.stop(SIGINT);  // with a last collection
  EXPECT_TRUE(st && st->code == 0) << host.stderr_text();

  const auto c = connection(host, client_netns_, port);
  ASSERT_TRUE(c) << "no tcp_health sample of the connection";
  EXPECT_EQ(netmon::test::field_u64(*c, "retransmits"), k1 - k0) << c->dump();
  EXPECT_EQ(netmon::test::field_u64(*c, "retransmit_failures"), 0u);
  EXPECT_EQ((*c)["tags"]["local"], client_ip());
  EXPECT_EQ((*c)["tags"]["remote"], server_ip());
  EXPECT_EQ((*c)["tags"]["remote_port"], std::to_string(kPort));
  EXPECT_EQ((*c)["tags"]["l3"], "ipv4");
  EXPECT_EQ((*c)["tags"]["rank"], "1") << "the struggling connection is not on top";
  EXPECT_GT(netmon::test::field_u64(*c, "srtt_us"), 0u);
  EXPECT_LT(netmon::test::field_u64(*c, "srtt_us"), 1'000'000u) << "a veth pair's RTT is not a second";

  // The totals hold at least ours, and what is shown plus other is the total.
  const auto t = host.last(sample_of("tcp_health_total", {}));
  ASSERT_TRUE(t);
  EXPECT_GE(netmon::test::field_u64(*t, "retransmits"), k1 - k0);
  EXPECT_EQ(netmon::test::field_u64(*t, "lost_events"), 0u);
  std::uint64_t shown = 0;
  for (const auto& j : last_batch(host)) shown += netmon::test::field_u64(j, "retransmits");
  EXPECT_EQ(netmon::test::field_u64(*t, "retransmits"), shown + netmon::test::field_u64(*t, "other_retransmits"))
      << t->dump();
}

TEST_F(TcpHealth, AConnectionToAClosedPortShowsTheResetOnBothEnds) {
  auto& host = start_host({"-o", "tcp_health.top=1000"});
  const std::uint64_t r0 = nstat(*server_, "TcpOutRsts");
  const int fd = tcp_socket(client_->ns(), client_ip(), 0);
  const int port = local_port(fd);
  const sockaddr_in to = address(server_ip(), kClosedPort);
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);
  std::this_thread::sleep_for(300ms);
  const std::uint64_t r1 = nstat(*server_, "TcpOutRsts");
  EXPECT_EQ(r1 - r0, 1u);
  const auto st = host.stop(SIGINT);
  EXPECT_TRUE(st && st->code == 0) << host.stderr_text();

  // The server's namespace sent it, for a segment no socket wanted...
  const auto sent = connection(host, server_netns_, kClosedPort);
  ASSERT_TRUE(sent) << "no tcp_health sample of the server's end";
  EXPECT_EQ(netmon::test::field_u64(*sent, "resets_sent"), r1 - r0);
  EXPECT_EQ((*sent)["tags"]["local"], server_ip());
  EXPECT_EQ((*sent)["tags"]["remote"], client_ip());
  EXPECT_EQ((*sent)["tags"]["remote_port"], std::to_string(port));
  // ... and the client's socket received it.
  const auto received = connection(host, client_netns_, port);
  ASSERT_TRUE(received) << "no tcp_health sample of the client's end";
  EXPECT_EQ(netmon::test::field_u64(*received, "resets_received"), 1u);
  EXPECT_EQ(netmon::test::field_u64(*received, "resets_sent"), 0u);
  EXPECT_EQ((*received)["tags"]["remote_port"], std::to_string(kClosedPort));
}

// A connection without events for `idle` is forgotten: it leaves the table
// and the samples, and its events stay in the totals.
TEST_F(TcpHealth, IdleConnectionsAreForgottenAndTheirEventsStayInTheTotals) {
  auto& host = start_host({"-o", "tcp_health.top=1000", "-o", "tcp_health.idle=1s"});
  const int fd = tcp_socket(client_->ns(), client_ip(), 0);
  const int port = local_port(fd);
  const sockaddr_in to = address(server_ip(), kClosedPort);
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to), -1);
  ::close(fd);
  const auto mine =
      sample_of("tcp_health", {{"netns", std::to_string(client_netns_)}, {"local_port", std::to_string(port)}});
  ASSERT_TRUE(host.wait_for(mine, 5s)) << host.stderr_text();
  ASSERT_TRUE(host.wait_for(
      [](const nlohmann::json& j) {
        return j["measurement"] == "tcp_health_total" && netmon::test::field_u64(j, "forgotten_connections") >= 2;
      },
      5s))
      << "neither end of the refused connection was forgotten";
  const auto st = host.stop(SIGINT);
  EXPECT_TRUE(st && st->code == 0) << host.stderr_text();
  for (const auto& j : last_batch(host)) EXPECT_FALSE(mine(j)) << "still published: " << j.dump();
  const auto t = host.last(sample_of("tcp_health_total", {}));
  ASSERT_TRUE(t);
  EXPECT_GE(netmon::test::field_u64(*t, "resets_received"), 1u);
  EXPECT_GE(netmon::test::field_u64(*t, "other_resets_received"), 1u) << "the forgotten reset is in no total";
}

// Every measurement, tag and field tcp_health publishes is in docs/SAMPLES.md.
TEST_F(TcpHealth, SamplesDocumentEveryMeasurementTagAndField) {
  drop_every_20th_segment();
  auto& host = start_host({"-o", "tcp_health.top=1000"});
  (void)host.reading_while([this] { return transfer(1 << 20); });
  const auto st = host.stop(SIGINT);
  EXPECT_TRUE(st && st->code == 0) << host.stderr_text();
  std::vector<nlohmann::json> ours;
  std::set<std::string> seen;
  for (const auto& j : host.samples())
    if (const std::string m = j["measurement"]; m.starts_with("tcp_health")) {
      seen.insert(m);
      ours.push_back(j);
    }
  netmon::test::expect_documented(ours);
  EXPECT_EQ(seen, (std::set<std::string>{"tcp_health", "tcp_health_total"}));
}

// ---- attach and detach -------------------------------------------------------

TEST_F(TcpHealth, SigintAndSigkillThenRestartLeaveNothingAttached) {
  ASSERT_EQ(netmon::test::links_of_plugin("tcp_health"), 0);
  {
    auto& host = start_host();
    EXPECT_EQ(netmon::test::links_of_plugin("tcp_health"), 4);  // retransmit, synack, send and receive reset
    const auto st = host.stop(SIGINT);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->code, 0) << host.stderr_text();
  }
  EXPECT_TRUE(netmon::test::wait_no_programs_of("tcp_health"));
  EXPECT_EQ(netmon::test::links_of_plugin("tcp_health"), 0);
  {
    auto& host = start_host();
    const auto st = host.stop(SIGKILL);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->signal, SIGKILL);
  }
  // A link held by a process dies with it: nothing pinned, nothing left.
  EXPECT_TRUE(netmon::test::wait_no_programs_of("tcp_health"));
  EXPECT_EQ(netmon::test::links_of_plugin("tcp_health"), 0);
  drop_every_20th_segment();
  auto& again = start_host({"-o", "tcp_health.top=1000"});
  const std::uint64_t k0 = nstat(*client_, "TcpRetransSegs");
  const auto [port, retrans] = again.reading_while([this] { return transfer(1 << 20); });
  std::this_thread::sleep_for(300ms);
  const std::uint64_t k1 = nstat(*client_, "TcpRetransSegs");
  const auto st = again.stop(SIGINT);
  EXPECT_TRUE(st && st->code == 0) << again.stderr_text();
  const auto c = connection(again, client_netns_, port);
  ASSERT_TRUE(c);
  EXPECT_EQ(netmon::test::field_u64(*c, "retransmits"), k1 - k0);
  EXPECT_TRUE(netmon::test::wait_no_programs_of("tcp_health"));
}

// Host-wide alone: no CAP_NET_ADMIN and no interface needed.
TEST(TcpHealthPlugin, RunsWithoutCapNetAdminAndWithoutAnInterface) {
  NETMON_REQUIRE_ROOT();
  const auto r = netmon::test::run_host_without_cap_net_admin(
      {"--plugins", "tcp_health", "--sink", "json", "--interval", "100ms", "--count", "2"});
  EXPECT_EQ(r.status.code, 0) << r.err;
  int totals = 0;
  for (const auto& j : netmon::test::json_lines(r.out)) totals += j["measurement"] == "tcp_health_total";
  EXPECT_EQ(totals, 2) << r.out;
  EXPECT_TRUE(netmon::test::wait_no_programs_of("tcp_health"));
}

// The plugin in-process, as netmon-host drives it: when collect fails (its
// maps' descriptors taken from under it), stop still leaves nothing.
TEST(TcpHealthPlugin, AnExceptionInCollectThenStopLeavesNothingAttached) {
  NETMON_REQUIRE_ROOT();
  netmon::host::PluginInstance p(
      netmon::host::load_plugin_library(std::string(NETMON_TEST_PLUGIN_DIR) + "/libnetmon_tcp_health.so"));
  p.configure("{}");
  const netmon_start_context ctx{
      sizeof(netmon_start_context), 0, nullptr, 1'000'000'000, nullptr, nullptr, NETMON_SCOPE_HOST, 0};
  p.start(ctx);
  EXPECT_EQ(netmon::test::links_of_plugin("tcp_health"), 4);
  std::vector<netmon::Sample> got;
  p.collect(0, [&got](netmon::Sample&& s) { got.push_back(std::move(s)); });
  EXPECT_FALSE(got.empty());
  const int replaced = netmon::test::break_bpf_map_fds();
  EXPECT_GE(replaced, 2);
  EXPECT_THROW(p.collect(0, [](netmon::Sample&&) {}), std::exception);
  p.stop();
  EXPECT_TRUE(netmon::test::wait_no_programs_of("tcp_health"));
  EXPECT_EQ(netmon::test::links_of_plugin("tcp_health"), 0);
}

}  // namespace
