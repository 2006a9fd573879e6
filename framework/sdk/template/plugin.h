/* @NAME@: structures shared by the BPF program and the plugin. */
#ifndef @NAME@_H
#define @NAME@_H

#include <linux/types.h>

/* Per CPU, one entry per direction: 0 ingress, 1 egress. */
struct @NAME@_counts {
	__u64 packets;
	__u64 bytes;
	__u64 tcp_syn; /* TCP segments with SYN set: an example of reading the parse result */
};

#endif
