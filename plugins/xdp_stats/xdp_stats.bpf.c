/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* xdp_stats: counts received packets and bytes per L3/L4 class. Never alters traffic. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>
#include <netmon/bpf/counters.h>

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
	struct netmon_packet pkt;
	struct xdp_stats_value *v;
	__u32 zero = 0;

	v = bpf_map_lookup_elem(&stats, &zero);
	if (!v)
		return XDP_PASS;
	netmon_classify(data, data_end, &pkt);
	netmon_count(&v->rx, pkt.l3, pkt.l4, pkt.flags, data_end - data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
