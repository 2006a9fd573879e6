// SPDX-License-Identifier: MIT
// The C++ plugin SDK: write a class, add one macro.
//
//   class MyPlugin final : public netmon::Plugin {
//     void configure(const nlohmann::json& options) override;   // optional
//     void start(const netmon::StartContext& ctx) override;
//     void collect(std::int64_t now_ns, netmon::Emitter& out) override;
//     void stop() noexcept override;
//   };
//   NETMON_PLUGIN(MyPlugin, "my_plugin", "1.0.0", "What it measures")
//
// The macro defines the exported C descriptor (plugin_abi.h). Every exception
// thrown by the class is caught at the boundary and becomes NETMON_ERROR plus
// its message; nothing C++ crosses into the host.
//
// Options: declare them once (netmon::option::Integer, Choice, ... in a
// constexpr netmon::OptionList kOptions, <netmon/options.hpp>), read them in
// configure() with netmon::Options(options, plugin_name(), kOptions), and
// export with NETMON_PLUGIN_WITH_OPTIONS(MyPlugin, ..., kOptions): the text
// --list-plugins shows is made from the same declarations.
//
// Threading: configure, start, collect and stop are called from the host's
// main thread, one at a time. collect must not block for long (it delays
// every plugin's collection). stop must not throw and must leave nothing
// attached; it is also called when another plugin failed to start.
//
// Privileges: configure and start run with netmon-host's privileges (load
// and attach there); collect runs after every capability is dropped, in every
// thread (a thread start() began too: don't block SIGRTMIN+4 in it), and stop
// with CAP_NET_ADMIN alone.
//
// Messages: the host shows an exception's message (and a Logger line) as
// "my_plugin: message"; don't put your plugin's name in front yourself. A
// message that already begins with "my_plugin:" or names one of its options
// as "my_plugin.key" (every netmon::Options message does) is shown as is.
// Any failure of configure() is a refused option: netmon-host exits 2.
#pragma once

#include <netmon/error.hpp>
#include <netmon/logger.hpp>
#include <netmon/options.hpp>
#include <netmon/plugin_abi.h>
#include <netmon/sample.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace netmon {

struct Interface {
  std::uint32_t ifindex = 0;
  std::string name;
};

// What start() is asked to cover (enum netmon_scope): the interfaces given,
// or the whole host (a plugin that attaches only to tracing hooks).
enum class Scope { interfaces, host };

struct StartContext {
  std::vector<Interface> interfaces;  // for Scope::host: those the user named, possibly none
  std::chrono::nanoseconds interval{};
  Logger log;
  Scope scope = Scope::interfaces;
};

// What a plugin attaches to and needs of the kernel (ABI 1.3), given to
// NETMON_PLUGIN_ATTACHING as a named constant:
//
//   constexpr netmon::Attaches kAttaches{NETMON_ATTACH_RAW_TRACEPOINT, NETMON_NEEDS_KERNEL_BTF,
//                                        "tp_btf/kfree_skb"};
//
// attach: enum netmon_attach bits (the host checks the capabilities they
// need, and a plugin with no interface bit runs host-wide); needs: enum
// netmon_needs bits (checked before any plugin starts); targets: the hooks by
// name, for --list-plugins.
struct Attaches {
  std::uint32_t attach = 0;
  std::uint32_t needs = 0;
  const char* targets = nullptr;
};

// Publishes samples to the host, which copies them.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void publish(const Sample& sample) = 0;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  // Default: the plugin takes no options; any key is refused.
  virtual void configure(const nlohmann::json& options) { Options(options, name_).finish(); }
  virtual void start(const StartContext& ctx) = 0;
  virtual void collect(std::int64_t now_ns, Emitter& out) = 0;
  virtual void stop() noexcept = 0;

  // The name this plugin was exported under (set by the SDK before configure).
  [[nodiscard]] const std::string& plugin_name() const { return name_; }
  void set_plugin_name(std::string n) { name_ = std::move(n); }

 private:
  std::string name_;
};

namespace detail {

// Copies msg into a caller's buffer, always NUL-terminated.
inline void copy_error(char* buf, std::size_t len, const char* msg) {
  if (buf && len) std::snprintf(buf, len, "%s", msg);
}

// Runs f, turning any exception into NETMON_ERROR with its message in err.
template <class F>
int guarded(std::string& err, F&& f) noexcept {
  try {
    f();
    err.clear();
    return NETMON_OK;
  } catch (const std::exception& e) {
    err = e.what();
  } catch (...) {
    err = "unknown exception";
  }
  return NETMON_ERROR;
}

// As guarded, for configure() and open(): a netmon::UsageError (a refused
// option) becomes NETMON_USAGE, so that netmon-host exits 2.
template <class F>
int guarded_usage(std::string& err, F&& f) noexcept {
  try {
    f();
    err.clear();
    return NETMON_OK;
  } catch (const UsageError& e) {
    err = e.what();
    return NETMON_USAGE;
  } catch (const std::exception& e) {
    err = e.what();
  } catch (...) {
    err = "unknown exception";
  }
  return NETMON_ERROR;
}

// Makes an Instance and runs init on it; any exception becomes a NULL return
// with its message in err (the create() contract of plugin_abi.h).
template <class Instance, class Init>
void* create_guarded(char* err, std::size_t err_len, Init&& init) noexcept {
  try {
    auto inst = std::make_unique<Instance>();
    init(*inst);
    return inst.release();
  } catch (const std::exception& e) {
    copy_error(err, err_len, e.what());
  } catch (...) {
    copy_error(err, err_len, "unknown exception");
  }
  return nullptr;
}

// The options_help of a descriptor: made from declarations, or given as text.
inline std::string help_text(std::span<const OptionSpec> options) { return options_help(options); }
template <std::size_t N>
std::string help_text(const OptionList<N>& options) {
  return options_help(options.specs());
}
inline std::string help_text(const char* text) { return text ? text : ""; }
inline std::string help_text(std::nullptr_t) { return ""; }
inline const char* c_str_or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

class CEmitter final : public Emitter {
 public:
  explicit CEmitter(const netmon_emitter* c) : c_(c) {}
  void publish(const Sample& sample) override {
    SampleView view(sample);
    if (c_->publish(c_->host_ctx, view.get()) != NETMON_OK)
      throw Error("the host refused sample '" + sample.measurement + "'");
  }

 private:
  const netmon_emitter* c_;
};

template <class P>
struct PluginAdapter {
  struct Instance {
    std::unique_ptr<P> plugin;
    std::string error;
  };
  static Instance* self(void* p) { return static_cast<Instance*>(p); }

  static void* create(const char* name, char* err, std::size_t err_len) noexcept {
    return create_guarded<Instance>(err, err_len, [name](Instance& inst) {
      inst.plugin = std::make_unique<P>();
      inst.plugin->set_plugin_name(name);
    });
  }
  static int configure(void* p, const char* options_json) noexcept {
    Instance* s = self(p);
    return guarded_usage(s->error, [&] {
      nlohmann::json options = nlohmann::json::parse(options_json ? options_json : "{}");
      s->plugin->configure(options);
    });
  }
  static int start(void* p, const netmon_start_context* ctx) noexcept {
    Instance* s = self(p);
    return guarded(s->error, [&] {
      StartContext c;
      for (std::uint32_t i = 0; i < ctx->n_interfaces; ++i)
        c.interfaces.push_back({ctx->interfaces[i].ifindex, ctx->interfaces[i].name});
      c.interval = std::chrono::nanoseconds(ctx->interval_ns);
      c.log = Logger(ctx->log, ctx->host_ctx);
      if (NETMON_HAS_MEMBER(netmon_start_context, ctx, scope) && ctx->scope == NETMON_SCOPE_HOST) c.scope = Scope::host;
      s->plugin->start(c);
    });
  }
  static int collect(void* p, std::int64_t now_ns, const netmon_emitter* out) noexcept {
    Instance* s = self(p);
    return guarded(s->error, [&] {
      CEmitter e(out);
      s->plugin->collect(now_ns, e);
    });
  }
  static void stop(void* p) noexcept { self(p)->plugin->stop(); }
  static void destroy(void* p) noexcept { delete self(p); }
  static const char* last_error(void* p) noexcept { return self(p)->error.c_str(); }
};

}  // namespace detail
}  // namespace netmon

// Exports the descriptor of plugin class CLASS under NAME. Use once per
// library. NETMON_PLUGIN_WITH_OPTIONS also gives what --list-plugins shows
// for the options: OPTIONS is the plugin's netmon::OptionList (the text is
// made from the declarations, <netmon/options.hpp>), or a string of
// "key  values  default  meaning" lines written by hand.
#define NETMON_PLUGIN_DESCRIPTOR_(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS_HELP_C_STR, ATTACHES) \
  namespace {                                                                                      \
  void* netmon_plugin_create_(char* err, std::size_t len) noexcept {                               \
    return ::netmon::detail::PluginAdapter<CLASS>::create(NAME, err, len);                         \
  }                                                                                                \
  }                                                                                                \
  extern "C" NETMON_EXPORT const netmon_plugin_descriptor netmon_plugin = {                        \
      sizeof(netmon_plugin_descriptor),                                                            \
      NETMON_ABI_MAJOR,                                                                            \
      NETMON_ABI_MINOR,                                                                            \
      NAME,                                                                                        \
      VERSION,                                                                                     \
      DESCRIPTION,                                                                                 \
      &netmon_plugin_create_,                                                                      \
      &::netmon::detail::PluginAdapter<CLASS>::configure,                                          \
      &::netmon::detail::PluginAdapter<CLASS>::start,                                              \
      &::netmon::detail::PluginAdapter<CLASS>::collect,                                            \
      &::netmon::detail::PluginAdapter<CLASS>::stop,                                               \
      &::netmon::detail::PluginAdapter<CLASS>::destroy,                                            \
      &::netmon::detail::PluginAdapter<CLASS>::last_error,                                         \
      OPTIONS_HELP_C_STR,                                                                          \
      (ATTACHES).attach,                                                                           \
      (ATTACHES).needs,                                                                            \
      (ATTACHES).targets,                                                                          \
  };

// NETMON_PLUGIN_ATTACHING also says what the plugin attaches to: ATTACHES is a
// named constexpr netmon::Attaches; OPTIONS may be nullptr.
#define NETMON_PLUGIN_ATTACHING(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS, ATTACHES)   \
  namespace {                                                                           \
  /* Made when the library is loaded, before the host reads the descriptor. */          \
  const std::string netmon_plugin_options_help_ = ::netmon::detail::help_text(OPTIONS); \
  }                                                                                     \
  NETMON_PLUGIN_DESCRIPTOR_(CLASS, NAME, VERSION, DESCRIPTION,                          \
                            ::netmon::detail::c_str_or_null(netmon_plugin_options_help_), ATTACHES)

#define NETMON_PLUGIN_WITH_OPTIONS(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS) \
  NETMON_PLUGIN_ATTACHING(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS, ::netmon::Attaches{})

#define NETMON_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION) \
  NETMON_PLUGIN_DESCRIPTOR_(CLASS, NAME, VERSION, DESCRIPTION, nullptr, ::netmon::Attaches{})
