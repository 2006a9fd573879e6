/* SPDX-License-Identifier: MIT */
/* Structures shared by tc_stats.bpf.c and tc_stats.cpp. */
#ifndef NETMON_TC_STATS_H
#define NETMON_TC_STATS_H

#include <netmon/bpf/counters.h>

/* Indexes of the per-CPU `stats` array: one entry per direction. Each attached
 * interface has its own program pair and map, so the hot path does one
 * lookup with a constant key. */
enum tc_stats_direction {
	TC_STATS_INGRESS = 0,
	TC_STATS_EGRESS = 1,
	TC_STATS_DIRECTIONS = 2,
};

#endif /* NETMON_TC_STATS_H */
