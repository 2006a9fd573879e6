/* SPDX-License-Identifier: MIT */
/* Structures shared by xdp_stats.bpf.c and xdp_stats.cpp (sizes static_asserted there). */
#ifndef NETMON_XDP_STATS_H
#define NETMON_XDP_STATS_H

#include <netmon/bpf/counters.h>

/* One per CPU, in a one-entry per-CPU array: each attached interface has its
 * own program instance and map, so the hot path needs no ifindex lookup. */
struct xdp_stats_value {
	struct netmon_class_counters rx;
};

#endif /* NETMON_XDP_STATS_H */
