// SPDX-License-Identifier: MIT
// What the benchmarks of tracing programs share (root): a veth pair to a
// namespace they create and remove, and the kernel's own accounting of a
// program's runs (bpf_enable_stats(BPF_STATS_RUN_TIME)).
#pragma once

#include <bpf/bpf.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <netmon/error.hpp>
#include <string>

#include "bench_stats.hpp"

namespace netmon::bench {

inline void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw netmon::Error("command failed: " + cmd);
}

// A veth pair: <prefix>0-PID here (10.<net>.0.1/30), its peer <prefix>1 in
// namespace nmbench-<prefix>-PID (10.<net>.0.2), IPv6 off; removed by the
// destructor.
struct VethNs {
  std::string ns, dev, peer, local_ip, peer_ip;
  VethNs(const std::string& prefix, int net)
      : ns("nmbench-" + prefix + "-" + std::to_string(::getpid())),
        dev(prefix + "0-" + std::to_string(::getpid())),
        peer(prefix + "1"),
        local_ip("10." + std::to_string(net) + ".0.1"),
        peer_ip("10." + std::to_string(net) + ".0.2") {
    run("ip netns add " + ns);
    run(in_ns("sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1"));
    run("ip link add " + dev + " type veth peer name " + peer + " netns " + ns);
    run("sysctl -qw net.ipv6.conf." + dev + ".disable_ipv6=1");
    run("ip addr add " + local_ip + "/30 dev " + dev + " && ip link set " + dev + " up");
    run(in_ns("sh -c 'ip addr add " + peer_ip + "/30 dev " + peer + " && ip link set " + peer +
              " up && ip link set lo up'"));
    run("ping -c 1 -W 2 " + peer_ip + " >/dev/null");
  }
  ~VethNs() {
    std::system(("ip link del " + dev + " 2>/dev/null").c_str());
    std::system(("ip netns del " + ns + " 2>/dev/null").c_str());
  }
  VethNs(const VethNs&) = delete;
  VethNs& operator=(const VethNs&) = delete;
  [[nodiscard]] std::string in_ns(const std::string& cmd) const { return "ip netns exec " + ns + " " + cmd; }
};

// A program's run time and count so far, as the kernel accounts them.
struct RunStats {
  std::uint64_t ns = 0, runs = 0;
};
inline RunStats prog_stats(int prog_fd) {
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) throw netmon::Error("cannot read a program's statistics");
  return {info.run_time_ns, info.run_cnt};
}

// Turns the kernel's run-time accounting on for as long as it lives.
class RunTimeStats {
 public:
  RunTimeStats() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME)) {
    if (fd_ < 0) throw netmon::Error("bpf_enable_stats(BPF_STATS_RUN_TIME) failed: run as root");
  }
  ~RunTimeStats() { ::close(fd_); }
  RunTimeStats(const RunTimeStats&) = delete;
  RunTimeStats& operator=(const RunTimeStats&) = delete;

 private:
  int fd_;
};

}  // namespace netmon::bench
