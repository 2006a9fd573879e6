/* SPDX-License-Identifier: MIT */
/*
 * Per-class packet and byte counters, shared by the BPF programs that count
 * traffic (xdp_stats, tc_stats) and by their user-space side, which sums the
 * per-CPU copies with netmon_class_counters_add().
 */
#ifndef NETMON_BPF_COUNTERS_H
#define NETMON_BPF_COUNTERS_H

#include <linux/types.h>
#include <netmon/bpf/classes.h>

struct netmon_counter {
	__u64 packets;
	__u64 bytes;
};

struct netmon_class_counters {
	struct netmon_counter cls[NETMON_L3_MAX][NETMON_L4_MAX];
	struct netmon_counter malformed; /* truncated or impossible headers (also counted in cls) */
};

/* dst += src, class by class. */
static inline void netmon_class_counters_add(struct netmon_class_counters *dst,
					     const struct netmon_class_counters *src)
{
	for (int l3 = 0; l3 < NETMON_L3_MAX; l3++)
		for (int l4 = 0; l4 < NETMON_L4_MAX; l4++) {
			dst->cls[l3][l4].packets += src->cls[l3][l4].packets;
			dst->cls[l3][l4].bytes += src->cls[l3][l4].bytes;
		}
	dst->malformed.packets += src->malformed.packets;
	dst->malformed.bytes += src->malformed.bytes;
}

/* Totals over every class. */
static inline struct netmon_counter
netmon_class_counters_total(const struct netmon_class_counters *c)
{
	struct netmon_counter t = { 0, 0 };

	for (int l3 = 0; l3 < NETMON_L3_MAX; l3++)
		for (int l4 = 0; l4 < NETMON_L4_MAX; l4++) {
			t.packets += c->cls[l3][l4].packets;
			t.bytes += c->cls[l3][l4].bytes;
		}
	return t;
}

#ifdef __BPF__
/* Counts one packet of class (l3, l4) and length len in a per-CPU value:
 * plain increments, no atomics. */
static __always_inline void netmon_count(struct netmon_class_counters *c, __u8 l3, __u8 l4,
					 __u8 flags, __u64 len)
{
	struct netmon_counter *k;

	if (l3 >= NETMON_L3_MAX || l4 >= NETMON_L4_MAX)
		return;
	k = &c->cls[l3][l4];
	k->packets++;
	k->bytes += len;
	if (flags & NETMON_PKT_BAD) {
		c->malformed.packets++;
		c->malformed.bytes += len;
	}
}
#endif

#endif /* NETMON_BPF_COUNTERS_H */
