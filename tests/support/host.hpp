// SPDX-License-Identifier: MIT
// Driving netmon-host as a user would: its command line, its JSON output read
// back line by line, and checks that nothing of ours is left in the kernel.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace netmon::test {

// {netmon-host, args...}
std::vector<std::string> host_cmd(const std::vector<std::string>& args);

// Reads JSON lines from a running netmon-host until pred matches one; every
// line read is kept in `seen`.
std::optional<nlohmann::json> next_json(Subprocess& p, const std::function<bool(const nlohmann::json&)>& pred,
                                        std::chrono::milliseconds timeout, std::vector<nlohmann::json>* seen = nullptr);

// Predicate: a sample of `measurement` whose tags include all of `tags`.
std::function<bool(const nlohmann::json&)> sample_of(const std::string& measurement,
                                                     const std::vector<std::pair<std::string, std::string>>& tags);

// Id of the XDP program on ifname (any mode), 0 if none.
std::uint32_t xdp_prog_id(const std::string& ifname);
// How many loaded BPF programs have this name (bpftool prog show).
int loaded_programs_named(const std::string& name);
// Waits up to `timeout` for no program of this name to remain (programs are
// freed asynchronously after their last reference goes).
bool wait_no_programs_named(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// The same for every program of a plugin: its programs' names begin with
// program_prefix(plugin), the plugin's name and '_' within the kernel's 15
// characters.
bool wait_no_programs_of(const std::string& plugin, std::chrono::milliseconds timeout = std::chrono::seconds(5));
std::string program_prefix(const std::string& plugin);
// The plugins netmon-host loads without --plugins (the build's
// netmon_default_plugins.h).
std::vector<std::string> default_plugins();

// netmon-host running with --sink json, its samples kept as they arrive.
class HostRun {
 public:
  explicit HostRun(const std::vector<std::string>& args);
  // Reads samples until one matches (true) or the timeout passes (false).
  bool wait_for(const std::function<bool(const nlohmann::json&)>& pred, std::chrono::milliseconds timeout);
  // Runs work() on another thread while reading samples as they come, so the
  // host's stdout pipe never fills during a long run; returns work()'s result.
  template <class F>
  auto reading_while(F&& work) {
    auto done = std::async(std::launch::async, std::forward<F>(work));
    while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      wait_for([](const nlohmann::json&) { return false; }, std::chrono::milliseconds(100));
    return done.get();
  }
  // Sends sig, reads every remaining sample, waits for the exit.
  std::optional<ExitStatus> stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // The last sample read that matches, if any.
  [[nodiscard]] std::optional<nlohmann::json> last(const std::function<bool(const nlohmann::json&)>& pred) const;
  [[nodiscard]] const std::vector<nlohmann::json>& samples() const { return samples_; }
  // fields.<key> of the last sample matching pred, minus the same in base.
  [[nodiscard]] std::uint64_t delta(const std::function<bool(const nlohmann::json&)>& pred, const nlohmann::json& base,
                                    const std::string& key) const;
  [[nodiscard]] const std::string& stderr_text() const { return p_.stderr_text(); }
  Subprocess& process() { return p_; }

 private:
  Subprocess p_;
  std::vector<nlohmann::json> samples_;
};

// Every line of a captured stdout parsed as JSON (throws on a line that is
// not: stdout must carry JSON only).
std::vector<nlohmann::json> json_lines(const std::string& text);
// The last of `samples` that matches, if any.
std::optional<nlohmann::json> last_of(const std::vector<nlohmann::json>& samples,
                                      const std::function<bool(const nlohmann::json&)>& pred);

// Expects (gtest) every measurement, tag and field of `samples` to be in
// docs/SAMPLES.md: a "### `measurement`" heading, each key in backquotes.
void expect_documented(const std::vector<nlohmann::json>& samples);

// fields.<key> of a sample as an unsigned integer.
std::uint64_t field_u64(const nlohmann::json& sample, const std::string& key);

// Lines of `tc filter show dev IF ingress|egress` and whether a clsact qdisc
// is on IF (`tc qdisc show`): what iproute2 sees, independent of netmon.
std::vector<std::string> tc_filters(const std::string& ifname, const std::string& direction);
bool tc_has_clsact(const std::string& ifname);
// Ids of the programs on ifname's tcx hook ("ingress" or "egress"), in the
// order they run; empty if none. tc_filters() does not list these.
std::vector<std::uint32_t> tcx_prog_ids(const std::string& ifname, const std::string& direction);
// The name of a loaded program ("" if the id is gone), as the kernel keeps it
// (15 characters at most).
std::string prog_name(std::uint32_t id);
// How many BPF links (bpftool -j link show) hold a program of `plugin`
// (named with program_prefix(plugin)).
int links_of_plugin(const std::string& plugin);

// netmon-host with args, run to its end under capsh without CAP_NET_ADMIN:
// what a run of host-wide plugins alone must do without.
RunResult run_host_without_cap_net_admin(const std::vector<std::string>& args,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Makes every BPF map descriptor of this process /dev/null, so that a
// plugin's next map operation fails (an exception in collect); returns how
// many there were.
int break_bpf_map_fds();

// Asserts (gtest EXPECTs) that nothing of netmon's is left on ifname or in
// the kernel: no XDP program, no TC filter, no program of ours on a tcx
// hook, no clsact qdisc (unless
// `clsact_expected`: someone else's), no program of a standard plugin
// loaded, nothing pinned under /sys/fs/bpf.
void expect_nothing_left(const std::string& ifname, bool clsact_expected = false);

// A process's resident memory (VmRSS), in kB; 0 if unknown.
std::uint64_t rss_kb(pid_t pid);

// stderr split into non-empty lines.
std::vector<std::string> lines_of(const std::string& text);

// Checks that every thread of pid holds what docs/RELIABILITY.md states once
// everything is attached (its /proc/PID/task/*/status): nothing effective,
// inheritable or ambient, CAP_NET_ADMIN alone permitted and, for a host
// started as root, alone in the bounding set. Without CAP_SETPCAP (a service
// given only the capabilities it needs) the bounding set cannot shrink:
// `bounding` is then what it was given (the /proc status text, 16 hex digits).
// Returns the threads' names (comm), one per thread.
std::multiset<std::string> expect_every_thread_dropped(int pid, const std::string& bounding = "0000000000001000");

}  // namespace netmon::test
