// SPDX-License-Identifier: MIT
// Helpers for flow_top's tests: keys and values written the way the BPF
// program writes them, and a fake flow table the collector can delete from.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flow_collector.hpp"
#include "flow_top.h"
#include "netmon/bpf/classes.h"

namespace netmon::flow_top::test {

constexpr std::int64_t kSec = 1'000'000'000;

inline flow_top_key key4(const std::string& src, const std::string& dst, std::uint16_t sport, std::uint16_t dport,
                         std::uint8_t proto = 17, std::uint32_t ifindex = 2, std::uint8_t dir = FLOW_TOP_INGRESS) {
  flow_top_key k{};
  k.ifindex = ifindex;
  k.direction = dir;
  k.family = NETMON_L3_IPV4;
  k.ip_proto = proto;
  inet_pton(AF_INET, src.c_str(), &k.saddr[0]);
  inet_pton(AF_INET, dst.c_str(), &k.daddr[0]);
  k.sport = htons(sport);
  k.dport = htons(dport);
  return k;
}

inline flow_top_key key6(const std::string& src, const std::string& dst, std::uint16_t sport, std::uint16_t dport,
                         std::uint8_t proto = 17, std::uint32_t ifindex = 2, std::uint8_t dir = FLOW_TOP_INGRESS) {
  flow_top_key k{};
  k.ifindex = ifindex;
  k.direction = dir;
  k.family = NETMON_L3_IPV6;
  k.ip_proto = proto;
  inet_pton(AF_INET6, src.c_str(), k.saddr);
  inet_pton(AF_INET6, dst.c_str(), k.daddr);
  k.sport = htons(sport);
  k.dport = htons(dport);
  return k;
}

// A flow from 10.0.0.1:<sport> to 10.0.0.2:80 (distinct flows by sport).
inline flow_top_key flow(std::uint16_t sport, std::uint8_t proto = 6) {
  return key4("10.0.0.1", "10.0.0.2", sport, 80, proto);
}

inline flow_top_value value(std::uint64_t packets, std::uint64_t bytes, std::int64_t first_ns, std::int64_t last_ns,
                            std::uint8_t flags = 0) {
  flow_top_value v{};
  v.packets = packets;
  v.bytes = bytes;
  v.first_seen = static_cast<std::uint64_t>(first_ns);
  v.last_seen = static_cast<std::uint64_t>(last_ns);
  v.tcp_flags = flags;
  return v;
}

inline bool same_key(const flow_top_key& a, const flow_top_key& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The kernel's table as the tests make it: entries set by hand, removed by
// the collector through remover().
class FakeTable {
 public:
  void set(const flow_top_key& k, const flow_top_value& v) {
    for (auto& e : entries_)
      if (same_key(e.key, k)) {
        e.value = v;
        return;
      }
    entries_.push_back({k, v});
  }
  void erase(const flow_top_key& k) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (same_key(it->key, k)) {
        entries_.erase(it);
        return;
      }
  }
  [[nodiscard]] bool has(const flow_top_key& k) const {
    for (const auto& e : entries_)
      if (same_key(e.key, k)) return true;
    return false;
  }
  [[nodiscard]] const std::vector<FlowEntry>& entries() const { return entries_; }
  RemoveFn remover() {
    return [this](const flow_top_key& k) -> std::optional<flow_top_value> {
      ++removes;
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (same_key(it->key, k)) {
          const flow_top_value v = it->value;
          entries_.erase(it);
          return v;
        }
      return std::nullopt;
    };
  }
  int removes = 0;

 private:
  std::vector<FlowEntry> entries_;
};

}  // namespace netmon::flow_top::test
