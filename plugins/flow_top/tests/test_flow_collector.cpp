// SPDX-License-Identifier: MIT
// flow_top's user-space logic without a kernel: synthetic reads at chosen
// times drive FlowCollector (ranking, remainder, window rates, flow ends)
// and build_samples (the published schema).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "flow_collector.hpp"
#include "flow_samples.hpp"
#include "flow_table.hpp"
#include "flow_test_util.hpp"
#include "plugin_util.hpp"

namespace {

using namespace netmon::flow_top;
using namespace netmon::flow_top::test;

constexpr std::int64_t T0 = 1000 * kSec;  // the plugin's start, on the BPF clock

CollectorConfig config(SortKey sort = SortKey::packets, std::size_t top = 10) {
  CollectorConfig c;
  c.sort = sort;
  c.top = top;
  return c;
}

std::vector<std::uint16_t> sports(const CollectResult& r) {
  std::vector<std::uint16_t> out;
  for (const auto& f : r.top) out.push_back(ntohs(f.key.sport));
  return out;
}

// ---- ranking ----------------------------------------------------------------

// Five flows with ties: B and D equal on packets and bytes (broken by key:
// sport 2 < 4), A ties B/D on packets only.
void fill_ties(FakeTable& t, std::int64_t at) {
  t.set(flow(1), value(100, 1000, at, at));  // A
  t.set(flow(2), value(100, 2000, at, at));  // B
  t.set(flow(3), value(50, 5000, at, at));   // C
  t.set(flow(4), value(100, 2000, at, at));  // D
  t.set(flow(5), value(10, 10, at, at));     // E
}

TEST(FlowCollectorRank, ByPacketsThenBytesThenKey) {
  FakeTable t;
  fill_ties(t, T0);
  FlowCollector c(config(SortKey::packets, 3), T0);
  const auto& r = c.collect(t.entries(), T0 + kSec, t.remover());
  EXPECT_EQ(sports(r), (std::vector<std::uint16_t>{2, 4, 1}));
  EXPECT_EQ(r.entries, 5u);
  EXPECT_EQ(r.other.flows, 2u);
}

TEST(FlowCollectorRank, ByBytesThenPacketsThenKey) {
  FakeTable t;
  fill_ties(t, T0);
  FlowCollector c(config(SortKey::bytes, 4), T0);
  const auto& r = c.collect(t.entries(), T0 + kSec, t.remover());
  EXPECT_EQ(sports(r), (std::vector<std::uint16_t>{3, 2, 4, 1}));
}

TEST(FlowCollectorRank, ByLastIntervalRateThenBytesThenKey) {
  FakeTable t;
  fill_ties(t, T0);
  FlowCollector c(config(SortKey::rate, 5), T0);
  c.collect(t.entries(), T0 + kSec, t.remover());
  // Second interval: A and E +500 B (A has more bytes in total), B and D +100 B (tie: key), C nothing.
  t.set(flow(1), value(105, 1500, T0, T0 + 2 * kSec));
  t.set(flow(2), value(101, 2100, T0, T0 + 2 * kSec));
  t.set(flow(4), value(101, 2100, T0, T0 + 2 * kSec));
  t.set(flow(5), value(15, 510, T0, T0 + 2 * kSec));
  const auto& r = c.collect(t.entries(), T0 + 2 * kSec, t.remover());
  EXPECT_EQ(sports(r), (std::vector<std::uint16_t>{1, 5, 2, 4, 3}));
  EXPECT_DOUBLE_EQ(r.top[0].bytes_per_sec, 500.0);
  EXPECT_DOUBLE_EQ(r.top[0].packets_per_sec, 5.0);
  EXPECT_EQ(r.top[4].delta_bytes, 0u);
}

TEST(FlowCollectorRank, OrderDoesNotDependOnReadOrder) {
  std::vector<FlowEntry> entries;
  for (std::uint16_t i = 1; i <= 200; ++i)
    entries.push_back({flow(i), value(i % 7, (i % 7) * 100u, T0, T0)});  // many ties
  std::vector<std::vector<std::uint16_t>> orders;
  std::mt19937 rng(42);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(entries.begin(), entries.end(), rng);
    FlowCollector c(config(SortKey::packets, 20), T0);
    orders.push_back(sports(c.collect(entries, T0 + kSec, {})));
  }
  for (const auto& o : orders) EXPECT_EQ(o, orders[0]);
  // Six flows have 6 packets: sports 6, 13, 20, ... in ascending order first.
  EXPECT_EQ(orders[0][0], 6);
  EXPECT_EQ(orders[0][1], 13);
}

// ---- remainder ----------------------------------------------------------------

TEST(FlowCollectorRemainder, TopPlusOtherIsTheWholeTable) {
  std::mt19937_64 rng(7);
  FakeTable t;
  for (std::uint16_t i = 1; i <= 1000; ++i) t.set(flow(i), value(rng() % 5000 + 1, rng() % 5'000'000 + 64, T0, T0));
  for (const SortKey sort : {SortKey::packets, SortKey::bytes, SortKey::rate}) {
    FlowCollector c(config(sort, 10), T0);
    const auto& r = c.collect(t.entries(), T0 + 2 * kSec, t.remover());
    std::uint64_t packets = 0, bytes = 0;
    for (const auto& e : t.entries()) packets += e.value.packets, bytes += e.value.bytes;
    std::uint64_t top_packets = 0, top_bytes = 0;
    double top_rate = 0;
    for (const auto& f : r.top) top_packets += f.value.packets, top_bytes += f.value.bytes, top_rate += f.bytes_per_sec;
    ASSERT_EQ(r.top.size(), 10u);
    EXPECT_EQ(r.top.size() + r.other.flows, 1000u);
    EXPECT_EQ(r.entries, 1000u);
    EXPECT_EQ(top_packets + r.other.packets, packets);
    EXPECT_EQ(top_bytes + r.other.bytes, bytes);
    EXPECT_NEAR(top_rate + r.other.bytes_per_sec, static_cast<double>(bytes) / 2.0, 1e-6 * static_cast<double>(bytes));

    // The same through the published samples.
    SampleOptions opts;
    opts.sort = sort;
    const auto samples = build_samples(r, TableInfo{}, opts);
    std::uint64_t s_packets = 0, s_bytes = 0, s_flows = 0, entries = 0;
    for (const auto& s : samples) {
      if (s.measurement == "flow_top") s_packets += *s.u64("packets"), s_bytes += *s.u64("bytes"), ++s_flows;
      if (s.measurement == "flow_top_other")
        s_packets += *s.u64("packets"), s_bytes += *s.u64("bytes"), s_flows += *s.u64("flows");
      if (s.measurement == "flow_top_table") entries = *s.u64("entries");
    }
    EXPECT_EQ(s_packets, packets);
    EXPECT_EQ(s_bytes, bytes);
    EXPECT_EQ(s_flows, 1000u);
    EXPECT_EQ(entries, 1000u);
  }
}

TEST(FlowCollectorRemainder, FewerFlowsThanTopAndAnEmptyTable) {
  FakeTable t;
  t.set(flow(1), value(3, 300, T0, T0));
  FlowCollector c(config(SortKey::packets, 10), T0);
  const auto& r = c.collect(t.entries(), T0 + kSec, t.remover());
  EXPECT_EQ(r.top.size(), 1u);
  EXPECT_EQ(r.other.flows, 0u);
  EXPECT_EQ(r.other.packets, 0u);

  FlowCollector empty(config(), T0);
  const auto& e = empty.collect({}, T0 + kSec, {});
  EXPECT_TRUE(e.top.empty());
  EXPECT_EQ(e.entries, 0u);
  const auto samples = build_samples(e, TableInfo{}, SampleOptions{});
  ASSERT_EQ(samples.size(), 2u);  // flow_top_other and flow_top_table, also for an empty table
  EXPECT_EQ(samples[0].measurement, "flow_top_other");
  EXPECT_EQ(samples[0].u64("flows"), 0u);
  EXPECT_EQ(samples[1].measurement, "flow_top_table");
}

TEST(FlowCollectorRemainder, DuplicateEntriesOfAKeyByKeyWalkCountOnce) {
  std::vector<FlowEntry> entries{
      {flow(1), value(5, 500, T0, T0)}, {flow(2), value(7, 700, T0, T0)}, {flow(1), value(5, 500, T0, T0)}};
  FlowCollector c(config(SortKey::packets, 1), T0);
  const auto& r = c.collect(entries, T0 + kSec, {});
  EXPECT_EQ(r.entries, 2u);
  EXPECT_EQ(r.other.flows, 1u);
  EXPECT_EQ(r.other.packets, 5u);
  EXPECT_EQ(c.tracked_flows(), 2u);
}

// ---- sliding windows ----------------------------------------------------------

// A flow sending 1000 B/s from T0, read every second.
struct SteadyFlow {
  FakeTable t;
  FlowCollector c{config(), T0};
  std::uint64_t bytes = 0;
  std::int64_t last = T0;
  const CollectResult* r = nullptr;

  void second(std::int64_t now, bool sending) {
    if (sending) {
      bytes += 1000;
      last = now;
    }
    t.set(flow(1, 17), value(bytes / 100, bytes, T0, last));
    r = &c.collect(t.entries(), now, t.remover());
  }
  [[nodiscard]] const FlowReport& report() const { return r->top.at(0); }
};

TEST(FlowCollectorWindows, ASteadyFlowHasTheSameRateInEveryWindow) {
  SteadyFlow f;
  for (int s = 1; s <= 60; ++s) f.second(T0 + s * kSec, true);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec, 1000.0);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[0], 1000.0);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[1], 1000.0);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[2], 1000.0);
  // Memory: one record per interval with traffic, 40 s (plus slack) of them.
  EXPECT_EQ(f.c.window_records(), 40u);
}

TEST(FlowCollectorWindows, AfterTheFlowStopsTheShortWindowEmptiesAndTheLongOneDecays) {
  SteadyFlow f;
  for (int s = 1; s <= 60; ++s) f.second(T0 + s * kSec, true);
  f.second(T0 + 61 * kSec, false);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec, 0.0);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[0], 500.0);  // [59, 61]: one second of two
  f.second(T0 + 62 * kSec, false);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[0], 0.0);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[1], 800.0);  // 8 s of 10
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[2], 950.0);  // 38 s of 40
  for (int s = 63; s <= 70; ++s) f.second(T0 + s * kSec, false);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[1], 0.0);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[2], 750.0);  // 30 s of 40
  for (int s = 71; s <= 85; ++s) f.second(T0 + s * kSec, false);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[2], 375.0);  // 15 s of 40
  EXPECT_EQ(f.c.tracked_flows(), 1u);                           // idle for 25 s: still within the 30 s idle timeout
}

TEST(FlowCollectorWindows, WindowsLongerThanTheRunDivideByTheTimeSinceStart) {
  SteadyFlow f;
  for (int s = 1; s <= 5; ++s) f.second(T0 + s * kSec, true);
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[1], 1000.0);  // 5000 B over 5 s, not 10
  EXPECT_DOUBLE_EQ(f.report().bytes_per_sec_window[2], 1000.0);
}

TEST(FlowCollectorWindows, AnIntervalLongerThanTheWindowShowsTheLastInterval) {
  FakeTable t;
  FlowCollector c(config(), T0);
  t.set(flow(1), value(10, 5000, T0, T0 + 5 * kSec));
  c.collect(t.entries(), T0 + 5 * kSec, t.remover());
  t.set(flow(1), value(20, 15000, T0, T0 + 10 * kSec));
  const auto& r = c.collect(t.entries(), T0 + 10 * kSec, t.remover());
  EXPECT_DOUBLE_EQ(r.top[0].bytes_per_sec_window[0], 2000.0);  // the last 5 s interval
  EXPECT_DOUBLE_EQ(r.top[0].bytes_per_sec_window[1], 1500.0);  // both intervals: 15000 B over 10 s
}

TEST(FlowCollectorWindows, ASlightlyLateTickStaysInTheWindow) {
  FakeTable t;
  FlowCollector c(config(), T0);
  for (int s = 1; s <= 3; ++s) {
    t.set(flow(1), value(static_cast<std::uint64_t>(s), 1000u * static_cast<unsigned>(s), T0, T0 + s * kSec));
    c.collect(t.entries(), T0 + s * kSec, t.remover());
  }
  const std::int64_t late = T0 + 4 * kSec + 30'000'000;  // this tick is 30 ms late
  t.set(flow(1), value(4, 4000, T0, late));
  const auto& r = c.collect(t.entries(), late, t.remover());
  // The 2 s window still spans two intervals (2.03 s), not one.
  EXPECT_NEAR(r.top[0].bytes_per_sec_window[0], 2000.0 / 2.03, 1e-9);
}

TEST(FlowCollectorWindows, AReusedSlotDoesNotInheritAnEndedFlowsRecords) {
  FakeTable t;
  CollectorConfig cfg = config();
  cfg.idle_timeout_ns = 2 * kSec;
  FlowCollector c(cfg, T0);
  t.set(flow(1), value(10, 10000, T0, T0 + kSec));
  c.collect(t.entries(), T0 + kSec, t.remover());
  c.collect(t.entries(), T0 + 3 * kSec, t.remover());  // idle: ends, its slot is free
  ASSERT_EQ(c.tracked_flows(), 0u);
  t.set(flow(2), value(1, 100, T0 + 4 * kSec, T0 + 4 * kSec));  // takes the slot
  const auto& r = c.collect(t.entries(), T0 + 4 * kSec, t.remover());
  ASSERT_EQ(r.top.size(), 1u);
  EXPECT_DOUBLE_EQ(r.top[0].bytes_per_sec_window[2], 100.0 / 4.0);  // its own 100 B, nothing of flow 1
  // Flow 1's records leave the windows later without touching flow 2's sums.
  for (int s = 5; s <= 50; ++s) {
    t.set(flow(2),
          value(static_cast<std::uint64_t>(s), 100u * static_cast<unsigned>(s - 3), T0 + 4 * kSec, T0 + s * kSec));
    c.collect(t.entries(), T0 + s * kSec, t.remover());
  }
  const auto& last = c.collect(t.entries(), T0 + 51 * kSec, t.remover());
  EXPECT_NEAR(last.top[0].bytes_per_sec_window[2], 100.0 * 39 / 40, 1e-9);
}

// ---- flow ends ------------------------------------------------------------------

TEST(FlowCollectorEnd, IdleTimeoutEndsAndRemovesTheFlow) {
  FakeTable t;
  CollectorConfig cfg = config();
  cfg.idle_timeout_ns = 5 * kSec;
  FlowCollector c(cfg, T0);
  t.set(flow(1), value(3, 300, T0 + kSec, T0 + kSec));
  t.set(flow(2), value(3, 300, T0 + kSec, T0 + 5 * kSec));
  EXPECT_TRUE(c.collect(t.entries(), T0 + 5 * kSec, t.remover()).ended.empty());
  const auto& r = c.collect(t.entries(), T0 + 6 * kSec, t.remover());  // flow 1: 5 s idle
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_TRUE(same_key(r.ended[0].key, flow(1)));
  EXPECT_EQ(r.ended[0].reason, EndReason::idle);
  EXPECT_EQ(r.ended[0].value.packets, 3u);
  EXPECT_EQ(r.ended_total.idle, 1u);
  EXPECT_FALSE(t.has(flow(1)));
  EXPECT_TRUE(t.has(flow(2)));
  EXPECT_EQ(c.tracked_flows(), 1u);
  // Still counted in the table as read this interval.
  EXPECT_EQ(r.entries, 2u);
}

TEST(FlowCollectorEnd, FinEndsAFlowOnlyAfterAQuietInterval) {
  FakeTable t;
  FlowCollector c(config(), T0);
  const auto k = flow(1);
  t.set(k, value(5, 500, T0, T0 + kSec, NETMON_TCP_SYN | NETMON_TCP_ACK | NETMON_TCP_FIN));
  EXPECT_TRUE(c.collect(t.entries(), T0 + kSec, t.remover()).ended.empty());  // new this interval
  // The trailing ACK arrives in the next interval: still the same flow.
  t.set(k, value(6, 560, T0, T0 + 2 * kSec, NETMON_TCP_SYN | NETMON_TCP_ACK | NETMON_TCP_FIN));
  EXPECT_TRUE(c.collect(t.entries(), T0 + 2 * kSec, t.remover()).ended.empty());
  const auto& r = c.collect(t.entries(), T0 + 3 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].reason, EndReason::tcp_fin);
  EXPECT_EQ(r.ended[0].value.packets, 6u);
  EXPECT_EQ(r.ended[0].value.bytes, 560u);
  EXPECT_EQ(r.ended_total.tcp_fin, 1u);
  EXPECT_FALSE(t.has(k));
}

TEST(FlowCollectorEnd, FinWithoutLaterPacketsEndsAtTheNextCollect) {
  FakeTable t;
  FlowCollector c(config(), T0);
  t.set(flow(1), value(2, 200, T0, T0 + kSec / 2, NETMON_TCP_ACK));
  c.collect(t.entries(), T0 + kSec, t.remover());
  t.set(flow(1), value(3, 260, T0, T0 + kSec + 1, NETMON_TCP_ACK | NETMON_TCP_FIN));
  EXPECT_TRUE(c.collect(t.entries(), T0 + 2 * kSec, t.remover()).ended.empty());  // FIN in this interval
  const auto& r = c.collect(t.entries(), T0 + 3 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].reason, EndReason::tcp_fin);
}

TEST(FlowCollectorEnd, RstEndsAsTcpRst) {
  FakeTable t;
  FlowCollector c(config(), T0);
  t.set(flow(1), value(2, 120, T0, T0 + kSec, NETMON_TCP_SYN | NETMON_TCP_RST | NETMON_TCP_FIN));
  c.collect(t.entries(), T0 + kSec, t.remover());
  const auto& r = c.collect(t.entries(), T0 + 2 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].reason, EndReason::tcp_rst);  // RST wins over FIN
  EXPECT_EQ(r.ended_total.tcp_rst, 1u);
}

TEST(FlowCollectorEnd, FinalCountsComeFromTheDelete) {
  FakeTable t;
  CollectorConfig cfg = config();
  cfg.idle_timeout_ns = kSec;
  FlowCollector c(cfg, T0);
  t.set(flow(1), value(3, 300, T0, T0));
  // Two packets arrive between the read and the delete.
  std::vector<FlowEntry> read = t.entries();
  t.set(flow(1), value(5, 500, T0, T0 + 2 * kSec));
  const auto& r = c.collect(read, T0 + 2 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].value.packets, 5u);
  EXPECT_EQ(r.ended[0].value.bytes, 500u);
  EXPECT_EQ(t.removes, 1);
}

TEST(FlowCollectorEnd, AFlowMissingFromTheReadWasEvicted) {
  FakeTable t;
  FlowCollector c(config(), T0);
  t.set(flow(1), value(4, 400, T0, T0));
  t.set(flow(2), value(9, 900, T0, T0));
  c.collect(t.entries(), T0 + kSec, t.remover());
  t.erase(flow(1));  // the LRU took it
  const auto& r = c.collect(t.entries(), T0 + 2 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].reason, EndReason::evicted);
  EXPECT_EQ(r.ended[0].value.packets, 4u);  // the last known counts
  EXPECT_EQ(r.ended_total.evicted, 1u);
  EXPECT_EQ(t.removes, 0);  // nothing to delete
  EXPECT_EQ(c.tracked_flows(), 1u);
  // A flow we ended ourselves is not "evicted" when it is missing next time.
  EXPECT_TRUE(c.collect(t.entries(), T0 + 3 * kSec, t.remover()).ended.empty());
}

TEST(FlowCollectorEnd, AKeyReusedAfterEvictionIsANewFlow) {
  FakeTable t;
  FlowCollector c(config(SortKey::packets, 1), T0);
  t.set(flow(1), value(100, 10000, T0, T0 + kSec));
  c.collect(t.entries(), T0 + kSec, t.remover());
  // Evicted and started again between two reads: fewer packets, later start.
  t.set(flow(1), value(2, 200, T0 + 3 * kSec / 2, T0 + 3 * kSec / 2));
  const auto& r = c.collect(t.entries(), T0 + 2 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].reason, EndReason::evicted);
  EXPECT_EQ(r.ended[0].value.packets, 100u);
  ASSERT_EQ(r.top.size(), 1u);
  EXPECT_EQ(r.top[0].delta_packets, 2u);  // counted from its own start
  EXPECT_DOUBLE_EQ(r.top[0].bytes_per_sec, 200.0);
}

TEST(FlowCollectorEnd, ActiveTimeoutCutsTheFlowWhichRestartsFresh) {
  FakeTable t;
  CollectorConfig cfg = config();
  cfg.active_timeout_ns = 10 * kSec;
  FlowCollector c(cfg, T0);
  std::uint64_t packets = 0;
  for (int s = 1; s <= 9; ++s) {
    packets += 10;
    t.set(flow(1), value(packets, packets * 100, T0, T0 + s * kSec));
    EXPECT_TRUE(c.collect(t.entries(), T0 + s * kSec, t.remover()).ended.empty()) << s;
  }
  t.set(flow(1), value(packets + 10, (packets + 10) * 100, T0, T0 + 10 * kSec));
  const auto& r = c.collect(t.entries(), T0 + 10 * kSec, t.remover());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].reason, EndReason::active_timeout);
  EXPECT_EQ(r.ended[0].value.packets, 100u);
  EXPECT_FALSE(t.has(flow(1)));
  // Its next packets make a new flow (as the BPF program would insert it).
  t.set(flow(1), value(3, 300, T0 + 10 * kSec + 1, T0 + 11 * kSec));
  const auto& r2 = c.collect(t.entries(), T0 + 11 * kSec, t.remover());
  EXPECT_TRUE(r2.ended.empty());  // not taken for an eviction
  ASSERT_EQ(r2.top.size(), 1u);
  EXPECT_EQ(r2.top[0].value.packets, 3u);
  EXPECT_EQ(r2.top[0].delta_packets, 3u);
  EXPECT_EQ(r2.ended_total.active_timeout, 1u);
}

TEST(FlowCollectorEnd, StateIsOnlyKeptForFlowsInTheTable) {
  FakeTable t;
  CollectorConfig cfg = config();
  cfg.idle_timeout_ns = kSec;
  FlowCollector c(cfg, T0);
  for (std::uint16_t i = 1; i <= 500; ++i) t.set(flow(i), value(1, 100, T0, T0));
  c.collect(t.entries(), T0 + kSec / 2, t.remover());
  EXPECT_EQ(c.tracked_flows(), 500u);
  c.collect(t.entries(), T0 + 2 * kSec, t.remover());  // all idle
  EXPECT_EQ(c.tracked_flows(), 0u);
  EXPECT_TRUE(t.entries().empty());
  for (int s = 3; s <= 60; ++s) c.collect(t.entries(), T0 + s * kSec, t.remover());
  EXPECT_EQ(c.window_records(), 0u);  // their records left the 40 s window
}

// ---- time ----------------------------------------------------------------------

TEST(StampClock, JiffiesAndCoarseNanosecondsMapToMonotonicTime) {
  flow_top_clock c{};
  c.stamp = 1000;  // jiffies at HZ=250: 4 ms each
  c.coarse_ns = 10'000'000'000;
  c.hz = 250;
  const StampClock j = StampClock::from(c);
  EXPECT_EQ(j.to_ns(1000), 10'000'000'000u);
  EXPECT_EQ(j.to_ns(750), 9'000'000'000u);
  EXPECT_EQ(j.to_ns(1001), 10'004'000'000u);  // stamped after the reference
  EXPECT_EQ(j.to_ns(0), 0u);                  // "never" stays never
  c.hz = 300;                                 // 3.333... ms: no rounding drift
  EXPECT_EQ(StampClock::from(c).to_ns(1000 + 300 * 3600), 10'000'000'000u + 3600'000'000'000u);
  c.stamp = c.coarse_ns;  // no HZ: stamps are the coarse clock's nanoseconds
  c.hz = 0;
  EXPECT_EQ(StampClock::from(c).to_ns(7'000'000'000), 7'000'000'000u);
  EXPECT_EQ(StampClock().to_ns(42), 42u);  // the default maps a stamp to itself
}

TEST(FlowTable, MergePerCpuCopies) {
  flow_top_value cpu[3] = {value(2, 200, 0, 0), value(3, 300, 1500, 1900, 0x02), value(1, 100, 1200, 1300, 0x10)};
  cpu[0] = {};  // CPU 0 never saw the flow
  const flow_top_value m = merge_percpu(cpu, 3, sizeof(flow_top_value));
  EXPECT_EQ(m.packets, 4u);
  EXPECT_EQ(m.bytes, 400u);
  EXPECT_EQ(m.first_seen, 1200u);  // the earliest non-zero
  EXPECT_EQ(m.last_seen, 1900u);
  EXPECT_EQ(m.tcp_flags, 0x12);
}

// ---- the index ------------------------------------------------------------------

TEST(FlowIndex, FindsEveryKeyThroughInsertsAndErasesWithCollisions) {
  // Keys in a state array, as FlowCollector keeps them; a tiny table (by
  // reserving little) so probe runs are long and deletions shift them.
  std::vector<flow_top_key> keys;
  for (std::uint16_t i = 0; i < 5000; ++i) keys.push_back(key4("10.0.0.1", "10.0.0.2", i, 80, 6, i % 3));
  const auto key_of = [&keys](std::uint32_t i) -> const flow_top_key& { return keys[i]; };
  FlowIndex index;
  std::vector<bool> present(keys.size(), false);
  std::mt19937 rng(3);
  for (int round = 0; round < 20; ++round) {
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
      const bool want = rng() % 2;
      const std::uint64_t h = FlowIndex::hash(keys[i]);
      if (want && !present[i]) index.insert(h, i);
      if (!want && present[i]) index.erase(keys[i], h, key_of);
      present[i] = want;
    }
    std::size_t n = 0;
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
      const std::uint32_t got = index.find(keys[i], FlowIndex::hash(keys[i]), key_of);
      ASSERT_EQ(got, present[i] ? i : FlowIndex::kNone) << "round " << round << " key " << i;
      n += present[i];
    }
    ASSERT_EQ(index.size(), n);
  }
}

// ---- samples ------------------------------------------------------------------

std::string tag(const netmon::Sample& s, const char* k) {
  const auto* v = s.tag_value(k);
  return v ? *v : "<none>";
}

std::string text(const netmon::Sample& s, const char* k) {
  const auto* f = s.field(k);
  return f ? netmon::field_text(*f) : "<none>";
}

std::vector<std::string> names(const std::vector<netmon::Tag>& tags) {
  std::vector<std::string> out;
  for (const auto& t : tags) out.push_back(t.key);
  return out;
}

std::vector<std::string> names(const std::vector<netmon::Field>& fields) {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.key);
  return out;
}

TEST(FlowSamples, SchemaOfEveryMeasurement) {
  FakeTable t;
  CollectorConfig cfg = config(SortKey::bytes, 10);
  cfg.idle_timeout_ns = 10 * kSec;
  FlowCollector c(cfg, T0);
  const auto tcp = key4("192.0.2.1", "198.51.100.7", 40000, 443, 6, 3, FLOW_TOP_EGRESS);
  const auto udp6 = key6("2001:db8::1", "2001:db8::2", 5353, 53, 17, 3);
  const auto icmp = key4("10.0.0.1", "10.0.0.2", 0, 0x0800, 1, 3);  // echo request: type 8 code 0
  const auto gre = key4("10.0.0.1", "10.0.0.2", 0, 0, 47, 3);
  t.set(tcp, value(4, 4000, T0 + kSec, T0 + 3 * kSec / 2, NETMON_TCP_SYN | NETMON_TCP_ACK | NETMON_TCP_FIN));
  t.set(udp6, value(3, 3000, T0, T0 + kSec));
  t.set(icmp, value(2, 2000, T0, T0));
  t.set(gre, value(1, 1000, T0, T0));
  c.collect(t.entries(), T0 + 2 * kSec, t.remover());
  const auto& r = c.collect(t.entries(), T0 + 12 * kSec, t.remover());  // every flow: FIN or idle

  TableInfo info;
  info.capacity = 65536;
  info.insert_failures = 7;
  info.untracked_packets = 11;
  info.read_method = "batch";
  info.read_duration_us = 42;
  SampleOptions opts;
  opts.sort = SortKey::bytes;
  opts.finished = true;
  opts.unix_offset_ns = 1'795'536'000'000'000'000 - T0;  // T0 is 2026-11-24T16:00:00Z
  opts.ifname = [](std::uint32_t i) { return "eth" + std::to_string(i); };
  const auto samples = build_samples(r, info, opts);
  ASSERT_EQ(samples.size(), 4u + 2u + 4u);

  const auto& top = samples[0];
  EXPECT_EQ(top.measurement, "flow_top");
  EXPECT_EQ(names(top.tags), (std::vector<std::string>{"rank", "ifname", "ifindex", "direction", "family", "proto",
                                                       "src", "dst", "sport", "dport"}));
  EXPECT_EQ(names(top.fields),
            (std::vector<std::string>{"packets", "bytes", "packets_per_sec", "bytes_per_sec", "bytes_per_sec_2s",
                                      "bytes_per_sec_10s", "bytes_per_sec_40s", "first_seen", "last_seen", "duration_s",
                                      "tcp_flags", "ip_proto"}));
  EXPECT_EQ(tag(top, "rank"), "1");
  EXPECT_EQ(tag(top, "ifname"), "eth3");
  EXPECT_EQ(tag(top, "ifindex"), "3");
  EXPECT_EQ(tag(top, "direction"), "egress");
  EXPECT_EQ(tag(top, "family"), "ipv4");
  EXPECT_EQ(tag(top, "proto"), "tcp");
  EXPECT_EQ(tag(top, "src"), "192.0.2.1");
  EXPECT_EQ(tag(top, "dst"), "198.51.100.7");
  EXPECT_EQ(tag(top, "sport"), "40000");
  EXPECT_EQ(tag(top, "dport"), "443");
  EXPECT_EQ(top.u64("packets"), 4u);
  EXPECT_TRUE(std::holds_alternative<std::uint64_t>(*top.field("packets")));  // a gauge, not a host counter
  EXPECT_EQ(top.u64("bytes"), 4000u);
  EXPECT_EQ(text(top, "first_seen"), "2026-11-24T16:00:01.000Z");
  EXPECT_EQ(text(top, "last_seen"), "2026-11-24T16:00:01.500Z");
  EXPECT_EQ(top.number("duration_s"), 0.5);
  EXPECT_EQ(text(top, "tcp_flags"), "SYN|ACK|FIN");
  EXPECT_EQ(top.u64("ip_proto"), 6u);

  EXPECT_EQ(tag(samples[1], "family"), "ipv6");
  EXPECT_EQ(tag(samples[1], "src"), "2001:db8::1");
  EXPECT_EQ(tag(samples[1], "proto"), "udp");
  EXPECT_EQ(text(samples[1], "tcp_flags"), "");
  EXPECT_EQ(tag(samples[2], "proto"), "icmp");
  EXPECT_EQ(tag(samples[2], "sport"), "0");
  EXPECT_EQ(tag(samples[2], "dport"), "2048");  // 8 << 8 | 0
  EXPECT_EQ(tag(samples[3], "proto"), "other");
  EXPECT_EQ(samples[3].u64("ip_proto"), 47u);

  const auto& other = samples[4];
  EXPECT_EQ(other.measurement, "flow_top_other");
  EXPECT_EQ(names(other.tags), (std::vector<std::string>{"sort"}));
  EXPECT_EQ(tag(other, "sort"), "bytes");
  EXPECT_EQ(names(other.fields), (std::vector<std::string>{"flows", "packets", "bytes", "bytes_per_sec"}));

  const auto& table = samples[5];
  EXPECT_EQ(table.measurement, "flow_top_table");
  EXPECT_EQ(
      names(table.fields),
      (std::vector<std::string>{"entries", "capacity", "insert_failures", "untracked_packets", "ended_idle",
                                "ended_active_timeout", "ended_tcp_fin", "ended_tcp_rst", "evicted",
                                "evicted_unseen_packets", "evicted_unseen_bytes", "read_method", "read_duration_us"}));
  EXPECT_EQ(table.u64("entries"), 4u);
  EXPECT_EQ(table.u64("capacity"), 65536u);
  EXPECT_TRUE(std::holds_alternative<netmon::Counter>(*table.field("insert_failures")));
  EXPECT_EQ(table.u64("insert_failures"), 7u);
  EXPECT_EQ(table.u64("untracked_packets"), 11u);
  EXPECT_EQ(table.u64("ended_idle"), 3u);
  EXPECT_EQ(table.u64("ended_tcp_fin"), 1u);
  EXPECT_EQ(text(table, "read_method"), "batch");
  EXPECT_EQ(table.u64("read_duration_us"), 42u);

  const auto& end = samples[6];
  EXPECT_EQ(end.measurement, "flow_top_end");
  // An ended flow is an event; everything before it is a snapshot.
  for (std::size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(samples[i].is_event(), i >= 6) << samples[i].measurement;
  EXPECT_EQ(names(end.tags), (std::vector<std::string>{"ifname", "ifindex", "direction", "family", "proto", "src",
                                                       "dst", "sport", "dport", "reason"}));
  EXPECT_EQ(names(end.fields),
            (std::vector<std::string>{"packets", "bytes", "first_seen", "last_seen", "duration_s", "tcp_flags",
                                      "ip_proto", "ip_bytes", "first_seen_ms", "last_seen_ms", "tcp_control_bits"}));
  std::map<std::string, std::string> reasons;
  for (std::size_t i = 6; i < samples.size(); ++i) reasons[tag(samples[i], "proto")] = tag(samples[i], "reason");
  EXPECT_EQ(reasons["tcp"], "tcp_fin");
  EXPECT_EQ(reasons["udp"], "idle");

  opts.finished = false;
  EXPECT_EQ(build_samples(r, info, opts).size(), 6u);  // no flow_top_end without finished=true
}

TEST(FlowSamples, TcpFlagsText) {
  EXPECT_EQ(tcp_flags_text(0), "");
  EXPECT_EQ(tcp_flags_text(0x12), "SYN|ACK");
  EXPECT_EQ(tcp_flags_text(0xff), "SYN|ACK|FIN|RST|PSH|URG|ECE|CWR");
}

// ---- options ----------------------------------------------------------------

// The plugin library itself, loaded as netmon-host loads it: every option is
// validated, unknown keys are refused with the list of valid ones.
TEST(FlowTopOptions, ValidOptionsAreAcceptedAndBadOnesRefusedWithTheirName) {
  {
    auto p = flow_top_plugin();
    EXPECT_NO_THROW(p->configure("{}"));
  }
  {
    auto p = flow_top_plugin();
    EXPECT_NO_THROW(p->configure(R"({"table_size": 1024, "top": 1000, "sort": "rate", "read": "iterate",
        "idle_timeout": "5s", "active_timeout": "10m", "finished": true, "attach": "netlink", "priority": 100,
        "placement": "last"})"));
  }
  const std::vector<std::pair<std::string, std::string>> bad{
      {R"({"bogus": 1})", "unknown option flow_top.bogus"},
      {R"({"top": 0})", "flow_top.top"},
      {R"({"top": 1001})", "flow_top.top"},
      {R"({"table_size": 8})", "flow_top.table_size"},
      {R"({"sort": "pps"})", "flow_top.sort"},
      {R"({"read": "mmap"})", "flow_top.read"},
      {R"({"idle_timeout": "soon"})", "flow_top.idle_timeout"},
      {R"({"active_timeout": 0})", "flow_top.active_timeout"},
      {R"({"finished": "yes"})", "flow_top.finished"},
      {R"({"attach": "xdp"})", "flow_top.attach"},
      {R"({"priority": 70000})", "flow_top.priority"},
      {R"({"placement": "middle"})", "option flow_top.placement: expected one of first, last"},
      {R"({"attach": "netlink", "placement": "first"})", "option flow_top.placement: first needs a tcx link"},
  };
  for (const auto& [json, expected] : bad) {
    auto p = flow_top_plugin();
    try {
      p->configure(json);
      ADD_FAILURE() << json << " was accepted";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << json << ": " << e.what();
    }
  }
}

// ---- names ------------------------------------------------------------------

// The names users type (-o flow_top.sort=..., read_method=...) and see (the
// `reason` tag, the startup line), and the messages naming the choices.
TEST(FlowTopNames, SortKeysEndReasonsAndReadMethods) {
  EXPECT_STREQ(to_string(SortKey::packets), "packets");
  EXPECT_STREQ(to_string(SortKey::bytes), "bytes");
  EXPECT_STREQ(to_string(SortKey::rate), "rate");
  for (const SortKey k : {SortKey::packets, SortKey::bytes, SortKey::rate}) EXPECT_EQ(parse_sort_key(to_string(k)), k);
  EXPECT_STREQ(to_string(EndReason::idle), "idle");
  EXPECT_STREQ(to_string(EndReason::active_timeout), "active_timeout");
  EXPECT_STREQ(to_string(EndReason::tcp_fin), "tcp_fin");
  EXPECT_STREQ(to_string(EndReason::tcp_rst), "tcp_rst");
  EXPECT_STREQ(to_string(EndReason::evicted), "evicted");
  EXPECT_STREQ(to_string(ReadMethod::automatic), "auto");
  EXPECT_STREQ(to_string(ReadMethod::batch), "batch");
  EXPECT_STREQ(to_string(ReadMethod::iterate), "iterate");
  for (const ReadMethod m : {ReadMethod::automatic, ReadMethod::batch, ReadMethod::iterate})
    EXPECT_EQ(parse_read_method(to_string(m)), m);
  const auto message = [](auto f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message([] { parse_sort_key("flows"); }), "unknown flow sort key 'flows' (use packets, bytes or rate)");
  EXPECT_EQ(message([] { parse_read_method("all"); }),
            "unknown flow table read method 'all' (use auto, batch or iterate)");
}

}  // namespace
