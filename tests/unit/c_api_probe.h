/* SPDX-License-Identifier: MIT */
/* A plugin's configure() written in C with <netmon/support.h>, compiled as C
 * (c_api_probe.c), for test_c_api to compare with netmon::Options. */
#ifndef NETMON_TEST_C_API_PROBE_H
#define NETMON_TEST_C_API_PROBE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct c_api_probe_options {
	int64_t top;
	const char *sort; /* an element of c_api_probe_sorts, or the default's */
	int verbose;
	int64_t window_ns;
	char label[64];
};

extern const char *const c_api_probe_sorts[3];

/* Reads options_json for the plugin "probe": top (integer 1..10000, 10), sort
 * (packets|bytes|rate, packets), verbose (boolean, false), window (duration
 * 100ms..60s, 1s), label (string, "none"), then finishes. 0 and *out filled,
 * or -1 and the message in msg. */
int c_api_probe_configure(const char *options_json, struct c_api_probe_options *out, char *msg,
			  size_t msg_len);

/* Reads top, then sort, without checking between: the sticky error. Returns
 * what netmon_options_choice returned; *sort as it left it. */
int c_api_probe_sticky(const char *options_json, const char **sort, char *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif

#endif
