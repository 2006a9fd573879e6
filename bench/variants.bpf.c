/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Variant programs that locate the floor under the targets of
 * docs/BENCHMARKS.md: what one counter update, the least possible
 * classification, and each kind of hash map cost per packet here. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>
#include <netmon/bpf/counters.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netmon_class_counters);
} counters SEC(".maps");

/* XDP: one counter update at a constant index, no parsing. */
SEC("xdp")
int count_only(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct netmon_class_counters *c = bpf_map_lookup_elem(&counters, &zero);

	if (c)
		netmon_count(c, NETMON_L3_IPV4, NETMON_L4_UDP, 0, ctx->data_end - ctx->data);
	return XDP_PASS;
}

static __always_inline int l4_class(__u8 proto)
{
	if (proto == NETMON_IPPROTO_TCP)
		return NETMON_L4_TCP;
	if (proto == NETMON_IPPROTO_UDP)
		return NETMON_L4_UDP;
	if (proto == NETMON_IPPROTO_ICMP)
		return NETMON_L4_ICMP;
	return NETMON_L4_OTHER;
}

/* XDP: the least possible classification (untagged IPv4 without options or
 * fragments: one bounds check, three compares) and the update. */
SEC("xdp")
int fast_ipv4_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct netmon_ethhdr *eth = data;
	struct netmon_iphdr *ip = data + sizeof(*eth);
	__u32 zero = 0;
	struct netmon_class_counters *c = bpf_map_lookup_elem(&counters, &zero);

	if (!c || (void *)(ip + 1) + 20 > data_end)
		return XDP_PASS;
	if (eth->proto == bpf_htons(NETMON_ETH_P_IP) && ip->ver_ihl == 0x45 &&
	    !(ip->frag_off & bpf_htons(0x3fff)))
		netmon_count(c, NETMON_L3_IPV4, l4_class(ip->protocol), 0, data_end - data);
	return XDP_PASS;
}

/* TC: the full parse, its result used, nothing counted. */
SEC("tc")
int parse_only(struct __sk_buff *skb)
{
	struct netmon_packet pkt;

	netmon_parse_skb(skb, &pkt);
	return pkt.sport == 7 && pkt.saddr[0] == 7 ? TC_ACT_OK : TC_ACT_UNSPEC;
}

struct key44 {
	__u32 ifindex;
	__u8 direction, family, proto, pad;
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport, dport;
};

struct key16 {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 proto, direction;
	__u16 ifindex;
};

struct value {
	__u64 packets, bytes, first_seen, last_seen;
	__u8 tcp_flags;
	__u8 pad[7];
};

/* A smaller value: without first_seen and tcp_flags (24 bytes against 40). */
struct small_value {
	__u64 packets, bytes, last_seen;
};

#define FLOW_MAP(name, map_type, key_type, value_type) \
	struct {                                       \
		__uint(type, map_type);                \
		__uint(max_entries, 65536);            \
		__type(key, key_type);                 \
		__type(value, value_type);             \
	} name SEC(".maps")

FLOW_MAP(percpu16, BPF_MAP_TYPE_PERCPU_HASH, struct key16, struct value);
FLOW_MAP(lru_percpu16, BPF_MAP_TYPE_LRU_PERCPU_HASH, struct key16, struct value);
FLOW_MAP(hash44, BPF_MAP_TYPE_HASH, struct key44, struct value);
FLOW_MAP(lru44, BPF_MAP_TYPE_LRU_HASH, struct key44, struct value);
FLOW_MAP(lru_percpu44, BPF_MAP_TYPE_LRU_PERCPU_HASH, struct key44, struct value);
FLOW_MAP(lru_percpu44_small, BPF_MAP_TYPE_LRU_PERCPU_HASH, struct key44, struct small_value);

static __always_inline void fill44(struct key44 *k, struct __sk_buff *skb,
				   const struct netmon_packet *pkt)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->ifindex = skb->ifindex;
	k->family = pkt->l3;
	k->proto = pkt->ip_proto;
	__builtin_memcpy(k->saddr, pkt->saddr, sizeof(k->saddr));
	__builtin_memcpy(k->daddr, pkt->daddr, sizeof(k->daddr));
	k->sport = pkt->sport;
	k->dport = pkt->dport;
}

static __always_inline void fill16(struct key16 *k, struct __sk_buff *skb,
				   const struct netmon_packet *pkt)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->ifindex = skb->ifindex;
	k->proto = pkt->ip_proto;
	k->saddr = pkt->saddr[0];
	k->daddr = pkt->daddr[0];
	k->sport = pkt->sport;
	k->dport = pkt->dport;
}

/* Parse, one lookup, update (insert on a miss); atomic adds where the value
 * is shared by the CPUs. */
#define FLOW_PROG(name, map, key_type, value_type, fill, atomic)               \
	SEC("tc")                                                              \
	int name(struct __sk_buff *skb)                                        \
	{                                                                      \
		struct netmon_packet pkt;                                      \
		key_type key;                                                  \
		value_type *v;                                                 \
                                                                               \
		netmon_parse_skb(skb, &pkt);                                   \
		fill(&key, skb, &pkt);                                         \
		v = bpf_map_lookup_elem(&map, &key);                           \
		if (!v) {                                                      \
			value_type init = { .packets = 1, .bytes = skb->len }; \
			bpf_map_update_elem(&map, &key, &init, BPF_NOEXIST);   \
			return TC_ACT_UNSPEC;                                  \
		}                                                              \
		if (atomic) {                                                  \
			__sync_fetch_and_add(&v->packets, 1);                  \
			__sync_fetch_and_add(&v->bytes, skb->len);             \
		} else {                                                       \
			v->packets++;                                          \
			v->bytes += skb->len;                                  \
		}                                                              \
		v->last_seen = bpf_jiffies64();                                \
		return TC_ACT_UNSPEC;                                          \
	}

FLOW_PROG(flow_percpu16, percpu16, struct key16, struct value, fill16, 0)
FLOW_PROG(flow_lru_percpu16, lru_percpu16, struct key16, struct value, fill16, 0)
FLOW_PROG(flow_hash44_atomic, hash44, struct key44, struct value, fill44, 1)
FLOW_PROG(flow_lru44_atomic, lru44, struct key44, struct value, fill44, 1)
FLOW_PROG(flow_lru_percpu44, lru_percpu44, struct key44, struct value, fill44, 0)
FLOW_PROG(flow_lru_percpu44_small, lru_percpu44_small, struct key44, struct small_value, fill44, 0)

char LICENSE[] SEC("license") = "Dual MIT/GPL";
