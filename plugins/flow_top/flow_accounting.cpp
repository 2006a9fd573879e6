// SPDX-License-Identifier: MIT
#include "flow_accounting.hpp"

#include <algorithm>

namespace netmon::flow_top {

namespace {

// a - b, or 0 where b is larger (only a torn read could make it so).
std::uint64_t minus(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

Counts minus(const Counts& a, const Counts& b) {
  return {minus(a.packets, b.packets), minus(a.bytes, b.bytes), minus(a.ip_bytes, b.ip_bytes)};
}

Counts plus(const Counts& a, const Counts& b) {
  return {a.packets + b.packets, a.bytes + b.bytes, a.ip_bytes + b.ip_bytes};
}

}  // namespace

const std::vector<Accounting>& FlowAccountant::settle(const Totals& before, const Totals& after,
                                                      const std::vector<FlowAccount>& flows) {
  out_.clear();
  for (const auto& [key, reading] : after) {
    Accounting a;
    a.ifindex = key.first;
    a.direction = key.second;
    a.total = minus(reading.total, reading.failed);  // the failed packets are in the totals too
    a.insert_failed = reading.failed;
    for (const FlowAccount& f : flows) {
      if (f.ifindex != a.ifindex || f.direction != a.direction) continue;
      a.table = f.table;
      a.ended = f.ended;
      a.evicted = f.evicted;
    }
    const Counts remainder = minus(a.total, plus(plus(a.table, a.ended), a.evicted));
    const auto b = before.find(key);
    const Counts during = b == before.end() ? reading.total : minus(reading.total, b->second.total);
    Counts& unseen = unseen_[key];
    const Counts lower = minus(remainder, during);
    unseen.packets = std::min(std::max(unseen.packets, lower.packets), remainder.packets);
    unseen.bytes = std::min(std::max(unseen.bytes, lower.bytes), remainder.bytes);
    unseen.ip_bytes = std::min(std::max(unseen.ip_bytes, lower.ip_bytes), remainder.ip_bytes);
    a.evicted_unseen = unseen;
    a.unread = minus(remainder, unseen);
    a.total = reading.total;
    out_.push_back(a);
  }
  return out_;
}

bool FlowAccountant::behind(const Totals& after, const std::vector<FlowAccount>& flows) {
  for (const FlowAccount& f : flows) {
    const auto it = after.find({f.ifindex, f.direction});
    if (it == after.end()) continue;  // not read (an interface deleted meanwhile): not reported either
    const Counts have = minus(it->second.total, it->second.failed);
    const Counts need = plus(plus(f.table, f.ended), f.evicted);
    if (have.packets < need.packets || have.bytes < need.bytes || have.ip_bytes < need.ip_bytes) return true;
  }
  return false;
}

Counts FlowAccountant::evicted_unseen_total() const {
  Counts sum;
  for (const auto& [key, c] : unseen_) sum = plus(sum, c);
  return sum;
}

}  // namespace netmon::flow_top
