/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The parse probe without the parser's fast path: every frame takes the
 * general walk, so the test can check both paths give the same result. */
#define NETMON_PARSE_NO_FAST_PATH
#include "parse_probe.bpf.c"
