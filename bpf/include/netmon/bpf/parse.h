/* SPDX-License-Identifier: MIT */
/*
 * netmon packet parser for XDP and TC programs.
 *
 * One cursor walks the frame; one function per header, each bounds-checked
 * against data_end before any read, so the verifier accepts every path and no
 * frame, however short or malformed, is read out of bounds. Handles Ethernet,
 * up to two VLAN tags (802.1Q, 802.1ad), IPv4 (options; fragments: only the
 * first one carries ports), IPv6 (a bounded walk of hop-by-hop, routing,
 * fragment, destination options and AH headers), TCP, UDP, ICMP and ICMPv6.
 *
 * Usage:
 *   struct netmon_packet pkt;
 *   netmon_parse(data, data_end, &pkt);     // everything: class, addresses, ports, TCP flags
 *   netmon_classify(data, data_end, &pkt);  // the class only: l3, l4, ip_proto, flags,
 *                                           // vlan_depth, eth_proto (cheaper: no copies)
 *   counters[pkt.l3][pkt.l4]++;  // always valid indexes
 *
 * Everything is static __always_inline, and the class-only mode is a
 * compile-time constant, so a counting program pays for no address copy.
 */
#ifndef NETMON_BPF_PARSE_H
#define NETMON_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <netmon/bpf/packet.h>

#ifndef NETMON_IPV6_MAX_EXT_HDRS
#define NETMON_IPV6_MAX_EXT_HDRS 6
#endif

struct netmon_ethhdr {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct netmon_vlanhdr {
	__be16 tci;
	__be16 proto;
};

struct netmon_iphdr {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
};

struct netmon_ipv6hdr {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u32 saddr[4];
	__u32 daddr[4];
};

struct netmon_ipv6_opthdr { /* hop-by-hop, routing, destination options, AH */
	__u8 nexthdr;
	__u8 hdrlen;
};

struct netmon_ipv6_fraghdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

struct netmon_l4ports { /* first four bytes of TCP and UDP */
	__be16 source;
	__be16 dest;
};

struct netmon_tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_res;
	__u8 flags; /* CWR ECE URG ACK PSH RST SYN FIN */
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
};

struct netmon_icmphdr { /* ICMP and ICMPv6 share the first two bytes */
	__u8 type;
	__u8 code;
};

struct netmon_cursor {
	void *pos;
	void *end;
};

/* What a parse fills in (a compile-time constant in every caller). */
#define NETMON_PARSE_CLASS 0 /* class and flags */
#define NETMON_PARSE_FLOW 1  /* and addresses, ports, TCP flags */

/* Returns a pointer to the next `len` bytes and advances, or NULL if the frame
 * is shorter. The only way the parser reads the packet. */
#define netmon_cursor_take(c, len)              \
	({                                      \
		void *__p = (c)->pos;           \
		void *__r = (void *)0;          \
		if (__p + (len) <= (c)->end) {  \
			(c)->pos = __p + (len); \
			__r = __p;              \
		}                               \
		__r;                            \
	})

/* Ethernet and up to two VLAN tags. Returns the EtherType (host order) or -1
 * if truncated. */
static __always_inline int netmon_parse_eth(struct netmon_cursor *c, struct netmon_packet *pkt)
{
	struct netmon_ethhdr *eth = netmon_cursor_take(c, sizeof(*eth));
	__u16 proto;

	if (!eth)
		return -1;
	proto = bpf_ntohs(eth->proto);
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct netmon_vlanhdr *vlan;

		if (proto != NETMON_ETH_P_8021Q && proto != NETMON_ETH_P_8021AD)
			break;
		vlan = netmon_cursor_take(c, sizeof(*vlan));
		if (!vlan)
			return -1;
		pkt->flags |= NETMON_PKT_VLAN;
		pkt->vlan_depth++;
		proto = bpf_ntohs(vlan->proto);
	}
	return proto;
}

/* IPv4 with options. Returns the transport protocol or -1. */
static __always_inline int netmon_parse_ipv4(struct netmon_cursor *c, struct netmon_packet *pkt,
					     const int what)
{
	struct netmon_iphdr *ip = netmon_cursor_take(c, sizeof(*ip));
	__u32 ihl;

	if (!ip) {
		pkt->flags |= NETMON_PKT_TRUNCATED;
		return -1;
	}
	ihl = (ip->ver_ihl & 0x0f) * 4;
	if ((ip->ver_ihl >> 4) != 4 || ihl < sizeof(*ip)) {
		pkt->flags |= NETMON_PKT_MALFORMED;
		return -1;
	}
	if (what == NETMON_PARSE_FLOW) {
		pkt->saddr[0] = ip->saddr;
		pkt->daddr[0] = ip->daddr;
	}
	pkt->ip_proto = ip->protocol;
	if (ip->frag_off & bpf_htons(0x3fff)) { /* MF set or offset != 0 */
		pkt->flags |= NETMON_PKT_FRAGMENT;
		if (ip->frag_off & bpf_htons(0x1fff))
			pkt->flags |= NETMON_PKT_LATER_FRAGMENT;
	}
	/* Skip options: ihl is at most 60, so the verifier sees a bounded add. */
	if (ihl > sizeof(*ip) && !netmon_cursor_take(c, ihl - sizeof(*ip))) {
		pkt->flags |= NETMON_PKT_TRUNCATED;
		return -1;
	}
	return ip->protocol;
}

/* IPv6 and its extension headers. Returns the transport protocol or -1. */
static __always_inline int netmon_parse_ipv6(struct netmon_cursor *c, struct netmon_packet *pkt,
					     const int what)
{
	struct netmon_ipv6hdr *ip6 = netmon_cursor_take(c, sizeof(*ip6));
	__u8 next;

	if (!ip6) {
		pkt->flags |= NETMON_PKT_TRUNCATED;
		return -1;
	}
	if ((bpf_ntohl(ip6->ver_tc_flow) >> 28) != 6) {
		pkt->flags |= NETMON_PKT_MALFORMED;
		return -1;
	}
	if (what == NETMON_PARSE_FLOW) {
		__builtin_memcpy(pkt->saddr, ip6->saddr, sizeof(pkt->saddr));
		__builtin_memcpy(pkt->daddr, ip6->daddr, sizeof(pkt->daddr));
	}
	next = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < NETMON_IPV6_MAX_EXT_HDRS; i++) {
		switch (next) {
		case NETMON_IPPROTO_HOPOPTS:
		case NETMON_IPPROTO_ROUTING:
		case NETMON_IPPROTO_DSTOPTS:
		case NETMON_IPPROTO_AH: {
			struct netmon_ipv6_opthdr *h = netmon_cursor_take(c, sizeof(*h));
			__u32 len;

			if (!h)
				goto truncated;
			/* AH counts 4-byte units minus 2, the others 8-byte units minus 1. */
			len = next == NETMON_IPPROTO_AH ? ((__u32)h->hdrlen + 2) * 4 :
							  ((__u32)h->hdrlen + 1) * 8;
			next = h->nexthdr;
			if (!netmon_cursor_take(c, len - sizeof(*h)))
				goto truncated;
			break;
		}
		case NETMON_IPPROTO_FRAGMENT: {
			struct netmon_ipv6_fraghdr *f = netmon_cursor_take(c, sizeof(*f));

			if (!f)
				goto truncated;
			next = f->nexthdr;
			pkt->flags |= NETMON_PKT_FRAGMENT;
			if (f->frag_off & bpf_htons(0xfff8))
				pkt->flags |= NETMON_PKT_LATER_FRAGMENT;
			break;
		}
		default:
			pkt->ip_proto = next;
			return next;
		}
	}
	pkt->ip_proto = next;
	switch (next) {
	case NETMON_IPPROTO_HOPOPTS:
	case NETMON_IPPROTO_ROUTING:
	case NETMON_IPPROTO_DSTOPTS:
	case NETMON_IPPROTO_AH:
	case NETMON_IPPROTO_FRAGMENT:
		/* Still in extension headers after the bound: give up on L4. */
		pkt->flags |= NETMON_PKT_EXT_LIMIT;
		return -1;
	default:
		return next;
	}
truncated:
	pkt->flags |= NETMON_PKT_TRUNCATED;
	return -1;
}

/* TCP, UDP, ICMP, ICMPv6 at the cursor. */
static __always_inline void netmon_parse_l4(struct netmon_cursor *c, struct netmon_packet *pkt,
					    int proto, const int what)
{
	switch (proto) {
	case NETMON_IPPROTO_TCP:
		pkt->l4 = NETMON_L4_TCP;
		break;
	case NETMON_IPPROTO_UDP:
		pkt->l4 = NETMON_L4_UDP;
		break;
	case NETMON_IPPROTO_ICMP:
	case NETMON_IPPROTO_ICMPV6:
		pkt->l4 = NETMON_L4_ICMP;
		break;
	default:
		pkt->l4 = NETMON_L4_OTHER;
		return;
	}
	if (pkt->flags & NETMON_PKT_LATER_FRAGMENT)
		return;
	if (proto == NETMON_IPPROTO_TCP) {
		struct netmon_tcphdr *tcp = netmon_cursor_take(c, sizeof(*tcp));

		if (!tcp)
			goto truncated;
		if (what == NETMON_PARSE_FLOW) {
			pkt->sport = tcp->source;
			pkt->dport = tcp->dest;
			pkt->tcp_flags = tcp->flags;
		}
	} else if (proto == NETMON_IPPROTO_UDP) {
		struct netmon_l4ports *udp = netmon_cursor_take(c, 8); /* whole UDP header */

		if (!udp)
			goto truncated;
		if (what == NETMON_PARSE_FLOW) {
			pkt->sport = udp->source;
			pkt->dport = udp->dest;
		}
	} else {
		struct netmon_icmphdr *icmp = netmon_cursor_take(c, sizeof(*icmp));

		if (!icmp)
			goto truncated;
		if (what == NETMON_PARSE_FLOW)
			pkt->dport = bpf_htons(((__u16)icmp->type << 8) | icmp->code);
	}
	return;
truncated:
	pkt->flags |= NETMON_PKT_TRUNCATED;
}

/* The common cases, each with one bounds check: IPv4 without options or
 * fragments, or IPv6 straight to TCP, UDP or ICMPv6, at offset `l3` (right
 * after the Ethernet header, or after one 802.1Q tag), followed by at least a
 * TCP header's length. Returns 1 with pkt filled exactly as the general walk
 * would fill it (tests/bpf/test_parser.cpp runs every case through both), or
 * 0, having changed nothing, when the frame is not such a case. */
static __always_inline int netmon_parse_fast(void *data, void *data_end, struct netmon_packet *pkt,
					     const int l3, const int what)
{
	struct netmon_cursor c = { .end = data_end };
	__be16 ethertype;

	if (data + l3 + sizeof(struct netmon_ipv6hdr) + sizeof(struct netmon_tcphdr) <= data_end) {
		struct netmon_ipv6hdr *ip6 = data + l3;
		__u8 next = ip6->nexthdr;

		ethertype = *(__be16 *)(data + l3 - 2);
		if (ethertype == bpf_htons(NETMON_ETH_P_IPV6) && (*(__u8 *)ip6 >> 4) == 6 &&
		    (next == NETMON_IPPROTO_TCP || next == NETMON_IPPROTO_UDP ||
		     next == NETMON_IPPROTO_ICMPV6)) {
			pkt->l3 = NETMON_L3_IPV6;
			pkt->eth_proto = NETMON_ETH_P_IPV6;
			pkt->ip_proto = next;
			if (what == NETMON_PARSE_FLOW) {
				__builtin_memcpy(pkt->saddr, ip6->saddr, sizeof(pkt->saddr));
				__builtin_memcpy(pkt->daddr, ip6->daddr, sizeof(pkt->daddr));
			}
			c.pos = ip6 + 1;
			if (what == NETMON_PARSE_FLOW)
				pkt->l4_off = c.pos - data;
			netmon_parse_l4(&c, pkt, next, what);
			return 1;
		}
	}
	if (data + l3 + sizeof(struct netmon_iphdr) + sizeof(struct netmon_tcphdr) <= data_end) {
		struct netmon_iphdr *ip = data + l3;

		ethertype = *(__be16 *)(data + l3 - 2);
		if (ethertype == bpf_htons(NETMON_ETH_P_IP) && ip->ver_ihl == 0x45 &&
		    !(ip->frag_off & bpf_htons(0x3fff))) {
			pkt->l3 = NETMON_L3_IPV4;
			pkt->eth_proto = NETMON_ETH_P_IP;
			pkt->ip_proto = ip->protocol;
			if (what == NETMON_PARSE_FLOW) {
				pkt->saddr[0] = ip->saddr;
				pkt->daddr[0] = ip->daddr;
			}
			c.pos = ip + 1;
			if (what == NETMON_PARSE_FLOW)
				pkt->l4_off = c.pos - data;
			netmon_parse_l4(&c, pkt, ip->protocol, what);
			return 1;
		}
	}
	return 0;
}

/* Parses a frame. Always fills pkt->l3 and pkt->l4 with valid indexes. */
static __always_inline void netmon_parse_what(void *data, void *data_end, struct netmon_packet *pkt,
					      const int what)
{
	struct netmon_cursor c = { .pos = data, .end = data_end };
	int proto;

	if (what == NETMON_PARSE_FLOW)
		__builtin_memset(pkt, 0, sizeof(*pkt));
	else
		__builtin_memset(pkt, 0, 8); /* l3 .. eth_proto */
	pkt->l3 = NETMON_L3_OTHER;
	pkt->l4 = NETMON_L4_NONE;

#ifndef NETMON_PARSE_NO_FAST_PATH /* defined by the test that checks both paths agree */
	/* The common cases first: see netmon_parse_fast(). */
	if (netmon_parse_fast(data, data_end, pkt, sizeof(struct netmon_ethhdr), what))
		return;
	if (data + sizeof(struct netmon_ethhdr) <= data_end &&
	    ((struct netmon_ethhdr *)data)->proto == bpf_htons(NETMON_ETH_P_8021Q) &&
	    netmon_parse_fast(data, data_end, pkt,
			      sizeof(struct netmon_ethhdr) + sizeof(struct netmon_vlanhdr), what)) {
		pkt->flags |= NETMON_PKT_VLAN;
		pkt->vlan_depth = 1;
		return;
	}
#endif

	proto = netmon_parse_eth(&c, pkt);
	if (proto < 0) {
		pkt->flags |= NETMON_PKT_TRUNCATED;
		return;
	}
	pkt->eth_proto = proto;
	switch (proto) {
	case NETMON_ETH_P_IP:
		pkt->l3 = NETMON_L3_IPV4;
		proto = netmon_parse_ipv4(&c, pkt, what);
		break;
	case NETMON_ETH_P_IPV6:
		pkt->l3 = NETMON_L3_IPV6;
		proto = netmon_parse_ipv6(&c, pkt, what);
		break;
	case NETMON_ETH_P_ARP:
		pkt->l3 = NETMON_L3_ARP;
		return;
	default:
		return;
	}
	if (proto < 0) {
		pkt->l4 = NETMON_L4_OTHER;
		return;
	}
	if (what == NETMON_PARSE_FLOW)
		pkt->l4_off = c.pos - data;
	netmon_parse_l4(&c, pkt, proto, what);
}

static __always_inline void netmon_parse(void *data, void *data_end, struct netmon_packet *pkt)
{
	netmon_parse_what(data, data_end, pkt, NETMON_PARSE_FLOW);
}

static __always_inline void netmon_classify(void *data, void *data_end, struct netmon_packet *pkt)
{
	netmon_parse_what(data, data_end, pkt, NETMON_PARSE_CLASS);
}

/* The same for a TC program's skb. Headers that are not in the linear part
 * of a non-linear skb are pulled into it first (bpf_skb_pull_data moves bytes,
 * it does not change them), so such packets are not taken for truncated
 * ones. */
static __always_inline void netmon_parse_skb_what(struct __sk_buff *skb, struct netmon_packet *pkt,
						  const int what)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	netmon_parse_what(data, data_end, pkt, what);
	if ((pkt->flags & NETMON_PKT_TRUNCATED) && skb->len > (__u32)(data_end - data)) {
		if (bpf_skb_pull_data(skb, skb->len < 256 ? skb->len : 256) == 0)
			netmon_parse_what((void *)(long)skb->data, (void *)(long)skb->data_end, pkt,
					  what);
	}
}

static __always_inline void netmon_parse_skb(struct __sk_buff *skb, struct netmon_packet *pkt)
{
	netmon_parse_skb_what(skb, pkt, NETMON_PARSE_FLOW);
}

static __always_inline void netmon_classify_skb(struct __sk_buff *skb, struct netmon_packet *pkt)
{
	netmon_parse_skb_what(skb, pkt, NETMON_PARSE_CLASS);
}

#endif /* NETMON_BPF_PARSE_H */
