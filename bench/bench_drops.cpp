// SPDX-License-Identifier: MIT
// netmon-bench-drops: what the drops plugin's program costs, against an
// empty program on the same hook (tp_btf/kfree_skb), in one run (root).
//
// A sender in this process pushes UDP datagrams as fast as it can across a
// veth pair the benchmark creates, to a closed port in a namespace: each one
// is freed as dropped (NO_SOCKET), so kfree_skb fires once per datagram.
// Rounds of --seconds each, interleaved: nothing on the hook, the empty
// program, drops' program. Reported, as medians over the rounds:
//   - datagrams per second (the pps a flood of drops reaches) in each case;
//   - ns per run of each program, from the kernel's own statistics
//     (bpf_enable_stats(BPF_STATS_RUN_TIME): run_time_ns / run_cnt).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <netmon/bpf.hpp>
#include <netmon/error.hpp>
#include <netmon/tracing.hpp>
#include <string>
#include <vector>

#include "drops_bpf.skel.h"
#include "empty_tracing.skel.h"
#include "tracing_bench.hpp"

namespace {

using netmon::bench::Clock;
using netmon::bench::median;

// Datagrams sent in `seconds`, as fast as one blocking socket goes.
double flood(int fd, const sockaddr_in& to, double seconds) {
  const char payload[64] = {};
  std::uint64_t sent = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end)
    for (int i = 0; i < 256; ++i)
      sent += ::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) > 0;
  return static_cast<double>(sent) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  double seconds = 1.0;
  CLI::App app{"Cost of the drops plugin per freed skb, against an empty program on tp_btf/kfree_skb",
               "netmon-bench-drops"};
  app.add_option("--rounds", rounds, "rounds of each case (median reported)")->check(CLI::Range(1, 99));
  app.add_option("--seconds", seconds, "length of a round")->check(CLI::Range(0.2, 60.0));
  CLI11_PARSE(app, argc, argv);
  try {
    const netmon::bench::RunTimeStats run_time;
    const netmon::bench::VethNs pair("nmbd", 201);
    auto empty = netmon::bpf::Skeleton<empty_tracing>::open_and_load("empty_tracing");
    auto drops = netmon::bpf::Skeleton<drops_bpf>::open_and_load("drops");
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    ::inet_pton(AF_INET, pair.peer_ip.c_str(), &to.sin_addr);

    struct Case {
      const char* name;
      bpf_program* prog;
      std::vector<double> pps, ns_per_run;
    };
    std::vector<Case> cases{{"no program", nullptr, {}, {}},
                            {"empty tp_btf/kfree_skb", empty->progs.empty_kfree_skb, {}, {}},
                            {"drops", drops->progs.drops_kfree_skb, {}, {}}};
    flood(fd, to, 0.2);  // warm-up: neighbours, caches
    for (int r = 0; r < rounds; ++r) {
      for (auto& c : cases) {
        netmon::bpf::Links links;
        netmon::bench::RunStats before{};
        if (c.prog) {
          links.add(netmon::bpf::attach_program(c.prog, c.name));
          before = netmon::bench::prog_stats(bpf_program__fd(c.prog));
        }
        c.pps.push_back(flood(fd, to, seconds));
        if (c.prog) {
          const auto after = netmon::bench::prog_stats(bpf_program__fd(c.prog));
          if (after.runs > before.runs)
            c.ns_per_run.push_back(static_cast<double>(after.ns - before.ns) /
                                   static_cast<double>(after.runs - before.runs));
        }
      }
    }
    ::close(fd);
    const double base_pps = median(cases[0].pps);
    const double empty_ns = median(cases[1].ns_per_run);
    fmt::print("{} rounds of {} s, UDP to a closed port across a veth pair (every datagram dropped, NO_SOCKET)\n",
               rounds, seconds);
    fmt::print("{:<24} {:>12} {:>10} {:>12} {:>10}\n", "on tp_btf/kfree_skb", "datagrams/s", "vs none", "ns per run",
               "vs empty");
    for (const auto& c : cases) {
      const double pps = median(c.pps);
      const std::string ns = c.ns_per_run.empty() ? "-" : fmt::format("{:.1f}", median(c.ns_per_run));
      const std::string ratio = c.ns_per_run.empty() ? "-" : fmt::format("{:.2f}x", median(c.ns_per_run) / empty_ns);
      fmt::print("{:<24} {:>12.0f} {:>9.3f}x {:>12} {:>10}\n", c.name, pps, pps / base_pps, ns, ratio);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "netmon-bench-drops: {}\n", e.what());
    return 1;
  }
  return 0;
}
