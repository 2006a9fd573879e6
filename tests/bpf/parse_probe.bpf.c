/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Exposes the shared parser's result for tests: each program parses the frame
 * and stores its struct netmon_packet in `result`. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netmon_packet);
} result SEC(".maps");

SEC("xdp")
int parse_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct netmon_packet *out = bpf_map_lookup_elem(&result, &zero);

	if (out)
		netmon_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, out);
	return XDP_PASS;
}

SEC("tc")
int parse_tc(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct netmon_packet *out = bpf_map_lookup_elem(&result, &zero);

	if (out)
		netmon_parse_skb(skb, out);
	return TC_ACT_UNSPEC;
}

/* The class-only mode, to check it agrees with the full parse on the class. */
SEC("xdp")
int classify_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct netmon_packet *out = bpf_map_lookup_elem(&result, &zero);

	if (out)
		netmon_classify((void *)(long)ctx->data, (void *)(long)ctx->data_end, out);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
