// SPDX-License-Identifier: MIT
// The shared BPF parser (bpf/include/netmon/bpf/parse.h), case by case, in
// an XDP and a TC program: class, protocol, ports, addresses, flags. Every
// truncation point and malformed header is exercised: the parser must never
// read out of bounds (the verifier proves it) and must flag such frames.
#include <netmon/bpf.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "parse_probe.skel.h"
#include "parse_probe_general.skel.h"
#include "support/bpf_run.hpp"
#include "support/packet.hpp"
#include "support/root.hpp"

extern "C" {
#include <netmon/bpf/packet.h>
}

namespace {

using netmon::test::Packet;

// What the parser programs copy out: the parser's own struct netmon_packet.
using ParsedPacket = netmon_packet;
static_assert(sizeof(ParsedPacket) == 48);

struct Expect {
  int l3 = NETMON_L3_OTHER;
  int l4 = NETMON_L4_NONE;
  int ip_proto = 0;
  std::uint8_t flags = 0;
  std::uint16_t sport = 0, dport = 0;  // host order
  std::uint8_t tcp_flags = 0;
  std::uint8_t vlan_depth = 0;
  const char* src = nullptr;  // checked when set
  const char* dst = nullptr;
};

struct Case {
  const char* name;
  std::vector<std::uint8_t> frame;
  Expect expect;
  // bpf_prog_test_run for skb programs refuses an IPv4/IPv6 frame whose IP
  // header is cut (EINVAL): such cases run through the XDP program only.
  bool skb_test_run_refuses = false;
};

constexpr const char* A4 = "192.0.2.10";
constexpr const char* B4 = "198.51.100.20";
constexpr const char* A6 = "2001:db8::a";
constexpr const char* B6 = "2001:db8:1::b";
constexpr std::uint8_t T = NETMON_PKT_TRUNCATED;
constexpr std::uint8_t M = NETMON_PKT_MALFORMED;
constexpr std::uint8_t F = NETMON_PKT_FRAGMENT;
constexpr std::uint8_t LF = NETMON_PKT_LATER_FRAGMENT;
constexpr std::uint8_t V = NETMON_PKT_VLAN;
constexpr std::uint8_t X = NETMON_PKT_EXT_LIMIT;
constexpr int v4 = NETMON_L3_IPV4, v6 = NETMON_L3_IPV6;
constexpr int tcp = NETMON_L4_TCP, udp = NETMON_L4_UDP, icmp = NETMON_L4_ICMP, other = NETMON_L4_OTHER;

std::vector<Case> cases() {
  const auto u4 = Packet().eth().ipv4(A4, B4).udp(1111, 53).payload(8);
  const auto t4 = Packet().eth().ipv4(A4, B4).tcp(40000, 443, 0x12);
  const auto u6 = Packet().eth().ipv6(A6, B6).udp(5353, 5353).payload(8);
  // A case's name, its frame, then what the parser finds: laid out by hand
  // (clang-format would give some cases a line per field, and break the
  // frames' builder chains at every call).
  // clang-format off
  std::vector<Case> c = {
      // Plain L4 over IPv4 and IPv6, ports and addresses.
      {.name = "ipv4_udp",
       .frame = u4.build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .sport = 1111, .dport = 53, .src = A4, .dst = B4}},
      {.name = "ipv4_tcp_synack",
       .frame = t4.build(),
       .expect = {.l3 = v4, .l4 = tcp, .ip_proto = 6, .sport = 40000, .dport = 443, .tcp_flags = 0x12, .src = A4,
                  .dst = B4}},
      {.name = "ipv4_icmp_echo",
       .frame = Packet().eth().ipv4(A4, B4).icmp(8, 0).build(),
       .expect = {.l3 = v4, .l4 = icmp, .ip_proto = 1, .dport = 8 << 8, .src = A4, .dst = B4}},
      {.name = "ipv4_icmp_unreach",
       .frame = Packet().eth().ipv4(A4, B4).icmp(3, 3).build(),
       .expect = {.l3 = v4, .l4 = icmp, .ip_proto = 1, .dport = 3 << 8 | 3}},
      {.name = "ipv4_sctp_other",
       .frame = Packet().eth().ipv4(A4, B4, 0, 0, 132).payload(12).build(),
       .expect = {.l3 = v4, .l4 = other, .ip_proto = 132}},
      {.name = "ipv6_udp",
       .frame = u6.build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .sport = 5353, .dport = 5353, .src = A6, .dst = B6}},
      {.name = "ipv6_tcp_fin",
       .frame = Packet().eth().ipv6(A6, B6).tcp(1, 2, 0x11).build(),
       .expect = {.l3 = v6, .l4 = tcp, .ip_proto = 6, .sport = 1, .dport = 2, .tcp_flags = 0x11, .src = A6, .dst = B6}},
      {.name = "ipv6_icmpv6",
       .frame = Packet().eth().ipv6(A6, B6).icmp6(135, 0).build(),
       .expect = {.l3 = v6, .l4 = icmp, .ip_proto = 58, .dport = 135 << 8}},
      {.name = "ipv6_no_next_header",
       .frame = Packet().eth().ipv6(A6, B6, 59).build(),
       .expect = {.l3 = v6, .l4 = other, .ip_proto = 59}},
      {.name = "arp",
       .frame = Packet().eth().arp().build(),
       .expect = {.l3 = NETMON_L3_ARP, .l4 = NETMON_L4_NONE}},
      // Frames long enough for the fast path (a TCP header's length after the IP header).
      {.name = "fast_ipv4_udp",
       .frame = Packet().eth().ipv4(A4, B4).udp(1111, 53).payload(40).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .sport = 1111, .dport = 53, .src = A4, .dst = B4}},
      {.name = "fast_ipv4_icmp",
       .frame = Packet().eth().ipv4(A4, B4).icmp(0, 0).payload(40).build(),
       .expect = {.l3 = v4, .l4 = icmp, .ip_proto = 1, .src = A4, .dst = B4}},
      {.name = "fast_ipv4_gre",
       .frame = Packet().eth().ipv4(A4, B4, 0, 0, 47).payload(40).build(),
       .expect = {.l3 = v4, .l4 = other, .ip_proto = 47}},
      {.name = "fast_ipv6_udp",
       .frame = Packet().eth().ipv6(A6, B6).udp(5353, 53).payload(40).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .sport = 5353, .dport = 53, .src = A6, .dst = B6}},
      {.name = "fast_ipv6_icmpv6",
       .frame = Packet().eth().ipv6(A6, B6).icmp6(129, 0).payload(40).build(),
       .expect = {.l3 = v6, .l4 = icmp, .ip_proto = 58, .dport = 129 << 8}},
      {.name = "fast_vlan_ipv4_tcp",
       .frame = Packet().eth().vlan(42).ipv4(A4, B4).tcp(80, 8080, 0x18).payload(40).build(),
       .expect = {.l3 = v4, .l4 = tcp, .ip_proto = 6, .flags = V, .sport = 80, .dport = 8080, .tcp_flags = 0x18,
                  .vlan_depth = 1, .src = A4, .dst = B4}},
      {.name = "fast_vlan_ipv6_udp",
       .frame = Packet().eth().vlan(42).ipv6(A6, B6).udp(1, 2).payload(40).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .flags = V, .sport = 1, .dport = 2, .vlan_depth = 1}},
      {.name = "not_fast_8021ad_single_tag",
       .frame = Packet().eth().vlan(42, 0x88A8).ipv4(A4, B4).udp(1, 2).payload(40).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .flags = V, .sport = 1, .dport = 2, .vlan_depth = 1}},
      {.name = "not_fast_ipv4_options",
       .frame = Packet().eth().ipv4(A4, B4, 8).udp(1, 2).payload(40).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .sport = 1, .dport = 2}},
      {.name = "not_fast_ipv4_fragment",
       .frame = Packet().eth().ipv4(A4, B4, 0, 0x2000).udp(1, 2).payload(40).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .flags = F, .sport = 1, .dport = 2}},
      {.name = "not_fast_ipv6_ext",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0).tcp(1, 2, 0x02).payload(40).build(),
       .expect = {.l3 = v6, .l4 = tcp, .ip_proto = 6, .sport = 1, .dport = 2, .tcp_flags = 0x02}},
      {.name = "lldp_other_l3",
       .frame = Packet().eth_type(0x88CC).payload(30).build(),
       .expect = {.l3 = NETMON_L3_OTHER, .l4 = NETMON_L4_NONE}},
      // VLAN: 802.1Q, 802.1ad + 802.1Q (QinQ), and a third tag is not followed.
      {.name = "vlan_ipv4_udp",
       .frame = Packet().eth().vlan(100).ipv4(A4, B4).udp(7, 8).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .flags = V, .sport = 7, .dport = 8, .vlan_depth = 1}},
      {.name = "qinq_ipv6_tcp",
       .frame = Packet().eth().vlan(10, 0x88A8).vlan(20).ipv6(A6, B6).tcp(9, 10, 0x02).build(),
       .expect = {.l3 = v6, .l4 = tcp, .ip_proto = 6, .flags = V, .sport = 9, .dport = 10, .tcp_flags = 0x02,
                  .vlan_depth = 2}},
      {.name = "three_vlan_tags_stop_at_two",
       .frame = Packet().eth().vlan(1, 0x88A8).vlan(2, 0x88A8).vlan(3).ipv4(A4, B4).build(),
       .expect = {.l3 = NETMON_L3_OTHER, .l4 = NETMON_L4_NONE, .flags = V, .vlan_depth = 2}},
      // IPv4 options are skipped.
      {.name = "ipv4_options_4",
       .frame = Packet().eth().ipv4(A4, B4, 4).udp(1, 2).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .sport = 1, .dport = 2}},
      {.name = "ipv4_options_40",
       .frame = Packet().eth().ipv4(A4, B4, 40).tcp(3, 4, 0x10).build(),
       .expect = {.l3 = v4, .l4 = tcp, .ip_proto = 6, .sport = 3, .dport = 4, .tcp_flags = 0x10}},
      // IPv4 fragments: the first carries ports, the later ones do not.
      {.name = "ipv4_first_fragment",
       .frame = Packet().eth().ipv4(A4, B4, 0, 0x2000).udp(5, 6).payload(16).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .flags = F, .sport = 5, .dport = 6}},
      {.name = "ipv4_later_fragment",
       .frame = Packet().eth().ipv4(A4, B4, 0, 0x0010, 17).payload(16).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .flags = F | LF}},
      {.name = "ipv4_last_fragment",
       .frame = Packet().eth().ipv4(A4, B4, 0, 0x0020, 6).payload(16).build(),
       .expect = {.l3 = v4, .l4 = tcp, .ip_proto = 6, .flags = F | LF}},
      // IPv6 extension headers, each, chained, and past the walk's bound.
      {.name = "ipv6_hop_by_hop",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0).udp(1, 2).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .sport = 1, .dport = 2}},
      {.name = "ipv6_routing",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(43, 2).tcp(1, 2, 0x02).build(),
       .expect = {.l3 = v6, .l4 = tcp, .ip_proto = 6, .sport = 1, .dport = 2, .tcp_flags = 0x02}},
      {.name = "ipv6_dest_options",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(60, 1).udp(3, 4).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .sport = 3, .dport = 4}},
      {.name = "ipv6_ah",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(51, 4).tcp(5, 6, 0x10).build(),
       .expect = {.l3 = v6, .l4 = tcp, .ip_proto = 6, .sport = 5, .dport = 6, .tcp_flags = 0x10}},
      {.name = "ipv6_first_fragment",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_frag(0, true).udp(7, 8).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .flags = F, .sport = 7, .dport = 8}},
      {.name = "ipv6_later_fragment",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_frag(185, false).udp(7, 8).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .flags = F | LF}},
      {.name = "ipv6_chain_hbh_dst_rt_frag",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0).ipv6_ext(60).ipv6_ext(43).ipv6_frag(0, true)
                  .icmp6(128, 0).build(),
       .expect = {.l3 = v6, .l4 = icmp, .ip_proto = 58, .flags = F, .dport = 128 << 8}},
      {.name = "ipv6_six_headers_is_the_bound",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0).ipv6_ext(60).ipv6_ext(60).ipv6_ext(60).ipv6_ext(60)
                  .ipv6_ext(60).build(),
       .expect = {.l3 = v6, .l4 = other, .ip_proto = 59}},
      {.name = "ipv6_seven_headers_past_the_bound",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0).ipv6_ext(60).ipv6_ext(60).ipv6_ext(60).ipv6_ext(60)
                  .ipv6_ext(60).ipv6_ext(60).udp(1, 2).build(),
       .expect = {.l3 = v6, .l4 = other, .ip_proto = 60, .flags = X}},
      // Malformed headers.
      {.name = "ipv4_ethertype_version_6",
       .frame = Packet().eth_type(0x0800).payload(40, 0x65).build(),
       .expect = {.l3 = v4, .l4 = other, .flags = M}},
      {.name = "ipv6_ethertype_version_4",
       .frame = Packet().eth_type(0x86DD).payload(60, 0x45).build(),
       .expect = {.l3 = v6, .l4 = other, .flags = M}},
      {.name = "ipv4_ihl_below_5",
       .frame = Packet().eth().ipv4(A4, B4).ipv4_raw_ihl(4).udp(1, 2).build(),
       .expect = {.l3 = v4, .l4 = other, .flags = M}},
      // Truncated at every layer.
      {.name = "trunc_ethertype_ipv4_nothing_after",
       .frame = Packet().eth_type(0x0800).build(),
       .expect = {.l3 = v4, .l4 = other, .flags = T},
       .skb_test_run_refuses = true},
      {.name = "trunc_inside_vlan_tag",
       .frame = Packet().eth().vlan(5).ipv4(A4, B4).truncate(16).build(),
       .expect = {.l3 = NETMON_L3_OTHER, .l4 = NETMON_L4_NONE, .flags = T}},
      {.name = "trunc_inside_ipv4_header",
       .frame = Packet().eth().ipv4(A4, B4).udp(1, 2).truncate(14 + 19).build(),
       .expect = {.l3 = v4, .l4 = other, .flags = T},
       .skb_test_run_refuses = true},
      {.name = "trunc_inside_ipv4_options",
       .frame = Packet().eth().ipv4(A4, B4, 8).udp(1, 2).truncate(14 + 24).build(),
       .expect = {.l3 = v4, .l4 = other, .ip_proto = 17, .flags = T}},
      {.name = "trunc_inside_udp_header",
       .frame = Packet().eth().ipv4(A4, B4).udp(1, 2).truncate(14 + 20 + 7).build(),
       .expect = {.l3 = v4, .l4 = udp, .ip_proto = 17, .flags = T}},
      {.name = "trunc_inside_tcp_header",
       .frame = Packet().eth().ipv4(A4, B4).tcp(1, 2).truncate(14 + 20 + 19).build(),
       .expect = {.l3 = v4, .l4 = tcp, .ip_proto = 6, .flags = T}},
      {.name = "trunc_inside_icmp_header",
       .frame = Packet().eth().ipv4(A4, B4).icmp(8, 0).truncate(14 + 20 + 1).build(),
       .expect = {.l3 = v4, .l4 = icmp, .ip_proto = 1, .flags = T}},
      {.name = "trunc_inside_ipv6_header",
       .frame = Packet().eth().ipv6(A6, B6).udp(1, 2).truncate(14 + 39).build(),
       .expect = {.l3 = v6, .l4 = other, .flags = T},
       .skb_test_run_refuses = true},
      {.name = "trunc_inside_ipv6_ext_header",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0, 1).udp(1, 2).truncate(14 + 40 + 12).build(),
       .expect = {.l3 = v6, .l4 = other, .flags = T}},
      {.name = "trunc_inside_ipv6_frag_header",
       .frame = Packet().eth().ipv6(A6, B6).ipv6_frag(0, true).udp(1, 2).truncate(14 + 40 + 5).build(),
       .expect = {.l3 = v6, .l4 = other, .flags = T}},
      {.name = "trunc_inside_ipv6_udp",
       .frame = Packet().eth().ipv6(A6, B6).udp(1, 2).truncate(14 + 40 + 3).build(),
       .expect = {.l3 = v6, .l4 = udp, .ip_proto = 17, .flags = T}},
  };
  // clang-format on
  return c;
}

std::string ip_text(int l3, const std::uint32_t* a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(l3 == NETMON_L3_IPV4 ? AF_INET : AF_INET6, a, buf, sizeof buf);
  return buf;
}

void check(const ParsedPacket& p, const Case& c, const char* where) {
  SCOPED_TRACE(std::string(where) + " " + c.name);
  EXPECT_EQ(p.l3, c.expect.l3);
  EXPECT_EQ(p.l4, c.expect.l4);
  EXPECT_EQ(p.ip_proto, c.expect.ip_proto);
  EXPECT_EQ(p.flags, c.expect.flags);
  EXPECT_EQ(ntohs(p.sport), c.expect.sport);
  EXPECT_EQ(ntohs(p.dport), c.expect.dport);
  EXPECT_EQ(p.tcp_flags, c.expect.tcp_flags);
  EXPECT_EQ(p.vlan_depth, c.expect.vlan_depth);
  if (c.expect.src) {
    EXPECT_EQ(ip_text(p.l3, p.saddr), c.expect.src);
  }
  if (c.expect.dst) {
    EXPECT_EQ(ip_text(p.l3, p.daddr), c.expect.dst);
  }
}

// The probes are loaded once for the whole suite: verifying them is the slow part.
class Parser : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    fast_ = new netmon::bpf::Skeleton<parse_probe>(netmon::bpf::Skeleton<parse_probe>::open_and_load("parse_probe"));
    general_ = new netmon::bpf::Skeleton<parse_probe_general>(
        netmon::bpf::Skeleton<parse_probe_general>::open_and_load("parse_probe_general"));
  }
  static void TearDownTestSuite() {
    delete fast_;
    delete general_;
    fast_ = nullptr;
    general_ = nullptr;
  }
  static netmon::bpf::Skeleton<parse_probe>* fast_;
  static netmon::bpf::Skeleton<parse_probe_general>* general_;
};
netmon::bpf::Skeleton<parse_probe>* Parser::fast_ = nullptr;
netmon::bpf::Skeleton<parse_probe_general>* Parser::general_ = nullptr;

TEST_P(Parser, XdpAndTcParseAlike) {
  NETMON_REQUIRE_ROOT();
  const Case& c = GetParam();
  auto& skel = *fast_;
  const int map = bpf_map__fd(skel->maps.result);
  const std::uint32_t zero = 0;

  const auto xdp = netmon::test::test_run(bpf_program__fd(skel->progs.parse_xdp), c.frame);
  EXPECT_EQ(xdp.retval, static_cast<std::uint32_t>(XDP_PASS));
  ParsedPacket p{};
  ASSERT_EQ(bpf_map_lookup_elem(map, &zero, &p), 0);
  check(p, c, "xdp");

  const ParsedPacket poison{.l3 = 0xee,
                            .l4 = 0xee,
                            .ip_proto = 0xee,
                            .flags = 0xee,
                            .tcp_flags = 0xee,
                            .vlan_depth = 0xee,
                            .eth_proto = 0xeeee,
                            .sport = 0xeeee,
                            .dport = 0xeeee,
                            .saddr = {},
                            .daddr = {},
                            .l4_off = 0xeeee,
                            .reserved = 0};
  // The class-only parse: the same class, protocol and flags; no TCP flags.
  ASSERT_EQ(bpf_map_update_elem(map, &zero, &poison, BPF_ANY), 0);
  netmon::test::test_run(bpf_program__fd(skel->progs.classify_xdp), c.frame);
  ParsedPacket k{};
  ASSERT_EQ(bpf_map_lookup_elem(map, &zero, &k), 0);
  EXPECT_EQ(k.l3, c.expect.l3) << c.name;
  EXPECT_EQ(k.l4, c.expect.l4) << c.name;
  EXPECT_EQ(k.ip_proto, c.expect.ip_proto) << c.name;
  EXPECT_EQ(k.flags, c.expect.flags) << c.name;
  EXPECT_EQ(k.vlan_depth, c.expect.vlan_depth) << c.name;
  EXPECT_EQ(k.tcp_flags, 0) << c.name;

  ASSERT_EQ(bpf_map_update_elem(map, &zero, &poison, BPF_ANY), 0);
  if (c.skb_test_run_refuses) {
    EXPECT_THROW(netmon::test::test_run(bpf_program__fd(skel->progs.parse_tc), c.frame), std::runtime_error);
    return;
  }
  const auto tc = netmon::test::test_run(bpf_program__fd(skel->progs.parse_tc), c.frame);
  EXPECT_EQ(tc.retval, static_cast<std::uint32_t>(TC_ACT_UNSPEC));
  ASSERT_EQ(bpf_map_lookup_elem(map, &zero, &p), 0);
  check(p, c, "tc");
}

// The fast path (common IPv4/IPv6 frames) and the general walk agree on
// every case, byte for byte.
TEST_P(Parser, FastPathAndGeneralWalkAgree) {
  NETMON_REQUIRE_ROOT();
  const Case& c = GetParam();
  auto& fast = *fast_;
  auto& general = *general_;
  const std::uint32_t zero = 0;
  for (const bool flow : {true, false}) {
    netmon::test::test_run(bpf_program__fd(flow ? fast->progs.parse_xdp : fast->progs.classify_xdp), c.frame);
    netmon::test::test_run(bpf_program__fd(flow ? general->progs.parse_xdp : general->progs.classify_xdp), c.frame);
    ParsedPacket a{}, b{};
    ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(fast->maps.result), &zero, &a), 0);
    ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(general->maps.result), &zero, &b), 0);
    if (!flow) {  // the class-only parse sets the first eight bytes alone
      std::memset(reinterpret_cast<char*>(&a) + 8, 0, sizeof a - 8);
      std::memset(reinterpret_cast<char*>(&b) + 8, 0, sizeof b - 8);
    }
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << c.name << (flow ? " (full parse)" : " (class only)");
  }
}

// Where the transport header starts, for programs that read past it (the
// DNS example reads the UDP payload at l4_off + 8).
TEST_F(Parser, TransportHeaderOffset) {
  NETMON_REQUIRE_ROOT();
  struct Off {
    std::vector<std::uint8_t> frame;
    std::uint16_t l4_off;
  };
  const std::vector<Off> cases{
      {.frame = Packet().eth().ipv4(A4, B4).udp(1, 53).payload(40).build(), .l4_off = 34},
      {.frame = Packet().eth().ipv4(A4, B4).udp(1, 53).build(), .l4_off = 34},
      {.frame = Packet().eth().ipv4(A4, B4, 12).udp(1, 53).payload(40).build(), .l4_off = 46},
      {.frame = Packet().eth().vlan(3).ipv4(A4, B4).udp(1, 53).payload(40).build(), .l4_off = 38},
      {.frame = Packet().eth().ipv6(A6, B6).udp(1, 53).payload(40).build(), .l4_off = 54},
      {.frame = Packet().eth().ipv6(A6, B6).ipv6_ext(0).udp(1, 53).build(), .l4_off = 62},
      {.frame = Packet().eth().vlan(1, 0x88A8).vlan(2).ipv6(A6, B6).tcp(1, 2).build(), .l4_off = 62},
      {.frame = Packet().eth().arp().build(), .l4_off = 0},
  };
  const std::uint32_t zero = 0;
  for (const auto& c : cases) {
    for (const bool general : {false, true}) {
      const int prog =
          general ? bpf_program__fd((*general_)->progs.parse_xdp) : bpf_program__fd((*fast_)->progs.parse_xdp);
      const int map = general ? bpf_map__fd((*general_)->maps.result) : bpf_map__fd((*fast_)->maps.result);
      netmon::test::test_run(prog, c.frame);
      ParsedPacket p{};
      ASSERT_EQ(bpf_map_lookup_elem(map, &zero, &p), 0);
      EXPECT_EQ(p.l4_off, c.l4_off) << "frame of " << c.frame.size() << " bytes"
                                    << (general ? " (general)" : " (fast)");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Frames, Parser, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
