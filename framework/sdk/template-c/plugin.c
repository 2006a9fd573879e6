/* SPDX-License-Identifier: MIT */
/*
 * @NAME@: the plugin, in C. Loads one copy of the BPF program per interface,
 * attaches it at TC ingress and egress, and publishes the counts every
 * interval. <netmon/plugin_abi.h> is the boundary with netmon-host (the
 * descriptor at the end); <netmon/support.h> does the rest: options, TC
 * attach, per-CPU reads, interfaces that go away, logging.
 */
#include <netmon/plugin_abi.h>
#include <netmon/support.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "@NAME@.h"
#include "@NAME@.skel.h"

/* This plugin's own TC priority for the netlink attach: give each plugin its
 * own (1..65535), as a program of another name at it is never replaced. */
#define TC_PRIORITY 49310

struct attached {
	struct @NAME@ *skel;
	netmon_tc_link *in; /* detached before skel is destroyed */
	netmon_tc_link *out;
	uint32_t ifindex;
	char ifname[64];
};

struct plugin {
	int attach_mode; /* enum netmon_tc_mode */
	struct attached *ifaces;
	unsigned int n;
	netmon_log_fn log; /* the start context's: valid until destroy */
	void *host_ctx;
	char error[512];
};

static void *create(char *err, size_t err_len)
{
	struct plugin *self = calloc(1, sizeof(*self));

	if (!self)
		snprintf(err, err_len, "out of memory");
	return self;
}

/* Options arrive as a JSON object (-o @NAME@.key=value, or --config). Read
 * each one, then finish: an unknown key is refused, naming the valid ones. */
static int configure(void *p, const char *options_json)
{
	static const char *const modes[] = { "auto", "tcx", "netlink" };
	struct plugin *self = p;
	const char *attach = "auto";
	netmon_options *o;
	int rc;

	o = netmon_options_open(options_json, "@NAME@", self->error, sizeof(self->error));
	if (!o)
		return NETMON_ERROR;
	netmon_options_choice(o, "attach", modes, 3, "auto", &attach);
	rc = netmon_options_finish(o); /* also fails if a reader above did */
	if (rc != NETMON_OK)
		snprintf(self->error, sizeof(self->error), "%s", netmon_options_error(o));
	else
		self->attach_mode = netmon_tc_mode_parse(attach);
	netmon_options_close(o);
	return rc;
}

/* Detaches and frees one interface's programs, in the reverse order of
 * start(): the first link made the clsact qdisc (netlink mode) and removes it
 * once the others are gone. Every step accepts NULL, so a half-made entry is
 * undone the same way. */
static void release(struct attached *a)
{
	netmon_tc_detach(a->out);
	netmon_tc_detach(a->in);
	@NAME@__destroy(a->skel);
	memset(a, 0, sizeof(*a));
}

static void stop(void *p)
{
	struct plugin *self = p;

	for (unsigned int i = 0; i < self->n; i++)
		release(&self->ifaces[i]);
	free(self->ifaces);
	self->ifaces = NULL;
	self->n = 0;
}

/* Load and attach on every interface. On the first failure, `goto fail`
 * undoes everything done so far and returns the message: nothing is left
 * attached. */
static int start(void *p, const netmon_start_context *ctx)
{
	struct plugin *self = p;

	self->log = ctx->log;
	self->host_ctx = ctx->host_ctx;
	self->ifaces = calloc(ctx->n_interfaces ? ctx->n_interfaces : 1, sizeof(*self->ifaces));
	if (!self->ifaces) {
		snprintf(self->error, sizeof(self->error), "out of memory");
		return NETMON_ERROR;
	}
	for (uint32_t i = 0; i < ctx->n_interfaces; i++) {
		const netmon_interface *iface = &ctx->interfaces[i];
		struct attached *a = &self->ifaces[self->n++]; /* counted now: fail: releases it */

		a->ifindex = iface->ifindex;
		snprintf(a->ifname, sizeof(a->ifname), "%s", iface->name);
		a->skel = @NAME@__open_and_load();
		if (!a->skel) {
			snprintf(
				self->error, sizeof(self->error),
				"%s: the kernel refused the BPF program (run with --log-level debug for the verifier log)",
				a->ifname);
			goto fail;
		}
		a->in = netmon_tc_attach(a->skel->progs.@NAME@_in, a->ifindex, a->ifname,
					 NETMON_TC_INGRESS, self->attach_mode, TC_PRIORITY,
					 ctx->log, ctx->host_ctx, self->error, sizeof(self->error));
		if (!a->in)
			goto fail;
		a->out = netmon_tc_attach(a->skel->progs.@NAME@_out, a->ifindex, a->ifname,
					  NETMON_TC_EGRESS, self->attach_mode, TC_PRIORITY,
					  ctx->log, ctx->host_ctx, self->error,
					  sizeof(self->error));
		if (!a->out)
			goto fail;
		netmon_logf(ctx->log, ctx->host_ctx, NETMON_LOG_INFO, "attached to %s (%s)",
			    a->ifname, netmon_tc_mode_name(netmon_tc_link_mode(a->in)));
	}
	return NETMON_OK;
fail:
	stop(self);
	return NETMON_ERROR;
}

static int publish(struct plugin *self, const netmon_emitter *out, const struct attached *a,
		   uint32_t dir)
{
	static const char *const keys[@NAME@_N_COUNTS] = { "packets", "bytes", "udp" };
	uint64_t sums[@NAME@_N_COUNTS];
	netmon_field fields[@NAME@_N_COUNTS];
	netmon_tag tags[2] = { { "ifname", a->ifname },
			       { "direction", dir == 0 ? "ingress" : "egress" } };
	netmon_sample s;
	int rc;

	rc = netmon_percpu_sum_u64(bpf_map__fd(a->skel->maps.counts), &dir, sums, @NAME@_N_COUNTS);
	if (rc < 0) {
		snprintf(self->error, sizeof(self->error), "%s: cannot read the counts: %s",
			 a->ifname, strerror(-rc));
		return NETMON_ERROR;
	}
	memset(fields, 0, sizeof(fields));
	for (size_t k = 0; k < @NAME@_N_COUNTS; k++) {
		fields[k].key = keys[k];
		fields[k].type = NETMON_FIELD_COUNTER; /* monotonic: the host adds <key>_per_sec */
		fields[k].value.u64 = sums[k];
	}
	memset(&s, 0, sizeof(s));
	s.struct_size = sizeof(s);
	s.measurement = "@NAME@"; /* named after the plugin, as every measurement */
	s.tags = tags;
	s.n_tags = 2;
	s.fields = fields;
	s.n_fields = @NAME@_N_COUNTS;
	if (out->publish(out->host_ctx, &s) != NETMON_OK) {
		snprintf(self->error, sizeof(self->error), "the host refused a sample");
		return NETMON_ERROR;
	}
	return NETMON_OK;
}

/* Every interval: read the maps, publish one sample per interface and
 * direction. An interface deleted while monitored took its hooks with it: it
 * is dropped with one warning and the others go on. */
static int collect(void *p, int64_t now_ns, const netmon_emitter *out)
{
	struct plugin *self = p;

	(void)now_ns;
	for (unsigned int i = 0; i < self->n;) {
		struct attached *a = &self->ifaces[i];

		if (netmon_interface_gone(a->ifindex, a->ifname, self->log, self->host_ctx)) {
			release(a);
			memmove(a, a + 1, (self->n - i - 1) * sizeof(*a));
			self->n--;
			continue;
		}
		if (publish(self, out, a, 0) != NETMON_OK || publish(self, out, a, 1) != NETMON_OK)
			return NETMON_ERROR;
		i++;
	}
	return NETMON_OK;
}

static void destroy(void *p)
{
	stop(p); /* the host calls stop() first; this is for an instance never started */
	free(p);
}

static const char *last_error(void *p)
{
	return ((struct plugin *)p)->error;
}

NETMON_EXPORT const netmon_plugin_descriptor netmon_plugin = {
	.struct_size = sizeof(netmon_plugin_descriptor),
	.abi_major = NETMON_ABI_MAJOR,
	.abi_minor = NETMON_ABI_MINOR,
	.name = "@NAME@",
	.version = "0.1.0",
	.description =
		"Packets, bytes and UDP datagrams per interface and direction at TC (a plugin in C)",
	.create = create,
	.configure = configure,
	.start = start,
	.collect = collect,
	.stop = stop,
	.destroy = destroy,
	.last_error = last_error,
	/* What --list-plugins shows, written as the C++ SDK makes it from its
	 * declarations (a header line, then one line per option): keep it in
	 * step with configure(). */
	.options_help = "option  values            default  meaning\n"
			"attach  auto|tcx|netlink  auto     how to attach at TC",
};
