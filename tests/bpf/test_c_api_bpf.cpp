// SPDX-License-Identifier: MIT
// The C API of the support library (<netmon/support.h>) against the kernel:
// per-CPU reads of values whose size is no multiple of 8 (the kernel's stride
// is), and TC attach/detach in both modes on a veth pair, counted by the
// attached program itself. Needs root.
#include <netmon/bpf.hpp>
#include <netmon/support.h>

#include <gtest/gtest.h>
#include <net/if.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "foreign_tc.skel.h"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::bpf::UniqueFd;

// A one-entry per-CPU array whose value at CPU i is `value_size` bytes of
// (i + 1) * 16 + byte index, written at the kernel's 8-byte stride.
UniqueFd percpu_map(std::size_t value_size, int ncpu) {
  UniqueFd fd(
      bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "capi_test", 4, static_cast<std::uint32_t>(value_size), 1, nullptr));
  EXPECT_TRUE(fd) << std::strerror(errno);
  const std::size_t stride = (value_size + 7) / 8 * 8;
  std::vector<unsigned char> buf(stride * static_cast<std::size_t>(ncpu), 0);
  for (int i = 0; i < ncpu; ++i)
    for (std::size_t b = 0; b < value_size; ++b)
      buf[static_cast<std::size_t>(i) * stride + b] = static_cast<unsigned char>((i + 1) * 16 + b);
  const std::uint32_t key = 0;
  EXPECT_EQ(bpf_map_update_elem(fd.get(), &key, buf.data(), BPF_ANY), 0) << std::strerror(errno);
  return fd;
}

class CPercpuLookup : public ::testing::TestWithParam<std::size_t> {};

TEST_P(CPercpuLookup, PacksEveryCpusValueAndWritesNothingPastTheBuffer) {
  NETMON_REQUIRE_ROOT();
  const std::size_t size = GetParam();
  const int ncpu = netmon_possible_cpus();
  ASSERT_GT(ncpu, 0);
  auto fd = percpu_map(size, ncpu);
  constexpr std::size_t kCanary = 32;
  std::vector<unsigned char> out(size * static_cast<std::size_t>(ncpu) + kCanary, 0xab);
  const std::uint32_t key = 0;
  ASSERT_EQ(netmon_percpu_lookup(fd.get(), &key, out.data(), size, static_cast<std::size_t>(ncpu)), ncpu);
  for (int i = 0; i < ncpu; ++i)
    for (std::size_t b = 0; b < size; ++b)
      ASSERT_EQ(out[static_cast<std::size_t>(i) * size + b], static_cast<unsigned char>((i + 1) * 16 + b))
          << "cpu " << i << " byte " << b;
  for (std::size_t b = out.size() - kCanary; b < out.size(); ++b) ASSERT_EQ(out[b], 0xab) << "canary byte " << b;

  // Too small a buffer, or a size that is not the map's: refused, untouched.
  std::vector<unsigned char> small(out.size(), 0xcd);
  EXPECT_EQ(netmon_percpu_lookup(fd.get(), &key, small.data(), size, static_cast<std::size_t>(ncpu) - 1), -ENOSPC);
  EXPECT_EQ(netmon_percpu_lookup(fd.get(), &key, small.data(), size + 4, static_cast<std::size_t>(ncpu)), -EINVAL);
  EXPECT_EQ(netmon_percpu_lookup(fd.get(), &key, small.data(), size - 1, static_cast<std::size_t>(ncpu)), -EINVAL);
  for (const auto c : small) ASSERT_EQ(c, 0xcd);
}

INSTANTIATE_TEST_SUITE_P(ValueSizes, CPercpuLookup, ::testing::Values(4, 12, 8, 24));

TEST(CPercpu, SumsU64MembersOverCpusAndRefusesWhatIsNoPerCpuEntry) {
  NETMON_REQUIRE_ROOT();
  const int ncpu = netmon_possible_cpus();
  UniqueFd fd(bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "capi_sum", 4, 3 * 8, 4, nullptr));
  ASSERT_TRUE(fd) << std::strerror(errno);
  std::vector<std::uint64_t> values(3 * static_cast<std::size_t>(ncpu));
  for (int i = 0; i < ncpu; ++i)
    for (std::size_t k = 0; k < 3; ++k)
      values[static_cast<std::size_t>(i) * 3 + k] = (k + 1) * 1000 + static_cast<std::uint64_t>(i);
  const std::uint32_t key = 7, absent = 8;
  ASSERT_EQ(bpf_map_update_elem(fd.get(), &key, values.data(), BPF_ANY), 0);
  std::uint64_t sums[3] = {1, 1, 1};
  ASSERT_EQ(netmon_percpu_sum_u64(fd.get(), &key, sums, 3), 0);
  const std::uint64_t n = static_cast<std::uint64_t>(ncpu), cpus = n * (n - 1) / 2;
  EXPECT_EQ(sums[0], 1000 * n + cpus);
  EXPECT_EQ(sums[1], 2000 * n + cpus);
  EXPECT_EQ(sums[2], 3000 * n + cpus);
  EXPECT_EQ(netmon_percpu_sum_u64(fd.get(), &absent, sums, 3), -ENOENT);
  EXPECT_EQ(netmon_percpu_sum_u64(fd.get(), &key, sums, 2), -EINVAL);  // not the map's value size

  UniqueFd plain(bpf_map_create(BPF_MAP_TYPE_ARRAY, "capi_plain", 4, 8, 1, nullptr));
  ASSERT_TRUE(plain);
  const std::uint32_t zero = 0;
  std::vector<std::uint64_t> out(static_cast<std::size_t>(ncpu));
  EXPECT_EQ(netmon_percpu_lookup(plain.get(), &zero, out.data(), 8, out.size()), -EINVAL);
}

// ---- TC -----------------------------------------------------------------------

std::uint64_t seen_by(const netmon::bpf::Skeleton<foreign_tc>& f) {
  const std::uint32_t zero = 0;
  std::uint64_t n = 0;
  EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(f->maps.seen), &zero, &n), 0);
  return n;
}

// The filters on ifname's ingress hook as `tc filter show` lists them: one
// "... handle 0x1 <program> ..." line each (the per-priority head line aside).
std::vector<std::string> ingress_filters(const std::string& ifname) {
  std::vector<std::string> out;
  for (const auto& line : netmon::test::tc_filters(ifname, "ingress"))
    if (line.find(" handle ") != std::string::npos) out.push_back(line);
  return out;
}

std::vector<std::string> logged;
void capture(void*, int, const char* message) { logged.emplace_back(message); }

class CTcAttach : public ::testing::TestWithParam<int> {};

// Attached, the program sees exactly the packets the kernel received; detached,
// it sees none, and nothing is left on the interface.
TEST_P(CTcAttach, CountsEveryPacketAndLeavesNothingBehind) {
  NETMON_REQUIRE_ROOT();
  const int mode = GetParam();
  netmon::test::VethPair v;
  const std::uint32_t ifindex = if_nametoindex(v.host_if().c_str());
  auto skel = netmon::bpf::Skeleton<foreign_tc>::open_and_load("foreign_tc");
  char err[512] = "";
  logged.clear();
  netmon_tc_link* link = netmon_tc_attach(skel->progs.foreign_tc, ifindex, v.host_if().c_str(), NETMON_TC_INGRESS, mode,
                                          49310, capture, nullptr, err, sizeof err);
  ASSERT_NE(link, nullptr) << err;
  EXPECT_EQ(netmon_tc_link_mode(link), mode == NETMON_TC_AUTO ? NETMON_TC_TCX : mode);
  if (netmon_tc_link_mode(link) == NETMON_TC_NETLINK) {
    EXPECT_EQ(ingress_filters(v.host_if()).size(), 1u);
    EXPECT_TRUE(netmon::test::tc_has_clsact(v.host_if()));
  }

  const auto k0 = netmon::test::if_counters(v);
  const std::uint64_t s0 = seen_by(skel);
  constexpr std::uint64_t kPackets = 500;
  netmon::test::send_udp(v, kPackets, 40);
  std::this_thread::sleep_for(100ms);
  const auto k1 = netmon::test::if_counters(v);
  EXPECT_GE(k1.rx_packets - k0.rx_packets, kPackets);
  EXPECT_EQ(seen_by(skel) - s0, k1.rx_packets - k0.rx_packets);

  netmon_tc_detach(link);
  const std::uint64_t s1 = seen_by(skel);
  netmon::test::send_udp(v, 50, 40);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(seen_by(skel), s1) << "the program still runs after netmon_tc_detach";
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  EXPECT_FALSE(netmon::test::tc_has_clsact(v.host_if())) << "the clsact netmon made is left";
}

INSTANTIATE_TEST_SUITE_P(Modes, CTcAttach, ::testing::Values(NETMON_TC_AUTO, NETMON_TC_TCX, NETMON_TC_NETLINK),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::string(netmon_tc_mode_name(i.param));
                         });

// A filter at priority 49310, ingress, attached the way netmon's netlink
// path does (handle 1), with the raw libbpf API: someone else's, or one left
// by a killed netmon-host.
void raw_attach(std::uint32_t ifindex, int prog_fd) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = BPF_TC_INGRESS);
  const int rc = bpf_tc_hook_create(&hook);
  ASSERT_TRUE(rc == 0 || rc == -EEXIST) << std::strerror(-rc);
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = 1, .priority = 49310);
  ASSERT_EQ(bpf_tc_attach(&hook, &opts), 0);
}

// A program of another name at the plugin's netlink priority is never
// replaced: the attach fails saying whose it is, and that program stays.
TEST(CTcAttach, NeverReplacesAForeignFilterAtItsPriority) {
  NETMON_REQUIRE_ROOT();
  netmon::test::VethPair v;
  const std::uint32_t ifindex = if_nametoindex(v.host_if().c_str());
  // Someone else's program: TC_ACT_UNSPEC, named capi_other.
  const bpf_insn insns[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1}, {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  UniqueFd other(bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "capi_other", "GPL", insns, 2, nullptr));
  ASSERT_TRUE(other) << std::strerror(errno);
  ASSERT_NO_FATAL_FAILURE(raw_attach(ifindex, other.get()));

  auto skel = netmon::bpf::Skeleton<foreign_tc>::open_and_load("foreign_tc");
  char err[512] = "";
  EXPECT_EQ(netmon_tc_attach(skel->progs.foreign_tc, ifindex, v.host_if().c_str(), NETMON_TC_INGRESS, NETMON_TC_NETLINK,
                             49310, nullptr, nullptr, err, sizeof err),
            nullptr);
  EXPECT_NE(
      std::string(err).find(v.host_if() + ": TC ingress priority 49310 is taken by another program ('capi_other'"),
      std::string::npos)
      << err;
  EXPECT_NE(std::string(err).find("choose another priority for this plugin"), std::string::npos) << err;
  const auto filters = ingress_filters(v.host_if());
  ASSERT_EQ(filters.size(), 1u);
  EXPECT_NE(filters[0].find("capi_other"), std::string::npos) << filters[0];
}

// A filter of this program's name at the priority is a stale one of ours (a
// killed netmon-host's): removed with a log line, and its clsact goes at the end.
TEST(CTcAttach, RemovesItsOwnStaleFilter) {
  NETMON_REQUIRE_ROOT();
  netmon::test::VethPair v;
  const std::uint32_t ifindex = if_nametoindex(v.host_if().c_str());
  auto stale = netmon::bpf::Skeleton<foreign_tc>::open_and_load("foreign_tc");
  ASSERT_NO_FATAL_FAILURE(raw_attach(ifindex, bpf_program__fd(stale->progs.foreign_tc)));
  auto skel = netmon::bpf::Skeleton<foreign_tc>::open_and_load("foreign_tc");
  char err[512] = "";
  logged.clear();
  netmon_tc_link* link = netmon_tc_attach(skel->progs.foreign_tc, ifindex, v.host_if().c_str(), NETMON_TC_INGRESS,
                                          NETMON_TC_NETLINK, 49310, capture, nullptr, err, sizeof err);
  ASSERT_NE(link, nullptr) << err;
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], v.host_if() +
                           ": removed a stale TC ingress filter 'foreign_tc' left by a netmon-host that did not stop "
                           "cleanly");
  // The new program is the one attached now.
  const std::uint64_t before = seen_by(stale), mine = seen_by(skel);
  netmon::test::send_udp(v, 20, 40);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(seen_by(stale), before);
  EXPECT_GE(seen_by(skel) - mine, 20u);
  netmon_tc_detach(link);
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  EXPECT_FALSE(netmon::test::tc_has_clsact(v.host_if()));
}

}  // namespace
