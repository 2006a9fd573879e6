// SPDX-License-Identifier: MIT
// Per-CPU map reads whatever the value's size: the kernel lays each CPU's
// copy out 8 bytes apart (round_up(value_size, 8)), so a buffer of
// possible_cpus() * sizeof(V) is too small for a 4- or 12-byte value and the
// kernel writes past its end. These read real per-CPU arrays made with
// bpf_map_create and filled from user space, one distinct value per CPU.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <netmon/bpf.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "support/bpf_run.hpp"
#include "support/root.hpp"

namespace {

using netmon::bpf::UniqueFd;
using netmon::test::percpu_array;

struct Value4 {
  std::uint32_t n;
};
struct Value12 {
  std::uint32_t a, b, c;
};
static_assert(sizeof(Value4) == 4 && sizeof(Value12) == 12);

constexpr std::size_t kCanary = 64;

// read_percpu into a buffer of exactly n_cpus * sizeof(V), followed by a
// canary that must come back untouched.
template <class V>
std::vector<V> read_with_canary(int fd) {
  const auto cpus = static_cast<std::size_t>(netmon::bpf::possible_cpus());
  std::vector<unsigned char> buf(cpus * sizeof(V) + kCanary, 0xa5);
  const std::uint32_t zero = 0;
  netmon::bpf::read_percpu(fd, &zero, buf.data(), sizeof(V), cpus);
  for (std::size_t i = cpus * sizeof(V); i < buf.size(); ++i)
    EXPECT_EQ(buf[i], 0xa5) << "byte " << i - cpus * sizeof(V) << " past the values was overwritten";
  std::vector<V> out(cpus);
  std::memcpy(out.data(), buf.data(), cpus * sizeof(V));
  return out;
}

TEST(PerCpu, StrideRoundsEachCopyUpToEightBytes) {
  EXPECT_EQ(netmon::bpf::percpu_stride(4), 8u);
  EXPECT_EQ(netmon::bpf::percpu_stride(8), 8u);
  EXPECT_EQ(netmon::bpf::percpu_stride(12), 16u);
  EXPECT_EQ(netmon::bpf::percpu_stride(16), 16u);
  EXPECT_EQ(netmon::bpf::percpu_stride(1), 8u);
}

TEST(PerCpu, AFourByteValueIsReadPerCpuWithoutWritingPastTheBuffer) {
  NETMON_REQUIRE_ROOT();
  const auto fd = percpu_array<Value4>([](std::size_t c) { return Value4{static_cast<std::uint32_t>(1000 + c)}; });
  ASSERT_TRUE(fd);
  const auto direct = read_with_canary<Value4>(fd.get());
  const auto values = netmon::bpf::lookup_percpu<Value4>(fd.get(), std::uint32_t{0});
  ASSERT_EQ(values.size(), static_cast<std::size_t>(netmon::bpf::possible_cpus()));
  for (std::size_t c = 0; c < values.size(); ++c) {
    EXPECT_EQ(direct[c].n, 1000 + c) << "CPU " << c;
    EXPECT_EQ(values[c].n, 1000 + c) << "CPU " << c;
  }
}

TEST(PerCpu, ATwelveByteValueIsReadPerCpuWithoutWritingPastTheBuffer) {
  NETMON_REQUIRE_ROOT();
  const auto make = [](std::size_t c) {
    const auto n = static_cast<std::uint32_t>(c);
    return Value12{100 + n, 200 + n, 300 + n};
  };
  const auto fd = percpu_array<Value12>(make);
  ASSERT_TRUE(fd);
  const auto direct = read_with_canary<Value12>(fd.get());
  const auto values = netmon::bpf::lookup_percpu<Value12>(fd.get(), std::uint32_t{0});
  ASSERT_EQ(values.size(), static_cast<std::size_t>(netmon::bpf::possible_cpus()));
  for (std::size_t c = 0; c < values.size(); ++c) {
    const Value12 want = make(c);
    for (const auto& v : {direct[c], values[c]}) {
      EXPECT_EQ(v.a, want.a) << "CPU " << c;
      EXPECT_EQ(v.b, want.b) << "CPU " << c;
      EXPECT_EQ(v.c, want.c) << "CPU " << c;
    }
  }
}

TEST(PerCpu, AMissingKeyAndAWrongCpuCountAreErrors) {
  NETMON_REQUIRE_ROOT();
  const auto fd = percpu_array<Value4>([](std::size_t c) { return Value4{static_cast<std::uint32_t>(c)}; });
  ASSERT_TRUE(fd);
  const std::uint32_t past_the_end = 1;
  EXPECT_THROW((void)netmon::bpf::lookup_percpu<Value4>(fd.get(), past_the_end), netmon::Error);
  std::array<Value4, 1> one{};
  const auto cpus = static_cast<std::size_t>(netmon::bpf::possible_cpus());
  const std::uint32_t zero = 0;
  EXPECT_THROW(netmon::bpf::read_percpu(fd.get(), &zero, one.data(), sizeof(Value4), cpus + 1), netmon::Error);
  // A 12-byte map read as 4-byte values: refused, not overrun.
  const auto wide = percpu_array<Value12>([](std::size_t) { return Value12{}; });
  ASSERT_TRUE(wide);
  EXPECT_THROW((void)netmon::bpf::lookup_percpu<Value4>(wide.get(), zero), netmon::Error);
}

}  // namespace
