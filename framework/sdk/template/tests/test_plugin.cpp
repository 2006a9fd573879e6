// @NAME@'s BPF program on crafted frames, with bpf_prog_test_run_opts: the
// kernel runs the real program on the bytes given, and the test reads the
// map. Needs root.
#include <netmon/bpf.hpp>
#include <netmon/bpf/packet.h>

#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "@NAME@.h"
#include "@NAME@.skel.h"

namespace {

// Ethernet + IPv4 + TCP (flags given), no payload.
std::vector<std::uint8_t> ipv4_tcp(std::uint8_t tcp_flags) {
  std::vector<std::uint8_t> f(14 + 20 + 20, 0);
  f[12] = NETMON_ETH_P_IP >> 8;    // EtherType IPv4
  f[14] = 0x45;                    // version 4, IHL 5
  f[17] = 40;                      // total length
  f[14 + 9] = NETMON_IPPROTO_TCP;  // protocol
  f[14 + 20 + 12] = 5 << 4;        // TCP data offset
  f[14 + 20 + 13] = tcp_flags;
  return f;
}

int run(int prog_fd, const std::vector<std::uint8_t>& frame, int repeat) {
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()), .repeat = repeat);
  EXPECT_EQ(bpf_prog_test_run_opts(prog_fd, &opts), 0);
  return static_cast<int>(opts.retval);
}

TEST(@NAME@, CountsPacketsBytesAndSyns) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto skel = netmon::bpf::Skeleton<@NAME@>::open_and_load("@NAME@");
  const int in = bpf_program__fd(skel->progs.@NAME@_in);
  EXPECT_EQ(run(in, ipv4_tcp(NETMON_TCP_SYN), 3), TC_ACT_UNSPEC);  // 3 SYNs
  EXPECT_EQ(run(in, ipv4_tcp(NETMON_TCP_ACK), 4), TC_ACT_UNSPEC);  // 4 ACKs
  const auto sum = netmon::bpf::percpu_sum<@NAME@_counts>(bpf_map__fd(skel->maps.counts), 0u);
  EXPECT_EQ(sum.packets, 7u);
  EXPECT_EQ(sum.bytes, 7u * 54);
  EXPECT_EQ(sum.tcp_syn, 3u);
}

}  // namespace
