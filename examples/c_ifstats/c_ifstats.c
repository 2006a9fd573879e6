/* SPDX-License-Identifier: MIT */
/*
 * c_ifstats: the kernel's own interface counters (/sys/class/net/IF/statistics)
 * as netmon samples, in plain C against <netmon/plugin_abi.h> alone: no C++,
 * no SDK wrapper. The descriptor below is the whole plugin ABI.
 */
#define _POSIX_C_SOURCE 200809L /* if_indextoname, also under -std=c11 */

#include <netmon/plugin_abi.h>

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IFACES 64
#define N_COUNTERS 6

struct ifstats {
	/* The interfaces still monitored: the name each had at start (the
	 * series' tag) and its index (its identity: a renamed interface keeps
	 * it, a deleted one's is gone). */
	char names[MAX_IFACES][IF_NAMESIZE];
	unsigned ifindex[MAX_IFACES];
	unsigned n;
	netmon_log_fn log; /* may be NULL */
	void *host_ctx;
	char error[256];
};

static void *create(char *err, size_t err_len)
{
	struct ifstats *self = calloc(1, sizeof(*self));

	if (!self)
		snprintf(err, err_len, "out of memory");
	return self;
}

static int configure(void *p, const char *options_json)
{
	struct ifstats *self = p;

	/* No options: anything but an empty object is refused. */
	if (options_json && strcmp(options_json, "{}") != 0) {
		snprintf(self->error, sizeof(self->error), "c_ifstats takes no options (got %s)",
			 options_json);
		return NETMON_ERROR;
	}
	return NETMON_OK;
}

static void log_msg(const struct ifstats *self, int level, const char *message)
{
	if (self->log)
		self->log(self->host_ctx, level, message);
}

static int start(void *p, const netmon_start_context *ctx)
{
	struct ifstats *self = p;

	if (ctx->n_interfaces > MAX_IFACES) {
		snprintf(self->error, sizeof(self->error), "at most %d interfaces", MAX_IFACES);
		return NETMON_ERROR;
	}
	for (unsigned i = 0; i < ctx->n_interfaces; i++) {
		snprintf(self->names[i], sizeof(self->names[i]), "%s", ctx->interfaces[i].name);
		self->ifindex[i] = ctx->interfaces[i].ifindex;
	}
	self->n = ctx->n_interfaces;
	/* The host keeps the log callback valid until the instance is destroyed. */
	self->log = ctx->log;
	self->host_ctx = ctx->host_ctx;
	log_msg(self, NETMON_LOG_INFO, "reading /sys/class/net/*/statistics");
	return NETMON_OK;
}

/* One counter of /sys/class/net/IF/statistics; 0 on success, -1 if it cannot
 * be read (*out is then left alone). */
static int read_counter(const char *ifname, const char *name, uint64_t *out)
{
	char path[128];
	unsigned long long v;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*out = v;
	return 0;
}

/* Reads every counter of the interface named ifname into fields: 0, or -1
 * if one cannot be read. */
static int read_counters(const char *ifname, netmon_field *fields, const char *const *keys)
{
	for (unsigned k = 0; k < N_COUNTERS; k++)
		if (read_counter(ifname, keys[k], &fields[k].value.u64) != 0)
			return -1;
	return 0;
}

/* The current name of monitored interface i: 1; 0 if it is gone (no
 * interface has its index any more); -1 on another error (in self->error). */
static int current_name(struct ifstats *self, unsigned i, char current[IF_NAMESIZE])
{
	if (if_indextoname(self->ifindex[i], current))
		return 1;
	if (errno == ENXIO)
		return 0;
	snprintf(self->error, sizeof(self->error), "%s: cannot look up ifindex %u: %s",
		 self->names[i], self->ifindex[i], strerror(errno));
	return -1;
}

/* Reads the counters of monitored interface i: 1; 0 if it is gone; -1 if it
 * cannot be read (the message is in self->error). */
static int read_interface(struct ifstats *self, unsigned i, netmon_field *fields,
			  const char *const *keys)
{
	char current[IF_NAMESIZE];
	int r;

	/* By index, under the name it has now: a renamed interface is still the
	 * one monitored. Twice, as a rename between finding the name and reading
	 * under it is a reason to look again, not a failure. */
	for (int attempt = 0; attempt < 2; attempt++) {
		r = current_name(self, i, current);
		if (r <= 0)
			return r;
		if (read_counters(current, fields, keys) == 0)
			return 1;
	}
	r = current_name(self, i, current); /* deleted while being read? */
	if (r <= 0)
		return r;
	snprintf(self->error, sizeof(self->error), "%s: cannot read /sys/class/net/%s/statistics",
		 self->names[i], current);
	return -1;
}

/* Stops monitoring interface i, with one warning: the others go on. */
static void drop(struct ifstats *self, unsigned i)
{
	char message[128];

	snprintf(message, sizeof(message), "%s (ifindex %u) is gone: no longer monitored",
		 self->names[i], self->ifindex[i]);
	log_msg(self, NETMON_LOG_WARN, message);
	memmove(&self->names[i], &self->names[i + 1], (self->n - i - 1) * sizeof(self->names[0]));
	memmove(&self->ifindex[i], &self->ifindex[i + 1],
		(self->n - i - 1) * sizeof(self->ifindex[0]));
	self->n--;
}

static int collect(void *p, int64_t now_ns, const netmon_emitter *out)
{
	static const char *const keys[N_COUNTERS] = { "rx_packets", "rx_bytes",   "tx_packets",
						      "tx_bytes",   "rx_dropped", "tx_dropped" };
	struct ifstats *self = p;

	(void)now_ns;
	for (unsigned i = 0; i < self->n;) {
		netmon_field fields[N_COUNTERS];
		netmon_tag tag = { "ifname", self->names[i] };
		netmon_sample s;
		int r;

		memset(fields, 0, sizeof(fields));
		for (unsigned k = 0; k < N_COUNTERS; k++) {
			fields[k].key = keys[k];
			fields[k].type = NETMON_FIELD_COUNTER;
		}
		r = read_interface(self, i, fields, keys);
		if (r == 0) { /* deleted while monitored: drop it, go on with the rest */
			drop(self, i);
			continue;
		}
		if (r < 0)
			return NETMON_ERROR;
		memset(&s, 0, sizeof(s));
		s.struct_size = sizeof(s);
		s.measurement = "c_ifstats"; /* named after the plugin, as every measurement */
		s.tags = &tag;
		s.n_tags = 1;
		s.fields = fields;
		s.n_fields = N_COUNTERS;
		if (out->publish(out->host_ctx, &s) != NETMON_OK) {
			snprintf(self->error, sizeof(self->error), "the host refused a sample");
			return NETMON_ERROR;
		}
		i++;
	}
	return NETMON_OK;
}

static void stop(void *p)
{
	((struct ifstats *)p)->n = 0; /* nothing attached: nothing to undo */
}

static void destroy(void *p)
{
	free(p);
}

static const char *last_error(void *p)
{
	return ((struct ifstats *)p)->error;
}

NETMON_EXPORT const netmon_plugin_descriptor netmon_plugin = {
	.struct_size = sizeof(netmon_plugin_descriptor),
	.abi_major = NETMON_ABI_MAJOR,
	.abi_minor = NETMON_ABI_MINOR,
	.name = "c_ifstats",
	.version = "1.0.0",
	.description = "The kernel's interface counters (/sys/class/net), a plugin in plain C",
	.create = create,
	.configure = configure,
	.start = start,
	.collect = collect,
	.stop = stop,
	.destroy = destroy,
	.last_error = last_error,
	.options_help = NULL,
};
