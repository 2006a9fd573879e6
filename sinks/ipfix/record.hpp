// SPDX-License-Identifier: MIT
// From a sample to an IPFIX flow record: the flow-record convention of
// docs/SAMPLES.md ("Flow records: the convention any plugin can follow") read
// into the fixed fields of the sink's two templates. Pure: no I/O.
#pragma once

#include <netmon/sample.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netmon::ipfix {

enum class Family : std::uint8_t { ipv4, ipv6 };

// flowEndReason (IANA IE 136) values.
enum class EndReason : std::uint8_t {
  idle_timeout = 1,
  active_timeout = 2,
  end_of_flow = 3,
  forced_end = 4,
  lack_of_resources = 5,
};

// flowDirection (IANA IE 61) values.
enum class Direction : std::uint8_t { ingress = 0, egress = 1 };

// One flow record, in the units of the IEs it is exported as.
struct FlowRecord {
  Family family = Family::ipv4;
  std::array<std::uint8_t, 16> src{};  // network order; IPv4 in the first 4 bytes
  std::array<std::uint8_t, 16> dst{};
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;  // ICMP and ICMPv6: type * 256 + code
  std::uint8_t protocol = 0;
  std::uint16_t tcp_control_bits = 0;
  std::uint64_t packets = 0;
  std::uint64_t octets = 0;  // at the IP layer
  std::uint64_t start_ms = 0;
  std::uint64_t end_ms = 0;
  EndReason end_reason = EndReason::forced_end;
  std::uint32_t ingress_interface = 0;
  std::uint32_t egress_interface = 0;
  Direction direction = Direction::ingress;

  friend bool operator==(const FlowRecord&, const FlowRecord&) = default;
};

// The convention's `reason` tag as flowEndReason: idle 1, active_timeout 2,
// tcp_fin and tcp_rst 3, evicted 5, any other word 4 (forced end).
EndReason end_reason_of(std::string_view reason);

// The record an event sample following the convention makes. std::nullopt
// for any other sample (a snapshot, or an event missing a tag or field, or
// with a value out of range); then *why, when given, says what was wrong.
std::optional<FlowRecord> to_flow_record(const Sample& s, std::string* why = nullptr);

}  // namespace netmon::ipfix
