// SPDX-License-Identifier: MIT
#include "caps.hpp"

#include <sys/capability.h>

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

}  // namespace netmon::host
