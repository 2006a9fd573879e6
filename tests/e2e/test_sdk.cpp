// SPDX-License-Identifier: MIT
// The installed SDK, as a third party uses it (scripts/test-sdk.sh installs
// netmon to a temporary prefix, builds examples/ and tests/sdk/ against it
// alone, and runs this with the paths in the environment):
//   NETMON_SDK_PREFIX    the install prefix (its bin/netmon-host is the host under test)
//   NETMON_SDK_EXAMPLES  examples/' plugin directory
//   NETMON_SDK_FIXTURES  tests/sdk/'s plugin directory
//   NETMON_SDK_WORK      a scratch directory
//   NETMON_SDK_CPROBE    the build directory of cprobe, a plugin the installed
//                        netmon-new-plugin --lang c made (plugins/, test_cprobe)
//   NETMON_SDK_SINK_TEMPLATE  the plugin directory of a sink made by the
//                        installed netmon-new-plugin --sink linesink
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <netmon/plugin_abi.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using netmon::test::json_lines;
using netmon::test::lines_of;
using netmon::test::sample_of;
using netmon::test::Subprocess;
using netmon::test::VethPair;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Stops netmon-host with SIGINT (it collects once more, then exits), expects
// a clean exit, and appends the samples it wrote meanwhile to seen.
void stop_cleanly(Subprocess& p, std::vector<nlohmann::json>& seen) {
  p.signal(SIGINT);
  const auto st = p.wait(15s);
  ASSERT_TRUE(st) << "netmon-host did not stop";
  EXPECT_EQ(st->code, 0) << p.stderr_text();
  for (auto& j : json_lines(p.stdout_rest())) seen.push_back(j);
}

// A DNS message: the 12-byte header (one question), then the question
// netmon.test, type A, class IN.
std::string dns_message(std::uint16_t id, std::uint16_t flags) {
  std::string m;
  const auto u16 = [&m](std::uint16_t v) {
    m += static_cast<char>(v >> 8);
    m += static_cast<char>(v & 0xff);
  };
  u16(id);
  u16(flags);
  u16(1);                              // one question
  for (int i = 0; i < 3; ++i) u16(0);  // no answer, authority or additional record
  for (const std::string label : {"netmon", "test"}) m += static_cast<char>(label.size()) + label;
  m += '\0';
  u16(1);  // type A
  u16(1);  // class IN
  return m;
}

// Sends each payload as one UDP datagram from src:sport (0: any port) to
// dst:dport, from the network namespace `ns` ("": the test's own), on a
// socket with UDP_SEGMENT set. The kernel then builds each datagram's skb
// with only the headers in its linear part and the payload in page
// fragments, as GSO, GRO or a zero-copy sender make packets at TC. Returns
// how many were sent.
std::size_t send_paged_udp(const std::string& ns, const std::string& src, int sport, const std::string& dst, int dport,
                           const std::vector<std::string>& payloads) {
  std::size_t sent = 0;
  std::string error;
  // A thread of its own: setns(CLONE_NEWNET) changes the calling thread's
  // namespace only, and this one ends with it.
  std::thread t([&] {
    const auto fail = [&error](const std::string& what) { error = what + ": " + std::strerror(errno); };
    if (!ns.empty()) {
      const int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (nsfd < 0) return fail("open /run/netns/" + ns);
      const int r = ::setns(nsfd, CLONE_NEWNET);
      ::close(nsfd);
      if (r != 0) return fail("setns " + ns);
    }
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket");
    const int gso_size = 1400;
    sockaddr_in from{}, to{};
    from.sin_family = to.sin_family = AF_INET;
    from.sin_port = htons(static_cast<std::uint16_t>(sport));
    to.sin_port = htons(static_cast<std::uint16_t>(dport));
    if (::setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso_size, sizeof gso_size) != 0) fail("setsockopt UDP_SEGMENT");
    else if (::inet_pton(AF_INET, src.c_str(), &from.sin_addr) != 1 ||
             ::inet_pton(AF_INET, dst.c_str(), &to.sin_addr) != 1)
      error = "bad address " + src + " or " + dst;
    else if (::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) fail("bind " + src);
    else
      for (const auto& p : payloads) {
        if (::sendto(fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) !=
            static_cast<ssize_t>(p.size()))
          break;
        ++sent;
      }
    if (error.empty() && sent < payloads.size()) fail("sendto " + dst);
    ::close(fd);
  });
  t.join();
  EXPECT_EQ(error, "");
  return sent;
}

// Why a line is not valid InfluxDB line protocol
// (measurement[,tag=value...] field=value[,field=value...] timestamp), or ""
// if it is. Field values: floats (finite: the protocol has no NaN or
// infinity), integers ending in i or u, booleans, quoted strings.
std::string line_protocol_error(const std::string& line) {
  // Splits at unescaped `sep` outside double quotes.
  const auto split = [](const std::string& text, char sep, bool quotes) {
    std::vector<std::string> parts(1);
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\\' && i + 1 < text.size()) {
        parts.back() += text.substr(i++, 2);
        continue;
      }
      if (quotes && c == '"') quoted = !quoted;
      if (c == sep && !quoted) parts.emplace_back();
      else parts.back() += c;
    }
    return parts;
  };
  const auto sections = split(line, ' ', true);
  if (sections.size() != 3) return "not three space-separated sections";
  if (!std::regex_match(sections[2], std::regex(R"(-?\d+)"))) return "bad timestamp " + sections[2];
  const auto series = split(sections[0], ',', false);
  if (series[0].empty()) return "no measurement";
  for (std::size_t i = 1; i < series.size(); ++i) {
    const auto kv = split(series[i], '=', false);
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) return "bad tag " + series[i];
  }
  static const std::regex value(
      R"(-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|-?\d+i|\d+u|t|T|true|True|TRUE|f|F|false|False|FALSE|"([^"\\]|\\.)*")");
  for (const auto& f : split(sections[1], ',', true)) {
    const auto eq = f.find('=');  // field keys here have no escaped '='
    if (eq == std::string::npos || eq == 0) return "bad field " + f;
    if (!std::regex_match(f.substr(eq + 1), value)) return "bad field value " + f;
  }
  return "";
}

// netmon-host (the command `cmd`) runs `plugins` on two veth pairs, and one
// pair is deleted under it. Each plugin must say so once (a warning naming the
// interface), publish nothing more of it (its `measurements`, tagged ifname)
// and go on with the other interface, without an error; SIGINT then ends the
// host with 0, leaving nothing on the remaining interface.
void expect_deleted_interface_dropped(std::vector<std::string> cmd, const std::vector<std::string>& plugins,
                                      const std::vector<std::string>& measurements) {
  VethPair keep;
  auto gone = std::make_unique<VethPair>();
  const std::string gone_if = gone->host_if();
  std::string list;
  for (const auto& p : plugins) list += (list.empty() ? "" : ",") + p;
  cmd.insert(cmd.end(), {"--plugins", list, "--iface", keep.host_if(), "--iface", gone_if, "--sink", "json",
                         "--interval", "200ms"});
  Subprocess p(cmd);
  std::vector<nlohmann::json> seen;
  for (const auto& m : measurements)  // every plugin is collecting on both interfaces
    for (const auto& iface : {keep.host_if(), gone_if})
      ASSERT_TRUE(netmon::test::next_json(p, sample_of(m, {{"ifname", iface}}), 15s, &seen))
          << m << " on " << iface << ":\n"
          << p.stderr_text();
  gone.reset();  // deletes the pair and its namespace under the plugins' feet
  const auto no_match = [](const nlohmann::json&) { return false; };
  netmon::test::next_json(p, no_match, 1s, &seen);  // what came meanwhile
  const std::size_t before = seen.size();
  for (int round = 0; round < 2; ++round)  // the remaining interface goes on
    for (const auto& m : measurements)
      ASSERT_TRUE(netmon::test::next_json(p, sample_of(m, {{"ifname", keep.host_if()}}), 5s, &seen))
          << m << " stopped publishing " << keep.host_if() << ":\n"
          << p.stderr_text();
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));
  for (std::size_t i = before; i < seen.size(); ++i)
    EXPECT_NE(seen[i]["tags"].value("ifname", ""), gone_if) << seen[i].dump();
  const std::string& err = p.stderr_text();
  for (const auto& plugin : plugins) {
    const std::string said = plugin + ": " + gone_if + " (ifindex ";
    const auto at = err.find(said);
    ASSERT_NE(at, std::string::npos) << plugin << " did not say " << gone_if << " is gone:\n" << err;
    EXPECT_NE(err.find("is gone: no longer monitored", at), std::string::npos) << err;
    EXPECT_EQ(err.find(said, at + 1), std::string::npos) << plugin << " said it twice:\n" << err;
  }
  for (const auto& l : lines_of(err)) EXPECT_EQ(l.find(": error:"), std::string::npos) << l;
  // Nothing is left on the other interface: no TC filter, no clsact.
  for (const char* dir : {"ingress", "egress"})
    EXPECT_TRUE(netmon::test::tc_filters(keep.host_if(), dir).empty()) << dir << " filters are left";
  netmon::test::expect_nothing_left(keep.host_if());
}

class Sdk : public ::testing::Test {
 protected:
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    prefix_ = env("NETMON_SDK_PREFIX");
    examples_ = env("NETMON_SDK_EXAMPLES");
    fixtures_ = env("NETMON_SDK_FIXTURES");
    work_ = env("NETMON_SDK_WORK");
    cprobe_ = env("NETMON_SDK_CPROBE");
    if (prefix_.empty() || examples_.empty() || fixtures_.empty() || work_.empty() || cprobe_.empty()) {
      if (netmon::test::in_ci()) FAIL() << "run through scripts/test-sdk.sh, which sets NETMON_SDK_*";
      GTEST_SKIP() << "run through scripts/test-sdk.sh, which sets NETMON_SDK_*";
    }
  }
  // The installed host with extra plugin directories.
  [[nodiscard]] std::vector<std::string> host(const std::vector<std::string>& args) const {
    std::vector<std::string> cmd{prefix_ + "/bin/netmon-host", "--plugin-dir", examples_, "--plugin-dir", fixtures_};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
  }
  [[nodiscard]] std::string fixture(const std::string& name) const { return fixtures_ + "/libnetmon_" + name + ".so"; }

  std::string prefix_, examples_, fixtures_, work_, cprobe_;
};

TEST_F(Sdk, ExamplePluginCountsExactlyAndExampleSinkWritesLineProtocol) {
  VethPair v;
  const std::string lp = work_ + "/dns_queries.lp";
  Subprocess p(host({"--plugins", "dns_queries,c_ifstats", "--iface", v.host_if(), "--sink", "json", "--sink",
                     "influx:" + lp, "--interval", "200ms"}));
  std::vector<nlohmann::json> seen;
  const auto dns_in = sample_of("dns_queries", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  ASSERT_TRUE(netmon::test::next_json(p, dns_in, 15s, &seen)) << p.stderr_text();
  constexpr std::uint64_t kQueries = 777;
  const auto r = netmon::test::traffic(v, "--port 53 --dns netmon.test --count " + std::to_string(kQueries), 30s);
  ASSERT_EQ(r.status.code, 0) << r.err;
  std::this_thread::sleep_for(300ms);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));
  std::optional<nlohmann::json> last_dns, last_if;
  for (const auto& j : seen) {
    // Every measurement is named after its plugin (docs/SAMPLES.md).
    const std::string m = j["measurement"];
    EXPECT_TRUE(m.rfind("dns_queries", 0) == 0 || m.rfind("c_ifstats", 0) == 0 || m.rfind("netmon_host", 0) == 0) << m;
    if (dns_in(j)) last_dns = j;
    if (sample_of("c_ifstats", {{"ifname", v.host_if()}})(j)) last_if = j;
  }
  ASSERT_TRUE(last_dns && last_if);
  // The example plugin's own BPF program counted every query, exactly.
  EXPECT_EQ(netmon::test::field_u64(*last_dns, "queries"), kQueries);
  EXPECT_EQ(netmon::test::field_u64(*last_dns, "responses"), 0u);
  // The C plugin read the kernel's counters: nothing crossed the pair since the last collection.
  EXPECT_EQ(netmon::test::field_u64(*last_if, "rx_packets"), v.host_stat("rx_packets"));
  EXPECT_EQ(netmon::test::field_u64(*last_if, "tx_bytes"), v.host_stat("tx_bytes"));

  // The example sink wrote the same last interval as line protocol.
  std::ifstream in(lp);
  std::string line, last_lp;
  while (std::getline(in, line))
    if (line.rfind("dns_queries,ifname=" + v.host_if() + ",direction=ingress ", 0) == 0) last_lp = line;
  EXPECT_NE(last_lp.find(" queries=" + std::to_string(kQueries) + "u,responses=0u,errors=0u,malformed=0u,"),
            std::string::npos)
      << last_lp;
  EXPECT_NE(last_lp.find(" " + std::to_string((*last_dns)["timestamp_ns"].get<std::int64_t>())), std::string::npos)
      << last_lp;
}

// The example host-wide plugin (a tracepoint, CO-RE), built against the
// installed SDK: no --iface, and every connection opened in a namespace is
// one SYN_SENT there, as the namespace's TcpActiveOpens counts.
TEST_F(Sdk, ExampleTracepointPluginCountsEveryConnectionOfANamespace) {
  VethPair v;
  ASSERT_EQ(netmon::test::sh(v.in_ns("ip link set lo up")), 0);
  const std::uint64_t cookie = netmon::test::in_netns(v.ns(), netmon::test::netns_cookie);
  Subprocess p(host({"--plugins", "tcp_states", "--sink", "json", "--interval", "200ms"}));
  std::vector<nlohmann::json> seen;
  ASSERT_TRUE(netmon::test::next_json(p, sample_of("netmon_host", {}), 15s, &seen)) << p.stderr_text();
  const std::uint64_t opens0 = netmon::test::nstat(v, "TcpActiveOpens");
  constexpr int kConnections = 50;
  const int accepted = netmon::test::in_netns(v.ns(), [] {
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof at;
    const int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv < 0 || ::bind(srv, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 || ::listen(srv, 64) != 0 ||
        ::getsockname(srv, reinterpret_cast<sockaddr*>(&at), &len) != 0)
      return -1;
    int n = 0;
    for (int i = 0; i < kConnections; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0) {
        const int a = ::accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
        n += a >= 0;
        if (a >= 0) ::close(a);
      }
      if (c >= 0) ::close(c);
    }
    ::close(srv);
    return n;
  });
  ASSERT_EQ(accepted, kConnections);
  std::this_thread::sleep_for(300ms);
  const std::uint64_t opens = netmon::test::nstat(v, "TcpActiveOpens") - opens0;
  EXPECT_EQ(opens, static_cast<std::uint64_t>(kConnections));
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));
  std::optional<nlohmann::json> syn_sent;
  for (const auto& j : seen)
    if (sample_of("tcp_states", {{"netns", std::to_string(cookie)}, {"state", "SYN_SENT"}})(j)) syn_sent = j;
  ASSERT_TRUE(syn_sent) << "no tcp_states sample for SYN_SENT in the namespace";
  EXPECT_EQ(netmon::test::field_u64(*syn_sent, "entered"), opens);
  EXPECT_NE(p.stderr_text().find("host-wide"), std::string::npos) << p.stderr_text();
  EXPECT_TRUE(netmon::test::wait_no_programs_of("tcp_states"));
}

// At TC a packet's payload may lie outside the skb's linear part (page
// fragments: UDP GSO, GRO, zero-copy senders); the example plugin must read
// the DNS header there too, in both directions, not count it malformed.
TEST_F(Sdk, ExamplePluginReadsTheDnsHeaderOutsideTheLinearPart) {
  VethPair v;
  Subprocess p(host({"--plugins", "dns_queries", "--iface", v.host_if(), "--sink", "json", "--interval", "200ms"}));
  const auto in = sample_of("dns_queries", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  const auto out = sample_of("dns_queries", {{"ifname", v.host_if()}, {"direction", "egress"}});
  std::vector<nlohmann::json> seen;
  ASSERT_TRUE(netmon::test::next_json(p, in, 15s, &seen)) << p.stderr_text();

  constexpr std::size_t kQueries = 300, kResponses = 200, kErrors = 50, kShort = 4, kEgressQueries = 100;
  std::vector<std::string> responses(kResponses - kErrors, dns_message(7, 0x8180));  // QR, RD, RA, NOERROR
  responses.insert(responses.end(), kErrors, dns_message(8, 0x8183));                // NXDOMAIN
  // Into the host end (its ingress): queries to port 53, responses from port
  // 53, and port-53 datagrams shorter than a DNS header.
  EXPECT_EQ(send_paged_udp(v.ns(), v.peer_ip(), 0, v.host_ip(), 53,
                           std::vector<std::string>(kQueries, dns_message(1, 0x0100))),
            kQueries);
  EXPECT_EQ(send_paged_udp(v.ns(), v.peer_ip(), 53, v.host_ip(), 40053, responses), kResponses);
  EXPECT_EQ(send_paged_udp(v.ns(), v.peer_ip(), 0, v.host_ip(), 53, std::vector<std::string>(kShort, "short")), kShort);
  // Out of the host end (its egress): queries to the namespace.
  EXPECT_EQ(send_paged_udp("", v.host_ip(), 0, v.peer_ip(), 53,
                           std::vector<std::string>(kEgressQueries, dns_message(2, 0x0100))),
            kEgressQueries);
  std::this_thread::sleep_for(300ms);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));
  const auto last_in = netmon::test::last_of(seen, in);
  const auto last_out = netmon::test::last_of(seen, out);
  ASSERT_TRUE(last_in && last_out);
  EXPECT_EQ(netmon::test::field_u64(*last_in, "queries"), kQueries) << last_in->dump();
  EXPECT_EQ(netmon::test::field_u64(*last_in, "responses"), kResponses) << last_in->dump();
  EXPECT_EQ(netmon::test::field_u64(*last_in, "errors"), kErrors) << last_in->dump();
  EXPECT_EQ(netmon::test::field_u64(*last_in, "malformed"), kShort) << last_in->dump();
  EXPECT_EQ(netmon::test::field_u64(*last_out, "queries"), kEgressQueries) << last_out->dump();
  EXPECT_EQ(netmon::test::field_u64(*last_out, "malformed"), 0u) << last_out->dump();
}

// An interface deleted while monitored: both example plugins drop it and go
// on with the others (the C one reads the kernel's counters by index).
// dns_queries on netlink filters (the template's test has tcx links): their
// removal must cope with the interface being gone.
TEST_F(Sdk, ExamplePluginsDropADeletedInterfaceAndGoOn) {
  expect_deleted_interface_dropped(
      {prefix_ + "/bin/netmon-host", "--plugin-dir", examples_, "-o", "dns_queries.attach=netlink"},
      {"dns_queries", "c_ifstats"}, {"dns_queries", "c_ifstats"});
}

// A renamed interface is the same interface (same index): the C plugin goes
// on reading its counters under the new name, in the series it began.
TEST_F(Sdk, ExampleCPluginFollowsARenamedInterface) {
  VethPair v;
  Subprocess p(host({"--plugins", "c_ifstats", "--iface", v.host_if(), "--sink", "json", "--interval", "100ms"}));
  const auto mine = sample_of("c_ifstats", {{"ifname", v.host_if()}});
  std::vector<nlohmann::json> seen;
  ASSERT_TRUE(netmon::test::next_json(p, mine, 15s, &seen)) << p.stderr_text();
  const std::string renamed = "nmtren" + std::to_string(getpid() % 100000);
  ASSERT_EQ(netmon::test::sh("ip link set " + v.host_if() + " down && ip link set " + v.host_if() + " name " + renamed +
                             " && ip link set " + renamed + " up"),
            0);
  netmon::test::send_udp(v, 50, 100);  // counted under the new name
  const auto no_match = [](const nlohmann::json&) { return false; };
  netmon::test::next_json(p, no_match, 500ms, &seen);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));
  const auto last = netmon::test::last_of(seen, mine);
  ASSERT_TRUE(last);
  // Read under the new name: the 50 datagrams sent after the rename are in
  // it (and nothing the kernel had not counted; an IPv6 router solicitation
  // may still arrive after the last collection).
  EXPECT_LE(netmon::test::field_u64(*last, "rx_packets"),
            std::stoull(netmon::test::sh_out("cat /sys/class/net/" + renamed + "/statistics/rx_packets")));
  EXPECT_GE(netmon::test::field_u64(*last, "rx_packets"), 50u);
  EXPECT_EQ(p.stderr_text().find("is gone"), std::string::npos) << p.stderr_text();
  for (const auto& l : lines_of(p.stderr_text())) EXPECT_EQ(l.find(": error:"), std::string::npos) << l;
  // Removing the namespace (VethPair) takes the pair with it, but not at once.
  netmon::test::sh("ip link del " + renamed + " 2>/dev/null");
}

// The line protocol has no NaN or infinity: the example sink leaves such
// fields out, and a sample with no field left out altogether; every line it
// writes is valid.
TEST_F(Sdk, ExampleSinkWritesOnlyValidLineProtocolForNonFiniteFloats) {
  const std::string lp = work_ + "/nonfinite.lp";
  const auto r = netmon::test::run(host(
      {"--plugins", "nonfinite", "--iface", "lo", "--sink", "influx:" + lp, "--count", "2", "--interval", "50ms"}));
  ASSERT_EQ(r.status.code, 0) << r.err;
  std::ifstream in(lp);
  int lines = 0, mixed = 0, large = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    EXPECT_EQ(line_protocol_error(line), "") << line;
    if (line.rfind("nonfinite,case=mixed ", 0) == 0) {
      ++mixed;
      EXPECT_TRUE(std::regex_match(line, std::regex(R"(nonfinite,case=mixed finite=1\.5,count=7u \d+)"))) << line;
    } else if (line.rfind("nonfinite,case=large ", 0) == 0) {
      ++large;
      EXPECT_TRUE(std::regex_match(line, std::regex(R"(nonfinite,case=large big=1e\+300,small=-2\.5e-300 \d+)")))
          << line;
    } else {
      EXPECT_EQ(line.rfind("nonfinite", 0), std::string::npos) << "a sample with no finite field: " << line;
    }
  }
  EXPECT_EQ(mixed, 2);
  EXPECT_EQ(large, 2);
  EXPECT_GE(lines, 4);
}

TEST_F(Sdk, PlainCPluginLoadsAndPublishes) {
  const auto r = netmon::test::run(
      host({"--plugins", "cplugin", "--iface", "lo", "--sink", "json", "--count", "3", "--interval", "50ms"}));
  ASSERT_EQ(r.status.code, 0) << r.err;
  std::uint64_t calls = 0;
  for (const auto& j : json_lines(r.out))
    if (j["measurement"] == "cplugin") {
      EXPECT_EQ(j["tags"]["lang"], "c");
      EXPECT_EQ(j["fields"]["greeting"], "hello from C");
      EXPECT_EQ(j["fields"]["temperature"], -3);
      calls = j["fields"]["calls"];
    }
  EXPECT_EQ(calls, 3u);
}

TEST_F(Sdk, OlderMinorAbiLoadsAndWorks) {
  const auto r = netmon::test::run(
      host({"--plugins", "abi_1_0", "--iface", "lo", "--sink", "json", "--count", "2", "--interval", "50ms"}));
  ASSERT_EQ(r.status.code, 0) << r.err;
  int samples = 0;
  for (const auto& j : json_lines(r.out)) samples += j["measurement"] == "cplugin";
  EXPECT_EQ(samples, 2);
  const auto list = netmon::test::run(host({"--list-plugins"}));
  EXPECT_NE(list.out.find("abi_1_0"), std::string::npos) << list.out;
}

struct Refusal {
  const char* plugin;
  std::vector<std::string> expect;
};

// "netmon ABI 1.2": a version as the host's messages write it.
std::string abi(int major, int minor, const std::string& before) {
  return before + std::to_string(major) + "." + std::to_string(minor);
}

// gtest prints the parameter by its name, not as bytes.
void PrintTo(const Refusal& r, std::ostream* os) { *os << r.plugin; }

class SdkRefusal : public Sdk, public ::testing::WithParamInterface<Refusal> {};

TEST_P(SdkRefusal, OneClearLineAndNothingAttached) {
  VethPair v;
  // The standard plugins come first: they are loaded (and, for start_throws,
  // started) before the bad one, and must be stopped and detached.
  const auto r = netmon::test::run(host({"--plugins", std::string("xdp_stats,tc_stats,") + GetParam().plugin, "--iface",
                                         v.host_if(), "--sink", "json"}),
                                   30s);
  EXPECT_EQ(r.status.code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  const auto lines = lines_of(r.err);
  std::vector<std::string> errors;
  for (const auto& l : lines)
    if (l.find(": error:") != std::string::npos) errors.push_back(l);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  for (const auto& e : GetParam().expect)
    EXPECT_NE(errors[0].find(e), std::string::npos) << e << " not in: " << errors[0];
  EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), 0u);
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  EXPECT_TRUE(netmon::test::wait_no_programs_named("xdp_stats_rx"));
  EXPECT_TRUE(netmon::test::wait_no_programs_named("tc_stats_ingres"));
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, SdkRefusal,
    ::testing::Values(
        // The fixtures are built for this ABI with the minor, or the major, one higher.
        Refusal{"abi_newer_minor",
                {abi(NETMON_ABI_MAJOR, NETMON_ABI_MINOR + 1, "netmon ABI "),
                 abi(NETMON_ABI_MAJOR, NETMON_ABI_MINOR, "this netmon-host's ABI "), "upgrade netmon-host or rebuild"}},
        Refusal{"abi_other_major",
                {abi(NETMON_ABI_MAJOR + 1, NETMON_ABI_MINOR, "netmon ABI "),
                 abi(NETMON_ABI_MAJOR, NETMON_ABI_MINOR, "speaks ABI "), "rebuild the plugin against this netmon SDK"}},
        Refusal{"notaplugin", {"is not a netmon plugin", "NETMON_PLUGIN"}},
        Refusal{"create_fails", {"create_fails: cannot create the plugin", "no widgets available"}},
        Refusal{"start_throws", {"start_throws: cannot start", "fixture start refused"}}),
    [](const ::testing::TestParamInfo<Refusal>& i) { return std::string(i.param.plugin); });

// From an empty directory to a loaded plugin, as docs/WRITING_PLUGINS.md tells it.
TEST_F(Sdk, TemplateBuildsTestsAndLoads) {
  const std::string dir = work_ + "/my_probe";
  auto r = netmon::test::run({prefix_ + "/bin/netmon-new-plugin", "my_probe", dir});
  ASSERT_EQ(r.status.code, 0) << r.err;
  r = netmon::test::run({"/bin/sh", "-c",
                         "cmake -S " + dir + " -B " + dir + "/build -DCMAKE_PREFIX_PATH=" + prefix_ +
                             " >/dev/null && cmake --build " + dir + "/build >/dev/null"},
                        300s);
  ASSERT_EQ(r.status.code, 0) << r.out << r.err;
  r = netmon::test::run({dir + "/build/test_my_probe"}, 60s);
  EXPECT_EQ(r.status.code, 0) << r.out << r.err;
  VethPair v;
  r = netmon::test::run({prefix_ + "/bin/netmon-host", "--plugin-dir", dir + "/build/plugins", "--plugins", "my_probe",
                         "--iface", v.host_if(), "--sink", "json", "--count", "1", "--interval", "100ms"});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"measurement\":\"my_probe\""), std::string::npos) << r.out;
  // The template drops an interface deleted while monitored and goes on.
  SCOPED_TRACE("the template with an interface deleted while monitored");
  expect_deleted_interface_dropped({prefix_ + "/bin/netmon-host", "--plugin-dir", dir + "/build/plugins"}, {"my_probe"},
                                   {"my_probe"});
}

// The sink template's lines ([PREFIX]TIMESTAMP MEASUREMENT key=value ...):
// the ipv4/udp packet counts of `ifname`, in order, and every line's first word.
struct TemplateSinkFile {
  std::vector<std::uint64_t> udp_packets;
  std::vector<std::string> heads;
  std::set<std::string> measurements;
};

TemplateSinkFile read_template_sink(const std::string& path, const std::string& ifname) {
  TemplateSinkFile f;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string head, measurement;
    words >> head >> measurement;
    f.heads.push_back(head);
    f.measurements.insert(measurement);
    std::map<std::string, std::string> kv;
    for (std::string w; words >> w;)
      if (const auto eq = w.find('='); eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
    if (measurement == "xdp_stats_class" && kv["ifname"] == ifname && kv["l3"] == "ipv4" && kv["l4"] == "udp")
      f.udp_packets.push_back(std::stoull(kv["packets"]));
  }
  return f;
}

// From netmon-new-plugin --sink to two running instances of that sink, built
// against the installed SDK alone: each instance takes its own options
// (-o linesink#2.KEY=VALUE) and each counts every packet sent, exactly.
TEST_F(Sdk, SinkTemplateRunsTwiceWithOptionsPerInstance) {
  const std::string sinks = env("NETMON_SDK_SINK_TEMPLATE");
  if (sinks.empty()) {
    if (netmon::test::in_ci()) FAIL() << "run through scripts/test-sdk.sh, which sets NETMON_SDK_SINK_TEMPLATE";
    GTEST_SKIP() << "run through scripts/test-sdk.sh, which sets NETMON_SDK_SINK_TEMPLATE";
  }
  ASSERT_TRUE(fs::exists(sinks + "/libnetmon_linesink.so")) << sinks;
  VethPair v;
  const std::string a = work_ + "/linesink-1.txt", b = work_ + "/linesink-2.txt";
  Subprocess p({prefix_ + "/bin/netmon-host",
                "--plugin-dir",
                sinks,
                "--plugins",
                "xdp_stats",
                "--iface",
                v.host_if(),
                "--interval",
                "200ms",
                "--sink",
                "json",
                "--sink",
                "linesink:" + a,
                "--sink",
                "linesink:" + b,
                "-o",
                "linesink#1.only=xdp_stats_class",
                "-o",
                "linesink#2.only=xdp_stats_class",
                "-o",
                "linesink#2.prefix=second|"});
  const auto udp = sample_of("xdp_stats_class", {{"ifname", v.host_if()}, {"l3", "ipv4"}, {"l4", "udp"}});
  std::vector<nlohmann::json> seen;
  ASSERT_TRUE(netmon::test::next_json(p, udp, 15s, &seen)) << p.stderr_text();
  constexpr std::uint64_t kSent = 777;
  netmon::test::send_udp(v, kSent, 64);
  ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));

  const auto one = read_template_sink(a, v.host_if());
  const auto two = read_template_sink(b, v.host_if());
  for (const auto* f : {&one, &two}) {
    ASSERT_GE(f->udp_packets.size(), 2u) << "too few ipv4/udp lines";
    EXPECT_EQ(f->udp_packets.back() - f->udp_packets.front(), kSent);
    EXPECT_EQ(f->measurements, std::set<std::string>{"xdp_stats_class"});
  }
  // The same batches reached both: as many lines in each.
  EXPECT_EQ(one.heads.size(), two.heads.size());
  for (const auto& h : one.heads) EXPECT_EQ(h.find("second|"), std::string::npos) << h;
  for (const auto& h : two.heads) EXPECT_EQ(h.rfind("second|", 0), 0u) << h;
  netmon::test::expect_nothing_left(v.host_if());
}

// The pkg-config file is enough for a plugin in C: no CMake at all.
TEST_F(Sdk, PkgConfigBuildsTheCPlugin) {
  const std::string out = work_ + "/pc/libnetmon_c_ifstats.so";
  fs::create_directories(work_ + "/pc");
  const auto r =
      netmon::test::run({"/bin/sh", "-c",
                         "cc -shared -fPIC -O2 -Wall -Werror $(PKG_CONFIG_PATH=" + prefix_ +
                             "/lib/pkgconfig pkg-config --cflags netmon) " + std::string(NETMON_TEST_SOURCE_DIR) +
                             "/../examples/c_ifstats/c_ifstats.c -o " + out});
  ASSERT_EQ(r.status.code, 0) << r.err;
  const auto run = netmon::test::run({prefix_ + "/bin/netmon-host", "--plugins", out, "--iface", "lo", "--sink", "json",
                                      "--count", "1", "--interval", "50ms"});
  ASSERT_EQ(run.status.code, 0) << run.err;
  EXPECT_NE(run.out.find("\"measurement\":\"c_ifstats\""), std::string::npos) << run.out;
}

// Every command block of docs/WRITING_PLUGINS.md runs as the guide writes it
// (scripts/doc-test.sh: in a network namespace of its own whose eth0 is a
// veth, against the installed prefix), and a block the script is not told
// to run or skip fails it.
TEST_F(Sdk, TheGuidesCommandBlocksRunAsWritten) {
  const std::string src = std::string(NETMON_TEST_SOURCE_DIR) + "/..";
  const std::string dir = work_ + "/guide";
  fs::create_directories(dir);
  const auto r =
      netmon::test::run({src + "/scripts/doc-test.sh", src + "/docs/WRITING_PLUGINS.md", prefix_, dir}, 540s);
  EXPECT_EQ(r.status.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("every block of"), std::string::npos) << r.err;
}

// ---- a plugin in C from the installed template -------------------------------

// cprobe: netmon-new-plugin --lang c from the prefix, built against it alone
// by scripts/test-sdk.sh. Its BPF test passes; under the installed host it
// counts exactly what crossed a veth pair, in both attach modes, and leaves
// nothing behind.
TEST_F(Sdk, CTemplateCountsExactlyInBothAttachModes) {
  auto r = netmon::test::run({cprobe_ + "/test_cprobe"}, 60s);
  ASSERT_EQ(r.status.code, 0) << r.out << r.err;
  for (const std::string mode : {"tcx", "netlink"}) {
    SCOPED_TRACE("attach=" + mode);
    VethPair v;
    Subprocess p({prefix_ + "/bin/netmon-host", "--plugin-dir", cprobe_ + "/plugins", "--plugins", "cprobe", "--iface",
                  v.host_if(), "--sink", "json", "--interval", "200ms", "-o", "cprobe.attach=" + mode});
    const auto in = sample_of("cprobe", {{"ifname", v.host_if()}, {"direction", "ingress"}});
    const auto out = sample_of("cprobe", {{"ifname", v.host_if()}, {"direction", "egress"}});
    std::vector<nlohmann::json> seen;
    ASSERT_TRUE(netmon::test::next_json(p, out, 15s, &seen)) << p.stderr_text();  // after its ingress sample
    const auto base_in = *netmon::test::last_of(seen, in);
    const auto base_out = *netmon::test::last_of(seen, out);
    const auto k0 = netmon::test::if_counters(v);
    constexpr std::uint64_t kDatagrams = 1000;
    netmon::test::send_udp(v, kDatagrams, 100);
    std::this_thread::sleep_for(300ms);
    const auto k1 = netmon::test::if_counters(v);
    ASSERT_NO_FATAL_FAILURE(stop_cleanly(p, seen));
    const auto last_in = netmon::test::last_of(seen, in);
    const auto last_out = netmon::test::last_of(seen, out);
    ASSERT_TRUE(last_in && last_out);
    const auto delta = [](const nlohmann::json& last, const nlohmann::json& base, const char* key) {
      return netmon::test::field_u64(last, key) - netmon::test::field_u64(base, key);
    };
    // Exactly the datagrams sent (ARP is no UDP), and every packet and byte
    // the kernel counted on the interface.
    EXPECT_EQ(delta(*last_in, base_in, "udp"), kDatagrams) << last_in->dump();
    EXPECT_EQ(delta(*last_out, base_out, "udp"), 0u) << last_out->dump();
    EXPECT_GE(k1.rx_packets - k0.rx_packets, kDatagrams);
    EXPECT_EQ(delta(*last_in, base_in, "packets"), k1.rx_packets - k0.rx_packets);
    EXPECT_EQ(delta(*last_in, base_in, "bytes"), k1.rx_bytes - k0.rx_bytes);
    EXPECT_EQ(delta(*last_out, base_out, "packets"), k1.tx_packets - k0.tx_packets);
    EXPECT_EQ(delta(*last_out, base_out, "bytes"), k1.tx_bytes - k0.tx_bytes);
    // Its log line, through the C API, with the host's prefix once.
    EXPECT_NE(p.stderr_text().find("cprobe: attached to " + v.host_if() + " (" + mode + ")"), std::string::npos)
        << p.stderr_text();
    EXPECT_EQ(p.stderr_text().find("cprobe: cprobe:"), std::string::npos) << p.stderr_text();
    for (const char* dir : {"ingress", "egress"})
      EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), dir).empty()) << dir << " filters are left";
    netmon::test::expect_nothing_left(v.host_if());
  }
}

// Its options, read through the C API, are refused in the C++ plugins' words.
TEST_F(Sdk, CTemplateRefusesBadOptionsInTheStandardWords) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"cprobe.attach=bogus", R"(option cprobe.attach: expected one of auto, tcx, netlink, got string "bogus")"},
      {"cprobe.atach=tcx", "unknown option cprobe.atach (valid: cprobe.attach)"}};
  for (const auto& [option, message] : cases) {
    const auto r = netmon::test::run({prefix_ + "/bin/netmon-host", "--plugin-dir", cprobe_ + "/plugins", "--plugins",
                                      "cprobe", "--iface", "lo", "--sink", "json", "--count", "1", "-o", option});
    EXPECT_NE(r.status.code, 0) << option;
    EXPECT_NE(r.err.find(message), std::string::npos) << option << ":\n" << r.err;
  }
  // The installed script names the prefix it belongs to.
  const auto made = netmon::test::run({prefix_ + "/bin/netmon-new-plugin", "--lang", "c", "cother", work_ + "/cother"});
  ASSERT_EQ(made.status.code, 0) << made.err;
  EXPECT_NE(made.err.find("-DCMAKE_PREFIX_PATH=" + fs::canonical(prefix_).string() + " "), std::string::npos)
      << made.err;
  EXPECT_TRUE(fs::exists(work_ + "/cother/cother.c"));
  EXPECT_TRUE(fs::exists(prefix_ + "/share/doc/netmon/examples/c_ifstats/c_ifstats.c"));
}

// start() failing on the second interface (someone else's filter holds the
// plugin's netlink priority there) undoes the first: nothing of cprobe's is
// left on either, and the foreign filter stays.
TEST_F(Sdk, CTemplateUndoesAHalfDoneStart) {
  VethPair first, second;
  const bpf_insn insns[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1}, {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  const int prog = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sdk_foreign", "GPL", insns, 2, nullptr);
  ASSERT_GE(prog, 0) << std::strerror(errno);
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(if_nametoindex(second.host_if().c_str())),
              .attach_point = BPF_TC_INGRESS);
  ASSERT_EQ(bpf_tc_hook_create(&hook), 0);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog, .handle = 1, .priority = 49310);
  ASSERT_EQ(bpf_tc_attach(&hook, &opts), 0);
  ::close(prog);  // the filter holds the program

  const auto r = netmon::test::run({prefix_ + "/bin/netmon-host", "--plugin-dir", cprobe_ + "/plugins", "--plugins",
                                    "cprobe", "--iface", first.host_if(), "--iface", second.host_if(), "--sink", "json",
                                    "--count", "1", "-o", "cprobe.attach=netlink"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_NE(r.err.find(second.host_if() + ": TC ingress priority 49310 is taken by another program ('sdk_foreign'"),
            std::string::npos)
      << r.err;
  netmon::test::expect_nothing_left(first.host_if());
  std::vector<std::string> filters;  // "... handle 0x1 <program> ..." lines
  for (const auto& line : netmon::test::tc_filters(second.host_if(), "ingress"))
    if (line.find(" handle ") != std::string::npos) filters.push_back(line);
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_NE(filters[0].find("sdk_foreign"), std::string::npos) << filters[0];
  EXPECT_TRUE(netmon::test::wait_no_programs_named("cprobe_in"));
  EXPECT_TRUE(netmon::test::wait_no_programs_named("cprobe_out"));
}

// The C template drops an interface deleted while monitored, with one warning.
TEST_F(Sdk, CTemplateDropsADeletedInterface) {
  expect_deleted_interface_dropped({prefix_ + "/bin/netmon-host", "--plugin-dir", cprobe_ + "/plugins"}, {"cprobe"},
                                   {"cprobe"});
}

}  // namespace
