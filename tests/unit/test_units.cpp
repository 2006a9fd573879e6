// SPDX-License-Identifier: MIT
// Human units (framework/support/units.cpp), timestamps (timefmt.cpp) and
// addresses (classes.cpp).
#include <netmon/classes.hpp>
#include <netmon/timefmt.hpp>
#include <netmon/units.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>

#include "support/unit_util.hpp"

using namespace netmon;

TEST(Units, HumanCount) {
  EXPECT_EQ(human_count(0), "0");
  EXPECT_EQ(human_count(1), "1");
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_count(1000), "1.0K");
  EXPECT_EQ(human_count(1234), "1.2K");
  EXPECT_EQ(human_count(85'400), "85.4K");
  EXPECT_EQ(human_count(999'949), "999.9K");
  EXPECT_EQ(human_count(999'950), "1.0M");  // not "1000.0K"
  EXPECT_EQ(human_count(2'100'000), "2.1M");
  EXPECT_EQ(human_count(3'000'000'000ull), "3.0G");
  EXPECT_EQ(human_count(std::numeric_limits<std::uint64_t>::max()), "18.4E");
}

TEST(Units, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1000), "1.0 KB");
  EXPECT_EQ(human_bytes(1024), "1.0 KB");  // decimal prefixes
  EXPECT_EQ(human_bytes(85'400), "85.4 KB");
  EXPECT_EQ(human_bytes(999'950), "1.0 MB");  // not "1000.0 KB"
  EXPECT_EQ(human_bytes(999'949), "999.9 KB");
  EXPECT_EQ(human_bytes(1'500'000'000), "1.5 GB");
  EXPECT_EQ(human_bytes(4'869'766), "4.9 MB");
}

TEST(Units, HumanRate) {
  EXPECT_EQ(human_rate(0), "0");
  EXPECT_EQ(human_rate(-3), "0");
  EXPECT_EQ(human_rate(std::numeric_limits<double>::quiet_NaN()), "0");
  EXPECT_EQ(human_rate(0.4), "0.4");
  EXPECT_EQ(human_rate(9.5), "9.5");
  EXPECT_EQ(human_rate(10), "10");
  EXPECT_EQ(human_rate(999.4), "999");
  EXPECT_EQ(human_rate(999.96), "1.0K");
  EXPECT_EQ(human_rate(1234.5), "1.2K");
  EXPECT_EQ(human_rate(9998.8), "10.0K");
  EXPECT_EQ(human_rate(2.5e6), "2.5M");
}

// A rate that prints as 1000 in the base unit must move to the next prefix,
// as whole counts do ("Scales v to [1, 1000)"): 999.7 -> "1.0K", not "1000".
TEST(Units, RateJustBelowThousandMovesToNextPrefix) {
  EXPECT_EQ(human_rate(999.7), "1.0K");
  EXPECT_EQ(human_rate(999.5), "1.0K");
  EXPECT_EQ(human_byte_rate(999.7), "1.0 KB/s");
  EXPECT_EQ(human_rate(999.49), "999");
}

TEST(Units, HumanByteRate) {
  EXPECT_EQ(human_byte_rate(0), "0 B/s");
  EXPECT_EQ(human_byte_rate(-1), "0 B/s");
  EXPECT_EQ(human_byte_rate(512), "512 B/s");
  EXPECT_EQ(human_byte_rate(85'400), "85.4 KB/s");
  EXPECT_EQ(human_byte_rate(999'950), "1.0 MB/s");
  EXPECT_EQ(human_byte_rate(2'419'713.1), "2.4 MB/s");
}

TEST(TimeFormat, Iso8601Utc) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(1'795'536'678'004'073'596), "2026-11-24T16:11:18.004Z");
  EXPECT_EQ(iso8601_utc(999'999'999), "1970-01-01T00:00:00.999Z");  // truncated, not rounded
  // Before the epoch: still a valid time with a non-negative millisecond part.
  EXPECT_EQ(iso8601_utc(-1'000'000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso8601_utc(-1'000'000'000), "1969-12-31T23:59:59.000Z");
}

TEST(TimeFormat, LocalHmsFollowsTz) {
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  EXPECT_EQ(local_hms(1'795'536'678'004'073'596), "16:11:18");
  ::setenv("TZ", "UTC-2", 1);  // POSIX: two hours east of UTC
  ::tzset();
  EXPECT_EQ(local_hms(1'795'536'678'004'073'596), "18:11:18");
  if (old) ::setenv("TZ", saved.c_str(), 1);
  else ::unsetenv("TZ");
  ::tzset();
}

TEST(Units, AddressText) {
  std::array<std::uint8_t, 16> a{};
  ASSERT_EQ(inet_pton(AF_INET, "192.0.2.1", a.data()), 1);
  EXPECT_EQ(address_text(NETMON_L3_IPV4, a.data()), "192.0.2.1");  // the first 4 bytes; the rest ignored
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", a.data()), 1);
  EXPECT_EQ(address_text(NETMON_L3_IPV6, a.data()), "2001:db8::1");
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:198.51.100.7", a.data()), 1);
  EXPECT_EQ(address_text(NETMON_L3_IPV6, a.data()), "198.51.100.7");  // IPv4-mapped, shown as IPv4
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:0:198.51.100.7", a.data()), 1);
  EXPECT_EQ(address_text(NETMON_L3_IPV6, a.data()), "::ffff:0:c633:6407");  // not mapped: IPv6 text
}
