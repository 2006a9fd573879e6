/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* flow_top: packets, bytes, first/last seen and TCP flags per flow (interface,
 * direction, 5-tuple) at TC ingress and egress, in an LRU per-CPU hash.
 * Returns TC_ACT_UNSPEC always: never alters traffic, and the other programs
 * on the hook still run. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>

#include "flow_top.h"

#define FLOW_TOP_EEXIST 17 /* no libc headers in BPF code */

/* Per-CPU values: a packet of a known flow costs plain increments, no
 * atomics. LRU: when the table is full the kernel evicts the least recently
 * used flow instead of refusing the new one; user space notices the flow is
 * gone and reports it as evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FLOW_TOP_DEFAULT_ENTRIES);
	__type(key, struct flow_top_key);
	__type(value, struct flow_top_value);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_top_stats);
} stats SEC(".maps");

/* Interface index -> slot of the totals (user space fills it for the
 * interfaces it attaches to and sizes it to the largest index + 1; an ARRAY,
 * whose lookup the verifier inlines, or a HASH when indexes are too large for
 * one). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} if_slot SEC(".maps");

/* struct flow_top_total per (slot, direction): every trackable packet, and
 * (`failed`) those of flows the table did not take. User space sizes both
 * to 2 * (largest ifindex + 1) in direct mode, else 2 * (interfaces + 1). A
 * per-CPU array lookup is inlined. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct flow_top_total);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct flow_top_total);
} failed SEC(".maps");

/* Set by user space before load when every attached ifindex is small: the
 * totals are then indexed by ifindex, one lookup, no if_slot. Read-only, so
 * the verifier keeps one branch. */
const volatile __u32 totals_direct = 0;

/* Set by libbpf from the kernel's configuration; 0 if that is not readable. */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* The time of a packet. bpf_jiffies64() is inlined by the verifier into one
 * load, where bpf_ktime_get_coarse_ns() is a helper call (measured at 15 ns
 * per packet, half the cost of an empty TC program); both tick at HZ. The
 * branch is on a read-only value, so the verifier keeps only one side. */
static __always_inline __u64 flow_top_stamp(void)
{
	if (CONFIG_HZ)
		return bpf_jiffies64();
	return bpf_ktime_get_coarse_ns();
}

/* Written by flow_top_clock, read by user space (struct flow_top_clock's
 * fields, as plain globals so the skeleton needs no header of ours). */
__u64 clock_stamp;
__u64 clock_coarse_ns;
__u32 clock_hz;

static __always_inline struct flow_top_stats *flow_top_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

/* A flow needs its addresses: IP whose IP header was read. The parser leaves
 * ip_proto 0 when the IP header itself is cut or impossible (a later header
 * cut short still leaves a usable flow with ports 0). */
static __always_inline int flow_top_trackable(const struct netmon_packet *pkt)
{
	if (pkt->l3 != NETMON_L3_IPV4 && pkt->l3 != NETMON_L3_IPV6)
		return 0;
	return !((pkt->flags & NETMON_PKT_BAD) && pkt->ip_proto == 0);
}

/* This packet's element of `totals` and `failed`: (slot, direction). */
static __always_inline __u32 flow_top_total_index(const struct __sk_buff *skb, const __u8 direction)
{
	__u32 ifindex = skb->ifindex;
	__u32 *slot;

	if (totals_direct)
		return ifindex * 2 + direction;
	slot = bpf_map_lookup_elem(&if_slot, &ifindex);
	return (slot ? *slot : 0) * 2 + direction;
}

static __always_inline void flow_top_total_add(void *map, __u32 idx, __u32 len, __u32 ip_len)
{
	struct flow_top_total *t = bpf_map_lookup_elem(map, &idx);

	if (t) {
		t->packets++;
		t->bytes += len;
		t->ip_bytes += ip_len;
	}
}

static __always_inline int flow_top_count(struct __sk_buff *skb, const __u8 direction)
{
	struct netmon_packet pkt;
	struct flow_top_key key;
	struct flow_top_value *v;
	struct flow_top_stats *st;
	__u32 len = skb->len;
	__u32 ip_len;
	__u64 now;

	netmon_parse_skb(skb, &pkt);
	if (!flow_top_trackable(&pkt)) {
		st = flow_top_stats();
		if (st)
			st->untracked_packets++;
		return TC_ACT_UNSPEC;
	}

	/* The IP layer: the frame without its Ethernet header and VLAN tags. */
	ip_len = len - (14 + 4 * (__u32)pkt.vlan_depth);

	/* Zero everything first: the key is hashed as raw bytes, padding included. */
	__builtin_memset(&key, 0, sizeof(key));
	key.ifindex = skb->ifindex;
	key.direction = direction;
	key.family = pkt.l3;
	key.ip_proto = pkt.ip_proto;
	__builtin_memcpy(key.saddr, pkt.saddr, sizeof(key.saddr));
	__builtin_memcpy(key.daddr, pkt.daddr, sizeof(key.daddr));
	key.sport = pkt.sport;
	key.dport = pkt.dport;

	now = flow_top_stamp();
	v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		struct flow_top_value init = {
			.packets = 1,
			.bytes = len,
			.ip_bytes = ip_len,
			.first_seen = now,
			.last_seen = now,
			.tcp_flags = pkt.tcp_flags,
		};
		long err = bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);

		if (err == 0)
			goto count;
		/* Another CPU inserted it in between: count on our own CPU's copy. */
		if (err == -FLOW_TOP_EEXIST)
			v = bpf_map_lookup_elem(&flows, &key);
		if (!v) {
			st = flow_top_stats();
			if (st)
				st->insert_failures++;
#ifndef FLOW_TOP_BENCH_WITHOUT_TOTALS
			const __u32 idx = flow_top_total_index(skb, direction);

			flow_top_total_add(&failed, idx, len, ip_len);
			flow_top_total_add(&totals, idx, len, ip_len);
#endif
			return TC_ACT_UNSPEC;
		}
	}
	/* Our CPU's copy is zero until this CPU sees the flow: user space takes
	 * the earliest non-zero first_seen over the CPUs. */
	if (!v->first_seen)
		v->first_seen = now;
	v->packets++;
	v->bytes += len;
	v->ip_bytes += ip_len;
	v->last_seen = now;
	v->tcp_flags |= pkt.tcp_flags;
count:
	/* The totals after the flow: here they cost nothing measurable (before the
	 * flow's lookup, 10%: values kept across the helper calls). A read can
	 * then find a packet in its flow and not yet in the totals, for the
	 * moment between the two; user space reads the totals again until they
	 * are not behind the table (FlowAccountant::behind). */
#ifndef FLOW_TOP_BENCH_WITHOUT_TOTALS /* bench/flow_top_untotalled.bpf.c measures their cost */
	flow_top_total_add(&totals, flow_top_total_index(skb, direction), len, ip_len);
#endif
	return TC_ACT_UNSPEC;
}

SEC("tc")
int flow_top_ingress(struct __sk_buff *skb)
{
	return flow_top_count(skb, FLOW_TOP_INGRESS);
}

SEC("tc")
int flow_top_egress(struct __sk_buff *skb)
{
	return flow_top_count(skb, FLOW_TOP_EGRESS);
}

/* Not attached: user space runs it (BPF_PROG_TEST_RUN) to map the stamps
 * of flow_top_stamp() to CLOCK_MONOTONIC. */
SEC("tc")
int flow_top_clock(struct __sk_buff *skb)
{
	__u64 stamp = flow_top_stamp();
	__u64 coarse = bpf_ktime_get_coarse_ns();

	/* A tick between the two reads would pair a stamp with the next tick's
	 * time: read again, once (ticks are milliseconds apart). */
	if (flow_top_stamp() != stamp) {
		stamp = flow_top_stamp();
		coarse = bpf_ktime_get_coarse_ns();
	}
	clock_stamp = stamp;
	clock_coarse_ns = coarse;
	clock_hz = CONFIG_HZ;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
