/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The baseline of the tracing plugins: a program on the same hook that does
 * nothing, measured in the same run. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/kfree_skb")
int BPF_PROG(empty_kfree_skb)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(empty_tcp_retransmit_skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
