// SPDX-License-Identifier: MIT
// netmon-bench-tcp-health: what the tcp_health plugin's programs cost per
// retransmission, against an empty program on the same hook
// (tp_btf/tcp_retransmit_skb), in one run (root).
//
// One TCP connection from this process to a server in a namespace, across a
// veth pair the benchmark creates; an nftables rule there drops every 20th
// data segment, so the sender retransmits all the time. Rounds of --seconds
// each, interleaved: nothing on the hook, the empty program, tcp_health's
// programs (all four attached, as the plugin attaches them). Reported, as
// medians over the rounds:
//   - the bytes per second the connection carries, and the segments it
//     retransmits per second (the socket's tcpi_total_retrans), in each case;
//   - ns per run of the retransmission program, from the kernel's own
//     statistics (run_time_ns / run_cnt).
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fmt/format.h>
#include <netmon/bpf.hpp>
#include <netmon/error.hpp>
#include <netmon/tracing.hpp>
#include <string>
#include <thread>
#include <vector>

#include "empty_tracing.skel.h"
#include "tcp_health_bpf.skel.h"
#include "tracing_bench.hpp"

namespace {

using netmon::bench::Clock;
using netmon::bench::median;

constexpr int kPort = 5001;

// A listening socket in namespace ns (entered by a thread of its own).
int listen_in(const std::string& ns, const std::string& ip) {
  int fd = -1;
  std::thread([&] {
    const int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) return;
    ::close(nsfd);
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(kPort);
    ::inet_pton(AF_INET, ip.c_str(), &at.sin_addr);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || ::listen(fd, 1) != 0) {
      ::close(fd);
      fd = -1;
    }
  }).join();
  if (fd < 0) throw netmon::Error("cannot listen in namespace " + ns);
  return fd;
}

std::uint32_t total_retrans(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 ? info.tcpi_total_retrans : 0;
}

struct Round {
  double bytes_per_sec = 0, retrans_per_sec = 0;
};

// Writes as fast as the connection takes for `seconds`.
Round send_for(int fd, double seconds) {
  static const std::vector<char> chunk(1 << 16, 'b');
  const std::uint32_t r0 = total_retrans(fd);
  std::uint64_t sent = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) throw netmon::Error("the benchmark's connection failed");
    sent += static_cast<std::uint64_t>(n);
  }
  return {static_cast<double>(sent) / seconds, (total_retrans(fd) - r0) / seconds};
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  double seconds = 1.0;
  CLI::App app{
      "Cost of the tcp_health plugin per retransmission, against an empty program on "
      "tp_btf/tcp_retransmit_skb",
      "netmon-bench-tcp-health"};
  app.add_option("--rounds", rounds, "rounds of each case (median reported)")->check(CLI::Range(1, 99));
  app.add_option("--seconds", seconds, "length of a round")->check(CLI::Range(0.2, 60.0));
  CLI11_PARSE(app, argc, argv);
  try {
    const netmon::bench::RunTimeStats run_time;
    const netmon::bench::VethNs pair("nmbt", 202);
    netmon::bench::run(
        pair.in_ns("nft -f - <<'EOF'\n"
                   "table inet nmbench {\n"
                   "  chain input {\n"
                   "    type filter hook input priority 0;\n"
                   "    tcp dport " +
                   std::to_string(kPort) +
                   " ip length > 100 numgen inc mod 20 == 0 drop\n"
                   "  }\n"
                   "}\n"
                   "EOF"));
    auto empty = netmon::bpf::Skeleton<empty_tracing>::open_and_load("empty_tracing");
    const bool with_err = netmon::bpf::kernel_tracepoint_args("tcp_retransmit_skb") >= 3;
    auto tcp = netmon::bpf::Skeleton<tcp_health_bpf>::open_and_load("tcp_health", [with_err](tcp_health_bpf& s) {
      bpf_program__set_autoload(with_err ? s.progs.tcp_health_retransmit_old : s.progs.tcp_health_retransmit, false);
    });
    bpf_program* retransmit = with_err ? tcp->progs.tcp_health_retransmit : tcp->progs.tcp_health_retransmit_old;

    // The server reads and discards until the benchmark closes.
    const int listener = listen_in(pair.ns, pair.peer_ip);
    std::thread server([listener] {
      const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      std::vector<char> buf(1 << 16);
      while (c >= 0 && ::read(c, buf.data(), buf.size()) > 0) {
      }
      if (c >= 0) ::close(c);
    });
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kPort);
    ::inet_pton(AF_INET, pair.peer_ip.c_str(), &to.sin_addr);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0)
      throw netmon::Error("cannot connect to the benchmark's server");

    struct Case {
      const char* name;
      std::vector<bpf_program*> progs;  // progs[0] is the one measured
      std::vector<double> bps, rps, ns_per_run;
    };
    std::vector<Case> cases{{"no program", {}, {}, {}, {}},
                            {"empty tp_btf", {empty->progs.empty_tcp_retransmit_skb}, {}, {}, {}},
                            {"tcp_health",
                             {retransmit, tcp->progs.tcp_health_retransmit_synack, tcp->progs.tcp_health_send_reset,
                              tcp->progs.tcp_health_receive_reset},
                             {},
                             {},
                             {}}};
    send_for(fd, 0.2);  // warm-up: the window opens
    for (int r = 0; r < rounds; ++r) {
      for (auto& c : cases) {
        netmon::bpf::Links links;
        for (bpf_program* p : c.progs) links.add(netmon::bpf::attach_program(p, c.name));
        netmon::bench::RunStats before{};
        if (!c.progs.empty()) before = netmon::bench::prog_stats(bpf_program__fd(c.progs[0]));
        const Round got = send_for(fd, seconds);
        c.bps.push_back(got.bytes_per_sec);
        c.rps.push_back(got.retrans_per_sec);
        if (!c.progs.empty()) {
          const auto after = netmon::bench::prog_stats(bpf_program__fd(c.progs[0]));
          if (after.runs > before.runs)
            c.ns_per_run.push_back(static_cast<double>(after.ns - before.ns) /
                                   static_cast<double>(after.runs - before.runs));
        }
      }
    }
    ::close(fd);
    server.join();
    ::close(listener);
    const double base = median(cases[0].bps);
    const double empty_ns = median(cases[1].ns_per_run);
    fmt::print("{} rounds of {} s, one TCP connection across a veth pair, every 20th data segment dropped\n", rounds,
               seconds);
    fmt::print("{:<16} {:>10} {:>9} {:>14} {:>11} {:>9}\n", "on the hook", "MB/s", "vs none", "retransmits/s",
               "ns per run", "vs empty");
    for (const auto& c : cases) {
      const double bps = median(c.bps);
      const std::string ns = c.ns_per_run.empty() ? "-" : fmt::format("{:.1f}", median(c.ns_per_run));
      const std::string ratio = c.ns_per_run.empty() ? "-" : fmt::format("{:.2f}x", median(c.ns_per_run) / empty_ns);
      fmt::print("{:<16} {:>10.1f} {:>8.3f}x {:>14.0f} {:>11} {:>9}\n", c.name, bps / 1e6, bps / base, median(c.rps),
                 ns, ratio);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "netmon-bench-tcp-health: {}\n", e.what());
    return 1;
  }
  return 0;
}
