/* @NAME@: structures shared by the BPF program and the plugin. */
#ifndef @NAME@_H
#define @NAME@_H

#include <linux/types.h>

/* Per CPU, one entry per direction: 0 ingress, 1 egress. Only __u64 members:
 * the plugin sums them over the CPUs with netmon_percpu_sum_u64(). */
struct @NAME@_counts {
	__u64 packets;
	__u64 bytes;
	__u64 udp; /* UDP datagrams (IPv4 or IPv6): an example of reading the parse result */
};

#define @NAME@_N_COUNTS (sizeof(struct @NAME@_counts) / sizeof(__u64))

#endif
