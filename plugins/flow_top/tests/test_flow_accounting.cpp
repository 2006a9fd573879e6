// SPDX-License-Identifier: MIT
// flow_top's accounting without a kernel: a simulated LRU flow table with
// per-interface totals, as the BPF programs keep them, under churn that
// evicts flows before any read sees them and packets that arrive while the
// table is being read. Every interval the parts must add up to the totals
// exactly, evicted_unseen must never count a packet that was not evicted
// unseen (the simulation knows which were), and after a quiet read it must
// be exactly that.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "flow_accounting.hpp"
#include "flow_collector.hpp"
#include "flow_test_util.hpp"

namespace {

using namespace netmon::flow_top;
using namespace netmon::flow_top::test;

constexpr std::int64_t T0 = 1000 * kSec;

Counts sum(std::initializer_list<Counts> parts) {
  Counts c;
  for (const Counts& p : parts) c.add_raw(p.packets, p.bytes, p.ip_bytes);
  return c;
}

std::string key_bytes(const flow_top_key& k) { return {reinterpret_cast<const char*>(&k), sizeof k}; }

// The kernel side: an LRU table of `capacity` flows and the totals, both
// counted per packet as flow_top.bpf.c does; it also knows what no read saw.
class SimKernel {
 public:
  explicit SimKernel(std::size_t capacity) : capacity_(capacity) {}

  void packet(const flow_top_key& k, std::uint32_t len, std::int64_t now) {
    TotalsReading& t = totals_[{k.ifindex, k.direction}];
    t.total.add_raw(1, len, len - 14);
    auto it = flows_.find(key_bytes(k));
    if (it == flows_.end()) {
      if (flows_.size() == capacity_) evict_lru();
      Flow f;
      f.key = k;
      f.value = value(0, 0, now, now);
      it = flows_.emplace(key_bytes(k), f).first;
    }
    Flow& f = it->second;
    f.value.packets += 1;
    f.value.bytes += len;
    f.value.ip_bytes += len - 14;
    f.value.last_seen = static_cast<std::uint64_t>(now);
    f.used = ++clock_;
  }

  // The table as a read returns it; remembers what each flow had when read.
  std::vector<FlowEntry> read() {
    std::vector<FlowEntry> out;
    for (auto& [kb, f] : flows_) {
      out.push_back({f.key, f.value});
      f.read = f.value.packets;
    }
    return out;
  }

  RemoveFn remover() {
    return [this](const flow_top_key& k) -> std::optional<flow_top_value> {
      auto it = flows_.find(key_bytes(k));
      if (it == flows_.end()) return std::nullopt;
      const flow_top_value v = it->second.value;
      flows_.erase(it);
      return v;
    };
  }

  [[nodiscard]] const Totals& totals() const { return totals_; }
  // Packets evicted that no read had seen, per (interface, direction).
  [[nodiscard]] std::uint64_t unseen(TotalsKey k) const {
    auto it = unseen_.find(k);
    return it == unseen_.end() ? 0 : it->second;
  }

 private:
  struct Flow {
    flow_top_key key{};
    flow_top_value value{};
    std::uint64_t read = 0;  // packets when last read
    std::uint64_t used = 0;
  };

  void evict_lru() {
    auto lru = flows_.begin();
    for (auto it = flows_.begin(); it != flows_.end(); ++it)
      if (it->second.used < lru->second.used) lru = it;
    unseen_[{lru->second.key.ifindex, lru->second.key.direction}] += lru->second.value.packets - lru->second.read;
    flows_.erase(lru);
  }

  std::size_t capacity_;
  std::map<std::string, Flow> flows_;
  Totals totals_;
  std::map<TotalsKey, std::uint64_t> unseen_;
  std::uint64_t clock_ = 0;
};

flow_top_key random_flow(std::mt19937& rng, int pool) {
  const int n = std::uniform_int_distribution<int>(0, pool - 1)(rng);
  return key4("10.0.0.1", "10.0.0.2", static_cast<std::uint16_t>(1000 + n / 4), 80, 17,
              /*ifindex=*/2 + (n % 2), /*dir=*/static_cast<std::uint8_t>((n / 2) % 2));
}

void check_interval(const std::vector<Accounting>& accounts, const SimKernel& kernel, bool quiet_read,
                    std::map<TotalsKey, Counts>& previous_unseen, int interval) {
  for (const Accounting& a : accounts) {
    const TotalsKey k{a.ifindex, a.direction};
    SCOPED_TRACE("interval " + std::to_string(interval) + ", ifindex " + std::to_string(a.ifindex) + ", direction " +
                 std::to_string(a.direction));
    // The invariant, exactly, in packets, bytes and IP-layer bytes.
    EXPECT_EQ(sum({a.table, a.ended, a.evicted, a.evicted_unseen, a.unread, a.insert_failed}), a.total);
    EXPECT_EQ(a.total, kernel.totals().at(k).total);
    // Never more than what really went unseen, and it never decreases.
    EXPECT_LE(a.evicted_unseen.packets, kernel.unseen(k));
    EXPECT_GE(a.evicted_unseen.packets, previous_unseen[k].packets);
    previous_unseen[k] = a.evicted_unseen;
    if (quiet_read) {
      EXPECT_EQ(a.unread.packets, 0u);
      EXPECT_EQ(a.evicted_unseen.packets, kernel.unseen(k));
    }
  }
}

TEST(FlowAccounting, PartsAddUpToTheTotalsEveryIntervalUnderChurn) {
  std::mt19937 rng(12);
  SimKernel kernel(64);
  CollectorConfig cfg;
  cfg.idle_timeout_ns = 3 * kSec;
  FlowCollector collector(cfg, T0);
  FlowAccountant accountant;
  std::map<TotalsKey, Counts> previous;
  std::int64_t now = T0;
  std::uniform_int_distribution<std::uint32_t> len(60, 1514);
  bool saw_unseen = false, saw_unread = false;
  for (int interval = 1; interval <= 60; ++interval) {
    // Traffic between reads: from a pool three times the table's size, so
    // flows are born and evicted before any read sees them.
    for (int i = 0; i < 300; ++i) kernel.packet(random_flow(rng, 192), len(rng), now += 1'000'000);
    const Totals before = kernel.totals();
    std::vector<FlowEntry> read = kernel.read();
    // Every third read is quiet; the others see packets arrive meanwhile.
    const bool quiet = interval % 3 == 0;
    if (!quiet)
      for (int i = 0; i < 40; ++i) kernel.packet(random_flow(rng, 192), len(rng), now += 1'000'000);
    const CollectResult& r = collector.collect(read, now, kernel.remover());
    const std::vector<Accounting>& accounts = accountant.settle(before, kernel.totals(), r.accounts);
    ASSERT_EQ(accounts.size(), 4u);
    check_interval(accounts, kernel, quiet, previous, interval);
    for (const Accounting& a : accounts) {
      saw_unseen = saw_unseen || a.evicted_unseen.packets > 0;
      saw_unread = saw_unread || a.unread.packets > 0;
    }
  }
  EXPECT_TRUE(saw_unseen) << "the churn must evict flows no read saw";
  EXPECT_TRUE(saw_unread) << "packets must arrive during reads";
}

TEST(FlowAccounting, NoEvictionNoUnseenAndEndedFlowsKeepTheirFinalCounts) {
  SimKernel kernel(1000);
  CollectorConfig cfg;
  cfg.idle_timeout_ns = kSec;
  FlowCollector collector(cfg, T0);
  FlowAccountant accountant;
  std::int64_t now = T0;
  const flow_top_key a = key4("10.0.0.1", "10.0.0.2", 1, 2, 17, 2, FLOW_TOP_INGRESS);
  for (int i = 0; i < 10; ++i) kernel.packet(a, 114, now += 1000);
  Totals before = kernel.totals();
  std::vector<FlowEntry> read = kernel.read();
  const CollectResult& r1 = collector.collect(read, now, kernel.remover());
  const Accounting first = accountant.settle(before, kernel.totals(), r1.accounts).at(0);
  EXPECT_EQ(first.table, (Counts{10, 1140, 1000}));
  EXPECT_EQ(first.ended, Counts{});
  EXPECT_EQ(first.evicted_unseen, Counts{});
  EXPECT_EQ(first.unread, Counts{});

  // Two packets arrive between the read and the idle end's delete: the
  // final counts hold them, and they are no "unread".
  now += 2 * kSec;
  before = kernel.totals();
  read = kernel.read();
  kernel.packet(a, 114, now);
  kernel.packet(a, 114, now);
  const CollectResult& r2 = collector.collect(read, now + 2 * kSec, kernel.remover());
  ASSERT_EQ(r2.ended.size(), 1u);
  const Accounting second = accountant.settle(before, kernel.totals(), r2.accounts).at(0);
  EXPECT_EQ(second.table, Counts{});
  EXPECT_EQ(second.ended, (Counts{12, 1368, 1200}));
  EXPECT_EQ(second.total, (Counts{12, 1368, 1200}));
  EXPECT_EQ(second.unread, Counts{});
  EXPECT_EQ(second.evicted_unseen, Counts{});
}

TEST(FlowAccounting, InsertFailuresAreTheirOwnPart) {
  FlowAccountant accountant;
  Totals t;
  t[{2, 0}].total = {10, 1000, 860};
  t[{2, 0}].failed = {3, 300, 258};
  FlowAccount f{2, 0, {7, 700, 602}, {}, {}};
  const Accounting a = accountant.settle(t, t, {f}).at(0);
  EXPECT_EQ(a.insert_failed, (Counts{3, 300, 258}));
  EXPECT_EQ(a.table, (Counts{7, 700, 602}));
  EXPECT_EQ(a.evicted_unseen, Counts{});
  EXPECT_EQ(a.unread, Counts{});
  EXPECT_EQ(a.total, (Counts{10, 1000, 860}));
}

TEST(FlowAccounting, TotalsBehindTheTableAreToldApart) {
  // A packet in its flow but not yet in the totals (a program between the two).
  Totals t;
  t[{2, 0}].total = {4, 400, 344};
  const FlowAccount f{2, 0, {5, 500, 430}, {}, {}};
  EXPECT_TRUE(FlowAccountant::behind(t, {f}));
  t[{2, 0}].total = {5, 500, 430};
  EXPECT_FALSE(FlowAccountant::behind(t, {f}));
  // Failed packets are in the totals and in no flow.
  t[{2, 0}].failed = {1, 100, 86};
  EXPECT_TRUE(FlowAccountant::behind(t, {f}));
  EXPECT_FALSE(FlowAccountant::behind({}, {f})) << "an interface not read (deleted) is not compared";
}

}  // namespace
