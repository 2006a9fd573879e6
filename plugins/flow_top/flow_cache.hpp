// SPDX-License-Identifier: MIT
// flow_top's per-CPU flow cache (flow_top.bpf.c, "Draining the cache
// exactly"): whether this kernel can run it, setting it up before load, and
// draining it into the table before each read. Header-only because it needs
// the generated skeleton, which the plugin and the tests include.
#pragma once

#include <netmon/error.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cstdint>

#include "flow_top.skel.h"

namespace netmon::flow_top {

// The drain needs bpf_loop (5.17) and bpf_map_lookup_percpu_elem (5.19).
inline bool flow_cache_supported() {
  return libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_loop, nullptr) == 1 &&
         libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_map_lookup_percpu_elem, nullptr) == 1;
}

// Between open and load: the cache on or off (off, the drain program is not
// loaded, so kernels without its helpers load the rest). A template for the
// benchmark's build of the same source under another skeleton name.
template <class Skel = ::flow_top>
void configure_flow_cache(Skel& skel, bool on) {
  skel.rodata->cache_on = on ? 1 : 0;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw Error(errno_message("flow_top: cannot count the possible CPUs", cpus));
  skel.rodata->nr_cpus = static_cast<std::uint32_t>(cpus);
  bpf_program__set_autoload(skel.progs.flow_top_drain, on);
}

// Moves every packet counted into the cache so far into the table: retires
// the half the programs count into, waits until no program can still be
// counting into it, and runs flow_top_drain on it. After it returns, the
// table holds every packet counted before the call; the packets counted
// since are in the other half until the next drain.
inline void drain_flow_cache(const ::flow_top& skel) {
  if (!skel.rodata->cache_on) return;
  const std::uint32_t retired = skel.bss->cache_half & 1;
  skel.bss->drain_half = retired;
  __atomic_store_n(&skel.bss->cache_half, retired ^ 1, __ATOMIC_SEQ_CST);
  // An update of an ARRAY_OF_MAPS returns after an RCU grace period: every
  // program that may have read the old cache_half has returned.
  const std::uint32_t zero = 0;
  const int inner = bpf_map__fd(skel.maps.grace_inner);
  if (const int rc = bpf_map_update_elem(bpf_map__fd(skel.maps.grace), &zero, &inner, BPF_ANY); rc != 0)
    throw Error(errno_message("flow_top: cannot wait for the programs to leave the flow cache (update of grace)", rc));
  std::array<std::uint8_t, 64> frame{};  // any frame: the program ignores it
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = frame.size());
  if (const int rc = bpf_prog_test_run_opts(bpf_program__fd(skel.progs.flow_top_drain), &opts); rc < 0)
    throw Error(errno_message("flow_top: cannot drain the flow cache (BPF_PROG_TEST_RUN of flow_top_drain)", rc));
}

}  // namespace netmon::flow_top
