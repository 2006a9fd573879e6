// SPDX-License-Identifier: MIT
// Reads the flow_top program's clock (jiffies, or coarse ns when the kernel's
// HZ is unknown) against CLOCK_MONOTONIC, by running its flow_top_clock
// program once. Header-only because it needs the generated skeleton, which
// the plugin and the tests include.
#pragma once

#include <netmon/error.hpp>

#include <bpf/bpf.h>

#include <array>
#include <cstdint>
#include <string>

#include "flow_table.hpp"
#include "flow_top.skel.h"

namespace netmon::flow_top {

inline StampClock read_stamp_clock(const ::flow_top& skel) {
  // Any frame will do (the program ignores it); test_run wants an Ethernet header.
  std::array<std::uint8_t, 64> frame{};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = frame.size());
  if (const int rc = bpf_prog_test_run_opts(bpf_program__fd(skel.progs.flow_top_clock), &opts); rc < 0)
    throw Error(
        errno_message("flow_top: cannot read the BPF program's clock (BPF_PROG_TEST_RUN of flow_top_clock)", rc));
  flow_top_clock c{};
  c.stamp = skel.bss->clock_stamp;
  c.coarse_ns = skel.bss->clock_coarse_ns;
  c.hz = skel.bss->clock_hz;
  return StampClock::from(c);
}

}  // namespace netmon::flow_top
