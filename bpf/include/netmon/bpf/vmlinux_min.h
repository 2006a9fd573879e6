/* SPDX-License-Identifier: MIT */
/*
 * The vendored vmlinux.h of netmon's CO-RE programs (NETMON_BPF_VMLINUX=vendored):
 * what a build machine without its kernel's BTF compiles them against.
 *
 * Not a dump of one kernel: the uapi headers (map and program types, helper
 * flags) plus the few kernel structures netmon's plugins read, each with only
 * the members they read. Every structure is marked preserve_access_index, so
 * each member access is a CO-RE relocation that libbpf resolves by name
 * against the running kernel's BTF at load time: offsets, sizes and nesting
 * (members moved into anonymous unions) come from that kernel, and nothing
 * here depends on the architecture. The same file serves x86_64 and arm64.
 *
 * A plugin that reads more adds the members it reads, by their kernel names,
 * here or in its own header (any struct with the same name and the
 * attribute relocates the same way).
 */
#ifndef NETMON_BPF_VMLINUX_MIN_H
#define NETMON_BPF_VMLINUX_MIN_H

#include <linux/bpf.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
enum { false = 0, true = 1 };

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
	u64 net_cookie;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
};

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be16 u6_addr16[8];
		__be32 u6_addr32[4];
	} in6_u;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
	u16 sk_protocol;
};

struct tcp_sock {
	u32 srtt_us;
	u32 total_retrans;
};

struct request_sock {
	struct sock_common __req_common;
};

/* What TCP keeps in skb->cb (TCP_SKB_CB): tcp_gso_segs is tcp_skb_pcount(). */
struct tcp_skb_cb {
	__u32 seq;
	__u32 end_seq;
	u16 tcp_gso_segs;
};

struct sk_buff {
	struct sock *sk;
	struct net_device *dev;
	char cb[48];
	int skb_iif;
	__be16 protocol;
	__u16 transport_header;
	__u16 network_header;
	unsigned char *head;
	unsigned char *data;
	unsigned int len;
};

#pragma clang attribute pop

#endif /* NETMON_BPF_VMLINUX_MIN_H */
