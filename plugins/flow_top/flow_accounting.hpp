// SPDX-License-Identifier: MIT
// FlowAccountant: every packet flow_top counted, accounted for.
//
// The BPF programs keep totals per interface and direction (struct
// flow_top_total) next to the flows. Every interval:
//
//   totals = table + ended + evicted + evicted_unseen + unread + insert_failed
//
// exactly, for packets, bytes and IP-layer bytes, where
//   table           the flows in the table after this interval's ends, as read
//   ended           flows ended since start (final counts)
//   evicted         flows the LRU pushed out since start, as last read
//   insert_failed   packets of flows the table did not take
//   evicted_unseen  packets evicted before any read saw them: flows born and
//                   evicted between two reads, and the packets a known flow
//                   took after its last read before it was evicted
//   unread          packets counted while the table was read, not yet in a
//                   read: they appear in the next interval's table (or its
//                   evictions), and unread falls again
// The BPF totals are read before and after the table; their difference W
// bounds what can have arrived unread, so the remainder R = totals - (table
// + ended + evicted + insert_failed) splits as
//   evicted_unseen = max(previous evicted_unseen, R - W)   (never decreases)
//   unread         = R - evicted_unseen
// With no traffic during a read (W = 0) the split is exact: unread is 0 and
// evicted_unseen is everything evicted unseen. Under traffic evicted_unseen
// may lag by at most W until a quieter read; it never counts a packet that
// was not evicted.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "flow_collector.hpp"

namespace netmon::flow_top {

// One (interface, direction)'s BPF totals, summed over CPUs.
struct TotalsReading {
  Counts total;
  Counts failed;
};

using TotalsKey = std::pair<std::uint32_t, std::uint8_t>;  // ifindex, direction
using Totals = std::map<TotalsKey, TotalsReading>;

struct Accounting {
  std::uint32_t ifindex = 0;
  std::uint8_t direction = 0;
  Counts total;
  Counts table;
  Counts ended;
  Counts evicted;
  Counts evicted_unseen;
  Counts unread;
  Counts insert_failed;
};

class FlowAccountant {
 public:
  // `before`: the totals read before the table, `after`: after the collect
  // (its ends included), `flows`: the collect's accounts. One Accounting per
  // (interface, direction) in `after`, in key order.
  const std::vector<Accounting>& settle(const Totals& before, const Totals& after,
                                        const std::vector<FlowAccount>& flows);

  // Whether `after` is behind the flows somewhere (fewer packets than the
  // table, ended and evicted flows hold): a program is between its flow's
  // update and the totals' (flow_top.bpf.c), and the totals must be read
  // again. Never true of totals read once every such program has finished.
  // Interfaces `after` does not hold (deleted meanwhile) are not compared.
  [[nodiscard]] static bool behind(const Totals& after, const std::vector<FlowAccount>& flows);

  // The sums over every interface and direction.
  [[nodiscard]] Counts evicted_unseen_total() const;

 private:
  std::map<TotalsKey, Counts> unseen_;
  std::vector<Accounting> out_;
};

}  // namespace netmon::flow_top
