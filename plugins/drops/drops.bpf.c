/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* drops: every skb the kernel frees as dropped (tp_btf/kfree_skb), counted
 * per network namespace, interface, drop reason and L3/L4 class.
 *
 * Compiled against vmlinux.h (CO-RE): every field it reads is relocated at
 * load time against the running kernel's BTF. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <netmon/bpf/classes.h>

#include "drops.h"

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, DROPS_DEFAULT_ENTRIES); /* user space may resize before load */
	__type(key, struct drops_key);
	__type(value, struct drops_value);
} drops SEC(".maps");

/* Reasons not counted by key, only in totals[DROPS_IGNORED]: the core
 * reasons in an array indexed by reason, the others in a hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DROPS_CORE_REASONS);
	__type(key, __u32);
	__type(value, __u8);
} ignored_core SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DROPS_MAX_IGNORED);
	__type(key, __u32);
	__type(value, __u8);
} ignored_reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROPS_TOTALS);
	__type(key, __u32);
	__type(value, struct drops_value);
} totals SEC(".maps");

static __always_inline void add_total(__u32 index, __u64 bytes)
{
	struct drops_value *t = bpf_map_lookup_elem(&totals, &index);

	if (t) {
		t->packets++;
		t->bytes += bytes;
	}
}

static __always_inline __u8 l4_class(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return NETMON_L4_TCP;
	case IPPROTO_UDP:
		return NETMON_L4_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return NETMON_L4_ICMP;
	default:
		return NETMON_L4_OTHER;
	}
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(drops_kfree_skb, struct sk_buff *skb, void *location, unsigned int reason)
{
	struct drops_key key = {};
	struct drops_value *v;
	struct net_device *dev;
	struct sock *sk;
	unsigned char *head, *data;
	__u16 nh;
	__u8 proto = 0;
	__u64 bytes = skb->len;

	key.reason = reason;
	if (reason < DROPS_CORE_REASONS) {
		__u8 *ignored = bpf_map_lookup_elem(&ignored_core, &key.reason);

		if (ignored && *ignored) {
			add_total(DROPS_IGNORED, bytes);
			return 0;
		}
	} else if (bpf_map_lookup_elem(&ignored_reasons, &key.reason)) {
		add_total(DROPS_IGNORED, bytes);
		return 0;
	}

	/* tp_btf: skb is a typed kernel pointer, read directly (each load is
	 * relocated like BPF_CORE_READ, and faults read as 0), without a
	 * helper call per field. */
	dev = skb->dev;
	key.ifindex = skb->skb_iif;
	if (dev) {
		if (!key.ifindex)
			key.ifindex = dev->ifindex;
		key.netns = dev->nd_net.net->net_cookie;
	} else {
		sk = skb->sk;
		if (sk)
			key.netns = sk->__sk_common.skc_net.net->net_cookie;
	}

	head = skb->head;
	data = skb->data;
	nh = skb->network_header;
	switch (bpf_ntohs(skb->protocol)) {
	case ETH_P_IP:
		key.l3 = NETMON_L3_IPV4;
		bpf_probe_read_kernel(&proto, 1, head + nh + 9);
		key.l4 = l4_class(proto);
		break;
	case ETH_P_IPV6:
		key.l3 = NETMON_L3_IPV6;
		bpf_probe_read_kernel(&proto, 1, head + nh + 6); /* the first next header */
		key.l4 = l4_class(proto);
		break;
	case ETH_P_ARP:
		key.l3 = NETMON_L3_ARP;
		key.l4 = NETMON_L4_NONE;
		break;
	default:
		key.l3 = NETMON_L3_OTHER;
		key.l4 = NETMON_L4_NONE;
		break;
	}
	/* From the network header on, wherever the layer that dropped it had
	 * pulled skb->data to (the transport header in UDP, the link header
	 * on transmit): the IP packet's length, the same at every layer. */
	if (key.l3 == NETMON_L3_IPV4 || key.l3 == NETMON_L3_IPV6) {
		__s64 off = (__s64)(data - head) - (__s64)nh;

		if ((__s64)bytes + off > 0)
			bytes = (__u64)((__s64)bytes + off);
	}

	v = bpf_map_lookup_elem(&drops, &key);
	if (!v) {
		struct drops_value init = {};

		/* BPF_NOEXIST: another CPU may have added it meanwhile (then
		 * EEXIST, and the lookup below finds it). */
		bpf_map_update_elem(&drops, &key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&drops, &key);
		if (!v) {
			add_total(DROPS_LOST, bytes);
			return 0;
		}
	}
	v->packets++;
	v->bytes += bytes;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
