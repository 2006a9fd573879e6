// SPDX-License-Identifier: MIT
// The ipfix sink's encoder (sinks/ipfix/encoder.hpp, record.hpp): messages
// byte for byte against golden messages written out by hand below, field by
// field (RFC 7011 §3 and the IANA IPFIX registry), MTU packing, sequence
// numbers, when templates are due, the mapping from samples, and tshark's
// IPFIX dissector reading a golden message (a decoder we did not write).
#include "encoder.hpp"
#include "record.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/unit_util.hpp"

using namespace netmon::ipfix;
using netmon::Sample;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string hex(std::span<const std::uint8_t> b) {
  std::string s;
  char buf[4];
  for (std::size_t i = 0; i < b.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    s += buf;
    s += (i % 16 == 15) ? "\n" : " ";
  }
  return s;
}

#define EXPECT_BYTES(actual, expected) EXPECT_EQ(hex(actual), hex(expected))

// ---- the golden bytes ----------------------------------------------------------

// Laid out by hand, field by field, each with what it means.
// clang-format off

// Set ID 2 (template set), both templates; 124 bytes.
const Bytes kTemplateSet = {
    0x00, 0x02,  // set ID 2: template set
    0x00, 0x7c,  // set length 124
    // template 256, IPv4
    0x01, 0x00,  // template ID 256
    0x00, 0x0e,  // 14 fields
    0x00, 0x08, 0x00, 0x04,  // sourceIPv4Address (8), 4 octets
    0x00, 0x0c, 0x00, 0x04,  // destinationIPv4Address (12), 4
    0x00, 0x07, 0x00, 0x02,  // sourceTransportPort (7), 2
    0x00, 0x0b, 0x00, 0x02,  // destinationTransportPort (11), 2
    0x00, 0x04, 0x00, 0x01,  // protocolIdentifier (4), 1
    0x00, 0x06, 0x00, 0x02,  // tcpControlBits (6), 2 (RFC 7125)
    0x00, 0x02, 0x00, 0x08,  // packetDeltaCount (2), 8
    0x00, 0x01, 0x00, 0x08,  // octetDeltaCount (1), 8
    0x00, 0x98, 0x00, 0x08,  // flowStartMilliseconds (152), 8
    0x00, 0x99, 0x00, 0x08,  // flowEndMilliseconds (153), 8
    0x00, 0x88, 0x00, 0x01,  // flowEndReason (136), 1
    0x00, 0x0a, 0x00, 0x04,  // ingressInterface (10), 4
    0x00, 0x0e, 0x00, 0x04,  // egressInterface (14), 4
    0x00, 0x3d, 0x00, 0x01,  // flowDirection (61), 1
    // template 257, IPv6
    0x01, 0x01,  // template ID 257
    0x00, 0x0e,  // 14 fields
    0x00, 0x1b, 0x00, 0x10,  // sourceIPv6Address (27), 16
    0x00, 0x1c, 0x00, 0x10,  // destinationIPv6Address (28), 16
    0x00, 0x07, 0x00, 0x02,  // sourceTransportPort
    0x00, 0x0b, 0x00, 0x02,  // destinationTransportPort
    0x00, 0x04, 0x00, 0x01,  // protocolIdentifier
    0x00, 0x06, 0x00, 0x02,  // tcpControlBits
    0x00, 0x02, 0x00, 0x08,  // packetDeltaCount
    0x00, 0x01, 0x00, 0x08,  // octetDeltaCount
    0x00, 0x98, 0x00, 0x08,  // flowStartMilliseconds
    0x00, 0x99, 0x00, 0x08,  // flowEndMilliseconds
    0x00, 0x88, 0x00, 0x01,  // flowEndReason
    0x00, 0x0a, 0x00, 0x04,  // ingressInterface
    0x00, 0x0e, 0x00, 0x04,  // egressInterface
    0x00, 0x3d, 0x00, 0x01,  // flowDirection
};

// A TCP flow, 192.0.2.1:40000 -> 198.51.100.2:9000, seen ingress on ifindex
// 5, ended by a FIN: 10 packets, 1500 octets, from 1795536678004 ms to one
// second later. 57 bytes.
const Bytes kIpv4Record = {
    0xc0, 0x00, 0x02, 0x01,  // sourceIPv4Address 192.0.2.1
    0xc6, 0x33, 0x64, 0x02,  // destinationIPv4Address 198.51.100.2
    0x9c, 0x40,              // sourceTransportPort 40000
    0x23, 0x28,              // destinationTransportPort 9000
    0x06,                    // protocolIdentifier 6 (TCP)
    0x00, 0x1b,              // tcpControlBits FIN|SYN|PSH|ACK
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,  // packetDeltaCount 10
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,  // octetDeltaCount 1500
    0x00, 0x00, 0x01, 0xa2, 0x0e, 0x53, 0x6c, 0x74,  // flowStartMilliseconds 1795536678004
    0x00, 0x00, 0x01, 0xa2, 0x0e, 0x53, 0x70, 0x5c,  // flowEndMilliseconds 1795536679004
    0x03,                    // flowEndReason 3: end of flow detected (tcp_fin)
    0x00, 0x00, 0x00, 0x05,  // ingressInterface 5
    0x00, 0x00, 0x00, 0x00,  // egressInterface 0
    0x00,                    // flowDirection 0: ingress
};

// ICMPv6 echo request (type 128, code 0) 2001:db8::1 -> 2001:db8::2, egress
// on ifindex 7, idle: 3 packets, 312 octets, 1795536670000 to
// 1795536680000 ms. 81 bytes.
const Bytes kIpv6Record = {
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,  // sourceIPv6Address 2001:db8::1
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  // destinationIPv6Address 2001:db8::2
    0x00, 0x00,              // sourceTransportPort 0 (ICMP)
    0x80, 0x00,              // destinationTransportPort 128 * 256 + 0: ICMP type 128, code 0
    0x3a,                    // protocolIdentifier 58 (ICMPv6)
    0x00, 0x00,              // tcpControlBits 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,  // packetDeltaCount 3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x38,  // octetDeltaCount 312
    0x00, 0x00, 0x01, 0xa2, 0x0e, 0x53, 0x4d, 0x30,  // flowStartMilliseconds 1795536670000
    0x00, 0x00, 0x01, 0xa2, 0x0e, 0x53, 0x74, 0x40,  // flowEndMilliseconds 1795536680000
    0x01,                    // flowEndReason 1: idle timeout
    0x00, 0x00, 0x00, 0x00,  // ingressInterface 0
    0x00, 0x00, 0x00, 0x07,  // egressInterface 7
    0x01,                    // flowDirection 1: egress
};

constexpr std::uint32_t kExportTime = 1795536680;  // 0x6b05b728
constexpr std::uint32_t kDomain = 42;

// A message header: version 10, length, export time 1795536680, sequence, domain 42.
Bytes header(std::uint16_t length, std::uint32_t sequence) {
  return {0x00, 0x0a,                                                       // version 10
          static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length),  // message length
          0x6b, 0x05, 0xb7, 0x28,                                           // export time 1795536680 s
          static_cast<std::uint8_t>(sequence >> 24), static_cast<std::uint8_t>(sequence >> 16),
          static_cast<std::uint8_t>(sequence >> 8), static_cast<std::uint8_t>(sequence),  // sequence number
          0x00, 0x00, 0x00, 0x2a};                                          // observation domain 42
}
// clang-format on

// A data set header: set ID (the template), set length.
Bytes set_header(std::uint16_t id, std::uint16_t length) {
  return {static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(length >> 8),
          static_cast<std::uint8_t>(length)};
}

// The two records above as the mapping makes them from samples.
Sample ipv4_sample() {
  return Sample("any_plugin_end")
      .event()
      .tag("ifname", "eth0")
      .tag("ifindex", "5")
      .tag("direction", "ingress")
      .tag("family", "ipv4")
      .tag("src", "192.0.2.1")
      .tag("dst", "198.51.100.2")
      .tag("sport", "40000")
      .tag("dport", "9000")
      .tag("reason", "tcp_fin")
      .gauge("ip_proto", 6)
      .gauge("packets", 10)
      .gauge("ip_bytes", 1500)
      .gauge("first_seen_ms", 1795536678004)
      .gauge("last_seen_ms", 1795536679004)
      .gauge("tcp_control_bits", 0x1b);
}

Sample ipv6_sample() {
  return Sample("third_party_flows")
      .event()
      .tag("family", "ipv6")
      .tag("src", "2001:db8::1")
      .tag("dst", "2001:db8::2")
      .tag("sport", "0")
      .tag("dport", std::to_string(128 * 256 + 0))
      .tag("ifindex", "7")
      .tag("direction", "egress")
      .tag("reason", "idle")
      .counter("packets", 3)     // a counter is an integer too
      .gauge_i("ip_bytes", 312)  // so is a non-negative signed gauge
      .gauge("ip_proto", 58)
      .gauge("first_seen_ms", 1795536670000)
      .gauge("last_seen_ms", 1795536680000)
      .gauge("tcp_control_bits", 0);
}

FlowRecord ipv4_record() { return *to_flow_record(ipv4_sample()); }
FlowRecord ipv6_record() { return *to_flow_record(ipv6_sample()); }

std::uint32_t sequence_of(std::span<const std::uint8_t> m) {
  return (std::uint32_t{m[8]} << 24) | (std::uint32_t{m[9]} << 16) | (std::uint32_t{m[10]} << 8) | m[11];
}

}  // namespace

// ---- messages ---------------------------------------------------------------------

TEST(IpfixEncode, TemplateSetIsTheGoldenOne) {
  EXPECT_EQ(kTemplateSet.size(), kTemplateSetSize);
  EXPECT_BYTES(template_set(), kTemplateSet);
  EXPECT_EQ(kIpv4Record.size(), kIpv4RecordSize);
  EXPECT_EQ(kIpv6Record.size(), kIpv6RecordSize);
}

TEST(IpfixEncode, Ipv4TemplatesAndData) {
  Encoder enc(kDomain, 1400);
  Messages out;
  const FlowRecord r = ipv4_record();
  enc.encode({&r, 1}, kExportTime, true, out);
  ASSERT_EQ(out.list.size(), 1u);
  // 16 header + 124 templates + 4 set header + 57 record = 201.
  const Bytes expected = cat({header(201, 0), kTemplateSet, set_header(256, 61), kIpv4Record});
  EXPECT_BYTES(out.message(0), expected);
  EXPECT_EQ(out.list[0].records, 1u);
  EXPECT_TRUE(out.list[0].templates);
  EXPECT_EQ(enc.sequence(), 1u);
}

TEST(IpfixEncode, Ipv6DataWithoutTemplates) {
  Encoder enc(kDomain, 1400);
  Messages out;
  const FlowRecord r = ipv6_record();
  enc.encode({&r, 1}, kExportTime, false, out);
  ASSERT_EQ(out.list.size(), 1u);
  // 16 + 4 + 81 = 101.
  EXPECT_BYTES(out.message(0), cat({header(101, 0), set_header(257, 85), kIpv6Record}));
  EXPECT_FALSE(out.list[0].templates);
}

TEST(IpfixEncode, MixedFamiliesGoIpv4FirstOneSetEach) {
  Encoder enc(kDomain, 1400);
  Messages out;
  const FlowRecord recs[] = {ipv6_record(), ipv4_record(), ipv6_record(), ipv4_record()};
  enc.encode(recs, kExportTime, false, out);
  ASSERT_EQ(out.list.size(), 1u);
  // 16 + (4 + 2 * 57) + (4 + 2 * 81) = 300.
  EXPECT_BYTES(out.message(0), cat({header(300, 0), set_header(256, 118), kIpv4Record, kIpv4Record,
                                    set_header(257, 166), kIpv6Record, kIpv6Record}));
  EXPECT_EQ(out.list[0].records, 4u);
}

TEST(IpfixEncode, TemplatesAloneWhenNoRecords) {
  Encoder enc(kDomain, 1400);
  Messages out;
  enc.encode({}, kExportTime, true, out);
  ASSERT_EQ(out.list.size(), 1u);
  EXPECT_BYTES(out.message(0), cat({header(140, 0), kTemplateSet}));
  out.clear();
  enc.encode({}, kExportTime, false, out);
  EXPECT_TRUE(out.list.empty());
  EXPECT_TRUE(out.bytes.empty());
}

// At the smallest MTU (140) the templates fill a message, and two IPv4
// records (16 + 4 + 114 = 134) fill the next ones; sequence numbers count
// data records only.
TEST(IpfixEncode, SplitsAtTheMtuAndNumbersMessagesByRecords) {
  Encoder enc(kDomain, kMinMtu);
  Messages out;
  const std::vector<FlowRecord> recs(5, ipv4_record());
  enc.encode(recs, kExportTime, true, out);
  ASSERT_EQ(out.list.size(), 4u);
  EXPECT_BYTES(out.message(0), cat({header(140, 0), kTemplateSet}));
  EXPECT_BYTES(out.message(1), cat({header(134, 0), set_header(256, 118), kIpv4Record, kIpv4Record}));
  EXPECT_BYTES(out.message(2), cat({header(134, 2), set_header(256, 118), kIpv4Record, kIpv4Record}));
  EXPECT_BYTES(out.message(3), cat({header(77, 4), set_header(256, 61), kIpv4Record}));
  for (const auto& m : out.list) EXPECT_LE(m.size, kMinMtu);
  EXPECT_EQ(enc.sequence(), 5u);

  // The next call goes on from 5, in this domain.
  out.clear();
  const FlowRecord r6 = ipv6_record();
  enc.encode({&r6, 1}, kExportTime, false, out);
  EXPECT_BYTES(out.message(0), cat({header(101, 5), set_header(257, 85), kIpv6Record}));
  EXPECT_EQ(enc.sequence(), 6u);
}

TEST(IpfixEncode, AMessageFillsTheMtuExactlyAndNeverMore) {
  // 16 + (4 + 57) + (4 + 81) = 162: one of each family fits a 162-byte MTU...
  {
    Encoder enc(kDomain, 162);
    Messages out;
    const FlowRecord recs[] = {ipv4_record(), ipv6_record()};
    enc.encode(recs, kExportTime, false, out);
    ASSERT_EQ(out.list.size(), 1u);
    EXPECT_BYTES(out.message(0),
                 cat({header(162, 0), set_header(256, 61), kIpv4Record, set_header(257, 85), kIpv6Record}));
  }
  // ...and not a 161-byte one.
  {
    Encoder enc(kDomain, 161);
    Messages out;
    const FlowRecord recs[] = {ipv4_record(), ipv6_record()};
    enc.encode(recs, kExportTime, false, out);
    ASSERT_EQ(out.list.size(), 2u);
    EXPECT_BYTES(out.message(0), cat({header(77, 0), set_header(256, 61), kIpv4Record}));
    EXPECT_BYTES(out.message(1), cat({header(101, 1), set_header(257, 85), kIpv6Record}));
  }
  // Many records at many MTUs: every message within the MTU, every record
  // carried once, the fewest messages (each but the last could not take the
  // next record).
  std::vector<FlowRecord> recs;
  for (int i = 0; i < 3000; ++i) recs.push_back(i % 3 ? ipv4_record() : ipv6_record());
  for (std::size_t mtu : {140u, 141u, 200u, 512u, 1400u, 9000u, 65535u}) {
    Encoder enc(kDomain, mtu);
    Messages out;
    enc.encode(recs, kExportTime, true, out);
    std::uint64_t total = 0;
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < out.list.size(); ++i) {
      const auto& m = out.list[i];
      EXPECT_LE(m.size, mtu) << "mtu " << mtu;
      EXPECT_EQ(sequence_of(out.message(i)), total) << "mtu " << mtu;
      EXPECT_EQ(m.offset, bytes);
      if (i + 1 < out.list.size()) {
        EXPECT_GT(m.size + kSetHeaderSize + kIpv6RecordSize, mtu) << "mtu " << mtu;
      }
      total += m.records;
      bytes += m.size;
    }
    EXPECT_EQ(total, recs.size());
    EXPECT_EQ(bytes, out.bytes.size());
  }
}

TEST(IpfixEncode, RefusesAnMtuOutOfRange) {
  EXPECT_THROW(Encoder(0, kMinMtu - 1), std::invalid_argument);
  EXPECT_THROW(Encoder(0, kMaxMtu + 1), std::invalid_argument);
  EXPECT_NO_THROW(Encoder(0, kMinMtu));
  EXPECT_EQ(kMinMtu, 140u);
}

TEST(IpfixEncode, TemplateRefreshIsDueOnScheduleWithInjectedTime) {
  using namespace std::chrono_literals;
  const TemplateSchedule::Clock::time_point t0{};
  TemplateSchedule udp(60s);
  EXPECT_TRUE(udp.due(t0));  // nothing sent yet
  udp.sent(t0);
  EXPECT_FALSE(udp.due(t0 + 59s));
  EXPECT_TRUE(udp.due(t0 + 60s));
  udp.sent(t0 + 61s);
  EXPECT_FALSE(udp.due(t0 + 120s));
  EXPECT_TRUE(udp.due(t0 + 121s));
  udp.reset();
  EXPECT_TRUE(udp.due(t0 + 62s));

  TemplateSchedule tcp(0s);  // once per connection
  EXPECT_TRUE(tcp.due(t0));
  tcp.sent(t0);
  EXPECT_FALSE(tcp.due(t0 + 100000s));
  tcp.reset();  // a new connection
  EXPECT_TRUE(tcp.due(t0 + 100000s));
}

TEST(IpfixEncode, ObservationDomainsNumberTheirOwnRecords) {
  Encoder a(1, 1400), b(2, 1400);
  Messages out;
  const std::vector<FlowRecord> recs(3, ipv4_record());
  a.encode(recs, kExportTime, false, out);
  a.encode(recs, kExportTime, false, out);
  b.encode(recs, kExportTime, false, out);
  ASSERT_EQ(out.list.size(), 3u);
  EXPECT_EQ(sequence_of(out.message(0)), 0u);
  EXPECT_EQ(sequence_of(out.message(1)), 3u);
  EXPECT_EQ(sequence_of(out.message(2)), 0u);
  EXPECT_EQ(out.message(2)[15], 2);
}

// ---- the mapping ------------------------------------------------------------------

TEST(IpfixMapping, EndReasons) {
  EXPECT_EQ(end_reason_of("idle"), EndReason::idle_timeout);
  EXPECT_EQ(static_cast<int>(end_reason_of("idle")), 1);
  EXPECT_EQ(static_cast<int>(end_reason_of("active_timeout")), 2);
  EXPECT_EQ(static_cast<int>(end_reason_of("tcp_fin")), 3);
  EXPECT_EQ(static_cast<int>(end_reason_of("tcp_rst")), 3);
  EXPECT_EQ(static_cast<int>(end_reason_of("evicted")), 5);
  EXPECT_EQ(static_cast<int>(end_reason_of("shutdown")), 4);
  EXPECT_EQ(static_cast<int>(end_reason_of("Idle")), 4);
}

TEST(IpfixMapping, DirectionPutsTheInterfaceOnOneSide) {
  const FlowRecord in = ipv4_record();
  EXPECT_EQ(in.direction, Direction::ingress);
  EXPECT_EQ(in.ingress_interface, 5u);
  EXPECT_EQ(in.egress_interface, 0u);
  const FlowRecord out = ipv6_record();
  EXPECT_EQ(out.direction, Direction::egress);
  EXPECT_EQ(out.ingress_interface, 0u);
  EXPECT_EQ(out.egress_interface, 7u);
}

TEST(IpfixMapping, IcmpTypeAndCodeInTheDestinationPort) {
  Sample s = ipv4_sample();
  for (auto& t : s.tags) {
    if (t.key == "sport") t.value = "0";
    if (t.key == "dport") t.value = std::to_string(3 * 256 + 3);  // port unreachable
  }
  for (auto& f : s.fields) {
    if (f.key == "ip_proto") f.value = std::uint64_t{1};
  }
  const auto r = to_flow_record(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src_port, 0);
  EXPECT_EQ(r->dst_port, 0x0303);
  EXPECT_EQ(r->protocol, 1);
}

TEST(IpfixMapping, AnyPluginsRecordsWhateverTheirNameAndTagOrder) {
  Sample s = ipv4_sample();
  s.measurement = "my_probe_flows";
  std::reverse(s.tags.begin(), s.tags.end());
  std::reverse(s.fields.begin(), s.fields.end());
  EXPECT_EQ(to_flow_record(s), ipv4_record());
}

TEST(IpfixMapping, WhatIsNotAFlowRecordIsIgnoredWithTheReason) {
  const auto why = [](Sample s) {
    std::string w;
    EXPECT_FALSE(to_flow_record(s, &w)) << s.measurement;
    return w;
  };
  const auto without_tag = [](std::string key) {
    Sample s = ipv4_sample();
    std::erase_if(s.tags, [&](const auto& t) { return t.key == key; });
    return s;
  };
  const auto without_field = [](std::string key) {
    Sample s = ipv4_sample();
    std::erase_if(s.fields, [&](const auto& f) { return f.key == key; });
    return s;
  };
  const auto with_tag = [](std::string key, std::string value) {
    Sample s = ipv4_sample();
    for (auto& t : s.tags) {
      if (t.key == key) t.value = value;
    }
    return s;
  };
  const auto with_field = [](std::string key, netmon::FieldValue v) {
    Sample s = ipv4_sample();
    for (auto& f : s.fields) {
      if (f.key == key) f.value = v;
    }
    return s;
  };
  Sample snapshot = ipv4_sample();
  snapshot.kind = netmon::SampleKind::snapshot;  // a flow_top-style top-N row: not a record
  EXPECT_EQ(why(snapshot), "not an event");
  for (const char* tag : {"family", "src", "dst", "sport", "dport", "ifindex", "direction", "reason"})
    EXPECT_EQ(why(without_tag(tag)), std::string("no tag ") + tag);
  for (const char* field : {"ip_proto", "packets", "ip_bytes", "first_seen_ms", "last_seen_ms", "tcp_control_bits"})
    EXPECT_EQ(why(without_field(field)), std::string("no field ") + field);
  EXPECT_THAT(why(with_tag("family", "ipx")), HasSubstr("not ipv4 or ipv6"));
  EXPECT_THAT(why(with_tag("src", "2001:db8::1")), HasSubstr("not an IPv4 address"));
  EXPECT_THAT(why(with_tag("dst", "example.org")), HasSubstr("not an IPv4 address"));
  EXPECT_THAT(why(with_tag("sport", "65536")), HasSubstr("not a port"));
  EXPECT_THAT(why(with_tag("dport", "-1")), HasSubstr("not a port"));
  EXPECT_THAT(why(with_tag("dport", "80 ")), HasSubstr("not a port"));
  EXPECT_THAT(why(with_tag("ifindex", "eth0")), HasSubstr("not an interface index"));
  EXPECT_THAT(why(with_tag("ifindex", "4294967296")), HasSubstr("not an interface index"));
  EXPECT_THAT(why(with_tag("direction", "both")), HasSubstr("not ingress or egress"));
  EXPECT_THAT(why(with_tag("reason", "")), HasSubstr("reason is empty"));
  EXPECT_THAT(why(with_field("ip_proto", std::uint64_t{256})), HasSubstr("ip_proto is not an integer from 0 to 255"));
  EXPECT_THAT(why(with_field("packets", 1.5)), HasSubstr("packets is not an integer"));
  EXPECT_THAT(why(with_field("ip_bytes", std::int64_t{-1})), HasSubstr("ip_bytes is not an integer"));
  EXPECT_THAT(why(with_field("first_seen_ms", std::string("2026-11-24T16:11:18Z"))),
              HasSubstr("first_seen_ms is not an integer"));
  EXPECT_THAT(why(with_field("tcp_control_bits", std::uint64_t{65536})), HasSubstr("from 0 to 65535"));
  // Unknown tags and fields beside the convention's are fine.
  EXPECT_TRUE(to_flow_record(ipv4_sample().tag("rank", "1").gauge_f("duration_s", 1.0)));
}

// ---- a decoder we did not write -------------------------------------------------------

namespace {

// A pcap file of UDP datagrams 127.0.0.1:50000 -> 127.0.0.1:4739, one per message.
void write_pcap(const std::filesystem::path& path, const std::vector<Bytes>& messages) {
  std::ofstream f(path, std::ios::binary);
  const auto le32 = [&](std::uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  const auto le16 = [&](std::uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  le32(0xa1b2c3d4);  // pcap magic (this machine is little-endian, as the test's hosts are)
  le16(2);
  le16(4);
  le32(0);
  le32(0);
  le32(65535);
  le32(1);  // Ethernet
  std::uint32_t second = kExportTime;
  for (const auto& m : messages) {
    Bytes pkt(14, 0);
    pkt[12] = 0x08;  // IPv4
    const std::size_t ip_len = 20 + 8 + m.size();
    // clang-format off
    Bytes ip = {0x45, 0, static_cast<std::uint8_t>(ip_len >> 8), static_cast<std::uint8_t>(ip_len), 0, 0, 0x40, 0,
                64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1};
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<std::uint8_t>(~sum >> 8);
    ip[11] = static_cast<std::uint8_t>(~sum);
    const std::size_t udp_len = 8 + m.size();
    const Bytes udp = {0xc3, 0x50, 0x12, 0x83, static_cast<std::uint8_t>(udp_len >> 8),
                       static_cast<std::uint8_t>(udp_len), 0, 0};  // 50000 -> 4739, no checksum
    // clang-format on
    pkt = cat({pkt, ip, udp, m});
    le32(second++);
    le32(0);
    le32(static_cast<std::uint32_t>(pkt.size()));
    le32(static_cast<std::uint32_t>(pkt.size()));
    f.write(reinterpret_cast<const char*>(pkt.data()), static_cast<std::streamsize>(pkt.size()));
  }
}

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace

TEST(IpfixEncode, TsharkDecodesTheGoldenMessages) {
  if (::access("/usr/bin/tshark", X_OK) != 0) GTEST_SKIP() << "tshark is not installed";
  netmon::unit::TempDir dir;
  Encoder enc(kDomain, 1400);
  Messages out;
  const FlowRecord v4 = ipv4_record(), v6 = ipv6_record();
  const FlowRecord recs[] = {v4, v6};
  enc.encode(recs, kExportTime, true, out);
  enc.encode(recs, kExportTime, false, out);  // data only, the templates known from the first
  ASSERT_EQ(out.list.size(), 2u);
  const Bytes golden =
      cat({header(286, 0), kTemplateSet, set_header(256, 61), kIpv4Record, set_header(257, 85), kIpv6Record});
  ASSERT_EQ(hex(out.message(0)), hex(golden));
  const auto m1 = out.message(1);
  write_pcap(dir / "ipfix.pcap", {golden, Bytes(m1.begin(), m1.end())});

  const std::string text =
      run("/usr/bin/tshark -n -r " + (dir / "ipfix.pcap").string() + " -d udp.port==4739,cflow -V 2>/dev/null");
  ASSERT_THAT(text, HasSubstr("Cisco NetFlow/IPFIX")) << text;
  EXPECT_THAT(text, Not(HasSubstr("Malformed")));
  EXPECT_THAT(text, Not(HasSubstr("Expert Info")));
  EXPECT_THAT(text, Not(HasSubstr("no template found")));
  for (const char* line : {"Version: 10",
                           "Length: 286",
                           "ExportTime: 1795536680",
                           "FlowSequence: 0",
                           "FlowSequence: 2",
                           "Observation Domain Id: 42",
                           "Template (Id = 256, Count = 14)",
                           "Template (Id = 257, Count = 14)",
                           "SrcAddr: 192.0.2.1",
                           "DstAddr: 198.51.100.2",
                           "SrcPort: 40000",
                           "DstPort: 9000",
                           "Protocol: TCP (6)",
                           "TCP Flags: 0x001b, ACK, PSH, SYN, FIN",
                           "Packets: 10",
                           "Octets: 1500",
                           "StartTime: Nov 24, 2026 16:11:18.004000000 UTC",
                           "EndTime: Nov 24, 2026 16:11:19.004000000 UTC",
                           "Flow End Reason: End of Flow detected (3)",
                           "InputInt: 5",
                           "OutputInt: 0",
                           "Direction: Ingress (0)",
                           "SrcAddr: 2001:db8::1",
                           "DstAddr: 2001:db8::2",
                           "DstPort: 32768",
                           "Protocol: ICMPv6 (58)",
                           "Packets: 3",
                           "Octets: 312",
                           "Flow End Reason: Idle timeout (1)",
                           "InputInt: 0",
                           "OutputInt: 7",
                           "Direction: Egress (1)"})
    EXPECT_THAT(text, HasSubstr(line));
  // Both data sets of the second message decoded with the first's templates.
  std::size_t flows = 0;
  for (std::size_t at = 0; (at = text.find("SrcAddr: ", at)) != std::string::npos; ++at) ++flows;
  EXPECT_EQ(flows, 4u) << text;
}
