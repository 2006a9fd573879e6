/* SPDX-License-Identifier: MIT */
#include "c_api_probe.h"

#include <netmon/plugin_abi.h>
#include <netmon/support.h>

#include <stdio.h>

const char *const c_api_probe_sorts[3] = { "packets", "bytes", "rate" };

int c_api_probe_configure(const char *options_json, struct c_api_probe_options *out, char *msg,
			  size_t msg_len)
{
	const char *label = NULL;
	netmon_options *o;
	int rc;

	o = netmon_options_open(options_json, "probe", msg, msg_len);
	if (!o)
		return -1;
	netmon_options_integer(o, "top", 10, 1, 10000, &out->top);
	netmon_options_choice(o, "sort", c_api_probe_sorts, 3, "packets", &out->sort);
	netmon_options_boolean(o, "verbose", 0, &out->verbose);
	netmon_options_duration_ns(o, "window", 1000000000LL, 100000000LL, 60000000000LL,
				   &out->window_ns);
	netmon_options_string(o, "label", "none", &label);
	rc = netmon_options_finish(o);
	if (rc != NETMON_OK)
		snprintf(msg, msg_len, "%s", netmon_options_error(o));
	else
		snprintf(out->label, sizeof(out->label), "%s", label);
	netmon_options_close(o);
	return rc == NETMON_OK ? 0 : -1;
}

int c_api_probe_sticky(const char *options_json, const char **sort, char *msg, size_t msg_len)
{
	netmon_options *o = netmon_options_open(options_json, "probe", msg, msg_len);
	int64_t top;
	int rc;

	if (!o)
		return -2;
	netmon_options_integer(o, "top", 10, 1, 10000, &top);
	rc = netmon_options_choice(o, "sort", c_api_probe_sorts, 3, "packets", sort);
	snprintf(msg, msg_len, "%s", netmon_options_error(o));
	netmon_options_close(o);
	return rc;
}
