/* SPDX-License-Identifier: MIT */
/* The map key shared by tcp_states.bpf.c and tcp_states.cpp. */
#ifndef TCP_STATES_H
#define TCP_STATES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct tcp_states_key {
	__u64 netns; /* the socket's network namespace (its cookie) */
	__u32 state; /* the state entered: TCP_ESTABLISHED (1) ... TCP_NEW_SYN_RECV (12) */
	__u32 pad;
};

#endif /* TCP_STATES_H */
