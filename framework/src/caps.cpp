// SPDX-License-Identifier: MIT
#include "caps.hpp"

#include <netmon/error.hpp>

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

namespace netmon::host {

namespace {
bool has_effective(cap_t caps, cap_value_t cap) {
  cap_flag_value_t v = CAP_CLEAR;
  return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}
}  // namespace

std::vector<std::string> missing_capabilities(const CapabilityNeeds& needs) {
  std::vector<std::string> missing;
  cap_t caps = cap_get_proc();
  const auto has = [caps](cap_value_t c) { return caps && has_effective(caps, c); };
  // CAP_SYS_ADMIN stands for CAP_BPF and CAP_PERFMON (kernels before 5.8 know only it).
  if (!has(CAP_BPF) && !has(CAP_SYS_ADMIN)) missing.push_back("CAP_BPF");
  if (needs.interfaces && !has(CAP_NET_ADMIN)) missing.push_back("CAP_NET_ADMIN");
  if (needs.tracing && !has(CAP_PERFMON) && !has(CAP_SYS_ADMIN)) missing.push_back("CAP_PERFMON");
  if (caps) cap_free(caps);
  return missing;
}

std::string capability_error(const CapabilityNeeds& needs) {
  const auto missing = missing_capabilities(needs);
  if (missing.empty()) return {};
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : " and ") + m;
  std::string why = "needed to load and attach BPF programs";
  if (needs.tracing && std::find(missing.begin(), missing.end(), "CAP_PERFMON") != missing.end())
    why += " (CAP_PERFMON for the tracing hooks of " + needs.tracing_plugins + ")";
  return "missing capabilit" + std::string(missing.size() > 1 ? "ies " : "y ") + names + ", " + why +
         ": run netmon-host as root (sudo netmon-host ...), or grant them (a systemd unit's "
         "AmbientCapabilities=, as netmon.service does)";
}

namespace {
std::atomic<bool> g_dropped{false};

void set_effective_net_admin(bool on) {
  cap_t caps = cap_get_proc();
  if (!caps) return;
  const cap_value_t net_admin[] = {CAP_NET_ADMIN};
  cap_set_flag(caps, CAP_EFFECTIVE, 1, net_admin, on ? CAP_SET : CAP_CLEAR);
  cap_set_proc(caps);
  cap_free(caps);
}

// What every thread keeps once everything is attached: CAP_NET_ADMIN
// permitted (not effective) and alone in the bounding set, when it was
// permitted (a run of host-wide plugins alone may not hold it); nothing else.
std::uint64_t g_kept = 1ull << CAP_NET_ADMIN;

// Set before any thread is signalled, read by the handler.
int g_last_cap = CAP_LAST_CAP;
bool g_setpcap = false;

// The drop, in the calling thread: capabilities, the bounding set, the
// ambient set and no_new_privs are all per thread in Linux. System calls
// only, so that it is async-signal-safe. Returns 0, or the errno of the
// capset that failed.
int drop_in_this_thread() noexcept {
  // The bounding set first: dropping from it needs CAP_SETPCAP, about to go
  // (a process given only CAP_BPF and CAP_NET_ADMIN, by setcap, has none:
  // its bounding set stays, its own sets are emptied all the same).
  for (int c = 0; g_setpcap && c <= g_last_cap; ++c)
    if (c != CAP_NET_ADMIN) ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0);  // EINVAL: unknown to this kernel
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (g_kept) data[CAP_NET_ADMIN / 32].permitted = 1u << (CAP_NET_ADMIN % 32);
  const int err = ::syscall(SYS_capset, &hdr, data) == 0 ? 0 : errno;
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  // Nothing this thread runs may gain privileges again.
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  return err;
}

void on_drop_signal(int) {
  const int saved = errno;
  (void)drop_in_this_thread();
  errno = saved;
}

// A thread's capability sets as the kernel shows them (/proc/self/task/T/status).
struct ThreadCaps {
  std::uint64_t eff = 0, prm = 0, inh = 0, bnd = 0, amb = 0;
  [[nodiscard]] bool holds_more_than_kept() const {
    return eff || inh || amb || (prm & ~g_kept) || (g_setpcap && (bnd & ~g_kept));
  }
};

std::optional<ThreadCaps> read_thread_caps(const std::filesystem::path& status) {
  std::ifstream in(status);
  if (!in) return std::nullopt;  // the thread has ended
  ThreadCaps t;
  std::string line;
  while (std::getline(in, line)) {
    std::uint64_t* slot = line.rfind("CapEff:", 0) == 0   ? &t.eff
                          : line.rfind("CapPrm:", 0) == 0 ? &t.prm
                          : line.rfind("CapInh:", 0) == 0 ? &t.inh
                          : line.rfind("CapBnd:", 0) == 0 ? &t.bnd
                          : line.rfind("CapAmb:", 0) == 0 ? &t.amb
                                                          : nullptr;
    if (slot) *slot = std::stoull(line.substr(line.find(':') + 1), nullptr, 16);
  }
  return t;
}

// The other threads of this process, and those of them that hold more than
// is kept, by id.
struct ThreadScan {
  std::vector<pid_t> all;
  std::vector<pid_t> privileged;
};

ThreadScan scan_threads() {
  ThreadScan out;
  const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    pid_t tid = 0;
    try {
      tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
    } catch (const std::exception&) {
      continue;
    }
    if (tid == self) continue;
    out.all.push_back(tid);
    std::optional<ThreadCaps> caps;
    try {
      caps = read_thread_caps(task.path() / "status");
    } catch (const std::exception&) {
      caps.reset();  // unreadable: ended meanwhile
    }
    if (caps && caps->holds_more_than_kept()) out.privileged.push_back(tid);
  }
  std::sort(out.all.begin(), out.all.end());
  return out;
}

std::string thread_name(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "?" : name;
}
}  // namespace

void drop_capabilities() {
  if (std::ifstream f("/proc/sys/kernel/cap_last_cap"); f) f >> g_last_cap;
  cap_t now = cap_get_proc();
  g_setpcap = now && has_effective(now, CAP_SETPCAP);
  cap_flag_value_t net_admin = CAP_CLEAR;
  if (!now || cap_get_flag(now, CAP_NET_ADMIN, CAP_PERMITTED, &net_admin) != 0) net_admin = CAP_CLEAR;
  g_kept = net_admin == CAP_SET ? 1ull << CAP_NET_ADMIN : 0;
  if (now) cap_free(now);
  if (const int err = drop_in_this_thread()) throw Error(errno_message("cannot drop capabilities", err));
  g_dropped = true;  // from here stopping must raise CAP_NET_ADMIN again, also after a throw below

  // Threads a sink's open() or a plugin's start() began before this point
  // hold what this thread held: each is made to drop the same way, from a
  // signal handler run on that thread, and the kernel's own view of every
  // thread is the proof. A thread such a thread starts meanwhile inherits
  // its sets, so look again until a pass finds none.
  const int sig = SIGRTMIN + 4;
  struct sigaction act {};
  act.sa_handler = &on_drop_signal;
  act.sa_flags = SA_RESTART;
  sigemptyset(&act.sa_mask);
  if (::sigaction(sig, &act, nullptr) != 0) {
    const int err = errno;
    throw Error(errno_message("cannot drop capabilities in every thread", err));
  }
  // Afterwards the signal is ignored, not reset to its default action (which
  // ends the process): a copy still pending in a thread that blocks it is
  // discarded, whatever way this function is left.
  struct IgnoreAfterwards {
    int sig;
    ~IgnoreAfterwards() {
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      sigemptyset(&ign.sa_mask);
      ::sigaction(sig, &ign, nullptr);
    }
  } ignore_afterwards{sig};

  // Each thread is signalled once (real-time signals queue: a second copy
  // would only run the handler again). A pass that finds none privileged is
  // confirmed by one more that lists the same threads: a thread that a
  // privileged thread started between the listing and its own drop shows up
  // in the second listing.
  std::set<pid_t> signalled;
  ThreadScan scan = scan_threads();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    for (const pid_t tid : scan.privileged)
      if (signalled.insert(tid).second) ::syscall(SYS_tgkill, ::getpid(), tid, sig);  // ESRCH: ended meanwhile
    if (scan.privileged.empty()) {
      ThreadScan again = scan_threads();
      if (again.privileged.empty() && again.all == scan.all) break;
      scan = std::move(again);
      continue;
    }
    if (std::chrono::steady_clock::now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    scan = scan_threads();
  }
  if (!scan.privileged.empty()) {
    const pid_t tid = scan.privileged.front();
    throw Error("thread " + std::to_string(tid) + " (" + thread_name(tid) +
                ") still holds capabilities after they were dropped: a plugin or sink started it with signal " +
                std::to_string(sig) +
                " blocked; start threads after start()/open() returns, or leave that signal "
                "unblocked");
  }
}

StopPrivileges::StopPrivileges() {
  if (!g_dropped) return;
  set_effective_net_admin(true);
  raised_ = true;
}

StopPrivileges::~StopPrivileges() {
  if (raised_) set_effective_net_admin(false);
}

std::string capability_sets() {
  std::ifstream in("/proc/thread-self/status");
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("Cap", 0) == 0) out += (out.empty() ? "" : " ") + line;
  for (auto& c : out)
    if (c == '\t') c = '=';
  return out;
}

}  // namespace netmon::host
