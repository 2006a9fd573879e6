// SPDX-License-Identifier: MIT
// netmon-bench-flow-table: reading flow_top's table at 1,000,000 flows, with
// batch lookups against key iteration (as a ratio), and one whole collect
// (read + top-N + windows) at that size. The table is flow_top's own map
// (loaded from its skeleton, sized to hold every flow), filled from user space.
//
//   sudo build/bin/netmon-bench-flow-table [--flows 1000000] [--trials 3]
#include <netmon/bpf.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <vector>

#include "flow_collector.hpp"
#include "flow_table.hpp"
#include "flow_top.skel.h"

namespace {

using namespace netmon::flow_top;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Flow i: a distinct IPv4 5-tuple with i+1 packets on the first CPU.
void fill(int fd, std::uint32_t flows, std::size_t ncpus) {
  constexpr std::uint32_t kChunk = 8192;
  const std::size_t stride = percpu_stride(sizeof(flow_top_value));
  std::vector<flow_top_key> keys(kChunk);
  std::vector<unsigned char> values(kChunk * ncpus * stride);
  const std::int64_t now = monotonic_ns();
  for (std::uint32_t base = 0; base < flows; base += kChunk) {
    const std::uint32_t n = std::min(kChunk, flows - base);
    std::fill(values.begin(), values.end(), 0);
    for (std::uint32_t j = 0; j < n; ++j) {
      const std::uint32_t i = base + j;
      flow_top_key k{};
      k.ifindex = 1;
      k.family = 0;  // NETMON_L3_IPV4
      k.ip_proto = 17;
      k.saddr[0] = htonl(0x0a000000u | (i >> 8));
      k.daddr[0] = htonl(0x0a800001u);
      k.sport = htons(static_cast<std::uint16_t>(1024 + (i & 0xff)));
      k.dport = htons(53);
      keys[j] = k;
      flow_top_value v{};
      v.packets = i + 1;
      v.bytes = (i + 1) * 100ull;
      v.first_seen = static_cast<std::uint64_t>(now);
      v.last_seen = static_cast<std::uint64_t>(now);
      std::memcpy(&values[j * ncpus * stride], &v, sizeof v);
    }
    std::uint32_t count = n;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    const int rc = bpf_map_update_batch(fd, keys.data(), values.data(), &count, &opts);
    if (rc != 0 || count != n)
      throw netmon::Error(netmon::errno_message("cannot fill the flow table", rc != 0 ? rc : ENOSPC));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::uint32_t flows = 1'000'000;
  int trials = 3;
  CLI::App app{"flow_top's table at scale: batch read vs key iteration, and one collect", "netmon-bench-flow-table"};
  app.add_option("--flows", flows, "Flows in the table")->check(CLI::Range(1000u, 16'000'000u));
  app.add_option("--trials", trials, "Trials per measurement (median reported)")->check(CLI::Range(1, 99));
  CLI11_PARSE(app, argc, argv);
  try {
    const std::uint32_t capacity = flows + flows / 4;  // room enough that the LRU evicts nothing
    auto skel = netmon::bpf::Skeleton<flow_top>::open_and_load("flow_top", [capacity](flow_top& s) {
      if (bpf_map__set_max_entries(s.maps.flows, capacity) != 0) throw netmon::Error("cannot size the flow table");
    });
    const int fd = bpf_map__fd(skel->maps.flows);
    const std::size_t ncpus = static_cast<std::size_t>(netmon::bpf::possible_cpus());
    auto t0 = Clock::now();
    fill(fd, flows, ncpus);
    fmt::print("flow table: {} flows (capacity {}), {} CPUs, filled in {:.2f} s\n\n", flows, capacity, ncpus,
               seconds_since(t0));

    std::vector<FlowEntry> entries;
    std::vector<double> batch, iterate;
    FlowTableReader by_batch(fd, ReadMethod::batch);
    FlowTableReader by_key(fd, ReadMethod::iterate);
    for (int t = 0; t < trials; ++t) {
      t0 = Clock::now();
      by_batch.read(entries);
      batch.push_back(seconds_since(t0));
      if (entries.size() != flows)
        throw netmon::Error(fmt::format("batch read {} flows, not {}", entries.size(), flows));
      t0 = Clock::now();
      by_key.read(entries);
      iterate.push_back(seconds_since(t0));
      if (entries.size() != flows)
        throw netmon::Error(fmt::format("iteration read {} flows, not {}", entries.size(), flows));
    }
    fmt::print("| read of the whole table | median of {} | per flow |\n|---|---|---|\n", trials);
    fmt::print("| bpf_map_lookup_batch | {:.3f} s | {:.0f} ns |\n", median(batch), median(batch) / flows * 1e9);
    fmt::print("| get_next_key + lookup | {:.3f} s | {:.0f} ns |\n", median(iterate), median(iterate) / flows * 1e9);
    fmt::print("| ratio (iteration / batch) | {:.1f}x | |\n\n", median(iterate) / median(batch));

    // One collect = read + ranking + windows; the first one also builds the per-flow state.
    CollectorConfig cfg;
    const auto no_remove = [](const flow_top_key&) -> std::optional<flow_top_value> { return std::nullopt; };
    FlowCollector collector(cfg, monotonic_ns());
    std::vector<double> first, steady;
    for (int t = 0; t < trials + 1; ++t) {
      t0 = Clock::now();
      by_batch.read(entries);
      const auto& r = collector.collect(entries, monotonic_ns(), no_remove);
      (t == 0 ? first : steady).push_back(seconds_since(t0));
      if (r.entries != flows || r.top.size() != cfg.top) throw netmon::Error("collect saw the wrong table");
    }
    fmt::print("| one collect at {} flows (read + top {} + windows) | time |\n|---|---|\n", flows, cfg.top);
    fmt::print("| first (builds the per-flow state) | {:.3f} s |\n", first[0]);
    fmt::print("| steady state, median of {} | {:.3f} s |\n", trials, median(steady));
  } catch (const std::exception& e) {
    fmt::print(stderr, "netmon-bench-flow-table: {}\n", e.what());
    return 1;
  }
  return 0;
}
