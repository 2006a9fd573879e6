/* SPDX-License-Identifier: MIT */
/*
 * netmon support library, C API: what the C++ SDK gives a plugin, for a
 * plugin written in C. Link netmon::support (CMake) as a C++ plugin does; the
 * library is C++ inside, so the project enables CXX for the link.
 *
 *   options   strict reading of the options JSON, with the same messages as
 *             a C++ plugin's (netmon::Options)
 *   tc        attaching at TC ingress/egress: tcx, or netlink (clsact) where
 *             the kernel has no tcx; never replaces a foreign program and
 *             removes its own stale filters (netmon::bpf::attach_tc)
 *   per-CPU   reading a per-CPU map entry, one value per possible CPU
 *   interfaces  whether an interface is still there; the standard warning for
 *             one that is gone
 *   logging   printf-style lines to the host's log
 *
 * Conventions
 *   - Every function is callable from C and never lets an error escape but
 *     through its return value: NULL or NETMON_ERROR (-1), or a negative
 *     errno where it says so, with a message where the function takes
 *     (char *err, size_t err_len): err_len bytes at most, NUL-terminated,
 *     written only on failure. err may be NULL (err_len then 0).
 *   - Messages are written for the user, as netmon's own: they name the
 *     object, what went wrong and the fix. The host prefixes the plugin's
 *     name; do not add it.
 *   - Every handle is destroyed by its *_close / *_detach function, which
 *     accepts NULL. Hence the cleanup idiom for a start() that fails half-way:
 *     keep every handle NULL until made, `goto fail` on the first error, and
 *     at `fail:` destroy them all (see netmon-new-plugin --lang c).
 *   - Threads: handles are not shared between threads. A plugin instance is
 *     driven from one thread, so this needs nothing from its author.
 *   - Strings given as arguments are copied where kept; the caller's stay
 *     the caller's.
 *
 * Versions: NETMON_SUPPORT_C_MINOR grows when a function or constant is
 * added; NETMON_SUPPORT_C_MAJOR when one changes or goes. The library is
 * linked statically into the plugin, so the header and the code always match.
 *
 * History: 1.0 the functions below.
 */
#ifndef NETMON_SUPPORT_H
#define NETMON_SUPPORT_H

#include <netmon/plugin_abi.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NETMON_SUPPORT_C_MAJOR 1
#define NETMON_SUPPORT_C_MINOR 0

struct bpf_program;

#if defined(__GNUC__)
#define NETMON_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NETMON_PRINTF(fmt, args)
#endif

/* ---- options ------------------------------------------------------------ */

/*
 * A plugin's options: the JSON object text configure() receives.
 *
 *   netmon_options *o = netmon_options_open(options_json, "my_probe", err, sizeof(err));
 *   if (!o)
 *           return NETMON_ERROR;
 *   netmon_options_integer(o, "top", 10, 1, 10000, &self->top);
 *   netmon_options_choice(o, "attach", modes, 3, "auto", &attach);
 *   if (netmon_options_finish(o) != NETMON_OK)   // also reports an earlier failure
 *           snprintf(self->error, sizeof(self->error), "%s", netmon_options_error(o));
 *   netmon_options_close(o);
 *
 * Each reader returns NETMON_OK, or NETMON_ERROR with the message in
 * netmon_options_error(). Failures are sticky: after the first, every reader
 * returns NETMON_ERROR at once (setting *out to def) and the first message
 * stays, so read everything, then check netmon_options_finish() once. A key
 * absent or null gives def. Messages equal a C++ plugin's, e.g.
 *   option my_probe.top: 0 is out of range (1 to 10000)
 *   unknown option my_probe.tpo (valid: my_probe.top, my_probe.attach)
 */
typedef struct netmon_options netmon_options;

/* Parses options_json ("{}" if NULL) for the plugin named owner. NULL on
 * failure (not JSON, not an object, out of memory) with the message in err.
 * The handle is the caller's: netmon_options_close(). */
netmon_options *netmon_options_open(const char *options_json, const char *owner, char *err,
				    size_t err_len);

/* An integer within [min, max]. */
int netmon_options_integer(netmon_options *o, const char *key, int64_t def, int64_t min,
			   int64_t max, int64_t *out);

/* true or false: *out is 1 or 0. */
int netmon_options_boolean(netmon_options *o, const char *key, int def, int *out);

/* A string. *out points into the handle, valid until netmon_options_close():
 * the value, or a copy of def when the key is absent ("" for a NULL def). */
int netmon_options_string(netmon_options *o, const char *key, const char *def, const char **out);

/* One of n_choices strings. *out is the matching element of choices (so a
 * static table's pointers can be compared) or def. */
int netmon_options_choice(netmon_options *o, const char *key, const char *const *choices,
			  size_t n_choices, const char *def, const char **out);

/* A duration ("30s", "500ms", "2m", or a number of seconds) within
 * [min_ns, max_ns], in nanoseconds. */
int netmon_options_duration_ns(netmon_options *o, const char *key, int64_t def_ns, int64_t min_ns,
			       int64_t max_ns, int64_t *out_ns);

/* NETMON_OK if every reader succeeded and the object holds no key that was
 * not read; else NETMON_ERROR (an unknown key is named with the valid ones). */
int netmon_options_finish(netmon_options *o);

/* The first failure's message, "" if none. Owned by the handle: valid until
 * netmon_options_close(). */
const char *netmon_options_error(const netmon_options *o);

/* Frees the handle. NULL is a no-op. */
void netmon_options_close(netmon_options *o);

/* ---- TC attach ----------------------------------------------------------- */

enum netmon_tc_direction {
	NETMON_TC_INGRESS = 0,
	NETMON_TC_EGRESS = 1,
};

enum netmon_tc_mode {
	NETMON_TC_AUTO = 0,    /* tcx, else netlink with a log line */
	NETMON_TC_TCX = 1,     /* tcx links (kernel 6.6+): gone with the process */
	NETMON_TC_NETLINK = 2, /* a filter on a clsact qdisc at the plugin's priority */
};

/* "auto", "tcx" or "netlink" as a netmon_tc_mode; -1 for anything else. */
int netmon_tc_mode_parse(const char *text);

/* "auto", "tcx", "netlink"; "?" for anything else. Static. */
const char *netmon_tc_mode_name(int mode);

typedef struct netmon_tc_link netmon_tc_link;

/*
 * Attaches prog (loaded: from a skeleton, say) at the TC ingress or egress of
 * the interface ifindex, named ifname in messages. direction: enum
 * netmon_tc_direction; mode: enum netmon_tc_mode; priority: the plugin's own
 * netlink priority, 1..65535 (a program of another name there is never
 * replaced: the attach fails saying so; a stale one of this program's name,
 * left by a killed netmon-host, is removed with a log line). log/host_ctx
 * (log may be NULL) receive the lines about it and must stay valid until
 * netmon_tc_detach(): the start context's do.
 *
 * Returns the link, or NULL with the message in err. The program returns
 * TC_ACT_UNSPEC so that others run. Detach before destroying the program.
 */
netmon_tc_link *netmon_tc_attach(const struct bpf_program *prog, uint32_t ifindex,
				 const char *ifname, int direction, int mode, uint16_t priority,
				 netmon_log_fn log, void *host_ctx, char *err, size_t err_len);

/* How the link is attached: NETMON_TC_TCX or NETMON_TC_NETLINK; -1 for NULL. */
int netmon_tc_link_mode(const netmon_tc_link *link);

/* Detaches and frees the link. Never fails: a problem is logged. NULL is a
 * no-op. A netlink link that created the interface's clsact qdisc removes it
 * if no filter is left on it: detach in the reverse order of attach (egress,
 * then ingress, when ingress was attached first), so the creator goes last. */
void netmon_tc_detach(netmon_tc_link *link);

/* ---- per-CPU maps -------------------------------------------------------- */

/* The number of possible CPUs, the number of values of a per-CPU map entry;
 * a negative errno if it cannot be known. */
int netmon_possible_cpus(void);

/*
 * Reads the entry `key` of the per-CPU map map_fd: CPU i's value is copied to
 * (char *)values + i * value_size, packed, whatever the kernel's own stride
 * (it rounds each CPU's value up to 8 bytes). values holds n_values values;
 * n_values must be at least netmon_possible_cpus().
 *
 * Returns the number of values written (the possible CPUs), or a negative
 * errno: -ENOSPC if n_values is too small, -EINVAL for a NULL pointer or a
 * value_size of 0, -ENOENT for a missing key, the kernel's for the rest.
 */
int netmon_percpu_lookup(int map_fd, const void *key, void *values, size_t value_size,
			 size_t n_values);

/*
 * For a per-CPU value made of n_u64 uint64_t members (a struct of counters):
 * the member-wise sums over every CPU, into sums[0..n_u64-1]. Returns 0 or a
 * negative errno as netmon_percpu_lookup().
 */
int netmon_percpu_sum_u64(int map_fd, const void *key, uint64_t *sums, size_t n_u64);

/* ---- interfaces ---------------------------------------------------------- */

/* 1 while the interface of this index exists, 0 once it is gone. A renamed
 * interface is still there; a deleted one is gone with its TC programs. */
int netmon_interface_present(uint32_t ifindex);

/* 1 if the interface ifindex is gone, after logging the standard warning
 * "<ifname> (ifindex N) is gone: no longer monitored" (stop monitoring it then
 * and go on with the others: the host stops once every interface is gone);
 * 0 while it is there. */
int netmon_interface_gone(uint32_t ifindex, const char *ifname, netmon_log_fn log, void *host_ctx);

/* ---- logging ------------------------------------------------------------- */

/* Formats a line as printf and hands it to log (the start context's), at
 * level (enum netmon_log_level). NULL log is a no-op. Any thread. */
void netmon_logf(netmon_log_fn log, void *host_ctx, int level, const char *fmt, ...)
	NETMON_PRINTF(4, 5);

#ifdef __cplusplus
}
#endif

#endif /* NETMON_SUPPORT_H */
