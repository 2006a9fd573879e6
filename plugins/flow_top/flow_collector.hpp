// SPDX-License-Identifier: MIT
// FlowCollector: flow_top's user-space logic, free of the kernel so tests can
// drive it with synthetic reads at chosen times.
//
//   FlowCollector c(config, start_ns);
//   const CollectResult& r = c.collect(entries, now_ns, remove);  // every interval
//
// Each collect() takes the whole table as read (key, merged value) and `now`
// on the clock of the BPF timestamps (CLOCK_MONOTONIC), and:
//  1. computes each flow's change since the previous collect, keeping
//     per-flow state only for flows in the table;
//  2. keeps iftop-style sliding windows (2 s, 10 s, 40 s) of bytes per flow:
//     one record per flow and interval with traffic, added to every window
//     sum when the interval ends and subtracted when it leaves each window;
//  3. ranks the top N by packets, bytes or last-interval rate, with the
//     remainder summed, so top + other == the table as read;
//  4. ends flows (idle, active timeout, TCP FIN/RST, LRU eviction), removing
//     them from the table through `remove` (which returns the final counts).
// Not thread safe; collect() is O(flows + records leaving the windows) plus
// O(flows + N log N) for the ranking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "flow_index.hpp"
#include "flow_table.hpp"

namespace netmon::flow_top {

enum class SortKey { packets, bytes, rate };
SortKey parse_sort_key(const std::string& s);  // "packets", "bytes", "rate"; throws netmon::Error
const char* to_string(SortKey k);

enum class EndReason { idle, active_timeout, tcp_fin, tcp_rst, evicted };
const char* to_string(EndReason r);  // the `reason` tag: idle, active_timeout, tcp_fin, tcp_rst, evicted

// The sliding windows, shortest first (iftop's columns).
inline constexpr std::array<std::int64_t, 3> kWindowsNs{2'000'000'000, 10'000'000'000, 40'000'000'000};

struct CollectorConfig {
  std::size_t top = 10;
  SortKey sort = SortKey::packets;
  std::int64_t idle_timeout_ns = 30'000'000'000;
  std::int64_t active_timeout_ns = 1'800'000'000'000;
};

// One flow of the top N, or any flow when asked for through rates_of().
struct FlowReport {
  flow_top_key key{};
  flow_top_value value{};           // totals since the flow started
  std::uint64_t delta_packets = 0;  // in the last interval
  std::uint64_t delta_bytes = 0;
  double packets_per_sec = 0;  // last interval
  double bytes_per_sec = 0;
  std::array<double, 3> bytes_per_sec_window{};  // 2 s, 10 s, 40 s
};

struct EndedFlow {
  flow_top_key key{};
  flow_top_value value{};  // final counts
  EndReason reason = EndReason::idle;
};

struct RemainderTotals {
  std::uint64_t flows = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  double bytes_per_sec = 0;  // last interval
};

struct EndTotals {  // since start
  std::uint64_t idle = 0;
  std::uint64_t active_timeout = 0;
  std::uint64_t tcp_fin = 0;
  std::uint64_t tcp_rst = 0;
  std::uint64_t evicted = 0;
};

// Packets, bytes and IP-layer bytes of some flows.
struct Counts {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  std::uint64_t ip_bytes = 0;

  void add(const flow_top_value& v) { packets += v.packets, bytes += v.bytes, ip_bytes += v.ip_bytes; }
  void sub(const flow_top_value& v) { packets -= v.packets, bytes -= v.bytes, ip_bytes -= v.ip_bytes; }
  void add_raw(std::uint64_t p, std::uint64_t b, std::uint64_t ip) { packets += p, bytes += b, ip_bytes += ip; }
  bool operator==(const Counts&) const = default;
};

// Where the packets of one interface and direction are, as the collector
// knows them: in the table after this collect (as read), in flows that ended
// since start (their final counts) and in flows evicted since start (their
// last read counts). What the BPF totals hold beyond these is accounted by
// FlowAccountant (flow_accounting.hpp).
struct FlowAccount {
  std::uint32_t ifindex = 0;
  std::uint8_t direction = 0;
  Counts table;
  Counts ended;    // since start, every reason but evicted
  Counts evicted;  // since start
};

struct CollectResult {
  std::int64_t now_ns = 0;
  double interval_s = 0;         // since the previous collect (or start)
  std::uint64_t entries = 0;     // distinct flows read
  std::vector<FlowReport> top;   // rank 1 first
  RemainderTotals other;         // the flows read that are not in `top`
  std::vector<EndedFlow> ended;  // this interval, in the order found
  EndTotals ended_total;
  std::vector<FlowAccount> accounts;  // per (interface, direction) seen since start, in order of first sight
};

// Deletes a flow from the table and returns its final value, or nullopt if
// it was not there any more.
using RemoveFn = std::function<std::optional<flow_top_value>(const flow_top_key&)>;

class FlowCollector {
 public:
  FlowCollector(CollectorConfig config, std::int64_t start_ns);

  // `entries`: the table as read (duplicates are skipped). `now_ns` must not
  // go backwards. The result stays valid until the next call.
  const CollectResult& collect(const std::vector<FlowEntry>& entries, std::int64_t now_ns, const RemoveFn& remove);

  // Flows with user-space state (all in the table at the last collect).
  [[nodiscard]] std::size_t tracked_flows() const { return index_.size(); }
  // Window records held (flow-intervals with traffic in the last 40 s).
  [[nodiscard]] std::size_t window_records() const { return records_.size(); }

 private:
  struct FlowState {
    flow_top_key key{};
    std::uint64_t hash = 0;  // FlowIndex::hash(key)
    flow_top_value last{};   // totals at the previous collect
    std::array<std::uint64_t, 3> window_bytes{};
    std::uint64_t seen_epoch = 0;  // the collect that last read it
    std::uint64_t born_epoch = 0;  // the collect that first read it
    std::uint32_t generation = 0;  // bumped when the slot is freed: stale records no longer match
    bool live = false;
  };
  struct Record {  // bytes of one flow in one interval
    std::uint32_t slot;
    std::uint32_t generation;
    std::uint64_t bytes;
  };
  struct Interval {
    std::int64_t begin_ns;
    std::int64_t end_ns;
    std::uint64_t first_record;  // absolute index into records_
  };
  struct Row {  // one distinct flow of this read
    std::uint32_t entry;
    std::uint32_t slot;
    std::uint64_t delta_packets;
    std::uint64_t delta_bytes;
  };

  std::uint32_t allocate(const flow_top_key& key, std::uint64_t hash);
  void release(std::uint32_t slot);
  void advance_windows(std::int64_t now_ns);
  [[nodiscard]] std::array<double, 3> window_rates(const FlowState& s, std::int64_t now_ns) const;
  void rank(const std::vector<FlowEntry>& entries, std::int64_t now_ns);
  void end_flows(const std::vector<FlowEntry>& entries, std::int64_t now_ns, const RemoveFn& remove);
  // `in_table`: the flow was read this collect (its read counts are in the table's account).
  void end(std::uint32_t slot, const flow_top_value& value, EndReason reason, bool in_table);
  FlowAccount& account_of(const flow_top_key& key);

  CollectorConfig config_;
  std::int64_t previous_ns_;
  std::uint64_t epoch_ = 0;

  std::vector<FlowState> slots_;
  std::vector<std::uint32_t> free_;
  FlowIndex index_;
  std::vector<std::uint64_t> hashes_;  // of this read's keys

  // Windows: intervals_ and records_ hold the last 40 s (plus one interval);
  // window_first_[w] is the absolute index of the first interval still in
  // window w. Absolute indexes = position + the number popped so far.
  std::deque<Interval> intervals_;
  std::uint64_t intervals_popped_ = 0;
  std::deque<Record> records_;
  std::uint64_t records_popped_ = 0;
  std::array<std::uint64_t, 3> window_first_{};

  struct Candidate {  // one row, as the ranking compares it
    std::uint64_t primary;
    std::uint64_t secondary;
    std::uint32_t row;
  };

  std::vector<FlowAccount> accounts_;
  std::size_t last_account_ = 0;

  std::vector<Row> rows_;
  std::vector<Candidate> candidates_;
  CollectResult result_;
};

}  // namespace netmon::flow_top
