// SPDX-License-Identifier: MIT
// The console's human view of one interval: the sections the original monitor
// showed (Global, TC Device, Top Flow), plus the XDP per-class detail and any
// other plugin's samples, rendered as text.
#pragma once

#include <netmon/sample.hpp>

#include <string>

namespace netmon::console {

std::string render(const Batch& batch);

}  // namespace netmon::console
