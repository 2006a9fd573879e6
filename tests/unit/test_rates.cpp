// SPDX-License-Identifier: MIT
// RateTracker (framework/src/rates.hpp): `<counter>_per_sec` for every
// counter field, computed over the real time between collections.
#include "rates.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/unit_util.hpp"

using netmon::Counter;
using netmon::Sample;
using netmon::host::RateTracker;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kStart = 1'700'000'000 * kSec;

Sample iface(const std::string& name, std::uint64_t packets, std::uint64_t bytes) {
  return Sample("xdp_stats").tag("ifname", name).counter("packets", packets).counter("bytes", bytes);
}

// The value of a rate field, which must be a double.
double rate(const Sample& s, const std::string& key) {
  const auto* v = s.field(key);
  if (!v) {
    ADD_FAILURE() << "no field " << key;
    return -1;
  }
  if (!std::holds_alternative<double>(*v)) {
    ADD_FAILURE() << key << " is not a double";
    return -1;
  }
  return std::get<double>(*v);
}

// One interval: apply to one plugin's samples, then end the interval.
std::vector<Sample> step(RateTracker& t, std::vector<Sample> samples, std::int64_t now,
                         const std::string& plugin = "p") {
  t.apply(plugin, samples, now);
  t.end_interval(now);
  return samples;
}

}  // namespace

TEST(Rates, CounterRateOverKnownInterval) {
  RateTracker t(kStart);
  auto a = step(t, {iface("eth0", 1000, 64'000)}, kStart + 2 * kSec);
  // First sight: counted from zero since the start, 2 s ago.
  EXPECT_DOUBLE_EQ(rate(a[0], "packets_per_sec"), 500.0);
  EXPECT_DOUBLE_EQ(rate(a[0], "bytes_per_sec"), 32'000.0);

  auto b = step(t, {iface("eth0", 1600, 100'000)}, kStart + 2 * kSec + 500'000'000);  // 0.5 s later
  EXPECT_DOUBLE_EQ(rate(b[0], "packets_per_sec"), 1200.0);
  EXPECT_DOUBLE_EQ(rate(b[0], "bytes_per_sec"), 72'000.0);

  auto c = step(t, {iface("eth0", 1600, 100'000)}, kStart + 4 * kSec);  // idle
  EXPECT_DOUBLE_EQ(rate(c[0], "packets_per_sec"), 0.0);
  EXPECT_DOUBLE_EQ(rate(c[0], "bytes_per_sec"), 0.0);
}

TEST(Rates, RateFieldsAreAppendedAfterTheOriginals) {
  RateTracker t(kStart);
  auto a = step(t, {iface("eth0", 10, 20)}, kStart + kSec);
  ASSERT_EQ(a[0].fields.size(), 4u);
  EXPECT_EQ(a[0].fields[0].key, "packets");
  EXPECT_EQ(a[0].fields[1].key, "bytes");
  EXPECT_EQ(a[0].fields[2].key, "packets_per_sec");
  EXPECT_EQ(a[0].fields[3].key, "bytes_per_sec");
  // The counters themselves are untouched.
  EXPECT_EQ(std::get<Counter>(a[0].fields[0].value).value, 10u);
  EXPECT_EQ(std::get<Counter>(a[0].fields[1].value).value, 20u);
}

TEST(Rates, NewSeriesUsesBaselineZero) {
  RateTracker t(kStart);
  step(t, {iface("eth0", 100, 1000)}, kStart + kSec);
  // eth1 appears in the second interval with 300 packets: all of them count.
  auto b = step(t, {iface("eth0", 200, 2000), iface("eth1", 300, 3000)}, kStart + 3 * kSec);
  EXPECT_DOUBLE_EQ(rate(b[0], "packets_per_sec"), 50.0);
  EXPECT_DOUBLE_EQ(rate(b[1], "packets_per_sec"), 150.0);
  EXPECT_DOUBLE_EQ(rate(b[1], "bytes_per_sec"), 1500.0);
  EXPECT_EQ(t.series(), 2u);
}

TEST(Rates, NewCounterInKnownSeriesUsesBaselineZero) {
  RateTracker t(kStart);
  step(t, {Sample("m").counter("a", 100)}, kStart + kSec);
  auto b = step(t, {Sample("m").counter("a", 150).counter("b", 40)}, kStart + 2 * kSec);
  EXPECT_DOUBLE_EQ(rate(b[0], "a_per_sec"), 50.0);
  EXPECT_DOUBLE_EQ(rate(b[0], "b_per_sec"), 40.0);
}

TEST(Rates, CounterResetCountsFromZero) {
  RateTracker t(kStart);
  step(t, {iface("eth0", 5000, 50'000)}, kStart + kSec);
  // The counter went down (plugin restarted its map): the new value is the increase.
  auto b = step(t, {iface("eth0", 40, 400)}, kStart + 3 * kSec);
  EXPECT_DOUBLE_EQ(rate(b[0], "packets_per_sec"), 20.0);
  EXPECT_DOUBLE_EQ(rate(b[0], "bytes_per_sec"), 200.0);
  // ...and the next interval measures from the reset value.
  auto c = step(t, {iface("eth0", 140, 1400)}, kStart + 4 * kSec);
  EXPECT_DOUBLE_EQ(rate(c[0], "packets_per_sec"), 100.0);
}

TEST(Rates, LargeCountersStayExactInTheDelta) {
  RateTracker t(kStart);
  const std::uint64_t big = (std::uint64_t{1} << 62) + 1;
  step(t, {Sample("m").counter("n", big)}, kStart + kSec);
  auto b = step(t, {Sample("m").counter("n", big + 3)}, kStart + 2 * kSec);
  EXPECT_DOUBLE_EQ(rate(b[0], "n_per_sec"), 3.0);  // not lost to double rounding
}

TEST(Rates, NonCounterFieldsGetNoRate) {
  RateTracker t(kStart);
  Sample s("m");
  s.gauge("u", 5).gauge_i("i", -5).gauge_f("f", 1.5).flag("b", true).text("s", "x").counter("c", 10);
  auto a = step(t, {s}, kStart + kSec);
  ASSERT_EQ(a[0].fields.size(), 7u);
  for (const char* k : {"u_per_sec", "i_per_sec", "f_per_sec", "b_per_sec", "s_per_sec"})
    EXPECT_EQ(a[0].field(k), nullptr) << k;
  EXPECT_DOUBLE_EQ(rate(a[0], "c_per_sec"), 10.0);
  // The gauges are left as they were.
  EXPECT_EQ(a[0].u64("u"), 5u);
  EXPECT_EQ(std::get<std::int64_t>(*a[0].field("i")), -5);
}

TEST(Rates, SampleWithoutCountersIsLeftAlone) {
  RateTracker t(kStart);
  Sample s("m");
  s.tag("k", "v").gauge("u", 1);
  auto a = step(t, {s}, kStart + kSec);
  EXPECT_EQ(a[0], s);
}

TEST(Rates, SeriesNotSeenForAnIntervalIsForgotten) {
  RateTracker t(kStart);
  step(t, {iface("eth0", 1000, 0), iface("eth1", 1000, 0)}, kStart + kSec);
  EXPECT_EQ(t.series(), 2u);
  // eth1 missing for one interval.
  step(t, {iface("eth0", 2000, 0)}, kStart + 2 * kSec);
  EXPECT_EQ(t.series(), 1u);
  // eth1 back with 1500: forgotten, so its baseline is zero, not 1000.
  auto c = step(t, {iface("eth0", 3000, 0), iface("eth1", 1500, 0)}, kStart + 4 * kSec);
  EXPECT_DOUBLE_EQ(rate(c[0], "packets_per_sec"), 500.0);
  EXPECT_DOUBLE_EQ(rate(c[1], "packets_per_sec"), 750.0);
  EXPECT_EQ(t.series(), 2u);
}

TEST(Rates, SeriesIdentityIsPluginMeasurementAndTags) {
  RateTracker t(kStart);
  const std::int64_t t1 = kStart + kSec, t2 = kStart + 2 * kSec;
  std::vector<Sample> p1{iface("eth0", 100, 0)};
  std::vector<Sample> p2{iface("eth0", 1000, 0)};  // same measurement and tags, other plugin
  std::vector<Sample> p3{Sample("xdp_stats").tag("ifname", "eth0").tag("dir", "in").counter("packets", 7)};
  t.apply("a", p1, t1);
  t.apply("b", p2, t1);
  t.apply("a", p3, t1);
  t.end_interval(t1);
  EXPECT_EQ(t.series(), 3u);

  std::vector<Sample> q1{iface("eth0", 110, 0)};
  std::vector<Sample> q2{iface("eth0", 1100, 0)};
  std::vector<Sample> q3{Sample("xdp_stats").tag("ifname", "eth0").tag("dir", "in").counter("packets", 9)};
  t.apply("a", q1, t2);
  t.apply("b", q2, t2);
  t.apply("a", q3, t2);
  t.end_interval(t2);
  EXPECT_DOUBLE_EQ(rate(q1[0], "packets_per_sec"), 10.0);
  EXPECT_DOUBLE_EQ(rate(q2[0], "packets_per_sec"), 100.0);
  EXPECT_DOUBLE_EQ(rate(q3[0], "packets_per_sec"), 2.0);
}

TEST(Rates, TagValuesDoNotCollideAcrossKeyBoundaries) {
  // "a=b" + "c" must not be the same series as "a" + "b=c".
  RateTracker t(kStart);
  std::vector<Sample> x{Sample("m").tag("a=b", "c").counter("n", 100)};
  std::vector<Sample> y{Sample("m").tag("a", "b=c").counter("n", 1000)};
  t.apply("p", x, kStart + kSec);
  t.apply("p", y, kStart + kSec);
  t.end_interval(kStart + kSec);
  EXPECT_EQ(t.series(), 2u);
}

TEST(Rates, ZeroIntervalGivesZeroNotInfinity) {
  RateTracker t(kStart);
  auto a = step(t, {iface("eth0", 100, 100)}, kStart);
  EXPECT_DOUBLE_EQ(rate(a[0], "packets_per_sec"), 0.0);
}
