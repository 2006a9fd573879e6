// SPDX-License-Identifier: MIT
// The clock and the median every benchmark reports with.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace netmon::bench {

using Clock = std::chrono::steady_clock;

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace netmon::bench
