/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* tc_stats: counts packets and bytes per direction and L3/L4 class at TC
 * ingress and egress. Returns TC_ACT_UNSPEC: never alters traffic, and the
 * other programs on the hook still run. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>
#include <netmon/bpf/counters.h>

#include "tc_stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TC_STATS_DIRECTIONS);
	__type(key, __u32);
	__type(value, struct netmon_class_counters);
} stats SEC(".maps");

static __always_inline int count(struct __sk_buff *skb, __u32 direction)
{
	struct netmon_class_counters *c = bpf_map_lookup_elem(&stats, &direction);
	struct netmon_packet pkt;

	if (!c)
		return TC_ACT_UNSPEC;
	netmon_classify_skb(skb, &pkt);
	/* skb->len: the whole packet from its Ethernet header, as XDP counts it. */
	netmon_count(c, pkt.l3, pkt.l4, pkt.flags, skb->len);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tc_stats_ingress(struct __sk_buff *skb)
{
	return count(skb, TC_STATS_INGRESS);
}

SEC("tc")
int tc_stats_egress(struct __sk_buff *skb)
{
	return count(skb, TC_STATS_EGRESS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
