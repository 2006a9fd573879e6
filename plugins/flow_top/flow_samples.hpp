// SPDX-License-Identifier: MIT
// The samples flow_top publishes, built from a CollectResult (schema:
// README.md in this folder). Pure functions: tests check them without a
// kernel.
#pragma once

#include <netmon/sample.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flow_accounting.hpp"
#include "flow_collector.hpp"

namespace netmon::flow_top {

// "SYN|ACK|FIN" (SYN ACK FIN RST PSH URG ECE CWR order), "" for none.
std::string tcp_flags_text(std::uint8_t flags);
// "tcp", "udp", "icmp" (ICMP and ICMPv6), "other".
const char* proto_name(std::uint8_t family, std::uint8_t ip_proto);

// The kernel-side counters and how the table was read, for flow_top_table.
struct TableInfo {
  std::uint64_t capacity = 0;
  std::uint64_t insert_failures = 0;         // summed over CPUs, since load
  std::uint64_t untracked_packets = 0;       // likewise
  std::uint64_t evicted_unseen_packets = 0;  // FlowAccountant's, over every interface
  std::uint64_t evicted_unseen_bytes = 0;
  std::string read_method;  // "batch" or "iterate"
  std::uint64_t read_duration_us = 0;
};

struct SampleOptions {
  SortKey sort = SortKey::packets;
  bool finished = false;  // publish flow_top_end samples
  // Unix ns minus the BPF timestamps' clock (CLOCK_MONOTONIC), now.
  std::int64_t unix_offset_ns = 0;
  // ifindex -> interface name.
  std::function<std::string(std::uint32_t)> ifname;
};

// flow_top (one per top flow, rank 1 first), flow_top_other, flow_top_table,
// then flow_top_end (one per flow ended this interval, if opts.finished).
std::vector<Sample> build_samples(const CollectResult& r, const TableInfo& table, const SampleOptions& opts);

// flow_top_totals, one per (interface, direction): where every packet is.
std::vector<Sample> build_account_samples(const std::vector<Accounting>& accounts, const SampleOptions& opts);

}  // namespace netmon::flow_top
