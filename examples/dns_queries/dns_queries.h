/* SPDX-License-Identifier: MIT */
/* Shared by dns_queries.bpf.c and dns_queries.cpp. */
#ifndef DNS_QUERIES_H
#define DNS_QUERIES_H

#include <linux/types.h>

/* Per CPU, one entry per direction (0 ingress, 1 egress). */
struct dns_counts {
	__u64 queries;   /* QR = 0, to UDP port 53 */
	__u64 responses; /* QR = 1, from UDP port 53 */
	__u64 errors;    /* responses with a non-zero RCODE */
	__u64 malformed; /* UDP port 53 with less than a DNS header */
};

#endif
