/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* xdp_stats: counts received packets and bytes per L3/L4 class. Never alters traffic. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>

#include "xdp_stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_stats_value);
} stats SEC(".maps");

SEC("xdp")
int xdp_stats_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct netmon_packet pkt;
	struct xdp_stats_value *v;
	struct xdp_stats_counter *c;
	__u32 zero = 0;

	v = bpf_map_lookup_elem(&stats, &zero);
	if (!v)
		return XDP_PASS;
	netmon_parse(data, data_end, &pkt);
	if (pkt.l3 >= NETMON_L3_MAX || pkt.l4 >= NETMON_L4_MAX)
		return XDP_PASS;
	/* Per-CPU value: plain increments, no atomics needed. */
	c = &v->cls[pkt.l3][pkt.l4];
	c->packets++;
	c->bytes += len;
	if (pkt.flags & NETMON_PKT_BAD) {
		v->malformed.packets++;
		v->malformed.bytes += len;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
