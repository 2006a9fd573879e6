/* SPDX-License-Identifier: MIT */
/*
 * c_ifstats: the kernel's own interface counters (/sys/class/net/IF/statistics)
 * as netmon samples, in plain C against <netmon/plugin_abi.h> alone: no C++,
 * no SDK wrapper. The descriptor below is the whole plugin ABI.
 */
#include <netmon/plugin_abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IFACES 64

struct ifstats {
	char names[MAX_IFACES][32];
	unsigned n;
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
		snprintf(self->error, sizeof(self->error), "c_ifstats takes no options (got %s)", options_json);
		return NETMON_ERROR;
	}
	return NETMON_OK;
}

static int start(void *p, const netmon_start_context *ctx)
{
	struct ifstats *self = p;

	if (ctx->n_interfaces > MAX_IFACES) {
		snprintf(self->error, sizeof(self->error), "at most %d interfaces", MAX_IFACES);
		return NETMON_ERROR;
	}
	for (unsigned i = 0; i < ctx->n_interfaces; i++)
		snprintf(self->names[i], sizeof(self->names[i]), "%s", ctx->interfaces[i].name);
	self->n = ctx->n_interfaces;
	if (ctx->log)
		ctx->log(ctx->host_ctx, NETMON_LOG_INFO, "reading /sys/class/net/*/statistics");
	return NETMON_OK;
}

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
	*out = v;
	return ok ? 0 : -1;
}

static int collect(void *p, int64_t now_ns, const netmon_emitter *out)
{
	static const char *const keys[] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_dropped", "tx_dropped" };
	struct ifstats *self = p;

	(void)now_ns;
	for (unsigned i = 0; i < self->n; i++) {
		netmon_field fields[6];
		netmon_tag tag = { "ifname", self->names[i] };
		netmon_sample s;

		for (unsigned k = 0; k < 6; k++) {
			memset(&fields[k], 0, sizeof(fields[k]));
			fields[k].key = keys[k];
			fields[k].type = NETMON_FIELD_COUNTER;
			if (read_counter(self->names[i], keys[k], &fields[k].value.u64) != 0) {
				snprintf(self->error, sizeof(self->error), "%s: cannot read its statistics", self->names[i]);
				return NETMON_ERROR;
			}
		}
		memset(&s, 0, sizeof(s));
		s.struct_size = sizeof(s);
		s.measurement = "ifstats";
		s.tags = &tag;
		s.n_tags = 1;
		s.fields = fields;
		s.n_fields = 6;
		if (out->publish(out->host_ctx, &s) != NETMON_OK) {
			snprintf(self->error, sizeof(self->error), "the host refused a sample");
			return NETMON_ERROR;
		}
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
