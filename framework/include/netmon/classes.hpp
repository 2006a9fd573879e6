// SPDX-License-Identifier: MIT
// The user-space side of bpf/include/netmon/bpf/classes.h and counters.h:
// class names, and the samples every class-counting plugin publishes the same way.
#pragma once

#include <netmon/bpf/counters.h>
#include <netmon/plugin.hpp>

#include <string>
#include <vector>

namespace netmon {

const char* l3_name(int l3);  // "ipv4", "ipv6", "arp", "other"
const char* l4_name(int l4);  // "tcp", "udp", "icmp", "other", "none"
// The classes the parser produces: IP with an L4 class, anything else with "none".
bool valid_class(int l3, int l4);

// An address as text: dotted IPv4 (the first 4 bytes of `addr`) when `l3` is
// NETMON_L3_IPV4, else inet_ntop IPv6 text of the 16 bytes, an IPv4-mapped
// one (::ffff:a.b.c.d) shown as IPv4; "?" for what does not print.
std::string address_text(int l3, const void* addr);

// Sums per-CPU copies.
netmon_class_counters sum_counters(const std::vector<netmon_class_counters>& per_cpu);

// One sample per valid class: `measurement` with `tags` plus l3 and l4, fields
// packets and bytes (counters).
void publish_classes(Emitter& out, const std::string& measurement, const std::vector<Tag>& tags,
                     const netmon_class_counters& c);

}  // namespace netmon
