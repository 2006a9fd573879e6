// SPDX-License-Identifier: MIT
// Driving netmon-host as a user would: its command line, its JSON output read
// back line by line, and checks that nothing of ours is left in the kernel.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace netmon::test {

// {netmon-host, args...}
std::vector<std::string> host_cmd(const std::vector<std::string>& args);

// Reads JSON lines from a running netmon-host until pred matches one; every
// line read is kept in `seen`.
std::optional<nlohmann::json> next_json(Subprocess& p, const std::function<bool(const nlohmann::json&)>& pred,
                                        std::chrono::milliseconds timeout, std::vector<nlohmann::json>* seen = nullptr);

// Predicate: a sample of `measurement` whose tags include all of `tags`.
std::function<bool(const nlohmann::json&)> sample_of(const std::string& measurement,
                                                     const std::vector<std::pair<std::string, std::string>>& tags);

// Id of the XDP program on ifname (any mode), 0 if none.
std::uint32_t xdp_prog_id(const std::string& ifname);
// How many loaded BPF programs have this name (bpftool prog show).
int loaded_programs_named(const std::string& name);
// Waits up to `timeout` for no program of this name to remain (programs are
// freed asynchronously after their last reference goes).
bool wait_no_programs_named(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// stderr split into non-empty lines.
std::vector<std::string> lines_of(const std::string& text);

}  // namespace netmon::test
