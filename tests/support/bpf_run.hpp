// SPDX-License-Identifier: MIT
// Runs a loaded BPF program on one frame with bpf_prog_test_run_opts.
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>

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

}  // namespace netmon::test
