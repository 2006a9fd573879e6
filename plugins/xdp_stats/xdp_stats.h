/* SPDX-License-Identifier: MIT */
/* Structures shared by xdp_stats.bpf.c and xdp_stats.cpp (sizes static_asserted there). */
#ifndef NETMON_XDP_STATS_H
#define NETMON_XDP_STATS_H

#include <linux/types.h>
#include <netmon/bpf/classes.h>

struct xdp_stats_counter {
	__u64 packets;
	__u64 bytes;
};

/* One per CPU, in a one-entry per-CPU array: each attached interface has its
 * own program instance and map, so the hot path needs no ifindex lookup. */
struct xdp_stats_value {
	struct xdp_stats_counter cls[NETMON_L3_MAX][NETMON_L4_MAX];
	struct xdp_stats_counter malformed; /* truncated or impossible headers */
};

/* dst += src, class by class (user space sums the per-CPU values with it). */
static inline void xdp_stats_value_add(struct xdp_stats_value *dst, const struct xdp_stats_value *src)
{
	for (int l3 = 0; l3 < NETMON_L3_MAX; l3++)
		for (int l4 = 0; l4 < NETMON_L4_MAX; l4++) {
			dst->cls[l3][l4].packets += src->cls[l3][l4].packets;
			dst->cls[l3][l4].bytes += src->cls[l3][l4].bytes;
		}
	dst->malformed.packets += src->malformed.packets;
	dst->malformed.bytes += src->malformed.bytes;
}

#endif /* NETMON_XDP_STATS_H */
