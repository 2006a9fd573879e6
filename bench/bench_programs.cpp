// SPDX-License-Identifier: MIT
// netmon-bench-programs: each plugin program's cost per packet, measured with
// bpf_prog_test_run_opts (repeat >= 1e6) on representative frames, as a ratio
// to an empty XDP or TC program measured in the same run. Trials alternate
// program and baseline so drift hits both; the median trial is reported.
//
//   sudo build/bin/netmon-bench-programs [--repeat 10000000] [--trials 7]
#include <netmon/bpf.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <vector>

#include "empty.skel.h"
#include "flow_cache.hpp"
#include "flow_top.h"
#include "flow_top.skel.h"
#include "flow_top_untotalled.skel.h"
#include "naive_flow.skel.h"
#include "support/bpf_run.hpp"
#include "support/packet.hpp"
#include "tc_stats_bpf.skel.h"
#include "variants.skel.h"
#include "xdp_stats.skel.h"

namespace {

using netmon::test::Packet;

struct Frame {
  const char* name;
  std::vector<std::uint8_t> bytes;
};

std::vector<Frame> frames() {
  return {
      {"IPv4/UDP 64 B", Packet().eth().ipv4("10.0.0.1", "10.0.0.2").udp(40000, 53).payload(22).build()},
      {"IPv4/TCP 1500 B", Packet().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(40000, 443, 0x10).payload(1446).build()},
      {"IPv6/TCP 100 B", Packet().eth().ipv6("2001:db8::1", "2001:db8::2").tcp(40000, 443, 0x10).payload(26).build()},
      {"VLAN/IPv4/UDP", Packet().eth().vlan(100).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(18).build()},
  };
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ns per run: the whole test_run call timed with CLOCK_MONOTONIC divided by
// its repetitions (the kernel's own `duration` is rounded to whole ns, too
// coarse for a ratio; the syscall's fixed cost is < 0.01 ns per repetition).
double ns_per_run(int prog, const std::vector<std::uint8_t>& frame, std::uint32_t repeat) {
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC, &a);
  netmon::test::test_run(prog, frame, repeat);
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (static_cast<double>(b.tv_sec - a.tv_sec) * 1e9 + static_cast<double>(b.tv_nsec - a.tv_nsec)) / repeat;
}

// ns per packet of prog and of baseline, alternating, median of trials.
// Fills every slot of both halves of flow_top's cache, on every CPU, with a
// flow no frame of this benchmark has: each packet then finds its slot taken
// and is counted straight into the table (the path of a host with more
// flows per CPU than slots). Nothing drains the cache here, so they stay.
void hold_every_cache_slot(const flow_top& skel) {
  std::vector<flow_top_cache_slot> per_cpu(static_cast<std::size_t>(netmon::bpf::possible_cpus()));
  for (auto& slot : per_cpu) {
    slot = {};
    slot.key.family = 4;
    slot.key.ip_proto = 17;
    slot.key.saddr[0] = 0x01020304;
    slot.used = 1;
  }
  for (std::uint32_t i = 0; i < 2 * FLOW_TOP_CACHE_SLOTS; ++i)
    if (const int rc = bpf_map_update_elem(bpf_map__fd(skel.maps.cache), &i, per_cpu.data(), BPF_ANY); rc != 0)
      throw netmon::Error(netmon::errno_message("cannot fill flow_top's cache", rc));
}

std::pair<double, double> measure(int prog, int baseline, const std::vector<std::uint8_t>& frame, std::uint32_t repeat,
                                  int trials) {
  std::vector<double> p, b;
  ns_per_run(prog, frame, repeat / 10);  // warm up caches and the map entry
  ns_per_run(baseline, frame, repeat / 10);
  for (int t = 0; t < trials; ++t) {
    b.push_back(ns_per_run(baseline, frame, repeat));
    p.push_back(ns_per_run(prog, frame, repeat));
  }
  return {median(p), median(b)};
}

}  // namespace

int main(int argc, char** argv) {
  std::uint32_t repeat = 10'000'000;
  int trials = 7;
  bool variants = false;
  CLI::App app{"Cost per packet of netmon's BPF programs, as ratios to empty programs", "netmon-bench-programs"};
  app.add_option("--repeat", repeat, "bpf_prog_test_run repetitions per trial")
      ->check(CLI::Range(1'000'000u, 100'000'000u));
  app.add_option("--trials", trials, "trials per measurement (median reported)")->check(CLI::Range(1, 99));
  bool totals = false;
  app.add_flag("--flow-totals", totals,
               "Also measure flow_top against itself without its per-interface totals (every frame)");
  app.add_flag("--variants", variants,
               "Also measure the variant programs that locate the floor under the targets (IPv4/UDP frame)");
  CLI11_PARSE(app, argc, argv);

  try {
    auto empty = netmon::bpf::Skeleton<::empty>::open_and_load("empty");
    auto xdp = netmon::bpf::Skeleton<xdp_stats>::open_and_load("xdp_stats");
    auto tc = netmon::bpf::Skeleton<tc_stats_bpf>::open_and_load("tc_stats");
    // As the plugin loads it on a host whose interface indexes are small:
    // the totals indexed by ifindex (bpf_prog_test_run's packets come from
    // lo), and the flow cache on unless `cache` is false.
    const auto load_flow_top = [](bool cache) {
      return netmon::bpf::Skeleton<flow_top>::open_and_load("flow_top", [cache](flow_top& s) {
        s.rodata->totals_direct = 1;
        bpf_map__set_max_entries(s.maps.totals, 2 * 64);
        bpf_map__set_max_entries(s.maps.failed, 2 * 64);
        netmon::flow_top::configure_flow_cache(s, cache);
      });
    };
    auto flows = load_flow_top(true);
    auto naive = netmon::bpf::Skeleton<naive_flow>::open_and_load("naive_flow");
    struct Program {
      const char* name;
      int fd;
      int baseline;
      const char* baseline_name;
    };
    const std::vector<Program> programs{
        {"xdp_stats (XDP)", bpf_program__fd(xdp->progs.xdp_stats_rx), bpf_program__fd(empty->progs.empty_xdp),
         "empty XDP"},
        {"tc_stats ingress (TC)", bpf_program__fd(tc->progs.tc_stats_ingress), bpf_program__fd(empty->progs.empty_tc),
         "empty TC"},
        // The warm-up run creates the flow: every measured packet is of an existing flow.
        {"flow_top ingress (TC)", bpf_program__fd(flows->progs.flow_top_ingress),
         bpf_program__fd(empty->progs.empty_tc), "empty TC"},
        {"reference: parse + LRU hash update", bpf_program__fd(naive->progs.naive_flow),
         bpf_program__fd(empty->progs.empty_tc), "empty TC"},
    };
    fmt::print("repeat {} per trial, median of {} trials, ns per packet\n\n", repeat, trials);
    fmt::print("| program | frame | program ns | baseline | baseline ns | ratio |\n|---|---|---|---|---|---|\n");
    for (const auto& p : programs)
      for (const auto& f : frames()) {
        const auto [ns, base] = measure(p.fd, p.baseline, f.bytes, repeat, trials);
        fmt::print("| {} | {} | {:.2f} | {} | {:.2f} | {:.2f}x |\n", p.name, f.name, ns, p.baseline_name, base,
                   base > 0 ? ns / base : 0.0);
      }
    if (totals) {
      // Both paths: a packet held by the cache (its totals come at the
      // drain) and one counted straight into the table (the cache off).
      fmt::print(
          "\nflow_top's totals: flow_top against itself without them\n\n"
          "| path | frame | flow_top ns | without totals ns | ratio |\n|---|---|---|---|---|\n");
      for (const bool cache : {true, false}) {
        auto with = load_flow_top(cache);
        auto without = netmon::bpf::Skeleton<flow_top_untotalled>::open_and_load(
            "flow_top_untotalled",
            [cache](flow_top_untotalled& s) { netmon::flow_top::configure_flow_cache(s, cache); });
        for (const auto& f : frames()) {
          const auto [ns, base] = measure(bpf_program__fd(with->progs.flow_top_ingress),
                                          bpf_program__fd(without->progs.flow_top_ingress), f.bytes, repeat, trials);
          fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.3f}x |\n", cache ? "its flow in the cache" : "without the cache",
                     f.name, ns, base, base > 0 ? ns / base : 0.0);
        }
      }
    }
    if (variants) {
      auto var = netmon::bpf::Skeleton<::variants>::open_and_load("variants");
      auto uncached = load_flow_top(false);
      auto taken = load_flow_top(true);
      hold_every_cache_slot(*taken);
      const std::vector<Program> rows{
          {"counter update only", bpf_program__fd(var->progs.count_only), bpf_program__fd(empty->progs.empty_xdp),
           "empty XDP"},
          {"least IPv4 classification + update", bpf_program__fd(var->progs.fast_ipv4_count),
           bpf_program__fd(empty->progs.empty_xdp), "empty XDP"},
          {"xdp_stats", bpf_program__fd(xdp->progs.xdp_stats_rx), bpf_program__fd(empty->progs.empty_xdp), "empty XDP"},
          {"parse only", bpf_program__fd(var->progs.parse_only), bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"per-CPU hash, 16-byte key", bpf_program__fd(var->progs.flow_percpu16),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"LRU per-CPU hash, 16-byte key", bpf_program__fd(var->progs.flow_lru_percpu16),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"hash, 44-byte key, atomic adds", bpf_program__fd(var->progs.flow_hash44_atomic),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"LRU hash, 44-byte key, atomic adds", bpf_program__fd(var->progs.flow_lru44_atomic),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"LRU per-CPU hash, 44-byte key", bpf_program__fd(var->progs.flow_lru_percpu44),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"LRU per-CPU hash, 44-byte key, 24-byte value", bpf_program__fd(var->progs.flow_lru_percpu44_small),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"flow_top, its flow in the cache", bpf_program__fd(flows->progs.flow_top_ingress),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"flow_top, its slot held by another flow (counted in the table)",
           bpf_program__fd(taken->progs.flow_top_ingress), bpf_program__fd(empty->progs.empty_tc), "empty TC"},
          {"flow_top without the cache (flow_top.cache=false)", bpf_program__fd(uncached->progs.flow_top_ingress),
           bpf_program__fd(empty->progs.empty_tc), "empty TC"},
      };
      const auto frame = frames().front();
      fmt::print("\nvariants, frame {}\n\n| variant | ns | baseline | baseline ns | ratio |\n|---|---|---|---|---|\n",
                 frame.name);
      for (const auto& r : rows) {
        const auto [ns, base] = measure(r.fd, r.baseline, frame.bytes, repeat, trials);
        fmt::print("| {} | {:.2f} | {} | {:.2f} | {:.2f}x |\n", r.name, ns, r.baseline_name, base,
                   base > 0 ? ns / base : 0.0);
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "netmon-bench-programs: {}\n", e.what());
    return 1;
  }
  return 0;
}
