/* @NAME@: the BPF side. Counts packets, bytes and UDP datagrams per direction
 * at TC. Returns TC_ACT_UNSPEC: never alters traffic. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <netmon/bpf/parse.h>

#include "@NAME@.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct @NAME@_counts);
} counts SEC(".maps");

static __always_inline int count(struct __sk_buff *skb, __u32 direction)
{
	struct @NAME@_counts *c = bpf_map_lookup_elem(&counts, &direction);
	struct netmon_packet pkt;

	if (!c)
		return TC_ACT_UNSPEC;
	netmon_parse_skb(skb, &pkt);
	c->packets++; /* per-CPU value: plain increments */
	c->bytes += skb->len;
	if (pkt.l4 == NETMON_L4_UDP)
		c->udp++;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int @NAME@_in(struct __sk_buff *skb)
{
	return count(skb, 0);
}

SEC("tc")
int @NAME@_out(struct __sk_buff *skb)
{
	return count(skb, 1);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
