// SPDX-License-Identifier: MIT
// The C++ sink SDK: write a class, add one macro.
//
//   class MySink final : public netmon::Sink {
//     void open(const netmon::SinkContext& ctx) override;
//     netmon::WriteResult write(const netmon::Batch& batch) override;
//     void close() override;
//   };
//   NETMON_SINK(MySink, "my_sink", "1.0.0", "Where it writes")
//
// Options: declared once, as for plugins (plugin.hpp, <netmon/options.hpp>):
// read them in open() with netmon::Options(ctx.options, "my_sink", kOptions)
// and export with NETMON_SINK_WITH_OPTIONS(MySink, ..., kOptions).
//
// Threading: never two calls at once, but not all on one thread. open() runs
// on netmon-host's main thread, before any plugin starts (so a bad target or
// option fails before anything is attached). write() runs on the sink's own
// thread, one batch at a time. close() runs on that thread at the end, or on
// the main thread if the run ended before the sink's thread started.
//
// Privileges: open() runs with netmon-host's privileges (bind a low port,
// open a root-owned file there); write() and close() run after every
// capability is dropped. A thread open() starts (a listener) is made to drop
// them too, through the signal SIGRTMIN+4: don't block it there.
//
// write() may block (a slow pipe, a slow disk or network): each sink has a
// queue of 16 batches; when it is full the oldest queued batch is dropped and
// counted (netmon_host_sink.dropped_batches), and collection and the other
// sinks go on. Only its snapshots are dropped: its events
// (Sample::is_event()) come first in the next batch write() gets, in order,
// with their own interval's timestamp_ns, so a sink sees each event exactly
// once. Beyond NETMON_EVENT_QUEUE_BOUND (65536) events queued for a sink the
// oldest are lost and counted (netmon_host_sink.lost_events). At the end a
// sink gets 2 s to deliver what is queued; one still blocked then is
// abandoned. Return WriteResult::closed when the reader has gone away
// (EPIPE): the host stops cleanly with exit code 0. Throw netmon::Error on
// any other failure: this sink is stopped, the others go on, and netmon-host
// exits 1 at the end. Throw netmon::UsageError from open() (netmon::Options
// does) for a refused option or target: exit 2.
//
// Messages: the host shows an exception's message as "sink my_sink: message"
// (with ":TARGET" when one was given) and a Logger line as "my_sink: message";
// don't put the sink's name in front yourself. A message that names one of
// its options as "my_sink.key" (every netmon::Options message does) is shown
// as is.
#pragma once

#include <netmon/error.hpp>
#include <netmon/logger.hpp>
#include <netmon/plugin.hpp>
#include <netmon/plugin_abi.h>
#include <netmon/sample.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace netmon {

struct SinkContext {
  // What follows the first ':' in --sink NAME:TARGET (a path for file sinks),
  // or none. Options come separately, from -o NAME.key=value (or
  // -o NAME#N.key=value for the Nth --sink NAME) and --config.
  std::optional<std::string> target;
  std::chrono::nanoseconds interval{};
  Logger log;
  nlohmann::json options = nlohmann::json::object();  // read with netmon::Options
};

enum class WriteResult { ok, closed };

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void open(const SinkContext& ctx) = 0;
  virtual WriteResult write(const Batch& batch) = 0;
  virtual void close() = 0;
};

namespace detail {

template <class S>
struct SinkAdapter {
  struct Instance {
    std::unique_ptr<S> sink;
    std::string error;
  };
  static Instance* self(void* p) { return static_cast<Instance*>(p); }

  static void* create(char* err, std::size_t err_len) noexcept {
    return create_guarded<Instance>(err, err_len, [](Instance& inst) { inst.sink = std::make_unique<S>(); });
  }
  static int open(void* p, const netmon_sink_context* ctx) noexcept {
    Instance* s = self(p);
    return guarded_usage(s->error, [&] {
      SinkContext c;
      if (ctx->target) c.target = std::string(ctx->target);
      c.interval = std::chrono::nanoseconds(ctx->interval_ns);
      c.log = Logger(ctx->log, ctx->host_ctx);
      if (ctx->options_json) c.options = nlohmann::json::parse(ctx->options_json);
      s->sink->open(c);
    });
  }
  static int write(void* p, const netmon_batch* b) noexcept {
    Instance* s = self(p);
    WriteResult result = WriteResult::ok;
    const int rc = guarded(s->error, [&] {
      Batch batch;
      batch.timestamp_ns = b->timestamp_ns;
      batch.interval_ns = b->interval_ns;
      batch.sequence = b->sequence;
      batch.samples.reserve(b->n_samples);
      for (std::uint32_t i = 0; i < b->n_samples; ++i) batch.samples.push_back(from_c(b->samples[i]));
      result = s->sink->write(batch);
    });
    if (rc != NETMON_OK) return rc;
    return result == WriteResult::closed ? NETMON_CLOSED : NETMON_OK;
  }
  static int close(void* p) noexcept {
    Instance* s = self(p);
    return guarded(s->error, [&] { s->sink->close(); });
  }
  static void destroy(void* p) noexcept { delete self(p); }
  static const char* last_error(void* p) noexcept { return self(p)->error.c_str(); }
};

}  // namespace detail
}  // namespace netmon

// Exports the descriptor of sink class CLASS under NAME. Use once per library.
// NETMON_SINK_WITH_OPTIONS also gives what --list-plugins shows for the
// options: the sink's netmon::OptionList, or text, as for plugins.
#define NETMON_SINK_DESCRIPTOR_(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS_HELP_C_STR) \
  extern "C" NETMON_EXPORT const netmon_sink_descriptor netmon_sink = {                \
      sizeof(netmon_sink_descriptor),                                                  \
      NETMON_ABI_MAJOR,                                                                \
      NETMON_ABI_MINOR,                                                                \
      NAME,                                                                            \
      VERSION,                                                                         \
      DESCRIPTION,                                                                     \
      &::netmon::detail::SinkAdapter<CLASS>::create,                                   \
      &::netmon::detail::SinkAdapter<CLASS>::open,                                     \
      &::netmon::detail::SinkAdapter<CLASS>::write,                                    \
      &::netmon::detail::SinkAdapter<CLASS>::close,                                    \
      &::netmon::detail::SinkAdapter<CLASS>::destroy,                                  \
      &::netmon::detail::SinkAdapter<CLASS>::last_error,                               \
      OPTIONS_HELP_C_STR,                                                              \
  };

#define NETMON_SINK_WITH_OPTIONS(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS)          \
  namespace {                                                                         \
  /* Made when the library is loaded, before the host reads the descriptor. */        \
  const std::string netmon_sink_options_help_ = ::netmon::detail::help_text(OPTIONS); \
  }                                                                                   \
  NETMON_SINK_DESCRIPTOR_(CLASS, NAME, VERSION, DESCRIPTION, ::netmon::detail::c_str_or_null(netmon_sink_options_help_))

#define NETMON_SINK(CLASS, NAME, VERSION, DESCRIPTION) \
  NETMON_SINK_DESCRIPTOR_(CLASS, NAME, VERSION, DESCRIPTION, nullptr)
