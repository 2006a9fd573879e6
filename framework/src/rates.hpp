// SPDX-License-Identifier: MIT
// RateTracker: derives `<key>_per_sec` for every counter field, once, in the
// host, the same way for every plugin.
//
// A series is (plugin, measurement, tags). Its rate is the counter's increase
// since the previous interval divided by the time between the two collections.
// A series seen for the first time is assumed to have counted from zero since
// the previous collection (or since the plugins started, on the first one):
// counters start at zero when their series appears. A counter that went down
// (reset) is treated the same way. Series not seen in an interval are
// forgotten.
#pragma once

#include <netmon/sample.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace netmon::host {

class RateTracker {
 public:
  explicit RateTracker(std::int64_t start_ns) : prev_ns_(start_ns) {}

  // Adds rate fields to the samples of one plugin's collection at now_ns.
  void apply(const std::string& plugin, std::vector<Sample>& samples, std::int64_t now_ns);
  // Ends the interval: forgets series not seen in it.
  void end_interval(std::int64_t now_ns);

  [[nodiscard]] std::size_t series() const { return series_.size(); }

 private:
  struct Series {
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    std::uint64_t seen_in = 0;
  };
  std::unordered_map<std::string, Series> series_;
  std::int64_t prev_ns_;
  std::uint64_t interval_no_ = 1;
};

}  // namespace netmon::host
