/* SPDX-License-Identifier: MIT */
/*
 * netmon plugin ABI: the only thing that crosses the boundary between
 * netmon-host and a plugin or sink library.
 *
 * Plain C on purpose: a library built with another compiler, another C++
 * standard library, an older netmon SDK, or in plain C must keep loading.
 * No C++ type, exception or allocation crosses this boundary.
 *
 * Rules of evolution
 *   - Every structure that crosses the boundary starts with `struct_size`.
 *   - Structures only grow at the end. A new member bumps NETMON_ABI_MINOR;
 *     any other change (removal, reordering, changed meaning) bumps
 *     NETMON_ABI_MAJOR.
 *   - The host accepts a library whose major equals its own and whose minor
 *     is not newer than its own. It reads an older, shorter descriptor by its
 *     `struct_size`: members past the end are treated as absent (NULL / 0).
 *   - Structures the host hands to a library (samples, batches, contexts) are
 *     equally sized by `struct_size`; a library must not read members past it.
 *     An array of structures (a batch's samples) is laid out with the
 *     element size of the library's own minor, so it indexes as compiled.
 *
 * Ownership
 *   - Strings and arrays passed as arguments are owned by the caller and are
 *     valid only during the call. Copy what you keep.
 *   - Descriptor strings (name, version, description) are static.
 *   - The string returned by last_error() is owned by the instance and stays
 *     valid until the next call on that instance.
 *   - The exception: the log callback and its host_ctx, in the contexts given
 *     to start() and open(), stay valid until the instance is destroyed. Keep
 *     them to log from later calls.
 *
 * Threads
 *   - A plugin instance is driven from one thread (the host's scheduler):
 *     configure, start, collect and stop are never called concurrently.
 *   - A sink instance is never called concurrently, but not from one thread:
 *     open is called from the host's main thread (before any plugin starts),
 *     write from the sink's own thread, and close from that thread, or from
 *     the main thread when the run ends before the sink's thread started.
 *   - The host may call the log callback of a context from any thread.
 *
 * Privileges
 *   - create, configure and start (plugins) and create and open (sinks) run
 *     with netmon-host's privileges: root, or the capabilities the loaded
 *     plugins attach with (see enum netmon_attach: CAP_BPF and CAP_NET_ADMIN
 *     for interfaces, CAP_BPF and CAP_PERFMON for tracing hooks). Load,
 *     attach, bind and open what needs them there.
 *   - Once every plugin is attached, netmon-host drops every capability in
 *     every thread of the process: nothing effective, inheritable or
 *     ambient; CAP_NET_ADMIN alone permitted (when it was) and in the
 *     bounding set; no_new_privs set. collect and stop (plugins) and write
 *     and close (sinks) run after that, without capabilities (stop runs with
 *     CAP_NET_ADMIN raised on the main thread, to remove netlink filters).
 *   - A thread a library starts before the drop (in start or open) holds
 *     what netmon-host held; the host makes it drop with a handler of the
 *     real-time signal SIGRTMIN+4 run on that thread, and checks every
 *     thread in /proc/self/task. Don't block that signal in such a thread:
 *     netmon-host refuses to run with a thread it could not make drop. A
 *     thread started after the drop inherits the dropped sets.
 *   - A library shares the process with every other: what it changes
 *     process-wide (signal dispositions, malloc tuning, the working
 *     directory) changes it for all. The prometheus sink sets glibc's
 *     M_MMAP_THRESHOLD to 256 kB (allocations above it are mapped and
 *     returned to the system on free), and says so in its README.
 *
 * Messages
 *   - netmon-host puts the library's name in front of what it shows: a
 *     plugin's last_error() and log lines as "NAME: message", a sink's
 *     last_error() as "sink NAME[:TARGET]: message" and its log lines as
 *     "NAME: message". A message that already begins with "NAME:" or names
 *     one of the library's options as "NAME.KEY" is shown as is. So don't
 *     begin messages with your own name; do name an option as the user
 *     writes it (-o NAME.KEY=VALUE).
 */
#ifndef NETMON_PLUGIN_ABI_H
#define NETMON_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NETMON_ABI_MAJOR 1
#define NETMON_ABI_MINOR 3

/* Names of the exported descriptor symbols. */
#define NETMON_PLUGIN_SYMBOL "netmon_plugin"
#define NETMON_SINK_SYMBOL "netmon_sink"

/* Return codes of every function that returns int. */
enum netmon_status {
	NETMON_OK = 0,
	/* Failed: last_error() says why. */
	NETMON_ERROR = -1,
	/* Sink only: its output is gone (reader closed the pipe); stop cleanly. */
	NETMON_CLOSED = 1,
	/* configure, open: an option or the target is refused as given (exit 2). */
	NETMON_USAGE = -2,
};

/* Log levels for netmon_log_fn. */
enum netmon_log_level {
	NETMON_LOG_DEBUG = 1,
	NETMON_LOG_INFO = 2,
	NETMON_LOG_WARN = 3,
	NETMON_LOG_ERROR = 4,
};

/* Host logging callback: thread safe, never blocks for long. */
typedef void (*netmon_log_fn)(void *host_ctx, int level, const char *message);

/* ---- samples ----------------------------------------------------------- */

enum netmon_field_type {
	/* Monotonic unsigned 64-bit counter. The host adds `<key>_per_sec`. */
	NETMON_FIELD_COUNTER = 1,
	NETMON_FIELD_U64 = 2, /* unsigned 64-bit gauge */
	NETMON_FIELD_I64 = 3, /* signed 64-bit gauge */
	NETMON_FIELD_F64 = 4, /* double */
	NETMON_FIELD_BOOL = 5,
	NETMON_FIELD_STRING = 6, /* UTF-8 */
};

typedef struct netmon_tag {
	const char *key;
	const char *value;
} netmon_tag;

typedef struct netmon_field {
	const char *key;
	uint32_t type; /* enum netmon_field_type */
	uint32_t reserved;
	union {
		uint64_t u64;    /* COUNTER, U64 */
		int64_t i64;     /* I64 */
		double f64;      /* F64 */
		uint32_t b;      /* BOOL: 0 or 1 */
		const char *str; /* STRING */
	} value;
} netmon_field;

/*
 * What a sample is to the host's queues (ABI 1.2, netmon_sample.kind).
 *
 * SNAPSHOT  the current state (totals, gauges, a top-N table): a newer sample
 *           of the same measurement supersedes it. When a sink falls behind,
 *           the host drops its oldest queued batches' snapshots (counted as
 *           netmon_host_sink.dropped_batches).
 * EVENT     a record that happened once (a flow that ended): nothing later
 *           replaces it. The host never drops an event to make room for
 *           snapshots: a sink that falls behind gets every event, in order and
 *           once, up to 65536 events queued for it (NETMON_EVENT_QUEUE_BOUND).
 *           Past that bound the oldest queued events are dropped, counted
 *           exactly per sink (netmon_host_sink.lost_events), logged, and
 *           reported at exit.
 *
 * A sample from an ABI 1.0 or 1.1 plugin (struct_size without `kind`) is a
 * snapshot. Any other value of `kind` is a malformed sample.
 */
enum netmon_sample_kind {
	NETMON_SAMPLE_SNAPSHOT = 0,
	NETMON_SAMPLE_EVENT = 1,
};

/* How many event samples the host queues for one sink before it drops the
 * oldest (and counts them). */
#define NETMON_EVENT_QUEUE_BOUND 65536

/*
 * One measurement at one time, with tags (identity) and fields (values).
 *
 * History: 1.0 the members up to reserved; 1.2 kind and reserved2.
 *
 * The `samples` array of a netmon_batch is an array of the sink's own
 * netmon_sample: its elements are as large as that sink's ABI minor defines
 * (NETMON_SAMPLE_SIZE_1_0 for a sink built for ABI 1.0 or 1.1, sizeof for
 * 1.2), and each one's struct_size says so. So a sink indexes samples[i] as
 * it was compiled to.
 */
typedef struct netmon_sample {
	uint32_t struct_size;
	uint32_t n_tags;
	const char *measurement;
	int64_t timestamp_ns; /* Unix time in ns; 0 = the interval's time */
	const netmon_tag *tags;
	const netmon_field *fields;
	uint32_t n_fields;
	uint32_t reserved;
	/* ABI 1.2 */
	uint32_t kind; /* enum netmon_sample_kind; absent (ABI 1.0, 1.1): SNAPSHOT */
	uint32_t reserved2;
} netmon_sample;

/* The size of an ABI 1.0 and 1.1 netmon_sample: forever accepted. */
#define NETMON_SAMPLE_SIZE_1_0 (offsetof(netmon_sample, reserved) + sizeof(uint32_t))

/* ---- plugins ----------------------------------------------------------- */

typedef struct netmon_interface {
	uint32_t ifindex;
	uint32_t reserved;
	const char *name;
} netmon_interface;

/* What start() receives. */
/*
 * What a plugin's start() is asked to cover (ABI 1.3, netmon_start_context.scope).
 *
 * INTERFACES  attach to the interfaces given (XDP, TC): the plugin watches
 *             them, and the host stops when every one of them is gone (and
 *             no host-wide plugin runs).
 * HOST        attach host-wide (tracepoints, tp_btf, fentry, kprobes): the
 *             plugin watches the whole host (every network namespace the
 *             hook sees) while the host runs, with or without interfaces.
 *             `interfaces` still lists those the user named (possibly none),
 *             for a plugin that filters or labels by them.
 *
 * A plugin whose descriptor attaches to interfaces and host-wide hooks gets
 * INTERFACES. A plugin built for ABI 1.2 or older reads no scope and is
 * started as it always was: with the interfaces.
 */
enum netmon_scope {
	NETMON_SCOPE_INTERFACES = 0,
	NETMON_SCOPE_HOST = 1,
};

/* What start() receives.
 *
 * History: 1.0 the members up to host_ctx; 1.3 scope and reserved2. */
typedef struct netmon_start_context {
	uint32_t struct_size;
	uint32_t n_interfaces;
	const netmon_interface *interfaces;
	uint64_t interval_ns;
	netmon_log_fn log; /* may be NULL */
	void *host_ctx;    /* first argument of log */
	/* ABI 1.3 */
	uint32_t scope; /* enum netmon_scope */
	uint32_t reserved2;
} netmon_start_context;

/*
 * What a plugin attaches to (ABI 1.3, netmon_plugin_descriptor.attach): a
 * bit set. The host shows it in --list-plugins, checks the capabilities it
 * needs before anything is started, and decides the plugin's scope from it.
 *
 *   XDP, TC          per interface: CAP_BPF and CAP_NET_ADMIN
 *   TRACEPOINT       tracepoint/ (perf event)     CAP_BPF and CAP_PERFMON
 *   RAW_TRACEPOINT   raw_tp/, tp_btf/             CAP_BPF and CAP_PERFMON
 *   FENTRY           fentry/, fexit/              CAP_BPF and CAP_PERFMON
 *   KPROBE           kprobe/, kretprobe/, ksyscall/  CAP_BPF and CAP_PERFMON
 *
 * CAP_SYS_ADMIN stands for CAP_BPF and CAP_PERFMON (kernels before 5.8 know
 * only it). 0 (a descriptor from ABI 1.2 or older, or a plugin that does not
 * say): per interface, as XDP and TC plugins always were.
 */
enum netmon_attach {
	NETMON_ATTACH_XDP = 1u << 0,
	NETMON_ATTACH_TC = 1u << 1,
	NETMON_ATTACH_TRACEPOINT = 1u << 2,
	NETMON_ATTACH_RAW_TRACEPOINT = 1u << 3,
	NETMON_ATTACH_FENTRY = 1u << 4,
	NETMON_ATTACH_KPROBE = 1u << 5,
};
#define NETMON_ATTACH_INTERFACE_MASK (NETMON_ATTACH_XDP | NETMON_ATTACH_TC)
#define NETMON_ATTACH_HOST_MASK                                                           \
	(NETMON_ATTACH_TRACEPOINT | NETMON_ATTACH_RAW_TRACEPOINT | NETMON_ATTACH_FENTRY | \
	 NETMON_ATTACH_KPROBE)

/*
 * What a plugin needs of the running kernel (ABI 1.3, netmon_plugin_descriptor.needs),
 * checked by the host before anything is started; one clear line and exit 1
 * when the kernel lacks it.
 *
 *   KERNEL_BTF  the kernel's own BTF, /sys/kernel/btf/vmlinux (CO-RE
 *               relocations, tp_btf and fentry programs need it).
 */
enum netmon_needs {
	NETMON_NEEDS_KERNEL_BTF = 1u << 0,
};

/* Where collect() publishes. publish() copies the sample; it returns
 * NETMON_OK or NETMON_ERROR (malformed sample: the message is logged). */
typedef struct netmon_emitter {
	uint32_t struct_size;
	uint32_t reserved;
	void *host_ctx;
	int (*publish)(void *host_ctx, const netmon_sample *sample);
} netmon_emitter;

/*
 * Exported by a plugin library as `const netmon_plugin_descriptor netmon_plugin`.
 *
 * Lifecycle, driven by the host from its scheduler thread:
 *   create -> configure -> start -> collect (every interval) -> stop -> destroy
 * The host calls stop() for every instance whose start() succeeded, in reverse
 * order of start, also when another plugin failed. destroy() is always called
 * for an instance that create() returned, and after it the instance is gone.
 *
 * create      required. Returns an instance, or NULL after writing a message
 *             into err (err_len bytes, NUL-terminated).
 * configure   required. options_json is a JSON object (text), "{}" when the user
 *             gave no options. Reject unknown keys and bad values. Any failure
 *             here is a refused option: netmon-host exits 2 (usage error).
 * start       required. Load and attach BPF programs. On failure leave nothing
 *             attached.
 * collect     required. Read maps, publish samples through out. Must not block
 *             for longer than a fraction of the interval.
 * stop        required. Detach everything; never fails.
 * destroy     required. Frees the instance.
 * last_error  required. Message for the last NETMON_ERROR, or "" if none.
 * options_help  ABI 1.1, optional (NULL). Text listing the options, shown
 *             by --list-plugins, valid while the library is loaded: a header
 *             line "option  values  default  meaning", then one line per
 *             option, the columns separated by two or more spaces. The C++
 *             SDK makes it from the plugin's option declarations
 *             (netmon::options_help in <netmon/options.hpp>).
 * attach      ABI 1.3, optional (0): enum netmon_attach bits.
 * needs       ABI 1.3, optional (0): enum netmon_needs bits.
 * attach_targets  ABI 1.3, optional (NULL): the hooks by name, for
 *             --list-plugins ("tp_btf/kfree_skb", "xdp, tc ingress").
 *
 * History: 1.0 the members up to last_error; 1.1 options_help; 1.3 attach,
 * needs, attach_targets.
 */
typedef struct netmon_plugin_descriptor {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *name;
	const char *version;
	const char *description;
	void *(*create)(char *err, size_t err_len);
	int (*configure)(void *self, const char *options_json);
	int (*start)(void *self, const netmon_start_context *ctx);
	int (*collect)(void *self, int64_t now_ns, const netmon_emitter *out);
	void (*stop)(void *self);
	void (*destroy)(void *self);
	const char *(*last_error)(void *self);
	/* ABI 1.1 */
	const char *options_help;
	/* ABI 1.3 */
	uint32_t attach; /* enum netmon_attach bits; 0: per interface */
	uint32_t needs;  /* enum netmon_needs bits */
	const char *attach_targets;
} netmon_plugin_descriptor;

/* ---- sinks ------------------------------------------------------------- */

/*
 * All samples of one interval, from every plugin, in plugin order.
 *
 * Events carried over: when the host drops a batch a slow sink had not yet
 * taken, the event samples of that batch are not dropped with it. They come
 * first in the next batch this sink receives, in their original order, with
 * timestamp_ns set to their own interval's time when it was 0. A sink
 * therefore sees every event once (up to NETMON_EVENT_QUEUE_BOUND queued),
 * possibly in a later batch than the one it was collected in.
 */
typedef struct netmon_batch {
	uint32_t struct_size;
	uint32_t n_samples;
	int64_t timestamp_ns; /* Unix time of the interval, ns */
	uint64_t interval_ns; /* nominal interval */
	uint64_t sequence;    /* 0, 1, 2, ... per run; a gap means batches dropped for this sink */
	const netmon_sample *samples;
} netmon_batch;

typedef struct netmon_sink_context {
	uint32_t struct_size;
	uint32_t reserved;
	const char *target; /* what follows "name:" in --sink, or NULL */
	uint64_t interval_ns;
	netmon_log_fn log; /* may be NULL */
	void *host_ctx;
	const char *options_json; /* JSON object text, "{}" when none (-o NAME.key=value) */
} netmon_sink_context;

/*
 * Exported by a sink library as `const netmon_sink_descriptor netmon_sink`.
 *
 * create      required. Returns an instance or NULL with a message in err.
 * open        required. Open the output (file, socket). Called before any
 *             plugin starts, so a bad target fails before anything is attached.
 *             NETMON_USAGE for a refused option or malformed target (netmon-host
 *             exits 2), NETMON_ERROR for anything else (exit 1).
 * write       required. Render one batch. NETMON_CLOSED when the output is
 *             gone for good (EPIPE): the host stops cleanly with exit code 0.
 *             May block; the host queues batches for it: snapshots are
 *             dropped oldest batch first, events only past
 *             NETMON_EVENT_QUEUE_BOUND (see netmon_sample_kind), both counted.
 * close       required. Flush and close; after it no call but destroy comes.
 * destroy     required.
 * last_error  required.
 * options_help  ABI 1.1, optional (NULL): as for plugins.
 *
 * History: 1.0 the members up to last_error; 1.1 options_help.
 */
typedef struct netmon_sink_descriptor {
	uint32_t struct_size;
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *name;
	const char *version;
	const char *description;
	void *(*create)(char *err, size_t err_len);
	int (*open)(void *self, const netmon_sink_context *ctx);
	int (*write)(void *self, const netmon_batch *batch);
	int (*close)(void *self);
	void (*destroy)(void *self);
	const char *(*last_error)(void *self);
	/* ABI 1.1 */
	const char *options_help;
} netmon_sink_descriptor;

/*
 * True when the structure at `p`, of type `type` and sized by its own
 * struct_size, holds `member`: the rule "never read a member past
 * struct_size" as an expression. A structure from an older ABI minor is
 * shorter, and its later members are absent (treat them as NULL / 0):
 *
 *   const char *help = NETMON_HAS_MEMBER(netmon_plugin_descriptor, d, options_help)
 *                          ? d->options_help : NULL;
 */
#define NETMON_HAS_MEMBER(type, p, member) \
	((size_t)(p)->struct_size >= offsetof(type, member) + sizeof(((const type *)0)->member))

/* The smallest descriptor the host understands: ABI 1.0's. */
#define NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE \
	(offsetof(netmon_plugin_descriptor, last_error) + sizeof(void *))
#define NETMON_SINK_DESCRIPTOR_MIN_SIZE \
	(offsetof(netmon_sink_descriptor, last_error) + sizeof(void *))

#if defined(__GNUC__)
#define NETMON_EXPORT __attribute__((visibility("default")))
#else
#define NETMON_EXPORT
#endif

#ifdef __cplusplus
}
#endif

#endif /* NETMON_PLUGIN_ABI_H */
