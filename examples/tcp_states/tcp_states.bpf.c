/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* tcp_states: counts the states TCP sockets enter, per network namespace,
 * from the sock:inet_sock_set_state tracepoint (tp_btf: typed arguments, no
 * tracefs needed). CO-RE: built against vmlinux.h, it reads struct sock with
 * BPF_CORE_READ, relocated against the running kernel's BTF at load. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcp_states.h"

#define IPPROTO_TCP 6

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct tcp_states_key);
	__type(value, __u64);
} entered SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_states_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct tcp_states_key key = {};
	__u64 zero = 0, *n;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	key.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	key.state = (__u32)newstate;
	n = bpf_map_lookup_elem(&entered, &key);
	if (!n) {
		/* Another CPU may add it first (EEXIST): the lookup finds it then. */
		bpf_map_update_elem(&entered, &key, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&entered, &key);
		if (!n)
			return 0; /* the map is full */
	}
	(*n)++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
