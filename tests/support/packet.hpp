// SPDX-License-Identifier: MIT
// A fluent builder of test frames, in the spirit of Katran's test fixtures:
//
//   auto frame = Packet().eth().vlan(10).ipv4("10.0.0.1", "10.0.0.2").udp(1234, 53).payload(20).build();
//
// Next-protocol fields (EtherType, IP protocol, IPv6 next header) and length
// fields are filled in from the layers that follow; truncate(n) cuts the
// frame to n bytes after building. Checksums are left zero: the programs under
// test never verify them.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace netmon::test {

class Packet {
 public:
  Packet& eth() { return push({Kind::eth}); }
  Packet& eth_type(std::uint16_t ethertype) {  // an Ethernet header with an explicit EtherType, nothing after
    Layer l{Kind::eth};
    l.explicit_next = ethertype;
    return push(l);
  }
  Packet& vlan(std::uint16_t vid, std::uint16_t tpid = 0x8100) {
    Layer l{Kind::vlan};
    l.a = vid;
    l.tpid = tpid;
    return push(l);
  }
  Packet& ipv4(const std::string& src, const std::string& dst, std::size_t option_bytes = 0,
               std::uint16_t frag_off_field = 0, int explicit_proto = -1) {
    Layer l{Kind::ipv4};
    inet_pton(AF_INET, src.c_str(), l.src);
    inet_pton(AF_INET, dst.c_str(), l.dst);
    l.len = option_bytes;
    l.a = frag_off_field;  // host order: flags << 13 | offset (8-byte units)
    l.explicit_next = explicit_proto;
    return push(l);
  }
  Packet& ipv4_raw_ihl(std::uint8_t ihl) {  // override IHL of the last IPv4 layer (malformed frames)
    layers_.back().ihl_override = ihl;
    return *this;
  }
  Packet& ipv6(const std::string& src, const std::string& dst, int explicit_next = -1) {
    Layer l{Kind::ipv6};
    inet_pton(AF_INET6, src.c_str(), l.src);
    inet_pton(AF_INET6, dst.c_str(), l.dst);
    l.explicit_next = explicit_next;
    return push(l);
  }
  // Hop-by-hop (0), routing (43), destination options (60): len_field is the
  // header's own length field (total = (len_field + 1) * 8 bytes). AH (51):
  // total = (len_field + 2) * 4 bytes.
  Packet& ipv6_ext(std::uint8_t type, std::uint8_t len_field = 0) {
    Layer l{Kind::ipv6_ext};
    l.a = type;
    l.b = len_field;
    return push(l);
  }
  Packet& ipv6_frag(std::uint16_t offset_units8, bool more) {
    Layer l{Kind::ipv6_frag};
    l.a = offset_units8;
    l.b = more ? 1 : 0;
    return push(l);
  }
  Packet& tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags = 0x10 /* ACK */) {
    Layer l{Kind::tcp};
    l.a = sport;
    l.b = dport;
    l.flags = flags;
    return push(l);
  }
  Packet& udp(std::uint16_t sport, std::uint16_t dport) {
    Layer l{Kind::udp};
    l.a = sport;
    l.b = dport;
    return push(l);
  }
  Packet& icmp(std::uint8_t type, std::uint8_t code) {
    Layer l{Kind::icmp};
    l.a = type;
    l.b = code;
    return push(l);
  }
  Packet& icmp6(std::uint8_t type, std::uint8_t code) {
    Layer l{Kind::icmp6};
    l.a = type;
    l.b = code;
    return push(l);
  }
  Packet& arp() { return push({Kind::arp}); }
  Packet& payload(std::size_t n, std::uint8_t fill = 0xab) {
    Layer l{Kind::raw};
    l.len = n;
    l.fill = fill;
    return push(l);
  }
  Packet& truncate(std::size_t n) {
    truncate_ = n;
    return *this;
  }

  [[nodiscard]] std::vector<std::uint8_t> build() const {
    std::vector<std::vector<std::uint8_t>> parts(layers_.size());
    // Build from the end, so each layer knows the length of what follows.
    std::size_t rest = 0;
    for (std::size_t i = layers_.size(); i-- > 0;) {
      parts[i] = serialize(i, rest);
      rest += parts[i].size();
    }
    std::vector<std::uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    if (truncate_ && *truncate_ < out.size()) out.resize(*truncate_);
    return out;
  }

 private:
  enum class Kind { eth, vlan, ipv4, ipv6, ipv6_ext, ipv6_frag, tcp, udp, icmp, icmp6, arp, raw };
  struct Layer {
    Kind kind;
    std::uint32_t a = 0, b = 0;
    std::uint16_t tpid = 0;
    std::uint8_t flags = 0;
    std::uint8_t fill = 0;
    std::size_t len = 0;
    int explicit_next = -1;
    int ihl_override = -1;
    std::uint8_t src[16] = {}, dst[16] = {};
  };

  Packet& push(const Layer& l) {
    layers_.push_back(l);
    return *this;
  }

  // EtherType announcing layer i (for the header before it).
  [[nodiscard]] int ethertype_of(std::size_t i) const {
    if (i >= layers_.size()) return 0x88B5;  // local experimental: "nothing known follows"
    switch (layers_[i].kind) {
      case Kind::vlan: return layers_[i].tpid;
      case Kind::ipv4: return 0x0800;
      case Kind::ipv6: return 0x86DD;
      case Kind::arp: return 0x0806;
      default: return 0x88B5;
    }
  }
  // IP protocol / next header announcing layer i.
  [[nodiscard]] int ipproto_of(std::size_t i) const {
    if (i >= layers_.size()) return 59;  // no next header
    switch (layers_[i].kind) {
      case Kind::tcp: return 6;
      case Kind::udp: return 17;
      case Kind::icmp: return 1;
      case Kind::icmp6: return 58;
      case Kind::ipv6_ext: return static_cast<int>(layers_[i].a);
      case Kind::ipv6_frag: return 44;
      default: return 253;  // experimental
    }
  }

  static void put16(std::vector<std::uint8_t>& v, std::size_t off, std::uint32_t x) {
    v[off] = static_cast<std::uint8_t>(x >> 8);
    v[off + 1] = static_cast<std::uint8_t>(x);
  }

  [[nodiscard]] std::vector<std::uint8_t> serialize(std::size_t i, std::size_t rest) const {
    const Layer& l = layers_[i];
    std::vector<std::uint8_t> v;
    switch (l.kind) {
      case Kind::eth: {
        v.assign(14, 0);
        const std::uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
        std::memcpy(&v[0], dst, 6);
        std::memcpy(&v[6], src, 6);
        put16(v, 12, static_cast<std::uint32_t>(l.explicit_next >= 0 ? l.explicit_next : ethertype_of(i + 1)));
        break;
      }
      case Kind::vlan:
        v.assign(4, 0);
        put16(v, 0, l.a & 0x0fff);
        put16(v, 2, static_cast<std::uint32_t>(ethertype_of(i + 1)));
        break;
      case Kind::ipv4: {
        const std::size_t hl = 20 + l.len;
        if (hl > 60 || l.len % 4) throw std::invalid_argument("IPv4 options must be a multiple of 4, at most 40");
        v.assign(hl, 0);
        v[0] = static_cast<std::uint8_t>(0x40 | (l.ihl_override >= 0 ? l.ihl_override : static_cast<int>(hl / 4)));
        put16(v, 2, static_cast<std::uint32_t>(hl + rest));
        put16(v, 6, l.a);
        v[8] = 64;
        v[9] = static_cast<std::uint8_t>(l.explicit_next >= 0 ? l.explicit_next : ipproto_of(i + 1));
        std::memcpy(&v[12], l.src, 4);
        std::memcpy(&v[16], l.dst, 4);
        for (std::size_t k = 20; k < hl; ++k) v[k] = 1;  // NOP options
        break;
      }
      case Kind::ipv6:
        v.assign(40, 0);
        v[0] = 0x60;
        put16(v, 4, static_cast<std::uint32_t>(rest));
        v[6] = static_cast<std::uint8_t>(l.explicit_next >= 0 ? l.explicit_next : ipproto_of(i + 1));
        v[7] = 64;
        std::memcpy(&v[8], l.src, 16);
        std::memcpy(&v[24], l.dst, 16);
        break;
      case Kind::ipv6_ext: {
        const std::size_t total = l.a == 51 ? (l.b + 2) * 4 : (l.b + 1) * 8;
        v.assign(total, 0);
        v[0] = static_cast<std::uint8_t>(ipproto_of(i + 1));
        v[1] = static_cast<std::uint8_t>(l.b);
        break;
      }
      case Kind::ipv6_frag:
        v.assign(8, 0);
        v[0] = static_cast<std::uint8_t>(ipproto_of(i + 1));
        put16(v, 2, (l.a << 3) | l.b);
        break;
      case Kind::tcp:
        v.assign(20, 0);
        put16(v, 0, l.a);
        put16(v, 2, l.b);
        v[12] = 5 << 4;
        v[13] = l.flags;
        put16(v, 14, 65535);
        break;
      case Kind::udp:
        v.assign(8, 0);
        put16(v, 0, l.a);
        put16(v, 2, l.b);
        put16(v, 4, static_cast<std::uint32_t>(8 + rest));
        break;
      case Kind::icmp:
      case Kind::icmp6:
        v.assign(8, 0);
        v[0] = static_cast<std::uint8_t>(l.a);
        v[1] = static_cast<std::uint8_t>(l.b);
        break;
      case Kind::arp:
        v.assign(28, 0);
        put16(v, 0, 1);
        put16(v, 2, 0x0800);
        v[4] = 6;
        v[5] = 4;
        put16(v, 6, 1);
        break;
      case Kind::raw: v.assign(l.len, l.fill); break;
    }
    return v;
  }

  std::vector<Layer> layers_;
  std::optional<std::size_t> truncate_;
};

}  // namespace netmon::test
