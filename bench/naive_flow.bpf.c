/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* A reference point for flow_top: the least a flow table can do per packet,
 * the full parse and one update of an LRU hash keyed by the 5-tuple, with
 * atomic counters (the "naive parse + LRU-hash update" of the targets). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>

struct naive_key {
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct naive_value {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct naive_key);
	__type(value, struct naive_value);
} naive_flows SEC(".maps");

SEC("tc")
int naive_flow(struct __sk_buff *skb)
{
	struct netmon_packet pkt;
	struct naive_key key;
	struct naive_value *v;

	netmon_parse_skb(skb, &pkt);
	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memcpy(key.saddr, pkt.saddr, sizeof(key.saddr));
	__builtin_memcpy(key.daddr, pkt.daddr, sizeof(key.daddr));
	key.sport = pkt.sport;
	key.dport = pkt.dport;
	key.proto = pkt.ip_proto;
	v = bpf_map_lookup_elem(&naive_flows, &key);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, skb->len);
	} else {
		struct naive_value init = { 1, skb->len };

		bpf_map_update_elem(&naive_flows, &key, &init, BPF_NOEXIST);
	}
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
