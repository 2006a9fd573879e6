/* SPDX-License-Identifier: MIT */
/* Structures shared by flow_top.bpf.c and the user-space side (sizes
 * static_asserted in flow_table.hpp). Plain __u8/__u16/__u32/__u64 with
 * explicit padding: the map key is hashed as raw bytes, so no byte of it may
 * be left to the compiler. */
#ifndef NETMON_FLOW_TOP_H
#define NETMON_FLOW_TOP_H

#include <linux/types.h>

#include <netmon/bpf/packet.h> /* NETMON_L3_*, NETMON_TCP_* */

/* Default capacity of the flow table; the plugin sets the real one
 * (option flow_top.table_size) between open and load. */
#define FLOW_TOP_DEFAULT_ENTRIES 65536

enum flow_top_direction {
	FLOW_TOP_INGRESS = 0,
	FLOW_TOP_EGRESS = 1,
};

/* One flow: the interface and direction it was seen at, and its 5-tuple.
 * Addresses and ports in network byte order, as netmon_parse_skb() gives
 * them: an IPv4 address in saddr[0]/daddr[0] with the rest zero; ICMP and
 * ICMPv6 have sport 0 and dport (type << 8 | code). */
struct flow_top_key {
	__u32 ifindex;
	__u8 direction; /* enum flow_top_direction */
	__u8 family;    /* NETMON_L3_IPV4 or NETMON_L3_IPV6 */
	__u8 ip_proto;  /* transport protocol number */
	__u8 pad;       /* always zero */
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
};

/* Per CPU (the map is an LRU per-CPU hash): user space merges the copies. A
 * CPU that has not seen the flow yet holds zeros, so first_seen == 0 means
 * "not on this CPU". first_seen and last_seen are stamps of the program's
 * clock (struct flow_top_clock); user space converts them to nanoseconds. */
struct flow_top_value {
	__u64 packets;
	__u64 bytes;    /* skb->len: from the Ethernet header on */
	__u64 ip_bytes; /* from the IP header on (IPFIX's octetDeltaCount) */
	__u64 first_seen;
	__u64 last_seen;
	__u8 tcp_flags; /* OR of every TCP flag byte seen (NETMON_TCP_* bits) */
	__u8 pad[7];
};

/* The flow cache in front of the table: per CPU, direct-mapped, in two
 * halves of FLOW_TOP_CACHE_SLOTS slots. Packets count into the half
 * `cache_half` names; user space drains the other (flow_top.bpf.c,
 * "Draining the cache exactly"). `used` is 0 for an empty slot. */
#define FLOW_TOP_CACHE_SLOTS 256 /* a power of two */

struct flow_top_cache_slot {
	struct flow_top_key key;
	__u32 used;
	struct flow_top_value value;
	__u64 touched; /* the stamp of the last lookup of the flow in the table */
};

/* The one entry of the per-CPU `stats` array. Only the slow paths touch it. */
struct flow_top_stats {
	__u64 untracked_packets; /* not IP, or the IP header cut or impossible */
	__u64 insert_failures;   /* a new flow the table did not take */
};

/* Totals of every trackable packet per interface and direction, per CPU:
 * element `slot * 2 + direction` of the `totals` array, where `slot` is the
 * ifindex itself when user space sets `totals_direct` (small indexes), else
 * the interface's entry in `if_slot` (0: an interface without one). Flows come
 * and go (ended, evicted); these only grow, so user space can account for
 * every packet: table + ended + evicted + failed = totals. */
struct flow_top_total {
	__u64 packets;
	__u64 bytes;
	__u64 ip_bytes;
};
/* The same layout, indexed alike, in the `failed` array: the packets of
 * flows the table did not take (insert_failures), a slow path. */

/* The program's clock, as the flow_top_clock program reads it (into the
 * globals clock_stamp, clock_coarse_ns, clock_hz):
 * stamps are jiffies when the kernel's HZ is known, else
 * CLOCK_MONOTONIC_COARSE nanoseconds (hz == 0). Either way the precision is
 * one scheduler tick. coarse_ns is CLOCK_MONOTONIC_COARSE at the moment the
 * clock read `stamp`, so a stamp s is coarse_ns - (stamp - s) * 1e9 / hz. */
struct flow_top_clock {
	__u64 stamp;
	__u64 coarse_ns;
	__u32 hz;
	__u32 pad;
};

#endif /* NETMON_FLOW_TOP_H */
