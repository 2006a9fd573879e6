// SPDX-License-Identifier: MIT
// Timing helpers the user-space benchmarks share.
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

// Seconds per call of f, over `iterations` calls.
template <class F>
double per_call(int iterations, F&& f) {
  const auto t0 = Clock::now();
  for (int i = 0; i < iterations; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / iterations;
}

}  // namespace netmon::bench
