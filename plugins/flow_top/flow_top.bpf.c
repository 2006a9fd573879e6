/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* flow_top: packets, bytes, first/last seen and TCP flags per flow (interface,
 * direction, 5-tuple) at TC ingress and egress, in an LRU per-CPU hash with a
 * per-CPU flow cache in front of it. Returns TC_ACT_UNSPEC always: never
 * alters traffic, and the other programs on the hook still run.
 *
 * The cache: a packet whose flow holds its slot (direct-mapped, by a hash of
 * the key) costs an inlined array lookup, a key compare and plain adds; a
 * packet of another flow whose slot is taken is counted straight into the
 * table, as without the cache; an empty slot takes the first flow to come.
 *
 * Draining the cache exactly: the cache has two halves and packets count
 * into the one `cache_half` names. Every interval user space flips
 * cache_half, then updates the `grace` map-in-map, which makes the kernel
 * wait for an RCU grace period: every program that could have read the old
 * value has returned (TC programs run inside RCU read sections). Nothing
 * writes to the old half any more, and user space runs flow_top_drain, which
 * moves every CPU's old half into the table and empties it. */
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

/* Both halves of the flow cache: slot i of half h is element
 * h * FLOW_TOP_CACHE_SLOTS + i. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * FLOW_TOP_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct flow_top_cache_slot);
} cache SEC(".maps");

/* Not used by the programs: an update of `grace` (ARRAY_OF_MAPS) returns
 * only after an RCU grace period, which is how user space waits for the
 * programs that may still count into the half it retired. */
struct flow_top_grace_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} grace_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct flow_top_grace_inner);
} grace SEC(".maps") = {
	.values = { [0] = &grace_inner },
};

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

/* Set by user space before load (configure_flow_cache, flow_cache.hpp):
 * cache_on 1 turns the cache on (off: the option flow_top.cache=false, or a
 * kernel without bpf_loop and bpf_map_lookup_percpu_elem, which the drain
 * needs; off too when nobody set it up). nr_cpus: the possible CPUs, whose
 * caches the drain empties. */
const volatile __u32 cache_on = 0;
const volatile __u32 nr_cpus = 1;

/* The half packets count into (0 or 1), and the half flow_top_drain empties;
 * user space writes both. */
volatile __u32 cache_half;
volatile __u32 drain_half;

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
static __always_inline __u32 flow_top_total_index(__u32 ifindex, const __u8 direction)
{
	__u32 *slot;

	if (totals_direct)
		return ifindex * 2 + direction;
	slot = bpf_map_lookup_elem(&if_slot, &ifindex);
	return (slot ? *slot : 0) * 2 + direction;
}

/* Adds packets, bytes and ip_bytes to the element of `map` (`totals` or
 * `failed`) of this interface and direction. `atomic`: the drain's adds
 * (see flow_top_value_add); a packet's program adds plainly. */
static __always_inline void flow_top_total_sum(void *map, __u32 ifindex, const __u8 direction,
					       __u64 packets, __u64 bytes, __u64 ip_bytes,
					       const int atomic)
{
#ifndef FLOW_TOP_BENCH_WITHOUT_TOTALS /* bench/flow_top_untotalled.bpf.c measures their cost */
	__u32 idx = flow_top_total_index(ifindex, direction);
	struct flow_top_total *t = bpf_map_lookup_elem(map, &idx);

	if (!t)
		return;
	if (atomic) {
		__sync_fetch_and_add(&t->packets, packets);
		__sync_fetch_and_add(&t->bytes, bytes);
		__sync_fetch_and_add(&t->ip_bytes, ip_bytes);
	} else {
		t->packets += packets;
		t->bytes += bytes;
		t->ip_bytes += ip_bytes;
	}
#endif
}

/* The drain's add of a cache slot `d` into the flow's value *v on the
 * drain's CPU. Atomic, because a packet's program can interrupt the drain on
 * that CPU and count into the same per-CPU value (the programs themselves
 * never interrupt one another there: TC runs with bottom halves off, so
 * theirs are plain). The times are kept plain: an interrupted drain may
 * leave a stamp a tick older than the latest. */
static __always_inline void flow_top_value_add(struct flow_top_value *v,
					       const struct flow_top_value *d)
{
	if (!v->first_seen || d->first_seen < v->first_seen)
		v->first_seen = d->first_seen;
	if (d->last_seen > v->last_seen)
		v->last_seen = d->last_seen;
	__sync_fetch_and_add(&v->packets, d->packets);
	__sync_fetch_and_add(&v->bytes, d->bytes);
	__sync_fetch_and_add(&v->ip_bytes, d->ip_bytes);
	/* tcp_flags and its zero padding make one aligned 8-byte word. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__sync_fetch_and_or((__u64 *)&v->tcp_flags, (__u64)d->tcp_flags);
#else
	__sync_fetch_and_or((__u64 *)&v->tcp_flags, (__u64)d->tcp_flags << 56);
#endif
}

/* A flow the table did not take: `d`, its packets, go to `failed` (they are
 * in `totals`, or the drain adds them there itself). `drain`: atomic adds. */
static __always_inline void flow_top_insert_failed(const struct flow_top_key *key,
						   const struct flow_top_value *d, const int drain)
{
	struct flow_top_stats *st = flow_top_stats();

	if (st) {
		if (drain)
			__sync_fetch_and_add(&st->insert_failures, 1);
		else
			st->insert_failures++;
	}
	flow_top_total_sum(&failed, key->ifindex, key->direction, d->packets, d->bytes, d->ip_bytes,
			   drain);
}

/* A drained cache slot into the table (the flow inserted if new) and into
 * the totals, all with atomic adds. */
static __always_inline void flow_top_drain_into_table(const struct flow_top_key *key,
						      const struct flow_top_value *d)
{
	struct flow_top_value *v = bpf_map_lookup_elem(&flows, key);

	if (!v) {
		long err = bpf_map_update_elem(&flows, key, d, BPF_NOEXIST);

		/* Another CPU inserted it in between: add to our CPU's copy. */
		if (err == -FLOW_TOP_EEXIST)
			v = bpf_map_lookup_elem(&flows, key);
		if (!v && err)
			flow_top_insert_failed(key, d, 1);
	}
	if (v)
		flow_top_value_add(v, d);
	flow_top_total_sum(&totals, key->ifindex, key->direction, d->packets, d->bytes, d->ip_bytes,
			   1);
}

/* The cache slot of a key: its 11 words XORed, then Fibonacci hashing (one
 * multiply, the product's top 8 bits for 256 slots). Cheap, which is the
 * point: a multiply per word cost more per packet (docs/BENCHMARKS.md). */
_Static_assert(FLOW_TOP_CACHE_SLOTS == 1 << 8, "flow_top_cache_index picks 8 bits");
static __always_inline __u32 flow_top_cache_index(const struct flow_top_key *key)
{
	const __u32 *w = (const __u32 *)key;
	__u32 x = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*key) / 4); i++)
		x ^= w[i];
	return (cache_half & 1) * FLOW_TOP_CACHE_SLOTS + ((x * 0x9e3779b1u) >> (32 - 8));
}

/* A flow in the cache reaches the table only at the drain, so the table's
 * LRU would see a busy flow as idle and, under churn, evict it. Once per
 * clock tick (1 to 10 ms) a cached packet looks its flow up in the table,
 * which marks the entry used, as every packet did before the cache; the
 * lookup's result is not needed. */
static __always_inline void flow_top_touch(struct flow_top_cache_slot *s, __u64 now)
{
	if (s->touched == now)
		return;
	s->touched = now;
	bpf_map_lookup_elem(&flows, &s->key);
}

/* The ports' word first: when another flow holds the slot, it almost always
 * differs there, and the other ten words are not read. */
static __always_inline int flow_top_key_equal(const struct flow_top_key *a,
					      const struct flow_top_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	const int last = sizeof(*a) / 4 - 1;
	__u32 diff = 0;

	if (x[last] != y[last])
		return 0;
#pragma unroll
	for (int i = 0; i < last; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
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
	if (cache_on) {
		__u32 idx = flow_top_cache_index(&key);
		struct flow_top_cache_slot *s = bpf_map_lookup_elem(&cache, &idx);

		/* The packet stays in the slot, and so out of the totals too: the
		 * drain adds the slot to the table and the totals together. */
		if (s && s->used && flow_top_key_equal(&s->key, &key)) {
			s->value.packets++;
			s->value.bytes += len;
			s->value.ip_bytes += ip_len;
			s->value.last_seen = now;
			s->value.tcp_flags |= pkt.tcp_flags;
			flow_top_touch(s, now);
			return TC_ACT_UNSPEC;
		}
		if (s && !s->used) {
			s->key = key;
			s->value.packets = 1;
			s->value.bytes = len;
			s->value.ip_bytes = ip_len;
			s->value.first_seen = now;
			s->value.last_seen = now;
			s->value.tcp_flags = pkt.tcp_flags;
			s->used = 1;
			s->touched = 0;
			flow_top_touch(s, now);
			return TC_ACT_UNSPEC;
		}
	}
	/* The slot holds another flow (or the cache is off): the table. */
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
			flow_top_insert_failed(&key, &init, 0);
			goto count;
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
	flow_top_total_sum(&totals, skb->ifindex, direction, 1, len, ip_len, 0);
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

struct flow_top_drain_ctx {
	__u32 half;
};

static long flow_top_drain_slot(__u32 i, void *c)
{
	const struct flow_top_drain_ctx *d = c;
	__u32 idx = d->half * FLOW_TOP_CACHE_SLOTS + i % FLOW_TOP_CACHE_SLOTS;
	struct flow_top_cache_slot *s =
		bpf_map_lookup_percpu_elem(&cache, &idx, i / FLOW_TOP_CACHE_SLOTS);

	if (s && s->used) {
		flow_top_drain_into_table(&s->key, &s->value);
		s->used = 0;
	}
	return 0;
}

/* Not attached: user space runs it (BPF_PROG_TEST_RUN) after retiring
 * drain_half and waiting for the grace period: every CPU's slots of that
 * half into the table, and the half emptied. */
SEC("tc")
int flow_top_drain(struct __sk_buff *skb)
{
	struct flow_top_drain_ctx d = { .half = drain_half & 1 };

	bpf_loop(nr_cpus * FLOW_TOP_CACHE_SLOTS, flow_top_drain_slot, &d, 0);
	return TC_ACT_UNSPEC;
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
