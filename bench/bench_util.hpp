// SPDX-License-Identifier: MIT
// Timing helpers the user-space benchmarks share.
#pragma once

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "bench_stats.hpp"
#include "loader.hpp"

namespace netmon::bench {

// Seconds per call of f, over `iterations` calls.
template <class F>
double per_call(int iterations, F&& f) {
  const auto t0 = Clock::now();
  for (int i = 0; i < iterations; ++i) f();
  return std::chrono::duration<double>(Clock::now() - t0).count() / iterations;
}

// The json sink library, open on /dev/null: the baseline the benchmarks
// measure sinks against (NETMON_BENCH_PLUGIN_DIR is the build's plugin dir).
inline std::unique_ptr<host::SinkInstance> open_json_sink_on_dev_null() {
  auto json = std::make_unique<host::SinkInstance>(
      host::load_sink_library(std::filesystem::path(NETMON_BENCH_PLUGIN_DIR) / "libnetmon_json.so"), "json:/dev/null");
  netmon_sink_context ctx{};
  ctx.struct_size = sizeof ctx;
  ctx.target = "/dev/null";
  ctx.interval_ns = 1'000'000'000;
  ctx.options_json = "{}";
  json->open(ctx);
  return json;
}

}  // namespace netmon::bench
