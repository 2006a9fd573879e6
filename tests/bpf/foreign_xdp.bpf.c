/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* A stand-in for someone else's XDP program, for the coexistence tests. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int foreign_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
