// SPDX-License-Identifier: MIT
#include "caps.hpp"

#include <netmon/error.hpp>

#include <sys/capability.h>
#include <sys/prctl.h>

#include <atomic>
#include <cerrno>
#include <fstream>

namespace netmon::host {

namespace {
bool has_effective(cap_t caps, cap_value_t cap) {
  cap_flag_value_t v = CAP_CLEAR;
  return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}
}  // namespace

std::vector<std::string> missing_capabilities() {
  std::vector<std::string> missing;
  cap_t caps = cap_get_proc();
  if (!caps) return {"CAP_BPF", "CAP_NET_ADMIN"};
  if (!has_effective(caps, CAP_BPF) && !has_effective(caps, CAP_SYS_ADMIN)) missing.push_back("CAP_BPF");
  if (!has_effective(caps, CAP_NET_ADMIN)) missing.push_back("CAP_NET_ADMIN");
  cap_free(caps);
  return missing;
}

std::string capability_error() {
  const auto missing = missing_capabilities();
  if (missing.empty()) return {};
  std::string names;
  for (const auto& m : missing) names += (names.empty() ? "" : " and ") + m;
  return "missing capabilit" + std::string(missing.size() > 1 ? "ies " : "y ") + names +
         ", needed to load and attach BPF programs: run netmon-host as root (sudo netmon-host ...)";
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
}  // namespace

void drop_capabilities() {
  // The bounding set first: dropping from it needs CAP_SETPCAP, about to go
  // (a process given only CAP_BPF and CAP_NET_ADMIN, by setcap, has none:
  // its bounding set stays, its own sets are emptied all the same).
  cap_t now = cap_get_proc();
  const bool setpcap = now && has_effective(now, CAP_SETPCAP);
  if (now) cap_free(now);
  for (cap_value_t c = 0; setpcap && c <= CAP_LAST_CAP; ++c) {
    if (c == CAP_NET_ADMIN || !CAP_IS_SUPPORTED(c)) continue;
    if (cap_drop_bound(c) != 0 && errno != EINVAL)
      throw Error(errno_message("cannot drop capability " + std::to_string(c) + " from the bounding set", errno));
  }
  cap_t caps = cap_init();  // everything clear
  if (!caps) throw Error(errno_message("cannot drop capabilities", errno));
  const cap_value_t net_admin[] = {CAP_NET_ADMIN};
  cap_set_flag(caps, CAP_PERMITTED, 1, net_admin, CAP_SET);
  const int rc = cap_set_proc(caps);
  const int err = errno;
  cap_free(caps);
  if (rc != 0) throw Error(errno_message("cannot drop capabilities", err));
  cap_reset_ambient();
  // Nothing this process runs may gain privileges again.
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  g_dropped = true;
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
