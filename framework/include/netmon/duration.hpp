// SPDX-License-Identifier: MIT
// Durations as users write them: "1s", "500ms", "2m", "1.5s", "250us",
// "1h"; a bare number is seconds.
#pragma once

#include <netmon/error.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

namespace netmon {

// Throws netmon::Error naming `what` (an option, a flag) on a malformed, zero
// or negative value.
inline std::chrono::nanoseconds parse_duration(const std::string& text, const std::string& what) {
  const auto bad = [&](const std::string& why) {
    return Error(what + ": '" + text + "' " + why + " (use a duration such as 1s, 500ms, 2m)");
  };
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) throw bad("is not a duration");
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i) throw bad("is not a duration");
  const std::string unit = text.substr(i);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e9;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ns") scale = 1;
  else if (unit == "m" || unit == "min") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else throw bad("has an unknown unit '" + unit + "'");
  const double ns = value * scale;
  if (!std::isfinite(ns) || ns > 1e18) throw bad("is too long");
  if (ns < 1) throw bad("must be greater than zero");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

// The shortest exact text parse_duration reads back as `d`: "1s", "500ms",
// "2m", "1h", "250us", "7ns".
inline std::string format_duration(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  for (const Unit u : {Unit{3'600'000'000'000, "h"}, Unit{60'000'000'000, "m"}, Unit{1'000'000'000, "s"},
                       Unit{1'000'000, "ms"}, Unit{1'000, "us"}})
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  return std::to_string(ns) + "ns";
}

}  // namespace netmon
