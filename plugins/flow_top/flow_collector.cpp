// SPDX-License-Identifier: MIT
#include "flow_collector.hpp"

#include <netmon/enum_names.hpp>
#include <netmon/error.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace netmon::flow_top {

namespace {

constexpr double kNsPerSec = 1e9;

double per_sec(std::uint64_t n, std::int64_t span_ns) {
  return span_ns > 0 ? static_cast<double>(n) * kNsPerSec / static_cast<double>(span_ns) : 0.0;
}

// A total order on keys, field by field in natural (host) order, so ties in
// the ranking always break the same way.
bool key_less(const flow_top_key& a, const flow_top_key& b) {
  if (a.ifindex != b.ifindex) return a.ifindex < b.ifindex;
  if (a.direction != b.direction) return a.direction < b.direction;
  if (a.family != b.family) return a.family < b.family;
  if (a.ip_proto != b.ip_proto) return a.ip_proto < b.ip_proto;
  // Addresses are in network order: byte order is numeric order.
  if (const int c = std::memcmp(a.saddr, b.saddr, sizeof a.saddr)) return c < 0;
  if (const int c = std::memcmp(a.daddr, b.daddr, sizeof a.daddr)) return c < 0;
  if (a.sport != b.sport) return ntohs(a.sport) < ntohs(b.sport);
  return ntohs(a.dport) < ntohs(b.dport);
}

}  // namespace

namespace {
constexpr auto kSortKeyNames = netmon::enum_names<SortKey>({
    {SortKey::packets, "packets"},
    {SortKey::bytes, "bytes"},
    {SortKey::rate, "rate"},
});
constexpr auto kEndReasonNames = netmon::enum_names<EndReason>({
    {EndReason::idle, "idle"},
    {EndReason::active_timeout, "active_timeout"},
    {EndReason::tcp_fin, "tcp_fin"},
    {EndReason::tcp_rst, "tcp_rst"},
    {EndReason::evicted, "evicted"},
});
}  // namespace

SortKey parse_sort_key(const std::string& s) {
  if (const auto k = kSortKeyNames.parse(s)) return *k;
  throw Error("unknown flow sort key '" + s + "' (use " + kSortKeyNames.choices() + ")");
}

const char* to_string(SortKey k) { return kSortKeyNames.name_of(k); }

const char* to_string(EndReason r) { return kEndReasonNames.name_of(r); }

FlowCollector::FlowCollector(CollectorConfig config, std::int64_t start_ns) : config_(config), previous_ns_(start_ns) {
  if (config_.top == 0) config_.top = 1;
}

std::uint32_t FlowCollector::allocate(const flow_top_key& key, std::uint64_t hash) {
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  FlowState& s = slots_[slot];
  s.key = key;
  s.hash = hash;
  s.last = {};
  s.window_bytes = {};
  s.born_epoch = epoch_;
  s.live = true;
  return slot;
}

void FlowCollector::release(std::uint32_t slot) {
  FlowState& s = slots_[slot];
  s.live = false;
  s.window_bytes = {};
  ++s.generation;  // its records still in the windows no longer match
  free_.push_back(slot);
}

FlowAccount& FlowCollector::account_of(const flow_top_key& key) {
  // A handful of interfaces: a linear search, the last hit first.
  if (last_account_ < accounts_.size() && accounts_[last_account_].ifindex == key.ifindex &&
      accounts_[last_account_].direction == key.direction)
    return accounts_[last_account_];
  for (std::size_t i = 0; i < accounts_.size(); ++i) {
    if (accounts_[i].ifindex == key.ifindex && accounts_[i].direction == key.direction) {
      last_account_ = i;
      return accounts_[i];
    }
  }
  accounts_.push_back({key.ifindex, key.direction, {}, {}, {}});
  last_account_ = accounts_.size() - 1;
  return accounts_.back();
}

void FlowCollector::end(std::uint32_t slot, const flow_top_value& value, EndReason reason, bool in_table) {
  FlowState& s = slots_[slot];
  FlowAccount& account = account_of(s.key);
  if (in_table) account.table.sub(s.last);
  (reason == EndReason::evicted ? account.evicted : account.ended).add(value);
  result_.ended.push_back({s.key, value, reason});
  auto& t = result_.ended_total;
  switch (reason) {
    case EndReason::idle: ++t.idle; break;
    case EndReason::active_timeout: ++t.active_timeout; break;
    case EndReason::tcp_fin: ++t.tcp_fin; break;
    case EndReason::tcp_rst: ++t.tcp_rst; break;
    case EndReason::evicted: ++t.evicted; break;
  }
  index_.erase(s.key, s.hash, [this](std::uint32_t i) -> const flow_top_key& { return slots_[i].key; });
  release(slot);
}

const CollectResult& FlowCollector::collect(const std::vector<FlowEntry>& entries, std::int64_t now_ns,
                                            const RemoveFn& remove) {
  now_ns = std::max(now_ns, previous_ns_);
  ++epoch_;
  const EndTotals totals = result_.ended_total;
  result_ = {};
  result_.ended_total = totals;
  result_.now_ns = now_ns;
  result_.interval_s = static_cast<double>(now_ns - previous_ns_) / kNsPerSec;
  for (FlowAccount& a : accounts_) a.table = {};

  // 1. Changes since the previous collect; this interval's window records.
  const std::uint64_t first_record = records_popped_ + records_.size();
  const std::size_t n = entries.size();
  rows_.clear();
  rows_.reserve(n);
  hashes_.resize(n);
  for (std::size_t i = 0; i < n; ++i) hashes_[i] = FlowIndex::hash(entries[i].key);
  // Sized for this read up front rather than grown step by step. (Should it
  // grow anyway, a prefetch below merely goes to a stale address: harmless.)
  index_.reserve(n);
  slots_.reserve(n);
  const auto key_of = [this](std::uint32_t i) -> const flow_top_key& { return slots_[i].key; };
  // Every lookup misses the cache with a million flows: fetch the bucket 16
  // entries ahead and the state it points to 8 entries ahead.
  constexpr std::size_t kAhead = 16;
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) index_.prefetch(hashes_[i + kAhead]);
    if (i + kAhead / 2 < n) {
      const std::uint32_t next = index_.home_slot(hashes_[i + kAhead / 2]);
      if (next != FlowIndex::kNone) __builtin_prefetch(&slots_[next]);
    }
    const FlowEntry& e = entries[i];
    std::uint32_t slot = index_.find(e.key, hashes_[i], key_of);
    if (slot == FlowIndex::kNone) {
      slot = allocate(e.key, hashes_[i]);
      index_.insert(hashes_[i], slot);
    } else {
      FlowState& s = slots_[slot];
      if (s.seen_epoch == epoch_) continue;  // read twice (a key-by-key walk restarted)
      // Fewer packets than last time, or started after its last known packet:
      // the LRU evicted the flow we knew and a new one took its key.
      if (e.value.packets < s.last.packets || e.value.first_seen > s.last.last_seen) {
        result_.ended.push_back({s.key, s.last, EndReason::evicted});
        ++result_.ended_total.evicted;
        account_of(s.key).evicted.add(s.last);
        s.last = {};
        s.window_bytes = {};
        ++s.generation;
        s.born_epoch = epoch_;
      }
    }
    FlowState& s = slots_[slot];
    s.seen_epoch = epoch_;
    const std::uint64_t dp = e.value.packets - s.last.packets;
    const std::uint64_t db = e.value.bytes - s.last.bytes;
    s.last = e.value;
    account_of(e.key).table.add(e.value);
    if (db) {
      records_.push_back({slot, s.generation, db});
      for (auto& w : s.window_bytes) w += db;
    }
    rows_.push_back({static_cast<std::uint32_t>(i), slot, dp, db});
  }
  intervals_.push_back({previous_ns_, now_ns, first_record});

  // 2. Intervals leaving each window take their records out of the sums.
  advance_windows(now_ns);
  // 3. The ranking, over everything read (flows ending now included: they
  //    were in the table, so top + other is the table as read).
  rank(entries, now_ns);
  // 4. Flows that end now leave the table and the state.
  end_flows(entries, now_ns, remove);

  // Records older than the longest window are no longer needed.
  while (intervals_popped_ < window_first_.back()) {
    intervals_.pop_front();
    ++intervals_popped_;
    const std::uint64_t keep_from = intervals_.front().first_record;
    while (records_popped_ < keep_from) {
      records_.pop_front();
      ++records_popped_;
    }
  }
  result_.accounts = accounts_;
  previous_ns_ = now_ns;
  return result_;
}

void FlowCollector::advance_windows(std::int64_t now_ns) {
  const std::uint64_t last = intervals_popped_ + intervals_.size() - 1;  // the interval just added
  const std::uint64_t records_end = records_popped_ + records_.size();
  const std::int64_t slack = (now_ns - previous_ns_) / 2;
  for (std::size_t w = 0; w < kWindowsNs.size(); ++w) {
    // An interval stays while it began within the window, give or take half
    // an interval, so a tick a few ms late does not drop a whole interval
    // (and a window of 2 s at 1 s ticks spans two intervals, not one). The
    // latest interval always stays: a window shorter than the collection
    // interval shows the last interval's rate rather than 0.
    const std::int64_t cutoff = now_ns - kWindowsNs[w] - slack;
    while (window_first_[w] < last) {
      const Interval& iv = intervals_[window_first_[w] - intervals_popped_];
      if (iv.begin_ns >= cutoff) break;
      const std::uint64_t end = window_first_[w] + 1 < intervals_popped_ + intervals_.size()
                                    ? intervals_[window_first_[w] + 1 - intervals_popped_].first_record
                                    : records_end;
      for (std::uint64_t r = iv.first_record; r < end; ++r) {
        const Record& rec = records_[r - records_popped_];
        FlowState& s = slots_[rec.slot];
        if (s.generation == rec.generation) s.window_bytes[w] -= rec.bytes;
      }
      ++window_first_[w];
    }
  }
}

std::array<double, 3> FlowCollector::window_rates(const FlowState& s, std::int64_t now_ns) const {
  std::array<double, 3> r{};
  for (std::size_t w = 0; w < kWindowsNs.size(); ++w) {
    const std::int64_t begin = intervals_[window_first_[w] - intervals_popped_].begin_ns;
    r[w] = per_sec(s.window_bytes[w], now_ns - begin);
  }
  return r;
}

void FlowCollector::rank(const std::vector<FlowEntry>& entries, std::int64_t now_ns) {
  const std::int64_t span = now_ns - previous_ns_;
  // The two counters each comparison needs, side by side: the selection over
  // a million flows then runs on one contiguous array; keys are looked at on
  // ties only.
  candidates_.resize(rows_.size());
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const flow_top_value& v = entries[rows_[i].entry].value;
    Candidate& c = candidates_[i];
    c.row = static_cast<std::uint32_t>(i);
    switch (config_.sort) {
      case SortKey::packets: c.primary = v.packets, c.secondary = v.bytes; break;
      case SortKey::bytes: c.primary = v.bytes, c.secondary = v.packets; break;
      case SortKey::rate: c.primary = rows_[i].delta_bytes, c.secondary = v.bytes; break;
    }
  }
  // Descending by the sort key, then by the next counter, then ascending key.
  const auto better = [&](const Candidate& a, const Candidate& b) {
    if (a.primary != b.primary) return a.primary > b.primary;
    if (a.secondary != b.secondary) return a.secondary > b.secondary;
    return key_less(entries[rows_[a.row].entry].key, entries[rows_[b.row].entry].key);
  };
  const std::size_t n = std::min(config_.top, candidates_.size());
  const auto nth = candidates_.begin() + static_cast<std::ptrdiff_t>(n);
  if (n < candidates_.size()) std::nth_element(candidates_.begin(), nth, candidates_.end(), better);
  std::sort(candidates_.begin(), nth, better);

  result_.entries = rows_.size();
  result_.top.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Row& row = rows_[candidates_[i].row];
    FlowReport f;
    f.key = entries[row.entry].key;
    f.value = entries[row.entry].value;
    f.delta_packets = row.delta_packets;
    f.delta_bytes = row.delta_bytes;
    f.packets_per_sec = per_sec(row.delta_packets, span);
    f.bytes_per_sec = per_sec(row.delta_bytes, span);
    f.bytes_per_sec_window = window_rates(slots_[row.slot], now_ns);
    result_.top.push_back(f);
  }
  std::uint64_t other_delta = 0;
  for (std::size_t i = n; i < candidates_.size(); ++i) {
    const Row& row = rows_[candidates_[i].row];
    ++result_.other.flows;
    result_.other.packets += entries[row.entry].value.packets;
    result_.other.bytes += entries[row.entry].value.bytes;
    other_delta += row.delta_bytes;
  }
  result_.other.bytes_per_sec = per_sec(other_delta, span);
}

void FlowCollector::end_flows(const std::vector<FlowEntry>& entries, std::int64_t now_ns, const RemoveFn& remove) {
  // Known flows missing from this read, which we did not delete: the LRU
  // evicted them (their last known counts are all we have).
  for (std::uint32_t slot = 0; slot < slots_.size(); ++slot) {
    const FlowState& s = slots_[slot];
    if (s.live && s.seen_epoch != epoch_) end(slot, s.last, EndReason::evicted, false);
  }
  for (const Row& row : rows_) {
    const FlowState& s = slots_[row.slot];
    const flow_top_value& v = entries[row.entry].value;
    // FIN/RST end a flow only once it has been quiet for a whole interval,
    // so the ACK that follows a FIN does not start a new flow of one packet.
    const bool quiet = row.delta_packets == 0 && s.born_epoch < epoch_;
    std::optional<EndReason> reason;
    if (quiet && (v.tcp_flags & NETMON_TCP_RST)) reason = EndReason::tcp_rst;
    else if (quiet && (v.tcp_flags & NETMON_TCP_FIN)) reason = EndReason::tcp_fin;
    else if (now_ns - static_cast<std::int64_t>(v.last_seen) >= config_.idle_timeout_ns) reason = EndReason::idle;
    else if (now_ns - static_cast<std::int64_t>(v.first_seen) >= config_.active_timeout_ns)
      reason = EndReason::active_timeout;
    if (!reason) continue;
    // The final counts: the read's, plus whatever arrived until the delete.
    flow_top_value final_value = v;
    if (remove) {
      const std::optional<flow_top_value> removed = remove(s.key);
      if (removed && removed->packets >= v.packets && removed->first_seen <= v.last_seen) final_value = *removed;
    }
    end(row.slot, final_value, *reason, true);
  }
}

}  // namespace netmon::flow_top
