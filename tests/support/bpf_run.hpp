// SPDX-License-Identifier: MIT
// BPF helpers of the tests: runs a loaded program on one frame with
// bpf_prog_test_run_opts, reads a program's id and a map's first u64, makes
// a per-CPU array with chosen copies.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <netmon/bpf.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace netmon::test {

struct TestRun {
  std::uint32_t retval = 0;
  std::uint32_t duration_ns = 0;  // average per repetition
};

// For XDP the frame is the packet from the Ethernet header on; for TC
// (sched_cls) likewise, and the kernel builds an skb around it.
inline TestRun test_run(int prog_fd, const std::vector<std::uint8_t>& frame, std::uint32_t repeat = 1,
                        const void* ctx_in = nullptr, std::uint32_t ctx_size = 0) {
  std::vector<std::uint8_t> out(frame.size() + 512);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(out.size()), .ctx_in = ctx_in, .ctx_size_in = ctx_size,
              .repeat = static_cast<int>(repeat));
  if (const int rc = bpf_prog_test_run_opts(prog_fd, &opts); rc != 0)
    throw std::runtime_error(std::string("bpf_prog_test_run_opts: ") + std::strerror(-rc));
  return {opts.retval, opts.duration};
}

// The kernel's id of a loaded program.
inline std::uint32_t prog_id(const bpf_program* prog) {
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  EXPECT_EQ(bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len), 0);
  return info.id;
}

// The u64 at key 0 of an array map (a counter a test program keeps).
inline std::uint64_t read_u64(const bpf_map* map) {
  const std::uint32_t zero = 0;
  std::uint64_t n = 0;
  EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(map), &zero, &n), 0);
  return n;
}

// A one-entry per-CPU array of V whose copy on CPU c is make(c), written
// through the kernel's own 8-byte-stride layout.
template <class V, class Make>
netmon::bpf::UniqueFd percpu_array(Make make) {
  netmon::bpf::UniqueFd fd(
      bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "netmon_pcpu_t", sizeof(std::uint32_t), sizeof(V), 1, nullptr));
  EXPECT_TRUE(fd) << "bpf_map_create: " << std::strerror(errno);
  const auto cpus = static_cast<std::size_t>(netmon::bpf::possible_cpus());
  const std::size_t stride = netmon::bpf::percpu_stride(sizeof(V));
  std::vector<unsigned char> raw(cpus * stride, 0);
  for (std::size_t c = 0; c < cpus; ++c) {
    const V v = make(c);
    std::memcpy(raw.data() + c * stride, &v, sizeof v);
  }
  const std::uint32_t zero = 0;
  EXPECT_EQ(bpf_map_update_elem(fd.get(), &zero, raw.data(), BPF_ANY), 0) << std::strerror(errno);
  return fd;
}

}  // namespace netmon::test
