/* SPDX-License-Identifier: MIT */
/*
 * Packet classes shared by the BPF programs and user space: every plugin
 * counts per (L3, L4) class with these indexes, and names them the same way.
 */
#ifndef NETMON_BPF_CLASSES_H
#define NETMON_BPF_CLASSES_H

enum netmon_l3 {
	NETMON_L3_IPV4 = 0,
	NETMON_L3_IPV6 = 1,
	NETMON_L3_ARP = 2,
	NETMON_L3_OTHER = 3, /* any other EtherType, or a frame too short for one */
	NETMON_L3_MAX = 4,
};

enum netmon_l4 {
	NETMON_L4_TCP = 0,
	NETMON_L4_UDP = 1,
	NETMON_L4_ICMP = 2,  /* ICMP over IPv4, ICMPv6 over IPv6 */
	NETMON_L4_OTHER = 3, /* another IP protocol, or no transport header reached */
	NETMON_L4_NONE = 4,  /* not IP: ARP and other L3 */
	NETMON_L4_MAX = 5,
};

/* netmon_packet.flags */
enum netmon_packet_flags {
	NETMON_PKT_TRUNCATED = 1 << 0,      /* a header ran past the end of the frame */
	NETMON_PKT_MALFORMED = 1 << 1,      /* a header field is impossible (IHL < 5, ...) */
	NETMON_PKT_FRAGMENT = 1 << 2,       /* an IP fragment */
	NETMON_PKT_LATER_FRAGMENT = 1 << 3, /* not the first fragment: no L4 header */
	NETMON_PKT_VLAN = 1 << 4,           /* carried at least one VLAN tag */
	NETMON_PKT_EXT_LIMIT = 1 << 5,      /* IPv6 extension header walk hit its bound */
};

#define NETMON_PKT_BAD (NETMON_PKT_TRUNCATED | NETMON_PKT_MALFORMED)

#endif /* NETMON_BPF_CLASSES_H */
