// SPDX-License-Identifier: MIT
// Host: runs netmon-host's whole life for one HostConfig.
//
// Order of work, so that every bad input fails before anything is attached:
// load and check every library; resolve interfaces; check privileges; open
// every sink; create and configure every plugin; then start plugins in order
// and collect every interval until a signal, --duration, --count, or a reader
// that went away. Every started plugin is stopped, in reverse order, on every
// path out; a final collection runs before a clean stop, so no counts are lost.
#pragma once

#include "cli.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>

namespace netmon::host {

// The names of what is loaded: each plugin once, each sink with how many
// times --sink gave it.
struct LoadedNames {
  std::set<std::string> plugins;
  std::map<std::string, unsigned> sink_count;
};

// Every -o / --config entry must name something loaded, once: NAME is a
// plugin, or a sink given once; NAME#N the Nth --sink NAME. Throws
// netmon::UsageError naming the entry and the fix.
void check_option_owners(const nlohmann::json& options, const LoadedNames& loaded);

// A sink instance's options as JSON: NAME's (given once), then NAME#N's over them.
std::string sink_options_json(const nlohmann::json& options, const std::string& name, unsigned instance);

// Returns the process exit code: 0 clean stop, 1 runtime error. Throws
// netmon::Error for errors before the first collection: netmon::UsageError
// (exit 2) for an option refused by the host, a plugin's configure() or a
// sink's open().
int run_host(const HostConfig& cfg);

// --check-config: checks what a run would check before it attaches, without
// loading a BPF program or opening a sink: every plugin and sink library
// found and compatible, every option naming something loaded, each plugin's
// options (its configure()), the interfaces named, the kernel's BTF for the
// plugins that need it. Logs one error per problem; returns 0 when there is
// none, 2 when each is a usage error (an option, an argument), else 1. Sinks
// check their own options when they open, at start.
int check_config(const HostConfig& cfg);

// Prints the plugins and sinks found (--list-plugins); returns the exit code.
int list_plugins(const HostConfig& cfg);

}  // namespace netmon::host
