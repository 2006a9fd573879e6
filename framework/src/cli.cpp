// SPDX-License-Identifier: MIT
#include "cli.hpp"

#include <netmon/duration.hpp>
#include <netmon/error.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "netmon_default_plugins.h"

namespace netmon::host {

std::chrono::nanoseconds parse_duration(const std::string& text, const std::string& what) {
  return netmon::parse_duration(text, what);
}

SinkSpec parse_sink(const std::string& text) {
  const auto colon = text.find(':');
  SinkSpec spec;
  spec.name = text.substr(0, colon);
  if (colon != std::string::npos) spec.target = text.substr(colon + 1);
  if (spec.name.empty()) throw Error("--sink: '" + text + "' names no sink (use console, json, csv or csv:PATH)");
  return spec;
}

namespace {

enum class SettingType { list, duration, count, text };
struct HostSetting {
  const char* key;   // in a --config file
  const char* flag;  // on the command line
  SettingType type;
};
constexpr HostSetting kHostSettings[] = {
    {"plugins", "--plugins", SettingType::list},       {"iface", "--iface", SettingType::list},
    {"interval", "--interval", SettingType::duration}, {"duration", "--duration", SettingType::duration},
    {"count", "--count", SettingType::count},          {"sink", "--sink", SettingType::list},
    {"plugin-dir", "--plugin-dir", SettingType::list}, {"log-level", "--log-level", SettingType::text},
    {"ready-file", "--ready-file", SettingType::text},
};
constexpr const char* kLogLevels[] = {"debug", "info", "warn", "error"};

const HostSetting* host_setting(const std::string& key) {
  for (const auto& h : kHostSettings)
    if (key == h.key) return &h;
  return nullptr;
}

// A host setting of a --config file has the type its flag takes (null: not set).
void check_host_setting(const HostSetting& h, const nlohmann::json& v, const std::string& source) {
  const auto bad = [&](const std::string& want) {
    return Error(source + ": \"" + h.key + "\" must be " + want + " (as " + h.flag + " takes), got " + v.dump());
  };
  if (v.is_null()) return;
  switch (h.type) {
    case SettingType::list: {
      const bool ok =
          v.is_string() ||
          (v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_string(); }));
      if (!ok) throw bad("a string or an array of strings");
      break;
    }
    case SettingType::duration:
      if (!v.is_string() && !(v.is_number() && v.get<double>() > 0))
        throw bad("a duration (\"1s\", \"500ms\") or a number of seconds");
      break;
    case SettingType::count:
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0) throw bad("a whole number from 1");
      break;
    case SettingType::text:
      if (!v.is_string()) throw bad("a string");
      if (std::string(h.key) == "log-level" &&
          std::none_of(std::begin(kLogLevels), std::end(kLogLevels), [&v](const char* l) { return v == l; }))
        throw bad("debug, info, warn or error");
      break;
  }
}

// A list setting's items: an array as is; a string is one item, except for
// "plugins", which is comma-separated as --plugins is.
std::vector<std::string> setting_list(const std::string& key, const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(e.get<std::string>());
    return out;
  }
  if (key != "plugins") return {v.get<std::string>()};
  std::stringstream ss(v.get<std::string>());
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string read_config_text(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error("--config " + path + ": not a regular file (give a JSON file)");
  std::ifstream in(path);
  if (!in) {
    const int err = errno;  // open(2)'s, which the stream leaves
    throw Error(err ? errno_message("--config: cannot read " + path, err) : "--config: cannot read " + path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The options of a parsed config file (its host settings left out), with
// the -o arguments merged in.
nlohmann::json merge_options(nlohmann::json file, const std::vector<std::string>& option_args) {
  nlohmann::json all = nlohmann::json::object();
  for (auto& [name, value] : file.items())
    if (!host_setting(name)) all[name] = std::move(value);
  for (const auto& arg : option_args) all = parse_option_arg(std::move(all), arg);
  return all;
}

void require_utf8(const std::string& s, const std::string& what) {
  try {
    (void)nlohmann::json(s).dump();
  } catch (const nlohmann::json::exception&) {
    throw Error(what + ": not valid UTF-8");
  }
}

// NAME, or NAME#N for the Nth --sink NAME: checked for shape only here (what
// is loaded is known later, in run_host).
void check_option_owner(const std::string& owner, const std::string& what) {
  const auto hash = owner.find('#');
  if (hash == std::string::npos) return;
  const std::string number = owner.substr(hash + 1);
  const bool digits = !number.empty() && number.size() <= 4 &&
                      number.find_first_not_of("0123456789") == std::string::npos && number[0] != '0';
  if (hash == 0 || !digits)
    throw Error(
        what + ": '" + owner +
        "' is not NAME or NAME#N (N, from 1, numbers the instances of a sink given more than once with --sink)");
}

}  // namespace

OptionOwner split_option_owner(const std::string& owner) {
  const auto hash = owner.find('#');
  if (hash == std::string::npos) return {owner, 0};
  return {owner.substr(0, hash), static_cast<unsigned>(std::stoul(owner.substr(hash + 1)))};
}

nlohmann::json parse_options_text(const std::string& text, const std::string& source) {
  nlohmann::json all;
  try {
    // Comments (// and /* */) are allowed, as in the service's shipped file.
    all = nlohmann::json::parse(text, nullptr, true, true);
  } catch (const nlohmann::json::exception& e) {  // parse errors, and numbers too large (out_of_range)
    throw Error(source + ": not valid JSON: " + e.what());
  }
  if (!all.is_object())
    throw Error(source + ": expected a JSON object with one object per plugin, got " + all.type_name());
  for (const auto& [name, value] : all.items()) {
    require_utf8(name, source);
    if (const HostSetting* h = host_setting(name)) {
      check_host_setting(*h, value, source);
      continue;
    }
    if (!value.is_object())
      throw Error(source + ": \"" + name + "\" must be an object of options, got " + value.type_name());
    check_option_owner(name, source);
  }
  return all;
}

nlohmann::json parse_option_arg(nlohmann::json all, const std::string& arg) {
  require_utf8(arg, "-o");
  const auto eq = arg.find('=');
  const auto dot = arg.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
    throw Error("-o '" + arg +
                "': expected NAME.KEY=VALUE, NAME a plugin or sink (netmon-host --list-plugins shows them)");
  const std::string name = arg.substr(0, dot);
  const std::string key = arg.substr(dot + 1, eq - dot - 1);
  const std::string text = arg.substr(eq + 1);
  check_option_owner(name, "-o '" + arg + "'");
  if (host_setting(name))
    throw Error("-o '" + arg + "': '" + name + "' is a setting of netmon-host, not a plugin or sink (give --" + name +
                " on the command line, or \"" + name + "\" in the --config file)");
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;  // a bare word is a string
  } catch (const nlohmann::json::exception&) {
    // 1e999: a number, but none a double can hold.
    throw Error("-o '" + arg + "': the number is too large");
  }
  if (all.contains(name) && !all[name].is_object())
    throw Error("-o '" + arg + "': '" + name + "' is not an object of options");
  all[name][key] = std::move(value);
  return all;
}

nlohmann::json collect_options(const std::optional<std::string>& config_file,
                               const std::vector<std::string>& option_args) {
  nlohmann::json file = nlohmann::json::object();
  if (config_file) file = parse_options_text(read_config_text(*config_file), "--config " + *config_file);
  return merge_options(std::move(file), option_args);
}

bool is_host_setting(const std::string& key) { return host_setting(key) != nullptr; }

nlohmann::ordered_json effective_config(const HostConfig& cfg) {
  nlohmann::ordered_json j;
  j["plugins"] = cfg.plugins;
  j["iface"] = cfg.ifaces;
  j["interval"] = format_duration(cfg.interval);
  j["duration"] = cfg.duration ? nlohmann::ordered_json(format_duration(*cfg.duration)) : nullptr;
  j["count"] = cfg.count ? nlohmann::ordered_json(*cfg.count) : nullptr;
  std::vector<std::string> sinks;
  for (const auto& s : cfg.sinks) sinks.push_back(s.target ? s.name + ":" + *s.target : s.name);
  j["sink"] = sinks;
  j["plugin-dir"] = cfg.plugin_dirs;
  j["log-level"] = cfg.log_level;
  j["ready-file"] = cfg.ready_file ? nlohmann::ordered_json(*cfg.ready_file) : nullptr;
  for (const auto& [owner, options] : cfg.options.items()) j[owner] = options;
  return j;
}

CliResult parse_cli(int argc, const char* const* argv) {
  HostConfig cfg;
  std::string plugins_text = NETMON_DEFAULT_PLUGINS;
  std::string interval_text = "1s";
  std::string duration_text;
  std::vector<std::string> sink_texts;
  std::string count_text;

  CLI::App app{
      "netmon-host: loads eBPF monitoring plugins, attaches them to network interfaces and reports what they\n"
      "count through output sinks. Needs root (CAP_BPF and CAP_NET_ADMIN). Logs go to stderr; stdout carries\n"
      "only sink output.",
      "netmon-host"};
  app.get_formatter()->column_width(34);
  app.add_option("-p,--plugins", plugins_text,
                 "Comma-separated plugins to load, by name (looked up in the plugin directory) or path")
      ->capture_default_str();
  app.add_option("-i,--iface", cfg.ifaces, "Interface to monitor; repeat for several (default: the default route's)");
  app.add_option("--interval", interval_text, "Collection interval: 1s, 500ms, ... (10ms to 1h)")
      ->capture_default_str();
  app.add_option("--duration", duration_text, "Stop after this long (default: until SIGINT/SIGTERM)");
  app.add_option("--count", count_text, "Stop after this many intervals");
  app.add_option("-s,--sink", sink_texts,
                 "Output: console, json, csv, NAME:PATH to write a file (csv:out.csv), prometheus[:ADDR:PORT] to serve "
                 "/metrics (default 127.0.0.1:9464), ipfix:HOST:PORT to export flow records to an IPFIX collector; "
                 "repeatable (default: console)");
  app.add_option("-o,--option", cfg.option_args,
                 "Plugin or sink option NAME.KEY=VALUE, e.g. xdp_stats.mode=generic; NAME#N.KEY=VALUE for the Nth "
                 "--sink NAME when it is given more than once. --list-plugins shows each one's options");
  app.add_option(
      "-c,--config", cfg.config_file,
      "JSON file of settings and options: {\"plugins\": [\"xdp_stats\"], \"iface\": [\"eth0\"], \"interval\": "
      "\"1s\", \"sink\": [\"json\"], \"xdp_stats\": {\"mode\": \"generic\"}} (settings: plugins, iface, "
      "interval, duration, count, sink, plugin-dir, log-level, ready-file; // and /* */ comments allowed); "
      "the flags win over it");
  app.add_option("--plugin-dir", cfg.plugin_dirs,
                 "Also look for plugins and sinks here, first; repeatable (then $NETMON_PLUGIN_DIR, then "
                 "<exe>/../" NETMON_PLUGIN_RELDIR ")");
  app.add_option("--ready-file", cfg.ready_file,
                 "Write netmon-host's PID to this file once every plugin is attached; removed at exit");
  app.add_flag("--list-plugins", cfg.list_plugins,
               "List the plugins and sinks found, with their options (values, default, meaning), then exit");
  app.add_option("--log-level", cfg.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_flag("--print-config", cfg.print_config,
               "Print the configuration a run would use (defaults, then --config, then the flags) as a --config "
               "file (JSON), then exit");
  app.add_flag("--check-config", cfg.check_config,
               "Check the configuration (the plugins and sinks found, every option, the interfaces, the kernel's "
               "BTF where needed) without loading any BPF program or opening any sink; exit 0, or print one line per "
               "problem");
  app.add_flag("-V,--version", cfg.version, "Print the version, then exit");
  app.footer(
      "Examples:\n"
      "  netmon-host --iface eth0\n"
      "  netmon-host --iface eth0 --sink json --count 5 | jq -c '.fields'\n"
      "  netmon-host --iface eth0 --sink console --sink csv:/var/tmp/netmon.csv --duration 1m\n"
      "Exit status: 0 on a clean stop (signal, --duration, --count, reader gone). 2 on a usage error: a\n"
      "malformed argument, -o or --config, a plugin listed twice, or an option refused (unknown, bad\n"
      "value, ambiguous, or for nothing loaded). 1 on any other error: a plugin, sink, interface or\n"
      "file that cannot be found or used, missing privileges, a failed attach, or at run time (a sink\n"
      "failed, every plugin stopped, every monitored interface gone). SIGINT, SIGTERM and SIGHUP stop\n"
      "cleanly: every plugin detaches.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return CliExit{0, app.help()};
  } catch (const CLI::ParseError& e) {
    return CliExit{2, std::string("netmon-host: ") + e.what() + " (see netmon-host --help)"};
  }
  try {
    // The --config file's settings, where the command line gives none.
    nlohmann::json file = nlohmann::json::object();
    if (cfg.config_file) file = parse_options_text(read_config_text(*cfg.config_file), "--config " + *cfg.config_file);
    bool count_given = app.count("--count") > 0;
    // Where each checked setting came from, for the message that refuses it.
    std::map<std::string, std::string> from;
    const auto where = [&from](const std::string& key) {
      const auto it = from.find(key);
      return it == from.end() ? "--" + key : it->second;
    };
    for (const auto& h : kHostSettings) {
      const auto it = file.find(h.key);
      if (it == file.end() || it->is_null() || app.count(h.flag)) continue;
      const nlohmann::json& v = *it;
      const std::string key = h.key;
      from[key] = "--config " + *cfg.config_file + ": \"" + key + "\"";
      if (key == "plugins") {
        plugins_text.clear();
        for (const auto& p : setting_list(key, v)) plugins_text += (plugins_text.empty() ? "" : ",") + p;
      } else if (key == "iface") {
        cfg.ifaces = setting_list(key, v);
      } else if (key == "interval") {
        interval_text = v.is_string() ? v.get<std::string>() : v.dump();
      } else if (key == "duration") {
        duration_text = v.is_string() ? v.get<std::string>() : v.dump();
      } else if (key == "count") {
        count_text = v.dump();
        count_given = true;
      } else if (key == "sink") {
        sink_texts = setting_list(key, v);
      } else if (key == "plugin-dir") {
        cfg.plugin_dirs = setting_list(key, v);
      } else if (key == "log-level") {
        cfg.log_level = v.get<std::string>();
      } else if (key == "ready-file") {
        cfg.ready_file = v.get<std::string>();
      }
    }
    cfg.plugins.clear();
    std::stringstream ss(plugins_text);
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) cfg.plugins.push_back(item);
    if (cfg.plugins.empty() && !cfg.list_plugins && !cfg.version)
      throw Error(where("plugins") +
                  ": no plugin named (name one or more, --plugins A,B; netmon-host --list-plugins shows them)");
    cfg.interval = parse_duration(interval_text, where("interval"));
    if (cfg.interval < std::chrono::milliseconds(10) || cfg.interval > std::chrono::hours(1))
      throw Error(where("interval") + ": '" + interval_text + "' is out of range (10ms to 1h)");
    if (!duration_text.empty()) cfg.duration = parse_duration(duration_text, where("duration"));
    if (count_given) {
      std::uint64_t count = 0;
      const auto [ptr, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
      if (ec != std::errc() || ptr != count_text.data() + count_text.size() || count == 0 || count > (1ull << 40))
        throw Error(where("count") + ": '" + count_text + "' must be a number of intervals from 1 to " +
                    std::to_string(1ull << 40));
      cfg.count = count;
    }
    // Options now, so a malformed -o or config file is a usage error too.
    cfg.options = merge_options(std::move(file), cfg.option_args);
    for (const auto& s : sink_texts) cfg.sinks.push_back(parse_sink(s));
    if (cfg.sinks.empty()) cfg.sinks.push_back({"console", std::nullopt});
    for (const auto& i : cfg.ifaces)
      if (i.empty()) throw Error("--iface: empty interface name");
  } catch (const Error& e) {
    return CliExit{2, std::string("netmon-host: ") + e.what()};
  }
  return cfg;
}

}  // namespace netmon::host
