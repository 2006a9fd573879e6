/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* flow_top's programs as they were before the per-interface totals and
 * ip_bytes (plugins/flow_top/flow_top.bpf.c with them compiled out), so the
 * benchmark measures what they cost in the same run. */
#define FLOW_TOP_BENCH_WITHOUT_TOTALS 1
#include "flow_top.bpf.c"
