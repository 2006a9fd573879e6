/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* dns_queries: DNS messages over UDP port 53 at TC ingress and egress:
 * queries, responses, error responses. Built on netmon's shared parser
 * (<netmon/bpf/parse.h>), which gives the transport header's offset; the
 * DNS header itself is read with bpf_skb_load_bytes, linear part or not. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <netmon/bpf/parse.h>

#include "dns_queries.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct dns_counts);
} counts SEC(".maps");

struct dnshdr {
	__be16 id;
	__be16 flags; /* QR(1) OPCODE(4) AA TC RD RA Z(3) RCODE(4) */
	__be16 qdcount, ancount, nscount, arcount;
};

static __always_inline int count(struct __sk_buff *skb, __u32 direction)
{
	struct dns_counts *c = bpf_map_lookup_elem(&counts, &direction);
	struct netmon_packet pkt;
	struct dnshdr dns;
	__u16 flags;

	if (!c)
		return TC_ACT_UNSPEC;
	netmon_parse_skb(skb, &pkt);
	if (pkt.l4 != NETMON_L4_UDP || (pkt.flags & (NETMON_PKT_BAD | NETMON_PKT_LATER_FRAGMENT)))
		return TC_ACT_UNSPEC;
	if (pkt.dport != bpf_htons(53) && pkt.sport != bpf_htons(53))
		return TC_ACT_UNSPEC;
	/* The DNS header follows the UDP header, but not necessarily in the
	 * skb's linear part: at TC a packet may carry its payload in page
	 * fragments (UDP GSO, GRO, a sender's zero-copy or spliced pages), where
	 * skb->data_end does not reach. bpf_skb_load_bytes copies it from
	 * wherever it is; it fails only if the packet ends before 12 bytes. */
	if (bpf_skb_load_bytes(skb, (__u32)pkt.l4_off + 8, &dns, sizeof(dns)) != 0) {
		c->malformed++;
		return TC_ACT_UNSPEC;
	}
	flags = bpf_ntohs(dns.flags);
	if (!(flags & 0x8000)) {
		if (pkt.dport == bpf_htons(53))
			c->queries++;
	} else if (pkt.sport == bpf_htons(53)) {
		c->responses++;
		if (flags & 0x000f)
			c->errors++;
	}
	return TC_ACT_UNSPEC; /* never alter traffic */
}

SEC("tc")
int dns_ingress(struct __sk_buff *skb)
{
	return count(skb, 0);
}

SEC("tc")
int dns_egress(struct __sk_buff *skb)
{
	return count(skb, 1);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
