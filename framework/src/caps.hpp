// SPDX-License-Identifier: MIT
// The capabilities netmon-host needs to load and attach BPF programs.
#pragma once

#include <string>
#include <vector>

namespace netmon::host {

// Names of the needed capabilities the process lacks in its effective set:
// CAP_BPF (or CAP_SYS_ADMIN, which implies it) and CAP_NET_ADMIN.
std::vector<std::string> missing_capabilities();

// One line naming what is missing and how to fix it, or "" if nothing is.
std::string capability_error();

}  // namespace netmon::host
