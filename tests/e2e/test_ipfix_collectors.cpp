// SPDX-License-Identifier: MIT
// The ipfix sink against real collectors: nfcapd (nfdump) and nfacctd
// (pmacct) on loopback, softflowd's view of the same traffic, and tshark's
// dissector on what went over the wire. Exact UDP flows (and TCP
// connections) cross a veth pair from a namespace; flow_top records every
// flow that ends; the sink exports the records; each collector must hold
// every flow with exactly its packets and IP-layer octets.
//
// Then faults: the collector absent at the start, a collector killed and
// restarted mid-run, a TCP collector that resets the connection. netmon-host
// keeps running, accounts for every record (sent or lost, in its last line
// about the sink), and the json sink beside it still sees every flow.
//
// HarnessWithSoftflowd runs the same collectors, capture and checks with
// softflowd as the exporter: it proves the harness independently of netmon.
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/collectors.hpp"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::Capture;
using netmon::test::FlowKey;
using netmon::test::FlowRow;
using netmon::test::FlowSum;
using netmon::test::HostRun;
using netmon::test::Nfacctd;
using netmon::test::Nfcapd;
using netmon::test::Subprocess;
using netmon::test::to_string;
using netmon::test::VethPair;

constexpr int kIdle = 1;       // flowEndReason idleTimeout
constexpr int kEndOfFlow = 3;  // flowEndReason endOfFlowDetected

// A UDP flow the test sends: `count` datagrams of `payload` bytes.
struct UdpFlow {
  bool v6 = false;
  int sport = 0, dport = 0;
  std::uint64_t count = 0, payload = 0;
};

// At the IP layer a datagram is its IP header (IPv4 20, IPv6 40), the UDP
// header (8) and the payload: octetDeltaCount.
std::uint64_t ip_bytes(const UdpFlow& f) { return f.count * ((f.v6 ? 40 : 20) + 8 + f.payload); }

FlowKey key_of(const VethPair& v, const UdpFlow& f) {
  return {f.v6 ? v.peer_ip6() : v.peer_ip(), f.v6 ? v.host_ip6() : v.host_ip(), static_cast<std::uint16_t>(f.sport),
          static_cast<std::uint16_t>(f.dport), 17};
}

// netmon-traffic in the namespace, to the host side's IPv4 or IPv6 address.
void send(const VethPair& v, const UdpFlow& f) {
  const std::string cmd =
      v.in_ns(std::string(NETMON_TEST_TRAFFIC_BIN) + " --dst " + (f.v6 ? v.host_ip6() : v.host_ip()) + " --port " +
              std::to_string(f.dport) + " --count " + std::to_string(f.count) + " --size " + std::to_string(f.payload) +
              " --flows 1 --sport " + std::to_string(f.sport));
  const auto r = netmon::test::run({"/bin/sh", "-c", cmd}, 60s);
  EXPECT_EQ(r.status.code, 0) << cmd << ": " << r.err;
}

// One TCP connection from the namespace to an echo server on the host side
// (IPv4 or IPv6): `exchanges` one-byte round trips, then FIN both ways.
void tcp_connection(const VethPair& v, bool v6, int port, int exchanges) {
  const std::string dst = v6 ? v.host_ip6() : v.host_ip();
  Subprocess server({NETMON_TEST_TRAFFIC_BIN, "--tcp-server", "--dst", dst, "--port", std::to_string(port)});
  const auto line = server.read_line(10s);
  ASSERT_TRUE(line && line->find("listening") != std::string::npos) << server.stderr_text();
  const std::string cmd = v.in_ns(std::string(NETMON_TEST_TRAFFIC_BIN) + " --tcp --dst " + dst + " --port " +
                                  std::to_string(port) + " --count " + std::to_string(exchanges));
  const auto r = netmon::test::run({"/bin/sh", "-c", cmd}, 60s);
  EXPECT_EQ(r.status.code, 0) << cmd << ": " << r.err;
  const auto st = server.wait(10s);
  EXPECT_TRUE(st && st->code == 0) << server.stderr_text();
}

// IPv6 neighbour discovery done before anything is counted or captured
// (VethPair resolves IPv4 only).
void resolve_neighbours(const VethPair& v) {
  EXPECT_EQ(netmon::test::sh(v.in_ns("ping -6 -c 1 -W 2 " + v.host_ip6() + " >/dev/null")), 0);
}

// Distinct counts and sizes, so that a record given to the wrong flow shows.
std::vector<UdpFlow> udp_flows(int sport_base) {
  return {{false, sport_base + 0, 9000, 7, 100},
          {false, sport_base + 1, 9000, 13, 250},
          {false, sport_base + 2, 9002, 21, 40},
          {true, sport_base + 10, 9001, 11, 60},
          {true, sport_base + 11, 9003, 17, 300}};
}

// The flow_top_end samples read so far, by 5-tuple.
std::map<FlowKey, std::vector<nlohmann::json>> ended_flows(const HostRun& host) {
  std::map<FlowKey, std::vector<nlohmann::json>> out;
  for (const auto& s : host.samples()) {
    if (s.value("measurement", "") != "flow_top_end") continue;
    const auto& t = s["tags"];
    FlowKey k{netmon::test::canonical_address(t.value("src", "")), netmon::test::canonical_address(t.value("dst", "")),
              static_cast<std::uint16_t>(std::stoul(t.value("sport", "0"))),
              static_cast<std::uint16_t>(std::stoul(t.value("dport", "0"))),
              static_cast<std::uint8_t>(netmon::test::field_u64(s, "ip_proto"))};
    out[k].push_back(s);
  }
  return out;
}

std::size_t ended_count(const HostRun& host) {
  return static_cast<std::size_t>(std::count_if(host.samples().begin(), host.samples().end(), [](const auto& s) {
    return s.value("measurement", "") == "flow_top_end";
  }));
}

// Reads samples until a flow_top_end has come for every key.
bool wait_ended(HostRun& host, const std::vector<FlowKey>& keys, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto ended = ended_flows(host);
    if (std::all_of(keys.begin(), keys.end(), [&](const FlowKey& k) { return ended.count(k) > 0; })) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    host.wait_for([](const nlohmann::json&) { return false; }, 200ms);
  }
}

// "N records sent to ADDR over udp|tcp, M lost": the ipfix sink's last line
// (its close()), one per ipfix sink. ASSUMED from the sink's branch: the
// wording of its close() log line.
struct SinkSummary {
  std::uint64_t sent = 0, lost = 0;
  std::string peer, transport, line;
};
std::vector<SinkSummary> sink_summaries(const std::string& err) {
  std::vector<SinkSummary> out;
  static const std::regex re(R"((\d+) records sent to (\S+) over (udp|tcp), (\d+) lost)");
  for (const auto& line : netmon::test::lines_of(err)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) out.push_back({std::stoull(m[1]), std::stoull(m[4]), m[2], m[3], line});
  }
  return out;
}

std::string ended_text(const HostRun& host) {
  std::string s;
  for (const auto& [k, v] : ended_flows(host))
    for (const auto& j : v)
      s += "  " + to_string(k) + " " + j["fields"].dump() + " " + j["tags"].value("reason", "") + "\n";
  return s;
}

std::uint32_t ifindex(const std::string& ifname) { return if_nametoindex(ifname.c_str()); }

// Checks a collector's rows for one UDP flow: every packet and octet, once.
void expect_udp_flow(const std::map<FlowKey, FlowSum>& sums, const FlowKey& k, const UdpFlow& f, std::uint32_t in_if,
                     const std::string& who, bool end_reason_shown) {
  const auto it = sums.find(k);
  ASSERT_NE(it, sums.end()) << who << " has no record of " << to_string(k);
  const FlowSum& s = it->second;
  EXPECT_EQ(s.packets, f.count) << who << ": " << to_string(k);
  EXPECT_EQ(s.bytes, ip_bytes(f)) << who << ": " << to_string(k) << " (IP-layer octets of " << f.count << " x "
                                  << f.payload << " B)";
  EXPECT_EQ(s.tcp_flags, 0) << who << ": " << to_string(k);
  for (const auto i : s.in_ifs) EXPECT_EQ(i, in_if) << who << ": ingressInterface of " << to_string(k);
  for (const auto o : s.out_ifs) EXPECT_EQ(o, 0u) << who << ": egressInterface of " << to_string(k);
  for (const auto d : s.directions) EXPECT_EQ(d, 0) << who << ": flowDirection of " << to_string(k);
  if (end_reason_shown) {
    EXPECT_FALSE(s.end_reasons.empty()) << who << " shows no flowEndReason for " << to_string(k);
    for (const auto r : s.end_reasons) EXPECT_EQ(r, kIdle) << who << ": flowEndReason of " << to_string(k);
  }
}

// Checks a collector's TCP rows against the capture's view of the same
// connection (packets, octets and flags as they crossed the veth).
void expect_tcp_flow(const std::map<FlowKey, FlowSum>& sums, const FlowRow& truth, std::uint32_t ifidx, bool ingress,
                     const std::string& who, bool end_reason_shown) {
  const FlowKey k = netmon::test::key_of(truth);
  const auto it = sums.find(k);
  ASSERT_NE(it, sums.end()) << who << " has no record of " << to_string(k);
  const FlowSum& s = it->second;
  EXPECT_EQ(s.packets, truth.packets) << who << ": " << to_string(k);
  EXPECT_EQ(s.bytes, truth.bytes) << who << ": " << to_string(k);
  EXPECT_EQ(s.tcp_flags, truth.tcp_flags) << who << ": tcpControlBits of " << to_string(k);
  for (const auto i : s.in_ifs) EXPECT_EQ(i, ingress ? ifidx : 0u) << who << ": ingressInterface of " << to_string(k);
  for (const auto o : s.out_ifs) EXPECT_EQ(o, ingress ? 0u : ifidx) << who << ": egressInterface of " << to_string(k);
  for (const auto d : s.directions) EXPECT_EQ(d, ingress ? 0 : 1) << who << ": flowDirection of " << to_string(k);
  if (end_reason_shown) {
    const bool fin = std::find(s.end_reasons.begin(), s.end_reasons.end(), kEndOfFlow) != s.end_reasons.end();
    EXPECT_TRUE(fin) << who << ": no record of " << to_string(k) << " ends with endOfFlowDetected (3)";
  }
}

// flow_top's records must follow the flow-record convention, or the sink
// exports nothing: say so plainly rather than as missing records.
void expect_flow_record_convention(const HostRun& host) {
  for (const auto& [k, v] : ended_flows(host))
    for (const auto& s : v)
      for (const char* f : {"ip_bytes", "first_seen_ms", "last_seen_ms", "tcp_control_bits"})
        EXPECT_TRUE(s["fields"].contains(f))
            << "flow_top_end lacks field " << f << " of the flow-record convention (docs/SAMPLES.md): " << s.dump();
}

class IpfixCollectors : public ::testing::Test {
 protected:
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    NETMON_REQUIRE_TOOLS(netmon::test::kNfcapd, netmon::test::kNfdump, netmon::test::kNfacctd, netmon::test::kSoftflowd,
                         netmon::test::kTshark, netmon::test::kDumpcap);
  }

  // netmon-host: flow_top on the veth's host side recording every ended flow
  // (idle after 1 s), the json sink on stdout, and `sinks`.
  static std::vector<std::string> host_args(const VethPair& v, const std::vector<std::string>& sinks) {
    std::vector<std::string> a{"--plugins",  "flow_top",
                               "--iface",    v.host_if(),
                               "-o",         "flow_top.finished=true",
                               "-o",         "flow_top.idle_timeout=1s",
                               "--interval", "500ms",
                               "--sink",     "json"};
    a.insert(a.end(), sinks.begin(), sinks.end());
    return a;
  }

  // Sends the flows, reading netmon's samples meanwhile; waits for each to end.
  static void send_and_wait(HostRun& host, const VethPair& v, const std::vector<UdpFlow>& flows) {
    host.reading_while([&] {
      for (const auto& f : flows) send(v, f);
      return 0;
    });
    std::vector<FlowKey> keys;
    for (const auto& f : flows) keys.push_back(key_of(v, f));
    EXPECT_TRUE(wait_ended(host, keys, 20s)) << "flow_top_end missing; seen:\n" << ended_text(host);
  }

  // The json sink saw every flow, once, with exactly its packets (and, with
  // the convention's ip_bytes, its IP-layer octets).
  static void expect_json_saw(const HostRun& host, const VethPair& v, const std::vector<UdpFlow>& flows) {
    const auto ended = ended_flows(host);
    for (const auto& f : flows) {
      const auto it = ended.find(key_of(v, f));
      ASSERT_NE(it, ended.end()) << "json: no flow_top_end for " << to_string(key_of(v, f));
      std::uint64_t packets = 0, bytes = 0;
      for (const auto& s : it->second) {
        packets += netmon::test::field_u64(s, "packets");
        if (s["fields"].contains("ip_bytes")) bytes += netmon::test::field_u64(s, "ip_bytes");
      }
      EXPECT_EQ(packets, f.count) << "json: " << to_string(key_of(v, f));
      if (bytes) {
        EXPECT_EQ(bytes, ip_bytes(f)) << "json: " << to_string(key_of(v, f));
      }
    }
  }
};

// ---------------------------------------------------------------------------
// The harness itself, with softflowd as the exporter: traffic captured on the
// veth, softflowd over the capture to nfcapd and to nfacctd (and captured on
// loopback for tshark). Proves every piece without netmon.
TEST_F(IpfixCollectors, HarnessWithSoftflowdAsExporter) {
  VethPair v(true);
  const auto flows = udp_flows(42000);
  std::vector<FlowRow> truth;
  resolve_neighbours(v);
  Capture veth(v.host_if());
  ASSERT_TRUE(veth.ready()) << veth.log();
  for (const auto& f : flows) send(v, f);
  tcp_connection(v, false, 9100, 20);
  tcp_connection(v, true, 9101, 10);
  ASSERT_TRUE(veth.stop()) << veth.log();
  truth = netmon::test::flows_in_capture(veth.file());

  // The capture holds every datagram, with the expected octets.
  const auto truth_sums = netmon::test::sum_by_key(truth);
  for (const auto& f : flows) {
    const auto it = truth_sums.find(key_of(v, f));
    ASSERT_NE(it, truth_sums.end()) << to_string(key_of(v, f)) << " not in the capture:\n"
                                    << to_string(truth) << veth.log();
    EXPECT_EQ(it->second.packets, f.count);
    EXPECT_EQ(it->second.bytes, ip_bytes(f));
  }
  std::vector<FlowRow> tcp_truth;
  for (const auto& r : truth)
    if (r.proto == 6) tcp_truth.push_back(r);
  ASSERT_EQ(tcp_truth.size(), 4u) << "two connections, two directions each:\n" << to_string(truth);

  Nfcapd nfcapd;
  ASSERT_TRUE(nfcapd.ready()) << nfcapd.log();
  Nfacctd nfacctd;
  ASSERT_TRUE(nfacctd.ready()) << nfacctd.log();
  Capture lo("lo", "udp port " + std::to_string(nfcapd.port()));
  ASSERT_TRUE(lo.ready()) << lo.log();
  for (const int port : {nfcapd.port(), nfacctd.port()}) {
    const auto r = netmon::test::softflowd_export(veth.file(), port);
    ASSERT_EQ(r.status.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Flows exported:"), std::string::npos) << r.out;
  }
  std::this_thread::sleep_for(1500ms);  // nfacctd's print plugin writes every second
  ASSERT_TRUE(lo.stop()) << lo.log();

  const auto nfc = nfcapd.flows();
  EXPECT_TRUE(nfcapd.stop()) << nfcapd.log();
  const auto nfa = nfacctd.flows();
  const auto dec = netmon::test::decode_ipfix(lo.file(), nfcapd.port());

  // softflowd reads no interface index from a capture: interfaces 0.
  struct View {
    std::string who;
    std::vector<FlowRow> rows;
  };
  for (const auto& [who, rows] : {View{"nfcapd", nfc}, View{"nfacctd", nfa}, View{"tshark", dec.records}}) {
    SCOPED_TRACE(who);
    const auto sums = netmon::test::sum_by_key(rows);
    for (const auto& f : flows) {
      const auto it = sums.find(key_of(v, f));
      ASSERT_NE(it, sums.end()) << who << " lacks " << to_string(key_of(v, f)) << "; it has:\n" << to_string(rows);
      EXPECT_EQ(it->second.packets, f.count);
      EXPECT_EQ(it->second.bytes, ip_bytes(f));
      for (const auto r : it->second.end_reasons) EXPECT_EQ(r, kIdle);
    }
    for (const auto& t : tcp_truth) {
      const auto it = sums.find(netmon::test::key_of(t));
      ASSERT_NE(it, sums.end()) << who << " lacks " << to_string(netmon::test::key_of(t)) << ":\n" << to_string(rows);
      EXPECT_EQ(it->second.packets, t.packets);
      EXPECT_EQ(it->second.bytes, t.bytes);
      EXPECT_EQ(it->second.tcp_flags, t.tcp_flags);
      EXPECT_FALSE(it->second.end_reasons.empty()) << who << " shows no flowEndReason";
    }
  }
  EXPECT_TRUE(dec.problems.empty()) << testing::PrintToString(dec.problems);
  EXPECT_GT(dec.messages, 0);
  EXPECT_FALSE(dec.template_ids.empty());
}

// The harness's malformed-packet detection: a truncated template set and a
// message whose Length disagrees with its datagram are both reported.
TEST_F(IpfixCollectors, TsharkCheckFindsMalformedIpfix) {
  const int port = netmon::test::free_loopback_udp_port();
  Capture lo("lo", "udp port " + std::to_string(port));
  ASSERT_TRUE(lo.ready()) << lo.log();
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const auto be16 = [](std::vector<std::uint8_t>& b, unsigned v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
  };
  const auto header = [&](unsigned length) {
    std::vector<std::uint8_t> b;
    be16(b, 10);
    be16(b, length);
    for (int i = 0; i < 12; ++i) b.push_back(0);
    return b;
  };
  // 1: Length 28 in a 24-byte datagram.
  auto m1 = header(28);
  be16(m1, 2), be16(m1, 40), be16(m1, 256), be16(m1, 5);
  // 2: a template set that says it has 2 fields and ends after its header.
  auto m2 = header(24);
  be16(m2, 2), be16(m2, 8), be16(m2, 256), be16(m2, 2);
  for (const auto* m : {&m1, &m2})
    ASSERT_EQ(::sendto(fd, m->data(), m->size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a),
              static_cast<ssize_t>(m->size()));
  ::close(fd);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(lo.stop()) << lo.log();
  const auto dec = netmon::test::decode_ipfix(lo.file(), port);
  EXPECT_EQ(dec.messages, 2);
  const auto has = [&](const std::string& text) {
    return std::any_of(dec.problems.begin(), dec.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("frame 1: IPFIX Length")) << testing::PrintToString(dec.problems);
  EXPECT_TRUE(has("frame 2: malformed")) << testing::PrintToString(dec.problems);
  EXPECT_TRUE(has("frame 2: expert error")) << testing::PrintToString(dec.problems);
  for (const auto& p : dec.problems) EXPECT_EQ(p.rfind("frame 1: malformed", 0), std::string::npos) << p;
}

// ---------------------------------------------------------------------------
// netmon's export, held by nfcapd and by nfacctd, decoded by tshark, and
// compared with softflowd's view of a capture of the same traffic.
TEST_F(IpfixCollectors, EveryFlowReachesNfcapdAndNfacctdExactly) {
  VethPair v(true);
  resolve_neighbours(v);
  const std::uint32_t ifidx = ifindex(v.host_if());
  Nfcapd nfcapd;
  ASSERT_TRUE(nfcapd.ready()) << nfcapd.log();
  Nfacctd nfacctd;
  ASSERT_TRUE(nfacctd.ready()) << nfacctd.log();
  HostRun host(host_args(v, {"--sink", "ipfix:127.0.0.1:" + std::to_string(nfcapd.port()), "--sink",
                             "ipfix:127.0.0.1:" + std::to_string(nfacctd.port())}));
  ASSERT_TRUE(host.wait_for(netmon::test::sample_of("flow_top_table", {}), 15s)) << host.stderr_text();
  Capture veth(v.host_if());
  ASSERT_TRUE(veth.ready()) << veth.log();
  Capture lo("lo", "udp port " + std::to_string(nfcapd.port()));
  ASSERT_TRUE(lo.ready()) << lo.log();

  const auto flows = udp_flows(43000);
  send_and_wait(host, v, flows);
  host.reading_while([&] {
    tcp_connection(v, false, 9100, 20);
    tcp_connection(v, true, 9101, 10);
    return 0;
  });
  ASSERT_TRUE(veth.stop()) << veth.log();
  std::vector<FlowRow> tcp_truth;
  for (const auto& r : netmon::test::flows_in_capture(veth.file()))
    if (r.proto == 6) tcp_truth.push_back(r);
  ASSERT_EQ(tcp_truth.size(), 4u);
  std::vector<FlowKey> tcp_keys;
  for (const auto& t : tcp_truth) tcp_keys.push_back(netmon::test::key_of(t));
  EXPECT_TRUE(wait_ended(host, tcp_keys, 20s)) << ended_text(host);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);  // the sinks' writes of that batch

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  ASSERT_TRUE(lo.stop()) << lo.log();
  expect_flow_record_convention(host);
  expect_json_saw(host, v, flows);

  // Every record the json sink saw was sent, none lost, by both sinks.
  const auto summaries = sink_summaries(host.stderr_text());
  ASSERT_EQ(summaries.size(), 2u) << host.stderr_text();
  for (const auto& s : summaries) {
    EXPECT_EQ(s.sent, ended_count(host)) << s.line;
    EXPECT_EQ(s.lost, 0u) << s.line;
  }

  const auto nfc = nfcapd.flows();
  const auto nfa = nfacctd.flows();
  const auto nfc_sums = netmon::test::sum_by_key(nfc);
  const auto nfa_sums = netmon::test::sum_by_key(nfa);
  for (const auto& f : flows) {
    expect_udp_flow(nfc_sums, key_of(v, f), f, ifidx, "nfcapd", true);
    expect_udp_flow(nfa_sums, key_of(v, f), f, ifidx, "nfacctd", true);
  }
  for (const auto& t : tcp_truth) {
    const bool ingress = t.src == v.peer_ip() || t.src == v.peer_ip6();
    expect_tcp_flow(nfc_sums, t, ifidx, ingress, "nfcapd", true);
    expect_tcp_flow(nfa_sums, t, ifidx, ingress, "nfacctd", true);
  }
  EXPECT_EQ(nfc.size(), ended_count(host)) << "nfcapd holds one record per flow_top_end:\n" << to_string(nfc);
  EXPECT_EQ(nfa.size(), ended_count(host)) << "nfacctd holds one record per flow_top_end:\n" << to_string(nfa);
  if (HasFailure())
    ADD_FAILURE() << "nfcapd:\n" + to_string(nfc) << "nfacctd:\n" + to_string(nfa)
                  << "flow_top_end:\n" + ended_text(host) << nfcapd.nfdump_output();

  // tshark: nothing malformed, both templates, the same records.
  const auto dec = netmon::test::decode_ipfix(lo.file(), nfcapd.port());
  EXPECT_TRUE(dec.problems.empty()) << testing::PrintToString(dec.problems);
  EXPECT_NE(std::find(dec.template_ids.begin(), dec.template_ids.end(), 256), dec.template_ids.end());
  EXPECT_NE(std::find(dec.template_ids.begin(), dec.template_ids.end(), 257), dec.template_ids.end());
  const auto dec_sums = netmon::test::sum_by_key(dec.records);
  for (const auto& f : flows) expect_udp_flow(dec_sums, key_of(v, f), f, ifidx, "tshark", true);

  // softflowd over the capture of the same traffic: the same flows, packets
  // and octets (its interfaces are 0: a capture file has none).
  Nfcapd sf_collector;
  ASSERT_TRUE(sf_collector.ready()) << sf_collector.log();
  const auto sf = netmon::test::softflowd_export(veth.file(), sf_collector.port());
  ASSERT_EQ(sf.status.code, 0) << sf.out << sf.err;
  const auto sf_rows = sf_collector.flows();
  const auto sf_sums = netmon::test::sum_by_key(sf_rows);
  for (const auto& f : flows) {
    const auto a = sf_sums.find(key_of(v, f));
    const auto b = nfc_sums.find(key_of(v, f));
    ASSERT_NE(a, sf_sums.end()) << "softflowd lacks " << to_string(key_of(v, f)) << "; it has:\n"
                                << to_string(sf_rows) << sf.out << sf_collector.log() << sf_collector.nfdump_output();
    ASSERT_NE(b, nfc_sums.end());
    EXPECT_EQ(a->second.packets, b->second.packets) << to_string(key_of(v, f));
    EXPECT_EQ(a->second.bytes, b->second.bytes) << to_string(key_of(v, f));
  }
  for (const auto& k : tcp_keys) {
    const auto a = sf_sums.find(k);
    const auto b = nfc_sums.find(k);
    ASSERT_NE(a, sf_sums.end()) << "softflowd lacks " << to_string(k);
    ASSERT_NE(b, nfc_sums.end());
    EXPECT_EQ(a->second.packets, b->second.packets) << to_string(k);
    EXPECT_EQ(a->second.bytes, b->second.bytes) << to_string(k);
    EXPECT_EQ(a->second.tcp_flags, b->second.tcp_flags) << to_string(k);
  }
}

// ---------------------------------------------------------------------------
// Faults. Each run uses template_refresh=1 so that a collector that appears
// mid-run learns the templates within a second; a warm-up flow after it
// appears carries them before the flows that are checked.

// No collector at the start: the records go to a closed port (ICMP port
// unreachable; counted lost). netmon keeps running; once nfcapd is there,
// every later flow reaches it exactly.
TEST_F(IpfixCollectors, CollectorAbsentAtStartThenStarted) {
  VethPair v(true);
  resolve_neighbours(v);
  const std::uint32_t ifidx = ifindex(v.host_if());
  const int port = netmon::test::free_loopback_udp_port();
  HostRun host(host_args(v, {"--sink", "ipfix:127.0.0.1:" + std::to_string(port), "-o", "ipfix.template_refresh=1"}));
  ASSERT_TRUE(host.wait_for(netmon::test::sample_of("flow_top_table", {}), 15s)) << host.stderr_text();

  const auto before = udp_flows(44000);
  send_and_wait(host, v, before);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);
  ASSERT_FALSE(host.process().wait(0ms)) << "netmon-host stopped with no collector: " << host.stderr_text();

  Nfcapd nfcapd(port);
  ASSERT_TRUE(nfcapd.ready()) << nfcapd.log();
  send_and_wait(host, v, {{false, 44900, 9009, 1, 10}});  // warm-up
  host.wait_for([](const nlohmann::json&) { return false; }, 1500ms);
  const auto after = udp_flows(45000);
  send_and_wait(host, v, after);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  expect_flow_record_convention(host);
  expect_json_saw(host, v, before);
  expect_json_saw(host, v, after);

  const auto summaries = sink_summaries(host.stderr_text());
  ASSERT_EQ(summaries.size(), 1u) << host.stderr_text();
  EXPECT_EQ(summaries[0].sent + summaries[0].lost, ended_count(host))
      << "every record sent or counted lost: " << summaries[0].line;
  EXPECT_GE(summaries[0].lost, before.size())
      << "the records made before the collector was there: " << summaries[0].line;

  const auto rows = nfcapd.flows();
  const auto sums = netmon::test::sum_by_key(rows);
  for (const auto& f : after) expect_udp_flow(sums, key_of(v, f), f, ifidx, "nfcapd", true);
  for (const auto& f : before)
    EXPECT_EQ(sums.count(key_of(v, f)), 0u) << "sent before nfcapd was started: " << to_string(key_of(v, f));
  if (HasFailure())
    ADD_FAILURE() << "nfcapd:\n" << to_string(rows) << "flow_top_end:\n" << ended_text(host) << host.stderr_text();
}

// nfcapd killed (SIGKILL) mid-run and started again on the same port: the
// records made while it was gone are lost and counted; those after it is
// back all arrive.
TEST_F(IpfixCollectors, NfcapdKilledAndRestartedMidRun) {
  VethPair v(true);
  resolve_neighbours(v);
  const std::uint32_t ifidx = ifindex(v.host_if());
  auto first = std::make_unique<Nfcapd>();
  ASSERT_TRUE(first->ready()) << first->log();
  const int port = first->port();
  HostRun host(host_args(v, {"--sink", "ipfix:127.0.0.1:" + std::to_string(port), "-o", "ipfix.template_refresh=1"}));
  ASSERT_TRUE(host.wait_for(netmon::test::sample_of("flow_top_table", {}), 15s)) << host.stderr_text();

  const auto phase1 = udp_flows(46000);
  send_and_wait(host, v, phase1);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);
  first->kill();

  const auto gone = udp_flows(47000);
  send_and_wait(host, v, gone);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);
  ASSERT_FALSE(host.process().wait(0ms)) << "netmon-host stopped when its collector died: " << host.stderr_text();

  Nfcapd second(port);
  ASSERT_TRUE(second.ready()) << second.log();
  send_and_wait(host, v, {{false, 47900, 9009, 1, 10}});  // warm-up
  host.wait_for([](const nlohmann::json&) { return false; }, 1500ms);
  const auto phase2 = udp_flows(48000);
  send_and_wait(host, v, phase2);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  expect_flow_record_convention(host);
  for (const auto* fl : {&phase1, &gone, &phase2}) expect_json_saw(host, v, *fl);

  const auto summaries = sink_summaries(host.stderr_text());
  ASSERT_EQ(summaries.size(), 1u) << host.stderr_text();
  EXPECT_EQ(summaries[0].sent + summaries[0].lost, ended_count(host)) << summaries[0].line;
  EXPECT_GE(summaries[0].lost, gone.size()) << "made while no collector listened: " << summaries[0].line;

  const auto rows = second.flows();
  const auto sums = netmon::test::sum_by_key(rows);
  for (const auto& f : phase2) expect_udp_flow(sums, key_of(v, f), f, ifidx, "the restarted nfcapd", true);
  if (HasFailure())
    ADD_FAILURE() << "nfcapd:\n" << to_string(rows) << "flow_top_end:\n" << ended_text(host) << host.stderr_text();
}

// A TCP collector of the test's own on 127.0.0.1: it reads its first
// connection, then resets it (SO_LINGER 0); it reads the next connection to
// its end, keeping the bytes.
class ResettingCollector {
 public:
  ResettingCollector() : port_(netmon::test::free_loopback_port()) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    ok_ = lfd_ >= 0 && ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(lfd_, 4) == 0;
    if (ok_) thread_ = std::thread([this] { serve(); });
  }
  ~ResettingCollector() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (lfd_ >= 0) ::close(lfd_);
  }
  ResettingCollector(const ResettingCollector&) = delete;
  ResettingCollector& operator=(const ResettingCollector&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int connections() const { return connections_; }
  [[nodiscard]] bool reset_done() const { return reset_done_; }
  [[nodiscard]] std::uint64_t first_bytes() const { return first_bytes_; }
  [[nodiscard]] std::uint64_t second_bytes() const { return second_bytes_; }
  [[nodiscard]] bool second_ended() const { return second_ended_; }
  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

 private:
  // Waits up to 100 ms for fd to be readable.
  static bool readable(int fd) {
    fd_set s;
    FD_ZERO(&s);
    FD_SET(fd, &s);
    timeval tv{0, 100000};
    return ::select(fd + 1, &s, nullptr, nullptr, &tv) > 0;
  }
  void serve() {
    char buf[65536];
    while (!stop_) {
      if (!readable(lfd_)) continue;
      const int c = ::accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      const int n = ++connections_;
      if (n == 1) {
        // Read what comes for a moment (at least one message), then reset.
        const auto until = std::chrono::steady_clock::now() + 300ms;
        while (!stop_ && (first_bytes_ == 0 || std::chrono::steady_clock::now() < until)) {
          if (!readable(c)) continue;
          const ssize_t r = ::recv(c, buf, sizeof buf, 0);
          if (r <= 0) break;
          first_bytes_ += static_cast<std::uint64_t>(r);
        }
        const linger l{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(c);
        reset_done_ = true;
      } else {
        while (!stop_) {
          if (!readable(c)) continue;
          const ssize_t r = ::recv(c, buf, sizeof buf, 0);
          if (r <= 0) break;
          second_bytes_ += static_cast<std::uint64_t>(r);
        }
        second_ended_ = true;
        ::close(c);
      }
    }
  }

  int port_;
  int lfd_ = -1;
  bool ok_ = false;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<bool> reset_done_{false}, second_ended_{false};
  std::atomic<std::uint64_t> first_bytes_{0}, second_bytes_{0};
};

// Over TCP, the collector resets the connection: netmon reconnects, sends
// the templates again on the new connection, and every record is either
// acknowledged or counted lost; the records after the reconnection arrive
// whole (tshark decodes the new connection without a malformed packet).
TEST_F(IpfixCollectors, TcpCollectorThatResets) {
  VethPair v(true);
  resolve_neighbours(v);
  const std::uint32_t ifidx = ifindex(v.host_if());
  ResettingCollector collector;
  ASSERT_TRUE(collector.ok());
  // Both connections captured from their start; the second is checked.
  Capture lo("lo", "tcp port " + std::to_string(collector.port()));
  ASSERT_TRUE(lo.ready()) << lo.log();
  HostRun host(
      host_args(v, {"--sink", "ipfix:127.0.0.1:" + std::to_string(collector.port()), "-o", "ipfix.transport=tcp"}));
  ASSERT_TRUE(host.wait_for(netmon::test::sample_of("flow_top_table", {}), 15s)) << host.stderr_text();
  ASSERT_TRUE(collector.wait_for([&] { return collector.connections() >= 1; }, 10s)) << host.stderr_text();

  const auto phase1 = udp_flows(49000);
  send_and_wait(host, v, phase1);
  bool reset = false;
  host.reading_while([&] { return reset = collector.wait_for([&] { return collector.reset_done(); }, 10s); });
  ASSERT_TRUE(reset) << "the collector read " << collector.first_bytes() << " bytes and was not done";
  EXPECT_GT(collector.first_bytes(), 0u);

  bool reconnected = false;
  host.reading_while(
      [&] { return reconnected = collector.wait_for([&] { return collector.connections() >= 2; }, 20s); });
  ASSERT_TRUE(reconnected) << "netmon did not reconnect: " << host.stderr_text();
  ASSERT_FALSE(host.process().wait(0ms)) << host.stderr_text();

  const auto phase2 = udp_flows(50000);
  send_and_wait(host, v, phase2);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);
  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  EXPECT_TRUE(collector.wait_for([&] { return collector.second_ended(); }, 5s)) << "netmon-host closed no connection";
  ASSERT_TRUE(lo.stop()) << lo.log();
  expect_flow_record_convention(host);
  expect_json_saw(host, v, phase1);
  expect_json_saw(host, v, phase2);

  const auto summaries = sink_summaries(host.stderr_text());
  ASSERT_EQ(summaries.size(), 1u) << host.stderr_text();
  EXPECT_EQ(summaries[0].transport, "tcp");
  EXPECT_EQ(summaries[0].sent + summaries[0].lost, ended_count(host)) << summaries[0].line;

  // The first connection ends in a reset, maybe inside a message: only the
  // second (tcp.stream 1) must be whole.
  const auto dec = netmon::test::decode_ipfix(lo.file(), collector.port(), true, "tcp.stream == 1");
  EXPECT_TRUE(dec.problems.empty()) << testing::PrintToString(dec.problems);
  EXPECT_NE(std::find(dec.template_ids.begin(), dec.template_ids.end(), 256), dec.template_ids.end())
      << "the new connection starts with the templates";
  EXPECT_NE(std::find(dec.template_ids.begin(), dec.template_ids.end(), 257), dec.template_ids.end());
  const auto sums = netmon::test::sum_by_key(dec.records);
  for (const auto& f : phase2) expect_udp_flow(sums, key_of(v, f), f, ifidx, "tshark (second connection)", true);
  EXPECT_GT(collector.second_bytes(), 0u);
  if (HasFailure())
    ADD_FAILURE() << "decoded:\n" + to_string(dec.records) << "flow_top_end:\n" + ended_text(host)
                  << host.stderr_text();
}

}  // namespace
