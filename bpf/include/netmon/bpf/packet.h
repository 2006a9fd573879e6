/* SPDX-License-Identifier: MIT */
/*
 * What the parser (parse.h) produces, for BPF programs and user space alike:
 * struct netmon_packet, the protocol numbers and the TCP flag bits. Needs
 * only <linux/types.h>, so plugins, sinks and tests include it as it is
 * instead of keeping copies.
 */
#ifndef NETMON_BPF_PACKET_H
#define NETMON_BPF_PACKET_H

#include <linux/types.h>

#include <netmon/bpf/classes.h>

/* Protocol numbers, defined here so this header needs no libc headers. */
#define NETMON_ETH_P_IP 0x0800
#define NETMON_ETH_P_ARP 0x0806
#define NETMON_ETH_P_8021Q 0x8100
#define NETMON_ETH_P_8021AD 0x88A8
#define NETMON_ETH_P_IPV6 0x86DD
#define NETMON_IPPROTO_HOPOPTS 0
#define NETMON_IPPROTO_ICMP 1
#define NETMON_IPPROTO_TCP 6
#define NETMON_IPPROTO_UDP 17
#define NETMON_IPPROTO_ROUTING 43
#define NETMON_IPPROTO_FRAGMENT 44
#define NETMON_IPPROTO_AH 51
#define NETMON_IPPROTO_ICMPV6 58
#define NETMON_IPPROTO_NONE 59
#define NETMON_IPPROTO_DSTOPTS 60

/* TCP flag bits, as in netmon_packet.tcp_flags (the TCP header's 14th byte). */
#define NETMON_TCP_FIN 0x01
#define NETMON_TCP_SYN 0x02
#define NETMON_TCP_RST 0x04
#define NETMON_TCP_PSH 0x08
#define NETMON_TCP_ACK 0x10
#define NETMON_TCP_URG 0x20
#define NETMON_TCP_ECE 0x40
#define NETMON_TCP_CWR 0x80

/* The parse result. Addresses and ports in network byte order; an IPv4
 * address is in saddr[0]/daddr[0] with the rest zero. After
 * netmon_classify() only the first eight bytes (l3 .. eth_proto) are set. */
struct netmon_packet {
	__u8 l3;        /* enum netmon_l3 */
	__u8 l4;        /* enum netmon_l4 */
	__u8 ip_proto;  /* transport protocol number, 0 when none */
	__u8 flags;     /* enum netmon_packet_flags */
	__u8 tcp_flags; /* NETMON_TCP_* bits */
	__u8 vlan_depth;
	__u16 eth_proto; /* innermost EtherType, host byte order */
	__be16 sport;    /* TCP/UDP ports; ICMP: 0 and (type << 8 | code) */
	__be16 dport;
	__u32 saddr[4];
	__u32 daddr[4];
	/* Offset of the transport header from the frame's start; 0 when no IP
	 * header was read. */
	__u16 l4_off;
	__u16 reserved;
};

#endif /* NETMON_BPF_PACKET_H */
