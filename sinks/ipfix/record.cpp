// SPDX-License-Identifier: MIT
#include "record.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <limits>
#include <type_traits>
#include <variant>

namespace netmon::ipfix {

EndReason end_reason_of(std::string_view reason) {
  if (reason == "idle") return EndReason::idle_timeout;
  if (reason == "active_timeout") return EndReason::active_timeout;
  if (reason == "tcp_fin" || reason == "tcp_rst") return EndReason::end_of_flow;
  if (reason == "evicted") return EndReason::lack_of_resources;
  return EndReason::forced_end;
}

namespace {

bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

// A decimal tag value within [0, max].
bool parse_decimal(const std::string& text, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || v > max) return false;
  out = v;
  return true;
}

// An integer field (counter, unsigned or non-negative signed gauge).
bool integer_of(const FieldValue& v, std::uint64_t& out) {
  if (const auto* c = std::get_if<Counter>(&v)) {
    out = c->value;
    return true;
  }
  if (const auto* u = std::get_if<std::uint64_t>(&v)) {
    out = *u;
    return true;
  }
  if (const auto* i = std::get_if<std::int64_t>(&v); i && *i >= 0) {
    out = static_cast<std::uint64_t>(*i);
    return true;
  }
  return false;
}

// Bits of what was found, so one pass over tags and fields finds them all.
enum : unsigned {
  kFamily = 1u << 0,
  kSrc = 1u << 1,
  kDst = 1u << 2,
  kSport = 1u << 3,
  kDport = 1u << 4,
  kIfindex = 1u << 5,
  kDirection = 1u << 6,
  kReason = 1u << 7,
  kProto = 1u << 8,
  kPackets = 1u << 9,
  kBytes = 1u << 10,
  kFirst = 1u << 11,
  kLast = 1u << 12,
  kFlags = 1u << 13,
  kAll = (1u << 14) - 1,
};
constexpr const char* kNames[] = {"tag family",
                                  "tag src",
                                  "tag dst",
                                  "tag sport",
                                  "tag dport",
                                  "tag ifindex",
                                  "tag direction",
                                  "tag reason",
                                  "field ip_proto",
                                  "field packets",
                                  "field ip_bytes",
                                  "field first_seen_ms",
                                  "field last_seen_ms",
                                  "field tcp_control_bits"};

}  // namespace

std::optional<FlowRecord> to_flow_record(const Sample& s, std::string* why) {
  if (!s.is_event()) {
    fail(why, "not an event");
    return std::nullopt;
  }
  FlowRecord r;
  unsigned seen = 0;
  const std::string* src = nullptr;
  const std::string* dst = nullptr;
  std::uint64_t ifindex = 0;
  for (const auto& t : s.tags) {
    const std::string& k = t.key;
    const std::string& v = t.value;
    std::uint64_t n = 0;
    if (k == "family") {
      if (v == "ipv4") r.family = Family::ipv4;
      else if (v == "ipv6") r.family = Family::ipv6;
      else return fail(why, "tag family is '" + v + "', not ipv4 or ipv6"), std::nullopt;
      seen |= kFamily;
    } else if (k == "src") {
      src = &v;
      seen |= kSrc;
    } else if (k == "dst") {
      dst = &v;
      seen |= kDst;
    } else if (k == "sport" || k == "dport") {
      if (!parse_decimal(v, 65535, n)) return fail(why, "tag " + k + " '" + v + "' is not a port"), std::nullopt;
      if (k == "sport") r.src_port = static_cast<std::uint16_t>(n), seen |= kSport;
      else r.dst_port = static_cast<std::uint16_t>(n), seen |= kDport;
    } else if (k == "ifindex") {
      if (!parse_decimal(v, std::numeric_limits<std::uint32_t>::max(), ifindex))
        return fail(why, "tag ifindex '" + v + "' is not an interface index"), std::nullopt;
      seen |= kIfindex;
    } else if (k == "direction") {
      if (v == "ingress") r.direction = Direction::ingress;
      else if (v == "egress") r.direction = Direction::egress;
      else return fail(why, "tag direction is '" + v + "', not ingress or egress"), std::nullopt;
      seen |= kDirection;
    } else if (k == "reason") {
      if (v.empty()) return fail(why, "tag reason is empty"), std::nullopt;
      r.end_reason = end_reason_of(v);
      seen |= kReason;
    }
  }
  for (const auto& f : s.fields) {
    const std::string& k = f.key;
    unsigned bit = 0;
    std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t* out = nullptr;
    std::uint64_t small = 0;
    if (k == "ip_proto") bit = kProto, max = 255, out = &small;
    else if (k == "packets") bit = kPackets, out = &r.packets;
    else if (k == "ip_bytes") bit = kBytes, out = &r.octets;
    else if (k == "first_seen_ms") bit = kFirst, out = &r.start_ms;
    else if (k == "last_seen_ms") bit = kLast, out = &r.end_ms;
    else if (k == "tcp_control_bits") bit = kFlags, max = 65535, out = &small;
    else continue;
    if (!integer_of(f.value, *out) || *out > max)
      return fail(why, "field " + k + " is not an integer from 0 to " + std::to_string(max)), std::nullopt;
    if (bit == kProto) r.protocol = static_cast<std::uint8_t>(small);
    if (bit == kFlags) r.tcp_control_bits = static_cast<std::uint16_t>(small);
    seen |= bit;
  }
  if (seen != kAll) {
    for (unsigned i = 0; i < 14; ++i)
      if (!(seen & (1u << i))) return fail(why, std::string("no ") + kNames[i]), std::nullopt;
  }
  const int af = r.family == Family::ipv4 ? AF_INET : AF_INET6;
  if (::inet_pton(af, src->c_str(), r.src.data()) != 1)
    return fail(why, "tag src '" + *src + "' is not an " + (af == AF_INET ? "IPv4" : "IPv6") + " address"),
           std::nullopt;
  if (::inet_pton(af, dst->c_str(), r.dst.data()) != 1)
    return fail(why, "tag dst '" + *dst + "' is not an " + (af == AF_INET ? "IPv4" : "IPv6") + " address"),
           std::nullopt;
  const auto index = static_cast<std::uint32_t>(ifindex);
  if (r.direction == Direction::ingress) r.ingress_interface = index;
  else r.egress_interface = index;
  return r;
}

}  // namespace netmon::ipfix
