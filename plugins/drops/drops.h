/* SPDX-License-Identifier: MIT */
/* Structures shared by drops.bpf.c and drops.cpp. */
#ifndef NETMON_DROPS_H
#define NETMON_DROPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* One entry of the per-CPU `drops` hash: where and why the kernel freed
 * packets, and of what class (enum netmon_l3, enum netmon_l4). */
struct drops_key {
	__u64 netns; /* cookie of the device's (else the socket's) network namespace; 0: neither */
	__u32 ifindex; /* the skb's input interface, else its device; 0: none */
	__u32 reason;  /* enum skb_drop_reason of the running kernel */
	__u8 l3;
	__u8 l4;
	__u8 pad[6];
};

struct drops_value {
	__u64 packets;
	__u64 bytes; /* from the network header on (the whole skb when it has no IP header) */
};

/* Indexes of the per-CPU `totals` array: what is not in the hash, so that
 * hash + ignored + lost is every drop seen. */
enum drops_total {
	DROPS_IGNORED = 0, /* a reason in `ignored_reasons` */
	DROPS_LOST = 1,    /* the hash was full: a new key had no room */
	DROPS_TOTALS = 2,
};

#define DROPS_DEFAULT_ENTRIES 8192
#define DROPS_MAX_IGNORED 256
/* Reasons below this are looked up in an array (inlined by the verifier): the
 * core reasons; others (a subsystem's, reason >> 16 != 0) in a hash. */
#define DROPS_CORE_REASONS 1024

#endif /* NETMON_DROPS_H */
