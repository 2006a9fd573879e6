// SPDX-License-Identifier: MIT
// The host's log: spdlog to stderr (stdout carries only sink output).
#pragma once

#include <netmon/plugin_abi.h>

#include <string>

namespace netmon::host {

// Sets up the stderr logger at the given level ("debug", "info", "warn", "error").
void setup_logging(const std::string& level);

// Routes libbpf's messages to the log, for the whole process: warnings at warn
// level (the kernel's extended acks, which come with errors netmon handles
// and reports itself, at debug), the rest at debug.
void route_libbpf_logs();

// The netmon_log_fn given to plugins and sinks; host_ctx is a `const std::string*`
// naming the plugin, which prefixes every message.
void plugin_log(void* host_ctx, int level, const char* message);

}  // namespace netmon::host
