// SPDX-License-Identifier: MIT
// netmon-host's command line, parsed into a HostConfig (CLI11).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace netmon::host {

struct SinkSpec {
  std::string name;                   // or a path to a sink library
  std::optional<std::string> target;  // what follows the first ':'
};

struct HostConfig {
  std::vector<std::string> plugins;
  std::vector<std::string> ifaces;  // empty: the default route's interface
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<std::uint64_t> count;
  std::vector<SinkSpec> sinks;
  std::vector<std::string> plugin_dirs;  // --plugin-dir, in order
  std::optional<std::string> config_file;
  std::optional<std::string> ready_file;              // written once every plugin is attached
  std::vector<std::string> option_args;               // -o NAME.KEY=VALUE, in order
  nlohmann::json options = nlohmann::json::object();  // both merged: { name: { key: value } }
  std::string log_level = "info";
  bool list_plugins = false;
  bool version = false;
  bool print_config = false;  // print the effective configuration (effective_config), then exit
  bool check_config = false;  // validate everything, load no program (check_config in host.hpp), then exit
};

// The settings of the command line a --config file may hold besides the
// options of plugins and sinks, by their long names: "plugins", "iface",
// "interval", "duration", "count", "sink", "plugin-dir", "log-level",
// "ready-file". A flag given on the command line wins over the file.
bool is_host_setting(const std::string& key);

// The configuration a run would use, after defaults, the --config file and
// the command line, as a --config file: the settings above, then the
// options of each plugin and sink. netmon-host --config of it runs the same.
nlohmann::ordered_json effective_config(const HostConfig& cfg);

// What the command line asks for when it is not a run: help text, or an error.
struct CliExit {
  int code = 0;        // 0 for --help, 2 for a usage error
  std::string output;  // help text (stdout) or one error line (stderr)
};

using CliResult = std::variant<HostConfig, CliExit>;

CliResult parse_cli(int argc, const char* const* argv);

// "1s", "500ms", "2m", "1.5s", "250us", bare numbers are seconds. Throws
// netmon::Error naming `what` on a malformed, zero or negative value.
std::chrono::nanoseconds parse_duration(const std::string& text, const std::string& what);

// Parses "--sink NAME[:TARGET]".
SinkSpec parse_sink(const std::string& text);

// Options are given per owner: NAME (a plugin, or a sink given once) or
// NAME#N, the Nth (from 1) --sink NAME on the command line. run_host refuses
// NAME for a sink given more than once (ambiguous) and NAME#N out of range
// or naming a plugin.
struct OptionOwner {
  std::string name;
  unsigned instance = 0;  // 0: none given
};
// Splits an owner parse_option_arg or parse_options_text accepted.
OptionOwner split_option_owner(const std::string& owner);

// Merges a JSON config file's object (one object per plugin or sink name, or
// NAME#N; its host settings are left out) and the -o NAME.KEY=VALUE /
// NAME#N.KEY=VALUE arguments (which win) into { owner: { key: value } }.
// A VALUE that parses as JSON (20, true, "x", [..]) is taken as such, otherwise
// as a string. Throws netmon::Error on a malformed argument or file.
nlohmann::json collect_options(const std::optional<std::string>& config_file,
                               const std::vector<std::string>& option_args);

// The two halves of collect_options (and what the fuzzer drives): a config
// file's text (JSON; // and /* */ comments allowed), checked to be
// { name: { ... }, ... } beside host settings of the right types; and one -o argument merged into `all`. Both throw
// netmon::Error naming `source` or the argument.
nlohmann::json parse_options_text(const std::string& text, const std::string& source);
nlohmann::json parse_option_arg(nlohmann::json all, const std::string& arg);

}  // namespace netmon::host
