// SPDX-License-Identifier: MIT
// The capabilities netmon-host needs to load and attach BPF programs.
#pragma once

#include <string>
#include <vector>

namespace netmon::host {

// What the loaded plugins attach to (enum netmon_attach): interface hooks
// need CAP_NET_ADMIN, tracing hooks CAP_PERFMON, and both CAP_BPF.
struct CapabilityNeeds {
  bool interfaces = true;
  bool tracing = false;
  std::string tracing_plugins;  // "drops, tcp_health": named in the message
};

// Names of the needed capabilities the process lacks in its effective set:
// CAP_BPF, CAP_NET_ADMIN (interfaces), CAP_PERFMON (tracing); CAP_SYS_ADMIN
// stands for CAP_BPF and CAP_PERFMON.
std::vector<std::string> missing_capabilities(const CapabilityNeeds& needs);

// One line naming what is missing and how to fix it, or "" if nothing is.
std::string capability_error(const CapabilityNeeds& needs);

// Once everything is attached: drops every capability but CAP_NET_ADMIN,
// which stays permitted (if it was) but not effective (and the only one in
// the bounding set), in every thread of the process. Reading maps through open fds and
// closing links need none; removing a netlink TC filter needs CAP_NET_ADMIN,
// raised on the main thread for stopping only.
// Capabilities are per thread in Linux: the calling thread drops its own,
// then every other thread (one a sink's open() or a plugin's start() began)
// is made to drop the same from a handler of a real-time signal
// (SIGRTMIN+4, sent once to each; ignored afterwards) run on it, until two
// passes over /proc/self/task in a row list the same threads and none holding
// more.
// Throws netmon::Error if the kernel refuses, or if a thread has not dropped
// within 2 s (it blocks that signal).
void drop_capabilities();

// Raises CAP_NET_ADMIN (effective) for the scope's life if drop_capabilities()
// kept it permitted; does nothing otherwise.
class StopPrivileges {
 public:
  StopPrivileges();
  ~StopPrivileges();
  StopPrivileges(const StopPrivileges&) = delete;
  StopPrivileges& operator=(const StopPrivileges&) = delete;

 private:
  bool raised_ = false;
};

// "CapEff=... CapPrm=... CapBnd=..." of the calling thread, for the log.
std::string capability_sets();

}  // namespace netmon::host
