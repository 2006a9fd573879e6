// SPDX-License-Identifier: MIT
#include <netmon/classes.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace netmon {

namespace {
constexpr std::array<const char*, NETMON_L3_MAX> kL3{"ipv4", "ipv6", "arp", "other"};
constexpr std::array<const char*, NETMON_L4_MAX> kL4{"tcp", "udp", "icmp", "other", "none"};
}  // namespace

const char* l3_name(int l3) { return l3 >= 0 && l3 < NETMON_L3_MAX ? kL3[static_cast<std::size_t>(l3)] : "?"; }
const char* l4_name(int l4) { return l4 >= 0 && l4 < NETMON_L4_MAX ? kL4[static_cast<std::size_t>(l4)] : "?"; }

bool valid_class(int l3, int l4) {
  const bool ip = l3 == NETMON_L3_IPV4 || l3 == NETMON_L3_IPV6;
  return ip ? l4 != NETMON_L4_NONE : l4 == NETMON_L4_NONE;
}

std::string address_text(int l3, const void* addr) {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  const auto* bytes = static_cast<const std::uint8_t*>(addr);
  const bool v4 = l3 == NETMON_L3_IPV4;
  const bool mapped = !v4 && std::memcmp(bytes, kMapped, sizeof kMapped) == 0;
  char buf[INET6_ADDRSTRLEN] = {};
  return inet_ntop(v4 || mapped ? AF_INET : AF_INET6, mapped ? bytes + 12 : bytes, buf, sizeof buf) ? buf : "?";
}

netmon_class_counters sum_counters(const std::vector<netmon_class_counters>& per_cpu) {
  netmon_class_counters sum{};
  for (const auto& c : per_cpu) netmon_class_counters_add(&sum, &c);
  return sum;
}

void publish_classes(Emitter& out, const std::string& measurement, const std::vector<Tag>& tags,
                     const netmon_class_counters& c) {
  for (int l3 = 0; l3 < NETMON_L3_MAX; ++l3)
    for (int l4 = 0; l4 < NETMON_L4_MAX; ++l4) {
      if (!valid_class(l3, l4)) continue;
      Sample s(measurement);
      s.tags = tags;
      s.tag("l3", l3_name(l3)).tag("l4", l4_name(l4));
      s.counter("packets", c.cls[l3][l4].packets).counter("bytes", c.cls[l3][l4].bytes);
      out.publish(s);
    }
}

}  // namespace netmon
