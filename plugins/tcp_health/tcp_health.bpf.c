/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* tcp_health: TCP retransmissions and resets, per connection and for the
 * host, from the kernel's TCP tracepoints (tp_btf): tcp_retransmit_skb,
 * tcp_retransmit_synack, tcp_send_reset and tcp_receive_reset.
 *
 * Compiled against vmlinux.h (CO-RE): every field it reads is relocated at
 * load time against the running kernel's BTF. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <netmon/bpf/classes.h>

#include "tcp_health.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define EBUSY 16

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_HEALTH_DEFAULT_ENTRIES); /* user space may resize before load */
	__type(key, struct tcp_health_key);
	__type(value, struct tcp_health_value);
} connections SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCP_HEALTH_TOTALS);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

static __always_inline void add_total(__u32 index, __u64 n)
{
	__u64 *t = bpf_map_lookup_elem(&totals, &index);

	if (t)
		*t += n;
}

static __always_inline __u64 netns_of_sock(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->net_cookie;
}

/* The connection of a socket (full, request or time-wait: all start with a
 * sock_common), as its local end sees it. The typed pointer is read
 * directly: each load relocated like BPF_CORE_READ, without a helper call. */
static __always_inline int key_of(struct tcp_health_key *k, const struct sock_common *c,
				  __u64 netns)
{
	__u32 *local = (__u32 *)k->local, *remote = (__u32 *)k->remote;

	k->netns = netns;
	k->local_port = c->skc_num;
	k->remote_port = bpf_ntohs(c->skc_dport);
	switch (c->skc_family) {
	case AF_INET:
		k->l3 = NETMON_L3_IPV4;
		local[0] = c->skc_rcv_saddr;
		remote[0] = c->skc_daddr;
		return 0;
	case AF_INET6:
		k->l3 = NETMON_L3_IPV6;
		for (int i = 0; i < 4; i++) {
			local[i] = c->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			remote[i] = c->skc_v6_daddr.in6_u.u6_addr32[i];
		}
		return 0;
	default:
		return -1;
	}
}

/* The connection a reset answers when there is no socket: the received
 * segment's, from its IP and TCP headers (local is its destination). */
static __always_inline int key_of_segment(struct tcp_health_key *k, const struct sk_buff *skb)
{
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header, th = skb->transport_header;
	struct net_device *dev = skb->dev;
	__be16 ports[2];

	if (dev)
		k->netns = dev->nd_net.net->net_cookie;
	switch (bpf_ntohs(skb->protocol)) {
	case ETH_P_IP:
		k->l3 = NETMON_L3_IPV4;
		bpf_probe_read_kernel(k->remote, 4, head + nh + 12);
		bpf_probe_read_kernel(k->local, 4, head + nh + 16);
		break;
	case ETH_P_IPV6:
		k->l3 = NETMON_L3_IPV6;
		bpf_probe_read_kernel(k->remote, 16, head + nh + 8);
		bpf_probe_read_kernel(k->local, 16, head + nh + 24);
		break;
	default:
		return -1;
	}
	if (bpf_probe_read_kernel(ports, sizeof ports, head + th))
		return -1;
	k->remote_port = bpf_ntohs(ports[0]);
	k->local_port = bpf_ntohs(ports[1]);
	return 0;
}

/* The connection's entry, made if new; NULL (and the event counted lost)
 * when the map is full. */
static __always_inline struct tcp_health_value *entry(const struct tcp_health_key *k)
{
	struct tcp_health_value *v = bpf_map_lookup_elem(&connections, k);

	if (!v) {
		struct tcp_health_value init = {};

		/* BPF_NOEXIST: another CPU may have added it meanwhile (then
		 * EEXIST, and the lookup below finds it). */
		bpf_map_update_elem(&connections, k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&connections, k);
		if (!v)
			add_total(TCP_HEALTH_LOST, 1);
	}
	return v;
}

/* The smoothed RTT in microseconds: tcp_sock.srtt_us holds it times 8.
 * Only a full TCP socket has one (bpf_skc_to_tcp_sock says which). */
static __always_inline void note_srtt(struct tcp_health_value *v, const struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u32 srtt;

	if (!tp)
		return;
	srtt = tp->srtt_us;
	if (srtt)
		v->srtt_us = srtt >> 3;
}

static __always_inline void retransmitted(const struct sock *sk, const struct sk_buff *skb, int err)
{
	struct tcp_health_key k = {};
	struct tcp_health_value *v;
	__u16 segs = 0;

	/* -EBUSY: the first copy is still in a queue of this host, and the
	 * kernel tries again later. Not a retransmission, not a failure. */
	if (err == -EBUSY)
		return;
	if (err) {
		add_total(TCP_HEALTH_RETRANSMIT_FAILURES, 1);
	} else {
		/* tcp_skb_pcount(skb): the segments of this (maybe GSO) skb,
		 * which the kernel adds to TcpRetransSegs. */
		segs = ((const struct tcp_skb_cb *)skb->cb)->tcp_gso_segs;
		if (!segs)
			segs = 1;
		add_total(TCP_HEALTH_RETRANSMITS, segs);
	}
	if (key_of(&k, &sk->__sk_common, netns_of_sock(sk)))
		return;
	v = entry(&k);
	if (!v)
		return;
	if (err)
		__sync_fetch_and_add(&v->retransmit_failures, 1);
	else
		__sync_fetch_and_add(&v->retransmits, segs);
	note_srtt(v, sk);
}

/* Since Linux 6.13 the tracepoint fires for every attempt, with its error. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_health_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	retransmitted(sk, skb, err);
	return 0;
}

/* Before, only for the attempts that succeeded, without an error argument:
 * user space loads this one instead when the kernel passes two arguments. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_health_retransmit_old, const struct sock *sk, const struct sk_buff *skb)
{
	retransmitted(sk, skb, 0);
	return 0;
}

/* A SYN-ACK sent again (TcpRetransSegs counts it too): the connection is
 * the request's, in the listener's namespace. */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcp_health_retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	struct tcp_health_key k = {};
	struct tcp_health_value *v;

	add_total(TCP_HEALTH_RETRANSMITS, 1);
	if (key_of(&k, &req->__req_common, netns_of_sock(sk)))
		return 0;
	v = entry(&k);
	if (v)
		__sync_fetch_and_add(&v->retransmits, 1);
	return 0;
}

/* A reset sent: by a socket (an abort; skb NULL), or for a segment no
 * socket wants (sk NULL: a closed port). The verifier knows either may be
 * NULL. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_health_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_health_key k = {};
	struct tcp_health_value *v;

	add_total(TCP_HEALTH_RESETS_SENT, 1);
	if (sk) {
		if (key_of(&k, &sk->__sk_common, netns_of_sock(sk)))
			return 0;
	} else if (!skb || key_of_segment(&k, skb)) {
		return 0;
	}
	v = entry(&k);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->resets_sent, 1);
	if (sk)
		note_srtt(v, sk);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_health_receive_reset, const struct sock *sk)
{
	struct tcp_health_key k = {};
	struct tcp_health_value *v;

	add_total(TCP_HEALTH_RESETS_RECEIVED, 1);
	if (key_of(&k, &sk->__sk_common, netns_of_sock(sk)))
		return 0;
	v = entry(&k);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->resets_received, 1);
	note_srtt(v, sk);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
