// SPDX-License-Identifier: MIT
// The host's log: spdlog to stderr (stdout carries only sink output).
#pragma once

#include <netmon/plugin_abi.h>

#include <string>

namespace netmon::host {

// Sets up the stderr logger at the given level ("debug", "info", "warn", "error").
void setup_logging(const std::string& level);

// The netmon_log_fn given to plugins and sinks; host_ctx is a `const std::string*`
// naming the plugin, which prefixes every message.
void plugin_log(void* host_ctx, int level, const char* message);

}  // namespace netmon::host
