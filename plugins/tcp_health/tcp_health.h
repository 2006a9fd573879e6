/* SPDX-License-Identifier: MIT */
/* Structures shared by tcp_health.bpf.c and tcp_health.cpp. */
#ifndef NETMON_TCP_HEALTH_H
#define NETMON_TCP_HEALTH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* A TCP connection as its local end sees it, in its network namespace.
 * Addresses in network order (IPv4 in the first 4 bytes), ports in host
 * order. */
struct tcp_health_key {
	__u64 netns; /* net->net_cookie of the socket's (else the device's) namespace */
	__u8 local[16];
	__u8 remote[16];
	__u16 local_port;
	__u16 remote_port;
	__u8 l3; /* enum netmon_l3: NETMON_L3_IPV4 or NETMON_L3_IPV6 */
	__u8 pad[3];
};

struct tcp_health_value {
	__u64 retransmits; /* segments retransmitted (tcp_skb_pcount), as TcpRetransSegs counts them */
	__u64 retransmit_failures; /* attempts the kernel could not send (err other than -EBUSY) */
	__u64 resets_sent;
	__u64 resets_received;
	__u32 srtt_us; /* the smoothed RTT at the last event (tcp_sock.srtt_us >> 3); 0: unknown */
	__u32 pad;
};

/* Indexes of the per-CPU `totals` array: every event, also those whose
 * connection found no room in the map. */
enum tcp_health_total {
	TCP_HEALTH_RETRANSMITS = 0,
	TCP_HEALTH_RETRANSMIT_FAILURES = 1,
	TCP_HEALTH_RESETS_SENT = 2,
	TCP_HEALTH_RESETS_RECEIVED = 3,
	TCP_HEALTH_LOST = 4, /* events of a new connection when the map was full */
	TCP_HEALTH_TOTALS = 5,
};

#define TCP_HEALTH_DEFAULT_ENTRIES 16384

#endif /* NETMON_TCP_HEALTH_H */
