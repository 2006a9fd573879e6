// SPDX-License-Identifier: MIT
#include <netmon/timefmt.hpp>

#include <fmt/format.h>

#include <ctime>

namespace netmon {

namespace {
std::time_t seconds_of(std::int64_t unix_ns) {
  std::int64_t s = unix_ns / 1'000'000'000;
  if (unix_ns < 0 && unix_ns % 1'000'000'000 != 0) --s;
  return static_cast<std::time_t>(s);
}
}  // namespace

std::string iso8601_utc(std::int64_t unix_ns) {
  const std::time_t t = seconds_of(unix_ns);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto ms = static_cast<int>((unix_ns - static_cast<std::int64_t>(t) * 1'000'000'000) / 1'000'000);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string local_hms(std::int64_t unix_ns) {
  const std::time_t t = seconds_of(unix_ns);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace netmon
