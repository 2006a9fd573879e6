// SPDX-License-Identifier: MIT
// The host's log: spdlog to stderr (stdout carries only sink output).
#pragma once

#include <netmon/plugin_abi.h>

#include <string>

namespace netmon::host {

// Sets up the stderr logger at the given level ("debug", "info", "warn",
// "error"): "netmon-host: LEVEL: message", the level coloured on a terminal;
// when stderr is the journal's stream (stderr_is_journal), "<N>LEVEL: message"
// with N the syslog priority journald files the line under.
void setup_logging(const std::string& level);

// True when stderr is the stream systemd connected to the journal: the
// JOURNAL_STREAM variable names stderr's device and inode.
bool stderr_is_journal();

// Routes libbpf's messages to the log, for the whole process: warnings at warn
// level (the kernel's extended acks, which come with errors netmon handles
// and reports itself, at debug), the rest at debug.
void route_libbpf_logs();

// A plugin's or sink's message as the host shows it (the rule in
// plugin_abi.h): "LABEL: message", unless the message already names the
// library: begins with "NAME:" or names one of its options as "NAME.KEY".
// LABEL is what the host calls it: the plugin's name, "sink csv:out.csv".
std::string attribute(const std::string& name, const std::string& label, const std::string& message);

// The netmon_log_fn given to plugins and sinks; host_ctx is a `const std::string*`
// naming the plugin, which prefixes every message (by attribute()).
void plugin_log(void* host_ctx, int level, const char* message);

}  // namespace netmon::host
