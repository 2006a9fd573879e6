// SPDX-License-Identifier: MIT
#include "encoder.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace netmon::ipfix {

namespace {

// IANA information elements, in the order of both templates.
struct Ie {
  std::uint16_t id;
  std::uint16_t length;
};
constexpr Ie kIpv4Fields[kFieldsPerTemplate] = {
    {8, 4},    // sourceIPv4Address
    {12, 4},   // destinationIPv4Address
    {7, 2},    // sourceTransportPort
    {11, 2},   // destinationTransportPort
    {4, 1},    // protocolIdentifier
    {6, 2},    // tcpControlBits (2 octets, RFC 7125)
    {2, 8},    // packetDeltaCount
    {1, 8},    // octetDeltaCount
    {152, 8},  // flowStartMilliseconds
    {153, 8},  // flowEndMilliseconds
    {136, 1},  // flowEndReason
    {10, 4},   // ingressInterface
    {14, 4},   // egressInterface
    {61, 1},   // flowDirection
};
constexpr Ie kIpv6Addresses[2] = {
    {27, 16},  // sourceIPv6Address
    {28, 16},  // destinationIPv6Address
};

constexpr std::size_t sum_lengths(bool v6) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kFieldsPerTemplate; ++i)
    n += (v6 && i < 2) ? kIpv6Addresses[i].length : kIpv4Fields[i].length;
  return n;
}
static_assert(sum_lengths(false) == kIpv4RecordSize);
static_assert(sum_lengths(true) == kIpv6RecordSize);

inline std::uint8_t* put8(std::uint8_t* p, std::uint8_t v) {
  *p = v;
  return p + 1;
}
inline std::uint8_t* put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
  return p + 2;
}
inline std::uint8_t* put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
  return p + 4;
}
inline std::uint8_t* put64(std::uint8_t* p, std::uint64_t v) {
  put32(p, static_cast<std::uint32_t>(v >> 32));
  return put32(p + 4, static_cast<std::uint32_t>(v));
}

std::uint8_t* write_template_set(std::uint8_t* p) {
  p = put16(p, kTemplateSetId);
  p = put16(p, static_cast<std::uint16_t>(kTemplateSetSize));
  for (const bool v6 : {false, true}) {
    p = put16(p, v6 ? kTemplateIpv6 : kTemplateIpv4);
    p = put16(p, static_cast<std::uint16_t>(kFieldsPerTemplate));
    for (std::size_t i = 0; i < kFieldsPerTemplate; ++i) {
      const Ie ie = (v6 && i < 2) ? kIpv6Addresses[i] : kIpv4Fields[i];
      p = put16(p, ie.id);
      p = put16(p, ie.length);
    }
  }
  return p;
}

std::uint8_t* write_record(std::uint8_t* p, const FlowRecord& r) {
  const std::size_t alen = r.family == Family::ipv4 ? 4 : 16;
  std::memcpy(p, r.src.data(), alen);
  p += alen;
  std::memcpy(p, r.dst.data(), alen);
  p += alen;
  p = put16(p, r.src_port);
  p = put16(p, r.dst_port);
  p = put8(p, r.protocol);
  p = put16(p, r.tcp_control_bits);
  p = put64(p, r.packets);
  p = put64(p, r.octets);
  p = put64(p, r.start_ms);
  p = put64(p, r.end_ms);
  p = put8(p, static_cast<std::uint8_t>(r.end_reason));
  p = put32(p, r.ingress_interface);
  p = put32(p, r.egress_interface);
  return put8(p, static_cast<std::uint8_t>(r.direction));
}

}  // namespace

std::vector<std::uint8_t> template_set() {
  std::vector<std::uint8_t> out(kTemplateSetSize);
  write_template_set(out.data());
  return out;
}

Encoder::Encoder(std::uint32_t domain, std::size_t mtu) : domain_(domain), mtu_(mtu) {
  if (mtu < kMinMtu || mtu > kMaxMtu)
    throw std::invalid_argument("IPFIX MTU " + std::to_string(mtu) + " is out of range (" + std::to_string(kMinMtu) +
                                " to " + std::to_string(kMaxMtu) + ")");
}

void Encoder::encode(std::span<const FlowRecord> records, std::uint32_t export_time_s, bool templates, Messages& out) {
  // The whole output at most: every record, a header and two set headers per
  // message, the templates. A message is closed when the next record and
  // its set header would not fit, so every message but the first and the
  // last holds more than mtu - 109 bytes of records (>= 31).
  std::size_t v4 = 0;
  for (const auto& r : records) v4 += r.family == Family::ipv4;
  const std::size_t v6 = records.size() - v4;
  const std::size_t payload = v4 * kIpv4RecordSize + v6 * kIpv6RecordSize;
  const std::size_t max_messages = payload / (mtu_ - kHeaderSize - 3 * kSetHeaderSize - kIpv6RecordSize) + 2;
  const std::size_t base = out.bytes.size();
  out.bytes.resize(base + payload + max_messages * (kHeaderSize + 2 * kSetHeaderSize) + kTemplateSetSize);

  std::uint8_t* const buf = out.bytes.data();
  std::size_t msg = base;    // start of the current message
  std::size_t pos = base;    // write position
  std::size_t set = 0;       // start of the open data set (0: none)
  std::uint32_t in_msg = 0;  // records in the current message
  bool msg_templates = false;
  bool open = false;

  const auto close_set = [&] {
    if (set) put16(buf + set + 2, static_cast<std::uint16_t>(pos - set));
    set = 0;
  };
  const auto close_message = [&] {
    close_set();
    std::uint8_t* h = buf + msg;
    h = put16(h, kVersion);
    h = put16(h, static_cast<std::uint16_t>(pos - msg));
    h = put32(h, export_time_s);
    h = put32(h, sequence_);
    put32(h, domain_);
    out.list.push_back({msg, pos - msg, in_msg, msg_templates});
    sequence_ += in_msg;
    open = false;
  };
  const auto open_message = [&] {
    msg = pos;
    pos += kHeaderSize;
    in_msg = 0;
    msg_templates = templates;
    if (templates) {
      pos = static_cast<std::size_t>(write_template_set(buf + pos) - buf);
      templates = false;
    }
    open = true;
  };

  for (const Family family : {Family::ipv4, Family::ipv6}) {
    if ((family == Family::ipv4 ? v4 : v6) == 0) continue;
    const std::size_t size = record_size(family);
    const std::uint16_t set_id = family == Family::ipv4 ? kTemplateIpv4 : kTemplateIpv6;
    close_set();
    for (const auto& r : records) {
      if (r.family != family) continue;
      if (!open) open_message();
      // A message that cannot take this record (one holding the templates
      // can be full before its first) goes as it is; a new one always can.
      if (pos - msg + size + (set ? 0 : kSetHeaderSize) > mtu_) {
        close_message();
        open_message();
      }
      if (!set) {
        set = pos;
        put16(buf + pos, set_id);
        pos += kSetHeaderSize;
      }
      pos = static_cast<std::size_t>(write_record(buf + pos, r) - buf);
      ++in_msg;
    }
  }
  if (!open && templates) open_message();
  if (open) close_message();
  out.bytes.resize(pos);
}

}  // namespace netmon::ipfix
