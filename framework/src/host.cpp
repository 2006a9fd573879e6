// SPDX-License-Identifier: MIT
#include "host.hpp"

#include "bus.hpp"
#include "caps.hpp"
#include "loader.hpp"
#include "log.hpp"
#include "rates.hpp"
#include "ready_file.hpp"

#include <netmon/error.hpp>
#include <netmon/iface.hpp>
#include <netmon/tracing.hpp>

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <set>

namespace netmon::host {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::int64_t realtime_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Waits for the next tick, a stop signal, or a wake-up from a sink thread.
// SIGINT, SIGTERM and SIGHUP are blocked in every thread (main() blocks them
// before any thread starts) and read here through a signalfd.
class EventLoop {
 public:
  enum class Event { deadline, signal, wake };

  EventLoop() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
    sigfd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd_ < 0) {
      const int err = errno;
      throw Error(errno_message("cannot create a signalfd", err));
    }
    wakefd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd_ < 0) {
      const int err = errno;
      throw Error(errno_message("cannot create an eventfd", err));
    }
  }
  ~EventLoop() {
    ::close(sigfd_);
    ::close(wakefd_);
  }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Thread safe.
  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wakefd_, &one, sizeof one);
  }

  Event wait_until(SteadyClock::time_point deadline) {
    for (;;) {
      const auto now = SteadyClock::now();
      if (now >= deadline) return Event::deadline;
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      timespec ts{static_cast<time_t>(left.count() / 1'000'000'000), static_cast<long>(left.count() % 1'000'000'000)};
      pollfd fds[2] = {{sigfd_, POLLIN, 0}, {wakefd_, POLLIN, 0}};
      const int rc = ::ppoll(fds, 2, &ts, nullptr);
      if (rc < 0) {
        const int err = errno;
        if (err != EINTR) throw Error(errno_message("ppoll", err));
      }
      if (rc <= 0) continue;
      if (fds[0].revents & POLLIN) {
        signalfd_siginfo info{};
        if (::read(sigfd_, &info, sizeof info) == sizeof info) {
          last_signal_ = static_cast<int>(info.ssi_signo);
          return Event::signal;
        }
      }
      if (fds[1].revents & POLLIN) {
        std::uint64_t n = 0;
        [[maybe_unused]] const ssize_t r = ::read(wakefd_, &n, sizeof n);
        return Event::wake;
      }
    }
  }
  [[nodiscard]] int last_signal() const { return last_signal_; }

 private:
  int sigfd_ = -1;
  int wakefd_ = -1;
  int last_signal_ = 0;
};

class SinkPortImpl final : public SinkPort {
 public:
  explicit SinkPortImpl(std::unique_ptr<SinkInstance> inst) : inst_(std::move(inst)) {}
  [[nodiscard]] const std::string& name() const override { return inst_->name(); }
  int write(const Batch& batch) override { return inst_->write(batch); }
  void close() override { inst_->close(); }

 private:
  std::unique_ptr<SinkInstance> inst_;
};

struct LivePlugin {
  std::string name;
  std::unique_ptr<PluginInstance> instance;
  bool started = false;
  bool host_wide = false;  // attaches to tracing hooks only (NETMON_SCOPE_HOST)
  // Self-metrics: how long its last collect() took, how many threw.
  std::uint64_t collect_duration_us = 0;
  std::uint64_t collect_errors = 0;
};

// Stops every started plugin in reverse order on every path out of run_host.
class StopGuard {
 public:
  explicit StopGuard(std::deque<LivePlugin>& plugins) : plugins_(plugins) {}
  ~StopGuard() { stop_all(); }
  void stop_all() noexcept {
    for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) stop(*it);
  }
  static void stop(LivePlugin& p) noexcept {
    if (!p.started) return;
    const StopPrivileges privileges;  // a netlink TC filter needs CAP_NET_ADMIN to go
    p.instance->stop();
    p.started = false;
    spdlog::debug("{}: stopped", p.name);
  }

 private:
  std::deque<LivePlugin>& plugins_;
};

std::string signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(sig);
  }
}

// The interfaces named, or the default route's when none is named and some
// plugin attaches to interfaces; none for host-wide plugins alone.
std::vector<Interface> resolve_interfaces(const std::vector<std::string>& names, bool per_interface_plugins) {
  std::vector<std::string> wanted = names;
  if (wanted.empty() && per_interface_plugins) {
    auto def = default_route_interface();
    if (!def) throw Error("no default route to pick an interface from: name one with --iface (ip -br link lists them)");
    spdlog::info("monitoring {}, the default route's interface (choose others with --iface)", *def);
    wanted.push_back(*def);
  }
  std::vector<Interface> out;
  std::set<std::string> seen;
  for (const auto& n : wanted) {
    if (!seen.insert(n).second) continue;
    out.push_back({ifindex_of(n), n});
  }
  return out;
}

// ---- 1. libraries -------------------------------------------------------

// Every plugin and sink library named on the command line, loaded and checked
// before anything is created or attached.
struct Libraries {
  std::vector<PluginLibrary> plugins;
  std::vector<SinkLibrary> sinks;
  std::vector<SinkSpec> sink_specs;     // parallel to sinks
  std::vector<unsigned> sink_instance;  // each sink's number among its name's (1, 2, ...)
  LoadedNames names;

  // What the plugins attach to, for the capability check.
  [[nodiscard]] CapabilityNeeds capability_needs() const {
    CapabilityNeeds needs;
    needs.interfaces = false;
    for (const auto& p : plugins) {
      if (!runs_host_wide(p.desc)) needs.interfaces = true;
      if (p.desc.attach & NETMON_ATTACH_HOST_MASK) {
        needs.tracing = true;
        needs.tracing_plugins += (needs.tracing_plugins.empty() ? "" : ", ") + std::string(p.desc.name);
      }
    }
    return needs;
  }
};

// A plugin that needs what the running kernel lacks is refused before any
// plugin starts, in one line.
void check_kernel_needs(const std::vector<PluginLibrary>& plugins) {
  for (const auto& p : plugins)
    if (p.desc.needs & NETMON_NEEDS_KERNEL_BTF)
      bpf::require_kernel_btf(p.desc.name, std::string("leave ") + p.desc.name + " out of --plugins");
}

// Loads every plugin and sink library named in `cfg`. A library that fails
// is handed to `on_error` (which may rethrow, as run does, or note the problem
// and go on, as check_config does) and left out.
using LoadError = std::function<void(const std::exception&)>;
Libraries load_libraries(const HostConfig& cfg, const PluginPath& dir, const LoadError& on_error) {
  Libraries out;
  for (const auto& p : cfg.plugins) {
    try {
      auto lib = load_plugin(dir, p);
      if (!out.names.plugins.insert(lib.desc.name).second)
        throw UsageError("--plugins: plugin '" + std::string(lib.desc.name) + "' is listed twice");
      out.plugins.push_back(std::move(lib));
    } catch (const std::exception& e) {
      on_error(e);
    }
  }
  for (const auto& s : cfg.sinks) {
    try {
      auto lib = load_sink(dir, s.name);
      out.sink_instance.push_back(++out.names.sink_count[lib.desc.name]);
      out.sink_specs.push_back(s);
      out.sinks.push_back(std::move(lib));
    } catch (const std::exception& e) {
      on_error(e);
    }
  }
  return out;
}

// ---- 4. sinks ------------------------------------------------------------

// Why the collection loop was woken by a sink thread.
struct SinkEnds {
  std::atomic<bool> reader_gone{false};
  std::atomic<bool> failed{false};
};

// Opens every sink (an unwritable path fails before any attach) and adds it
// to the bus; a sink that ends later wakes `loop`.
void open_sinks(Libraries& libs, const HostConfig& cfg, const nlohmann::json& options, SampleBus& bus, EventLoop& loop,
                SinkEnds& ends) {
  for (std::size_t i = 0; i < libs.sinks.size(); ++i) {
    const SinkSpec& spec = libs.sink_specs[i];
    SinkLibrary& lib = libs.sinks[i];
    const unsigned instance = libs.sink_instance[i];
    // A sink given more than once is told apart by its number: json#2.
    const std::string numbered =
        libs.names.sink_count[lib.desc.name] > 1 ? spec.name + "#" + std::to_string(instance) : spec.name;
    const std::string display = spec.target ? numbered + ":" + *spec.target : numbered;
    const std::string sink_options = sink_options_json(options, lib.desc.name, instance);
    auto inst = std::make_unique<SinkInstance>(std::move(lib), display);
    netmon_sink_context ctx{};
    ctx.struct_size = sizeof ctx;
    ctx.target = spec.target ? spec.target->c_str() : nullptr;
    ctx.interval_ns = static_cast<std::uint64_t>(cfg.interval.count());
    ctx.log = &plugin_log;
    ctx.host_ctx = inst->log_context();
    ctx.options_json = sink_options.c_str();
    inst->open(ctx);
    bus.add_sink(std::make_unique<SinkPortImpl>(std::move(inst)),
                 [&loop, &ends](const std::string& sink, SinkState state, const std::string& err) {
                   if (state == SinkState::closed) {
                     spdlog::debug("sink {}: its reader went away; stopping", sink);
                     ends.reader_gone = true;
                   } else {
                     spdlog::error("{} (this sink is stopped; the others go on)", err);
                     ends.failed = true;
                   }
                   loop.wake();
                 });
  }
}

// ---- 5. plugins ----------------------------------------------------------

// Creates and configures every plugin (bad options fail here, before any
// start), then starts them in order. `plugins` is the guard's: every one
// started is stopped on every way out.
void start_plugins(std::vector<PluginLibrary>& libs, const nlohmann::json& options,
                   const std::vector<Interface>& ifaces, const HostConfig& cfg, std::deque<LivePlugin>& plugins) {
  for (auto& lib : libs) {
    LivePlugin p;
    p.name = lib.desc.name;
    p.host_wide = runs_host_wide(lib.desc);
    p.instance = std::make_unique<PluginInstance>(std::move(lib));
    auto it = options.find(p.name);
    p.instance->configure(it == options.end() ? std::string("{}") : it->dump());
    plugins.push_back(std::move(p));
  }
  std::vector<netmon_interface> c_ifaces;
  for (const auto& i : ifaces) c_ifaces.push_back({i.ifindex, 0, i.name.c_str()});
  for (auto& p : plugins) {
    netmon_start_context ctx{};
    ctx.struct_size = sizeof ctx;
    ctx.n_interfaces = static_cast<std::uint32_t>(c_ifaces.size());
    ctx.interfaces = c_ifaces.data();
    ctx.interval_ns = static_cast<std::uint64_t>(cfg.interval.count());
    ctx.log = &plugin_log;
    ctx.host_ctx = &p.name;
    ctx.scope = p.host_wide ? NETMON_SCOPE_HOST : NETMON_SCOPE_INTERFACES;
    p.instance->start(ctx);
    p.started = true;
  }
}

// ---- 7. collection ---------------------------------------------------------

// One interval's work: every running plugin's samples with their rates, the
// host's own measurements, one batch to the bus; and the warning, at most
// once a minute per sink, that a sink is losing event records.
class Collector {
 public:
  Collector(std::deque<LivePlugin>& plugins, SampleBus& bus, std::chrono::nanoseconds interval)
      : plugins_(plugins),
        bus_(bus),
        interval_(interval),
        rates_(realtime_ns()),
        lost_reported_(bus.sinks().size(), 0),
        lost_reported_at_(bus.sinks().size()) {}

  // Returns how many plugins are still running.
  std::size_t collect() {
    const std::int64_t now = realtime_ns();
    const auto t0 = SteadyClock::now();
    auto batch = std::make_shared<Batch>();
    batch->timestamp_ns = now;
    batch->interval_ns = static_cast<std::uint64_t>(interval_.count());
    batch->sequence = sequence_++;
    std::size_t running = 0;
    for (auto& p : plugins_) {
      if (!p.started) continue;
      std::vector<Sample> samples;
      const auto p0 = SteadyClock::now();
      try {
        p.instance->collect(now, [&samples](Sample&& s) { samples.push_back(std::move(s)); });
      } catch (const std::exception& e) {
        spdlog::error("{} (this plugin is stopped and detached; the others go on)", e.what());
        ++p.collect_errors;
        StopGuard::stop(p);
        continue;
      }
      p.collect_duration_us = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - p0).count());
      ++running;
      rates_.apply(p.name, samples, now);
      std::move(samples.begin(), samples.end(), std::back_inserter(batch->samples));
    }
    std::vector<Sample> self = self_samples(running, SteadyClock::now() - t0);
    rates_.apply("netmon", self, now);
    std::move(self.begin(), self.end(), std::back_inserter(batch->samples));
    rates_.end_interval(now);
    bus_.publish(std::move(batch));
    warn_lost_events();
    return running;
  }

  // Batches published so far.
  [[nodiscard]] std::uint64_t sequence() const { return sequence_; }

 private:
  // The host's own measurements: itself, every plugin loaded (also one
  // stopped by a failed collect: up 0), every sink.
  std::vector<Sample> self_samples(std::size_t running, SteadyClock::duration took) const {
    std::vector<Sample> self;
    self.push_back(
        Sample("netmon_host")
            .gauge("plugins", running)
            .gauge("collect_duration_us",
                   static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()))
            .text("version", NETMON_VERSION)
            .text("abi", fmt::format("{}.{}", NETMON_ABI_MAJOR, NETMON_ABI_MINOR)));
    for (const auto& p : plugins_)
      self.push_back(Sample("netmon_host_plugin")
                         .tag("plugin", p.name)
                         .gauge("up", p.started ? 1 : 0)
                         .gauge("collect_duration_us", p.collect_duration_us)
                         .counter("collect_errors", p.collect_errors));
    for (const auto& s : bus_.sinks())
      self.push_back(Sample("netmon_host_sink")
                         .tag("sink", s->name())
                         .counter("dropped_batches", s->dropped())
                         .counter("delivered_batches", s->delivered())
                         .counter("lost_events", s->lost_events()));
    return self;
  }

  // Events lost for a sink are reported when they first are, then at most
  // once a minute while the count grows (and in full at exit).
  void warn_lost_events() {
    for (std::size_t i = 0; i < bus_.sinks().size(); ++i) {
      const auto& s = *bus_.sinks()[i];
      const std::uint64_t lost = s.lost_events();
      if (lost == lost_reported_[i]) continue;
      const auto now = SteadyClock::now();
      if (lost_reported_[i] != 0 && now - lost_reported_at_[i] < std::chrono::minutes(1)) continue;
      spdlog::warn("sink {} cannot keep up: {} event record(s) lost so far (more than {} were queued for it)", s.name(),
                   lost, SinkRunner::kEventBound);
      lost_reported_[i] = lost;
      lost_reported_at_[i] = now;
    }
  }

  std::deque<LivePlugin>& plugins_;
  SampleBus& bus_;
  std::chrono::nanoseconds interval_;
  RateTracker rates_;
  std::uint64_t sequence_ = 0;
  std::vector<std::uint64_t> lost_reported_;
  std::vector<SteadyClock::time_point> lost_reported_at_;
};

// Collects every interval until a signal (after a final collection),
// --duration, --count, a reader that went away, no sink or no plugin left,
// or every interface gone (while no host-wide plugin runs). Returns the exit
// code so far.
int collection_loop(const HostConfig& cfg, const std::vector<Interface>& ifaces, const std::deque<LivePlugin>& plugins,
                    EventLoop& loop, SampleBus& bus, const SinkEnds& ends, Collector& collector) {
  const auto host_wide_running = [&plugins] {
    return std::any_of(plugins.begin(), plugins.end(), [](const LivePlugin& p) { return p.started && p.host_wide; });
  };
  const std::string where =
      ifaces.empty() ? "host-wide"
                     : fmt::format("on {} interface(s){}", ifaces.size(), host_wide_running() ? " and host-wide" : "");
  spdlog::info("collecting every {} ms from {} {}; stop with Ctrl+C",
               std::chrono::duration_cast<std::chrono::milliseconds>(cfg.interval).count(),
               fmt::format("{}", fmt::join(cfg.plugins, ", ")), where);
  bool ifaces_gone_said = false;
  const auto start = SteadyClock::now();
  auto next_tick = start + cfg.interval;
  const SteadyClock::time_point end_at = cfg.duration ? start + *cfg.duration : SteadyClock::time_point::max();
  for (;;) {
    const auto ev = loop.wait_until(std::min(next_tick, end_at));
    if (ev == EventLoop::Event::signal) {
      spdlog::info("{} received: final collection, then stopping", signal_name(loop.last_signal()));
      collector.collect();
      return 0;
    }
    if (ev == EventLoop::Event::wake) {
      if (ends.reader_gone) return 0;
      if (ends.failed && bus.running() == 0) {
        spdlog::error("no sink is left to write to; stopping");
        return 1;
      }
      continue;
    }
    if (collector.collect() == 0) {
      spdlog::error("every plugin has stopped; nothing left to collect");
      return 1;
    }
    if (!ifaces.empty() && !ifaces_gone_said &&
        std::none_of(ifaces.begin(), ifaces.end(), [](const Interface& i) { return interface_present(i.ifindex); })) {
      if (!host_wide_running()) {
        spdlog::error("every monitored interface is gone; stopping");
        return 1;
      }
      spdlog::warn("every monitored interface is gone; the host-wide plugins go on");
      ifaces_gone_said = true;
    }
    const auto now = SteadyClock::now();
    if (cfg.count && collector.sequence() >= *cfg.count) return 0;
    if (now >= end_at) return 0;
    next_tick += cfg.interval;
    if (next_tick <= now) {
      const auto missed = (now - next_tick) / cfg.interval + 1;
      spdlog::warn("collection took longer than the interval; skipping {} tick(s)", missed);
      next_tick += missed * cfg.interval;
    }
  }
}

// ---- 8. the end ------------------------------------------------------------

// Sinks get a little while to deliver what is queued; one still blocked then
// (a pipe nobody reads) is left behind rather than waited for. Every loss is
// said once more.
void finish_sinks(SampleBus& bus) {
  const auto blocked = bus.finish(SteadyClock::now() + std::chrono::seconds(2));
  for (const auto& s : bus.sinks()) {
    if (std::find(blocked.begin(), blocked.end(), s->name()) != blocked.end())
      spdlog::warn("sink {} is blocked writing; {} batch(es) not delivered", s->name(), s->queued() + 1);
    if (s->dropped() > 0) spdlog::warn("sink {} dropped {} batch(es): it could not keep up", s->name(), s->dropped());
    if (s->lost_events() > 0)
      spdlog::warn("sink {} lost {} event record(s): it could not keep up", s->name(), s->lost_events());
  }
}

}  // namespace

// ---- options ---------------------------------------------------------------

void check_option_owners(const nlohmann::json& options, const LoadedNames& loaded) {
  for (const auto& [owner, value] : options.items()) {
    const OptionOwner o = split_option_owner(owner);
    const auto count = loaded.sink_count.find(o.name);
    if (loaded.plugins.count(o.name)) {
      if (o.instance != 0)
        throw UsageError("options given for '" + owner + "', but plugins are loaded once: write -o " + o.name +
                         ".KEY=VALUE");
      continue;
    }
    if (count != loaded.sink_count.end()) {
      if (o.instance == 0 && count->second > 1)
        throw UsageError("options given for '" + owner + "' are ambiguous: --sink " + o.name + " is given " +
                         std::to_string(count->second) + " times; name the instance: -o " + o.name +
                         "#1.KEY=VALUE ... -o " + o.name + "#" + std::to_string(count->second) + ".KEY=VALUE");
      if (o.instance > count->second)
        throw UsageError("options given for '" + owner + "', but --sink " + o.name + " is given " +
                         (count->second == 1 ? "once (write -o " + o.name + ".KEY=VALUE)"
                                             : std::to_string(count->second) + " times (instances " + o.name +
                                                   "#1 to " + o.name + "#" + std::to_string(count->second) + ")"));
      continue;
    }
    std::string names;
    for (const auto& n : loaded.plugins) names += (names.empty() ? "" : ", ") + n;
    for (const auto& [n, c] : loaded.sink_count) names += (names.empty() ? "" : ", ") + n;
    throw UsageError("options given for '" + owner +
                     "', but no plugin or sink of that name is loaded (loaded: " + names + ")");
  }
}

std::string sink_options_json(const nlohmann::json& options, const std::string& name, unsigned instance) {
  nlohmann::json merged = nlohmann::json::object();
  if (auto it = options.find(name); it != options.end()) merged.update(*it);
  if (auto it = options.find(name + "#" + std::to_string(instance)); it != options.end()) merged.update(*it);
  return merged.dump();
}

// ---- the whole run -----------------------------------------------------------

int run_host(const HostConfig& cfg) {
  // 0. The ready file's temporary copy, first: a bad path fails before
  // anything is loaded, opened or attached, and a stale file from a killed
  // run is gone before a script could take it for this run's. It appears
  // under its name once every plugin is attached and collection starts,
  // and goes as soon as the plugins are detached.
  std::optional<ReadyFile> ready;
  if (cfg.ready_file) ready.emplace(*cfg.ready_file);

  const PluginPath dir = PluginPath::from(cfg.plugin_dirs);
  spdlog::debug("plugin path: {}", dir.describe());

  Libraries libs = load_libraries(cfg, dir, [](const std::exception&) { throw; });  // 1. every library, checked
  check_option_owners(cfg.options, libs.names);  // 2. every option names something loaded
  // 3. interfaces, privileges and what the kernel must have
  const CapabilityNeeds needs = libs.capability_needs();
  const std::vector<Interface> ifaces = resolve_interfaces(cfg.ifaces, needs.interfaces);
  if (const std::string err = capability_error(needs); !err.empty()) throw Error(err);
  check_kernel_needs(libs.plugins);

  EventLoop loop;
  SinkEnds ends;
  SampleBus bus;
  open_sinks(libs, cfg, cfg.options, bus, loop, ends);  // 4. sinks
  std::deque<LivePlugin> plugins;
  StopGuard guard(plugins);
  start_plugins(libs.plugins, cfg.options, ifaces, cfg, plugins);  // 5. plugins, attached

  // 6. Everything is attached: drop the capabilities no longer needed, then
  // start the sinks' threads (capabilities are per thread).
  drop_capabilities();
  spdlog::debug("capabilities now: {}", capability_sets());
  bus.start();
  if (ready) ready->publish();

  Collector collector(plugins, bus, cfg.interval);  // 7. collect every interval
  int exit_code = collection_loop(cfg, ifaces, plugins, loop, bus, ends, collector);

  guard.stop_all();  // 8. detach, then let the sinks finish
  ready.reset();
  finish_sinks(bus);
  if (ends.failed) exit_code = 1;
  return exit_code;
}

int check_config(const HostConfig& cfg) {
  int worst = 0;  // 2 while every problem is a usage error, 1 after any other
  const auto problem = [&worst](const std::exception& e) {
    spdlog::error("{}", e.what());
    if (worst != 1) worst = dynamic_cast<const UsageError*>(&e) ? 2 : 1;
  };
  const PluginPath dir = PluginPath::from(cfg.plugin_dirs);
  Libraries libs = load_libraries(cfg, dir, problem);
  try {
    check_option_owners(cfg.options, libs.names);
  } catch (const std::exception& e) {
    problem(e);
  }
  const CapabilityNeeds needs = libs.capability_needs();
  try {
    (void)resolve_interfaces(cfg.ifaces, needs.interfaces);
  } catch (const std::exception& e) {
    problem(e);
  }
  for (auto& lib : libs.plugins) {
    const std::string name = lib.desc.name;
    try {
      if (lib.desc.needs & NETMON_NEEDS_KERNEL_BTF)
        bpf::require_kernel_btf(name, "leave " + name + " out of --plugins");
      PluginInstance instance(std::move(lib));
      const auto it = cfg.options.find(name);
      instance.configure(it == cfg.options.end() ? std::string("{}") : it->dump());
    } catch (const std::exception& e) {
      problem(e);
    }
  }
  if (worst == 0) {
    std::string plugins, sinks;
    for (const auto& p : cfg.plugins) plugins += (plugins.empty() ? "" : ", ") + p;
    for (const auto& s : cfg.sinks) sinks += (sinks.empty() ? "" : ", ") + s.name;
    spdlog::info("the configuration is valid (plugins {}; sinks {}); nothing was loaded into the kernel", plugins,
                 sinks);
  }
  return worst;
}

int list_plugins(const HostConfig& cfg) {
  const PluginPath path = PluginPath::from(cfg.plugin_dirs);
  const auto entries = path.list();
  std::string out = "Plugin path (first match wins): " + path.describe() + "\n";
  if (entries.empty()) out += "  (no libnetmon_*.so found; add directories with --plugin-dir or NETMON_PLUGIN_DIR)\n";
  for (const auto kind : {LibraryKind::plugin, LibraryKind::sink}) {
    bool header = false;
    for (const auto& e : entries) {
      if (e.kind != kind || !e.error.empty()) continue;
      if (!header) out += kind == LibraryKind::plugin ? "\nPlugins:\n" : "\nSinks:\n";
      header = true;
      out += fmt::format("  {:<12} {:<8} {}{}\n", e.name, e.version, e.description,
                         e.shadowed_by.empty()
                             ? ""
                             : " [not used: " + e.path.string() + "; " + e.shadowed_by.string() + " comes first]");
      if (!e.attaches.empty()) out += "      attaches to: " + e.attaches + "\n";
      if (!e.options_help.empty()) {
        std::string help = e.options_help;
        for (std::size_t pos = 0; (pos = help.find('\n', pos)) != std::string::npos; pos += 1)
          help.insert(pos + 1, "      ");
        out += "      " + help + (help.back() == '\n' ? "" : "\n");
      }
    }
  }
  bool bad_header = false;
  for (const auto& e : entries) {
    if (e.error.empty()) continue;
    if (!bad_header) out += "\nNot loadable:\n";
    bad_header = true;
    out += "  " + e.error + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace netmon::host
