/* SPDX-License-Identifier: MIT */
/*
 * @NAME@'s BPF program on crafted frames, with bpf_prog_test_run_opts: the
 * kernel runs the real program on the bytes given, and the test reads the
 * map as the plugin does. Needs root. Exit status 0 when every check holds.
 */
#include <netmon/bpf/packet.h>
#include <netmon/support.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "@NAME@.h"
#include "@NAME@.skel.h"

static int failures;

#define CHECK_EQ(got, want)                                                                       \
	do {                                                                                      \
		unsigned long long g_ = (got), w_ = (want);                                       \
		if (g_ != w_) {                                                                   \
			fprintf(stderr, "%s:%d: %s is %llu, expected %llu\n", __FILE__, __LINE__, \
				#got, g_, w_);                                                    \
			failures++;                                                               \
		}                                                                                 \
	} while (0)

/* Ethernet + IPv4 + an L4 header of l4_len bytes (protocol proto), no payload. */
static size_t ipv4_frame(unsigned char *f, unsigned char proto, size_t l4_len)
{
	size_t len = 14 + 20 + l4_len;

	memset(f, 0, len);
	f[12] = NETMON_ETH_P_IP >> 8;         /* EtherType IPv4 */
	f[14] = 0x45;                         /* version 4, IHL 5 */
	f[17] = (unsigned char)(20 + l4_len); /* total length */
	f[14 + 9] = proto;
	if (proto == NETMON_IPPROTO_TCP)
		f[14 + 20 + 12] = 5 << 4; /* TCP data offset */
	if (proto == NETMON_IPPROTO_UDP)
		f[14 + 20 + 5] = 8; /* UDP length */
	return len;
}

static int run(int prog_fd, const unsigned char *frame, size_t len, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
		perror("bpf_prog_test_run_opts");
		failures++;
		return -1;
	}
	return (int)opts.retval;
}

int main(void)
{
	unsigned char udp[64], tcp[64];
	size_t udp_len = ipv4_frame(udp, NETMON_IPPROTO_UDP, 8),
	       tcp_len = ipv4_frame(tcp, NETMON_IPPROTO_TCP, 20);
	uint64_t sums[@NAME@_N_COUNTS];
	struct @NAME@ *skel;
	__u32 dir;
	int in, map;

	if (geteuid() != 0) {
		fprintf(stderr, "test_@NAME@: needs root\n");
		return 1;
	}
	skel = @NAME@__open_and_load();
	if (!skel) {
		fprintf(stderr, "test_@NAME@: cannot load the BPF program\n");
		return 1;
	}
	in = bpf_program__fd(skel->progs.@NAME@_in);
	map = bpf_map__fd(skel->maps.counts);
	CHECK_EQ(run(in, udp, udp_len, 3), TC_ACT_UNSPEC); /* 3 UDP datagrams */
	CHECK_EQ(run(in, tcp, tcp_len, 4), TC_ACT_UNSPEC); /* 4 TCP segments */

	dir = 0;
	CHECK_EQ(netmon_percpu_sum_u64(map, &dir, sums, @NAME@_N_COUNTS), 0);
	CHECK_EQ(sums[0], 7);                         /* packets */
	CHECK_EQ(sums[1], 3 * udp_len + 4 * tcp_len); /* bytes */
	CHECK_EQ(sums[2], 3);                         /* udp */

	dir = 1; /* the egress entry: untouched */
	CHECK_EQ(netmon_percpu_sum_u64(map, &dir, sums, @NAME@_N_COUNTS), 0);
	CHECK_EQ(sums[0], 0);

	@NAME@__destroy(skel);
	if (failures)
		return 1;
	printf("test_@NAME@: all checks passed\n");
	return 0;
}
