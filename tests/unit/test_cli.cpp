// SPDX-License-Identifier: MIT
// netmon-host's command line (framework/src/cli.hpp): parse_cli,
// parse_duration, parse_sink and collect_options; how run_host checks the
// options' owners; how the host names a plugin in its messages.
#include "cli.hpp"
#include "host.hpp"
#include "log.hpp"

#include <netmon/duration.hpp>
#include <netmon/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/unit_util.hpp"

using namespace std::chrono_literals;
using netmon::Error;
using netmon::host::CliExit;
using netmon::host::CliResult;
using netmon::host::collect_options;
using netmon::host::HostConfig;
using netmon::host::parse_cli;
using netmon::host::parse_duration;
using netmon::host::parse_sink;
using netmon::unit::error_of;
using netmon::unit::TempDir;
using netmon::unit::write_file;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

CliResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "netmon-host");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return parse_cli(static_cast<int>(args.size()), argv.data());
}

HostConfig ok(const std::vector<std::string>& args) {
  auto r = parse(args);
  if (auto* e = std::get_if<CliExit>(&r)) {
    ADD_FAILURE() << "unexpected exit " << e->code << ": " << e->output;
    return {};
  }
  return std::get<HostConfig>(r);
}

// A usage error: exit code 2 and one line naming the problem.
std::string usage_error(const std::vector<std::string>& args) {
  auto r = parse(args);
  auto* e = std::get_if<CliExit>(&r);
  if (!e) {
    ADD_FAILURE() << "expected a usage error";
    return {};
  }
  EXPECT_EQ(e->code, 2) << e->output;
  EXPECT_THAT(e->output, StartsWith("netmon-host: "));
  EXPECT_EQ(e->output.find('\n'), std::string::npos) << "more than one line: " << e->output;
  return e->output;
}

}  // namespace

// ---- parse_cli ------------------------------------------------------------

TEST(Cli, Defaults) {
  const auto c = ok({});
  EXPECT_EQ(c.plugins, (std::vector<std::string>{"xdp_stats", "tc_stats", "flow_top"}));
  EXPECT_TRUE(c.ifaces.empty());
  EXPECT_EQ(c.interval, 1s);
  EXPECT_FALSE(c.duration.has_value());
  EXPECT_FALSE(c.count.has_value());
  ASSERT_EQ(c.sinks.size(), 1u);
  EXPECT_EQ(c.sinks[0].name, "console");
  EXPECT_FALSE(c.sinks[0].target.has_value());
  EXPECT_TRUE(c.plugin_dirs.empty());
  EXPECT_FALSE(c.config_file.has_value());
  EXPECT_FALSE(c.ready_file.has_value());
  EXPECT_TRUE(c.option_args.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.list_plugins);
  EXPECT_FALSE(c.version);
}

TEST(Cli, Intervals) {
  EXPECT_EQ(ok({"--interval", "500ms"}).interval, 500ms);
  EXPECT_EQ(ok({"--interval", "2s"}).interval, 2s);
  EXPECT_EQ(ok({"--interval", "1m"}).interval, 1min);
  EXPECT_EQ(ok({"--interval=1.5s"}).interval, 1500ms);
  EXPECT_EQ(ok({"--interval", "10ms"}).interval, 10ms);  // the bounds are inclusive
  EXPECT_EQ(ok({"--interval", "1h"}).interval, 1h);
}

// Usage errors: the arguments, and what the one-line message must say.
namespace {
struct UsageErrorCase {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> says;
};

void PrintTo(const UsageErrorCase& c, std::ostream* os) { *os << c.name; }

const std::vector<UsageErrorCase> usage_errors = {
    {.name = "IntervalZeroRejected", .args = {"--interval", "0s"}, .says = {"--interval", "'0s'", "greater than zero"}},
    {.name = "IntervalNegativeRejected", .args = {"--interval", "-1s"}, .says = {"--interval", "-1s"}},
    {.name = "IntervalNegativeWithEqualsRejected", .args = {"--interval=-1s"}, .says = {"--interval", "'-1s'"}},
    {.name = "IntervalGarbageRejected",
     .args = {"--interval", "abc"},
     .says = {"--interval", "'abc' is not a duration"}},
    {.name = "IntervalTooShortRejected", .args = {"--interval", "5ms"}, .says = {"--interval", "'5ms'", "10ms to 1h"}},
    {.name = "IntervalTooLongRejected", .args = {"--interval", "2h"}, .says = {"'2h'", "10ms to 1h"}},
    {.name = "CountZeroRejected", .args = {"--count", "0"}, .says = {"--count", "from 1 to"}},
    {.name = "CountTooLargeRejectedNotWrapped", .args = {"--count", "99999999999999999999"}, .says = {"--count"}},
    {.name = "CountWithASuffixRejected", .args = {"--count", "5x"}, .says = {"--count"}},
    {.name = "CountNegativeRejected", .args = {"--count", "-3"}, .says = {"--count", "-3"}},
    {.name = "CountGarbageRejected", .args = {"--count", "abc"}, .says = {"--count", "abc"}},
    {.name = "UnknownOptionRejected", .args = {"--frobnicate"}, .says = {"--frobnicate", "--help"}},
    {.name = "EmptySinkRejected", .args = {"--sink", ""}, .says = {"--sink", "names no sink"}},
};

class CliUsageError : public ::testing::TestWithParam<UsageErrorCase> {};
}  // namespace

TEST_P(CliUsageError, IsOneLineNamingTheProblem) {
  const UsageErrorCase& c = GetParam();
  const auto msg = usage_error(c.args);
  for (const auto& part : c.says) EXPECT_THAT(msg, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(Cli, CliUsageError, ::testing::ValuesIn(usage_errors),
                         [](const ::testing::TestParamInfo<UsageErrorCase>& i) { return std::string(i.param.name); });

TEST(Cli, Count) {
  const auto c = ok({"--count", "5"});
  ASSERT_TRUE(c.count.has_value());
  EXPECT_EQ(*c.count, 5u);
}

TEST(Cli, Duration) {
  const auto c = ok({"--duration", "90s"});
  ASSERT_TRUE(c.duration.has_value());
  EXPECT_EQ(*c.duration, 90s);
  EXPECT_THAT(usage_error({"--duration", "soon"}), HasSubstr("--duration: 'soon' is not a duration"));
}

TEST(Cli, LogLevel) {
  EXPECT_EQ(ok({"--log-level", "debug"}).log_level, "debug");
  const auto msg = usage_error({"--log-level", "loud"});
  EXPECT_THAT(msg, HasSubstr("--log-level"));
  EXPECT_THAT(msg, HasSubstr("loud"));
}

TEST(Cli, SinksWithTargets) {
  const auto c = ok({"--sink", "csv:/tmp/x.csv", "-s", "json", "--sink", "console"});
  ASSERT_EQ(c.sinks.size(), 3u);
  EXPECT_EQ(c.sinks[0].name, "csv");
  EXPECT_EQ(c.sinks[0].target, std::optional<std::string>("/tmp/x.csv"));
  EXPECT_EQ(c.sinks[1].name, "json");
  EXPECT_FALSE(c.sinks[1].target.has_value());
  EXPECT_EQ(c.sinks[2].name, "console");
}

TEST(Cli, PluginsList) {
  EXPECT_EQ(ok({"--plugins", "xdp_stats,flow_top,,tc_stats"}).plugins,
            (std::vector<std::string>{"xdp_stats", "flow_top", "tc_stats"}));
  EXPECT_EQ(ok({"-p", "/opt/p/libnetmon_x.so"}).plugins, (std::vector<std::string>{"/opt/p/libnetmon_x.so"}));
  EXPECT_THAT(usage_error({"--plugins", ","}), HasSubstr("--plugins"));
  // Listing needs no plugin.
  EXPECT_TRUE(ok({"--plugins", "", "--list-plugins"}).list_plugins);
}

TEST(Cli, InterfacesAndMisc) {
  TempDir tmp;
  const std::string config = (tmp / "netmon.json").string();
  write_file(config, R"({"a": {"b": 0, "e": 2}})");
  const auto c = ok({"-i", "eth0", "--iface", "eth1", "--plugin-dir", "/opt/p", "-c", config, "-o", "a.b=1", "--option",
                     "c.d=x", "--ready-file", "/run/netmon.ready", "--list-plugins", "-V"});
  EXPECT_EQ(c.ifaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(c.plugin_dirs, std::vector<std::string>{"/opt/p"});
  EXPECT_EQ(c.config_file, std::optional<std::string>(config));
  EXPECT_EQ(c.ready_file, std::optional<std::string>("/run/netmon.ready"));
  EXPECT_EQ(c.option_args, (std::vector<std::string>{"a.b=1", "c.d=x"}));
  // The options are merged at parse time: -o wins over the file.
  EXPECT_EQ(c.options, nlohmann::json::parse(R"({"a": {"b": 1, "e": 2}, "c": {"d": "x"}})"));
  EXPECT_THAT(usage_error({"-c", (tmp / "missing.json").string()}), HasSubstr("cannot read"));
  EXPECT_TRUE(c.list_plugins);
  EXPECT_TRUE(c.version);
  EXPECT_THAT(usage_error({"--iface", ""}), HasSubstr("--iface"));
}

// The --config file holds the command line's settings too; a flag given
// wins over the file's setting, and the file's options merge with -o.
TEST(Cli, ConfigFileSettingsAndFlagsOverThem) {
  TempDir tmp;
  const std::string config = (tmp / "netmon.json").string();
  write_file(config, R"({"plugins": "xdp_stats,flow_top", "iface": ["eth0", "eth1"], "interval": "500ms",
                         "duration": 90, "count": 3, "sink": ["json", "csv:/var/tmp/n.csv"], "plugin-dir": "/opt/p",
                         "log-level": "debug", "ready-file": null, "flow_top": {"top": 5}})");
  const auto c = ok({"-c", config});
  EXPECT_EQ(c.plugins, (std::vector<std::string>{"xdp_stats", "flow_top"}));
  EXPECT_EQ(c.ifaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(c.interval, 500ms);
  EXPECT_EQ(c.duration, std::optional<std::chrono::nanoseconds>(90s));
  EXPECT_EQ(c.count, std::optional<std::uint64_t>(3));
  ASSERT_EQ(c.sinks.size(), 2u);
  EXPECT_EQ(c.sinks[1].name, "csv");
  EXPECT_EQ(c.sinks[1].target, std::optional<std::string>("/var/tmp/n.csv"));
  EXPECT_EQ(c.plugin_dirs, std::vector<std::string>{"/opt/p"});
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_FALSE(c.ready_file);
  EXPECT_EQ(c.options, json::parse(R"({"flow_top": {"top": 5}})")) << "settings are not options";

  const auto f = ok({"-c", config, "--interval", "2s", "-i", "lo", "--sink", "console", "-o", "flow_top.top=7"});
  EXPECT_EQ(f.interval, 2s);
  EXPECT_EQ(f.ifaces, std::vector<std::string>{"lo"});
  ASSERT_EQ(f.sinks.size(), 1u);
  EXPECT_EQ(f.sinks[0].name, "console");
  EXPECT_EQ(f.count, std::optional<std::uint64_t>(3));
  EXPECT_EQ(f.options, json::parse(R"({"flow_top": {"top": 7}})"));
}

TEST(Cli, ConfigFileSettingsOfTheWrongTypeNameTheFileAndTheSetting) {
  TempDir tmp;
  const std::string config = (tmp / "netmon.json").string();
  for (const auto& [text, says] : std::vector<std::pair<std::string, std::string>>{
           {R"({"iface": 3})", R"("iface" must be a string or an array of strings)"},
           {R"({"interval": "soon"})", "'soon' is not a duration"},
           {R"({"interval": -1})", R"("interval" must be a duration)"},
           {R"({"count": 0})", R"("count" must be a whole number from 1)"},
           {R"({"log-level": "loud"})", R"("log-level" must be debug, info, warn or error)"},
           {R"({"interval": "1ms"})", R"("interval": '1ms' is out of range (10ms to 1h))"},
           {R"({"count": 2000000000000})", R"("count": '2000000000000' must be a number of intervals)"},
           {R"({"plugins": []})", R"("plugins": no plugin named)"}}) {
    write_file(config, text);
    const std::string msg = usage_error({"-c", config});
    EXPECT_THAT(msg, HasSubstr(says)) << text;
    EXPECT_THAT(msg, HasSubstr("--config " + config + ": ")) << text;
  }
  EXPECT_THAT(usage_error({"-o", "interval.x=1"}), HasSubstr("'interval' is a setting of netmon-host"));
}

// The service's file explains itself in comments, as a shipped config does.
TEST(Cli, ConfigFileMayHoldComments) {
  TempDir tmp;
  const std::string config = (tmp / "netmon.json").string();
  write_file(config, R"(// netmon's configuration
{
  /* the plugins */ "plugins": "xdp_stats",
  "interval": "250ms",  // a short one
  "xdp_stats": {"mode": "generic"}
})");
  const auto c = ok({"-c", config});
  EXPECT_EQ(c.plugins, (std::vector<std::string>{"xdp_stats"}));
  EXPECT_EQ(c.interval, 250ms);
  EXPECT_EQ(c.options["xdp_stats"]["mode"], "generic");
  write_file(config, R"({"plugins": "xdp_stats" /* not closed })");
  EXPECT_THAT(usage_error({"-c", config}), HasSubstr("not valid JSON"));
}

// --print-config prints a --config file that runs the same.
TEST(Cli, PrintedConfigReadsBackTheSame) {
  TempDir tmp;
  const auto c = ok({"-p", "xdp_stats,drops", "-i", "eth0", "--interval", "250ms", "--duration", "2m", "-s", "json",
                     "-s", "csv:/var/tmp/x.csv", "-o", "drops.ignore=NO_SOCKET", "-o", "json#1.x=1", "--print-config"});
  EXPECT_TRUE(c.print_config);
  const auto printed = netmon::host::effective_config(c);
  EXPECT_EQ(printed["interval"], "250ms");
  EXPECT_EQ(printed["duration"], "2m");
  EXPECT_TRUE(printed["count"].is_null());
  EXPECT_EQ(printed["sink"], nlohmann::ordered_json({"json", "csv:/var/tmp/x.csv"}));
  EXPECT_EQ(printed["drops"]["ignore"], "NO_SOCKET");
  EXPECT_EQ(printed.begin().key(), "plugins") << "settings first, in the order of --help";
  const std::string config = (tmp / "printed.json").string();
  write_file(config, printed.dump(2));
  EXPECT_EQ(netmon::host::effective_config(ok({"-c", config})), printed);
  // With the defaults only.
  const auto d = netmon::host::effective_config(ok({}));
  EXPECT_EQ(d["interval"], "1s");
  EXPECT_EQ(d["sink"], nlohmann::ordered_json({"console"}));
  EXPECT_EQ(d["log-level"], "info");
}

TEST(Durations, FormattedShortestAndReadBack) {
  for (const auto& [ns, text] :
       std::vector<std::pair<std::chrono::nanoseconds, std::string>>{{1s, "1s"},
                                                                     {500ms, "500ms"},
                                                                     {2min, "2m"},
                                                                     {1h, "1h"},
                                                                     {90s, "90s"},
                                                                     {1500ms, "1500ms"},
                                                                     {250us, "250us"},
                                                                     {std::chrono::nanoseconds(7), "7ns"}}) {
    EXPECT_EQ(netmon::format_duration(ns), text);
    EXPECT_EQ(parse_duration(text, "x"), ns) << text;
  }
}

TEST(Cli, Help) {
  for (const char* flag : {"--help", "-h"}) {
    auto r = parse({flag});
    auto* e = std::get_if<CliExit>(&r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->code, 0);
    EXPECT_THAT(e->output, HasSubstr("--plugins"));
    EXPECT_THAT(e->output, HasSubstr("--interval"));
    EXPECT_THAT(e->output, HasSubstr("--sink"));
    EXPECT_THAT(e->output, HasSubstr("Exit status"));
  }
}

// ---- parse_duration ---------------------------------------------------------

TEST(Duration, Units) {
  EXPECT_EQ(parse_duration("1s", "x"), 1s);
  EXPECT_EQ(parse_duration("2", "x"), 2s);  // bare numbers are seconds
  EXPECT_EQ(parse_duration("500ms", "x"), 500ms);
  EXPECT_EQ(parse_duration("250us", "x"), 250us);
  EXPECT_EQ(parse_duration("100ns", "x"), 100ns);
  EXPECT_EQ(parse_duration("2m", "x"), 2min);
  EXPECT_EQ(parse_duration("3min", "x"), 3min);
  EXPECT_EQ(parse_duration("1h", "x"), 1h);
  EXPECT_EQ(parse_duration("1.5s", "x"), 1500ms);
  EXPECT_EQ(parse_duration("0.1s", "x"), 100ms);
  EXPECT_EQ(parse_duration(".5s", "x"), 500ms);
}

TEST(Duration, Malformed) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c :
       {Case{"", "is not a duration"}, Case{"abc", "is not a duration"}, Case{"-1s", "is not a duration"},
        Case{"1.2.3s", "is not a duration"}, Case{".", "is not a duration"}, Case{"5parsecs", "unknown unit 'parsecs'"},
        Case{"1 s", "unknown unit ' s'"}, Case{"0", "greater than zero"}, Case{"0ms", "greater than zero"},
        Case{"0.1ns", "greater than zero"}, Case{"999999999999h", "too long"}}) {
    const auto msg = error_of<Error>([&] { parse_duration(c.text, "--duration"); });
    EXPECT_THAT(msg, HasSubstr("--duration: '" + std::string(c.text) + "'")) << c.text;
    EXPECT_THAT(msg, HasSubstr(c.why)) << c.text;
    EXPECT_THAT(msg, HasSubstr("such as 1s, 500ms, 2m")) << c.text;
  }
}

// ---- parse_sink ---------------------------------------------------------------

TEST(SinkSpec, Parse) {
  auto s = parse_sink("csv:/tmp/x.csv");
  EXPECT_EQ(s.name, "csv");
  EXPECT_EQ(s.target, std::optional<std::string>("/tmp/x.csv"));
  s = parse_sink("console");
  EXPECT_EQ(s.name, "console");
  EXPECT_FALSE(s.target.has_value());
  s = parse_sink("json:");
  EXPECT_EQ(s.name, "json");
  EXPECT_EQ(s.target, std::optional<std::string>(""));
  s = parse_sink("csv:C:/odd:name.csv");  // only the first ':' splits
  EXPECT_EQ(s.name, "csv");
  EXPECT_EQ(s.target, std::optional<std::string>("C:/odd:name.csv"));
  EXPECT_THAT(error_of<Error>([] { parse_sink(""); }), HasSubstr("names no sink"));
  EXPECT_THAT(error_of<Error>([] { parse_sink(":out.csv"); }), HasSubstr("':out.csv' names no sink"));
}

// ---- collect_options --------------------------------------------------------------

TEST(CollectOptions, DashOValuesAreTypedJson) {
  const json all = collect_options(std::nullopt, {"xdp_stats.mode=generic", "flow.top=20", "a.b=true", "a.c=2.5",
                                                  "a.d=\"20\"", "a.e=[1,2]", "a.f=", "a.g=x=y", "a.h.i=1"});
  ASSERT_TRUE(all["xdp_stats"]["mode"].is_string());
  EXPECT_EQ(all["xdp_stats"]["mode"], "generic");
  ASSERT_TRUE(all["flow"]["top"].is_number_integer());
  EXPECT_EQ(all["flow"]["top"].get<std::int64_t>(), 20);
  ASSERT_TRUE(all["a"]["b"].is_boolean());
  EXPECT_EQ(all["a"]["b"], true);
  EXPECT_DOUBLE_EQ(all["a"]["c"].get<double>(), 2.5);
  ASSERT_TRUE(all["a"]["d"].is_string());  // quoted: a string, not a number
  EXPECT_EQ(all["a"]["d"], "20");
  EXPECT_EQ(all["a"]["e"], json::parse("[1,2]"));
  EXPECT_EQ(all["a"]["f"], "");
  EXPECT_EQ(all["a"]["g"], "x=y");  // split at the first '='
  EXPECT_EQ(all["a"]["h.i"], 1);    // split at the first '.'
  EXPECT_EQ(all.size(), 3u);
}

TEST(CollectOptions, DashOLaterWins) {
  const json all = collect_options(std::nullopt, {"a.b=1", "a.b=2"});
  EXPECT_EQ(all["a"]["b"], 2);
}

TEST(CollectOptions, DashOMalformed) {
  for (const char* bad : {"novalue", ".x=1", "a.=1", "a=1", "ab=c.d", "=1", ""}) {
    const auto msg = error_of<Error>([&] { collect_options(std::nullopt, {bad}); });
    EXPECT_THAT(msg, HasSubstr("-o '" + std::string(bad) + "'")) << bad;
    EXPECT_THAT(msg, HasSubstr("NAME.KEY=VALUE")) << bad;
  }
}

TEST(CollectOptions, DashOInvalidUtf8) {
  const auto msg = error_of<Error>([] { collect_options(std::nullopt, {"a.b=\xff\xfe"}); });
  EXPECT_THAT(msg, HasSubstr("UTF-8"));
}

TEST(CollectOptions, ConfigFileValid) {
  TempDir tmp;
  const auto path = (tmp / "netmon.json").string();
  write_file(path, R"({"xdp_stats": {"mode": "native", "x": 1}, "json": {}})");
  const json all = collect_options(path, {});
  EXPECT_EQ(all, json::parse(R"({"xdp_stats": {"mode": "native", "x": 1}, "json": {}})"));
}

TEST(CollectOptions, DashOOverridesConfig) {
  TempDir tmp;
  const auto path = (tmp / "netmon.json").string();
  write_file(path, R"({"xdp_stats": {"mode": "native", "x": 1}})");
  const json all = collect_options(path, {"xdp_stats.mode=generic", "flow.top=5"});
  EXPECT_EQ(all["xdp_stats"]["mode"], "generic");
  EXPECT_EQ(all["xdp_stats"]["x"], 1);  // the rest of the file's object is kept
  EXPECT_EQ(all["flow"]["top"], 5);
}

// A config file that is read but refused: the message names the file and says why.
namespace {
struct ConfigErrorCase {
  const char* name;
  const char* content;
  std::vector<std::string> says;
};

void PrintTo(const ConfigErrorCase& c, std::ostream* os) { *os << c.name; }

const std::vector<ConfigErrorCase> config_errors = {
    {.name = "ConfigFileNotAnObject", .content = "[1, 2, 3]", .says = {"expected a JSON object", "array"}},
    {.name = "ConfigPluginEntryNotAnObject",
     .content = R"({"xdp_stats": "generic"})",
     .says = {"\"xdp_stats\" must be an object", "string"}},
    {.name = "ConfigInvalidJson", .content = R"({"xdp_stats": {"mode": )", .says = {"not valid JSON"}},
};

class CollectOptionsConfigError : public ::testing::TestWithParam<ConfigErrorCase> {};
}  // namespace

TEST_P(CollectOptionsConfigError, NamesTheFileAndWhy) {
  const ConfigErrorCase& c = GetParam();
  TempDir tmp;
  const auto path = (tmp / "netmon.json").string();
  write_file(path, c.content);
  const auto msg = error_of<Error>([&] { collect_options(path, {}); });
  EXPECT_THAT(msg, HasSubstr(path));
  for (const auto& part : c.says) EXPECT_THAT(msg, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(CollectOptions, CollectOptionsConfigError, ::testing::ValuesIn(config_errors),
                         [](const ::testing::TestParamInfo<ConfigErrorCase>& i) { return std::string(i.param.name); });

TEST(CollectOptions, ConfigMissingFile) {
  TempDir tmp;
  const auto path = (tmp / "nope.json").string();
  const auto msg = error_of<Error>([&] { collect_options(path, {}); });
  EXPECT_THAT(msg, HasSubstr("--config"));
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("No such file"));
}

TEST(CollectOptions, ConfigIsADirectory) {
  TempDir tmp;
  const auto msg = error_of<Error>([&] { collect_options(tmp.path().string(), {}); });
  EXPECT_THAT(msg, HasSubstr(tmp.path().string()));
}

// Per-instance options: NAME#N names the Nth --sink NAME.
TEST(CollectOptions, InstanceNumbersAreKeptPerInstance) {
  TempDir tmp;
  const auto path = (tmp / "netmon.json").string();
  write_file(path, R"({"json#1": {"a": 1}, "json#2": {"a": 2}})");
  const json all = collect_options(path, {"json#2.a=3", "json#10.b=x", "csv.c=true"});
  EXPECT_EQ(all["json#1"]["a"], 1);
  EXPECT_EQ(all["json#2"]["a"], 3);  // -o wins over the file, per instance
  EXPECT_EQ(all["json#10"]["b"], "x");
  EXPECT_EQ(all["csv"]["c"], true);
  EXPECT_FALSE(all.contains("json"));
  EXPECT_EQ(all.size(), 4u);
  const auto o = netmon::host::split_option_owner("json#12");
  EXPECT_EQ(o.name, "json");
  EXPECT_EQ(o.instance, 12u);
  EXPECT_EQ(netmon::host::split_option_owner("json").instance, 0u);
}

TEST(CollectOptions, MalformedInstanceNumbersRefused) {
  for (const char* bad : {"json#0.a=1", "json#.a=1", "#2.a=1", "json#01.a=1", "json#x.a=1", "json#2#3.a=1",
                          "json#-1.a=1", "json#99999.a=1"}) {
    const auto msg = error_of<Error>([&] { collect_options(std::nullopt, {bad}); });
    EXPECT_THAT(msg, HasSubstr("-o '" + std::string(bad) + "'")) << bad;
    EXPECT_THAT(msg, HasSubstr("is not NAME or NAME#N")) << bad;
  }
  const auto msg = error_of<Error>([] { netmon::host::parse_options_text(R"({"json#0": {}})", "--config x.json"); });
  EXPECT_THAT(msg, HasSubstr("--config x.json: 'json#0' is not NAME or NAME#N"));
}

TEST(Cli, MalformedInstanceNumberIsAUsageError) {
  const auto r = parse({"-o", "json#0.a=1"});
  const auto* e = std::get_if<CliExit>(&r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 2);
  EXPECT_THAT(e->output, StartsWith("netmon-host: -o 'json#0.a=1': 'json#0' is not NAME or NAME#N"));
}

TEST(Cli, HelpStatesTheExitCodesAndInstanceOptions) {
  const auto r = parse({"--help"});
  const auto* e = std::get_if<CliExit>(&r);
  ASSERT_TRUE(e);
  EXPECT_THAT(e->output, HasSubstr("2 on a usage error"));
  EXPECT_THAT(e->output, HasSubstr("a plugin listed twice, or an option refused (unknown, bad\nvalue, ambiguous"));
  EXPECT_THAT(e->output, HasSubstr("every monitored interface gone"));
  EXPECT_THAT(e->output, HasSubstr("NAME#N.KEY=VALUE for the Nth"));
  // Where the options themselves are: each library's declarations, as --list-plugins shows them.
  EXPECT_THAT(e->output, HasSubstr("--list-plugins shows each one's options"));
  EXPECT_THAT(e->output, HasSubstr("with their options (values, default, meaning)"));
}

// run_host checks every option's owner against what is loaded before it
// touches an interface: these fail there, as usage errors, without root.
namespace {
HostConfig two_json_sinks(const json& options) {
  HostConfig cfg;
  cfg.plugins.clear();
  cfg.plugin_dirs = {NETMON_TEST_FIXTURE_DIR, NETMON_TEST_PLUGIN_DIR};
  cfg.sinks = {{"json", std::nullopt}, {"json", std::string("/dev/null")}};
  cfg.options = options;
  return cfg;
}
}  // namespace

TEST(RunHostOptions, SinkNameGivenTwiceIsAmbiguous) {
  const auto msg = error_of<netmon::UsageError>(
      [] { netmon::host::run_host(two_json_sinks(json::parse(R"({"json": {"pretty": true}})"))); });
  EXPECT_EQ(msg,
            "options given for 'json' are ambiguous: --sink json is given 2 times; name the instance: "
            "-o json#1.KEY=VALUE ... -o json#2.KEY=VALUE");
}

TEST(RunHostOptions, InstanceOutOfRangeRefused) {
  const auto msg =
      error_of<netmon::UsageError>([] { netmon::host::run_host(two_json_sinks(json::parse(R"({"json#3": {}})"))); });
  EXPECT_EQ(msg, "options given for 'json#3', but --sink json is given 2 times (instances json#1 to json#2)");
  auto cfg = two_json_sinks(json::parse(R"({"json#2": {}})"));
  cfg.sinks.pop_back();
  const auto once = error_of<netmon::UsageError>([&] { netmon::host::run_host(cfg); });
  EXPECT_EQ(once, "options given for 'json#2', but --sink json is given once (write -o json.KEY=VALUE)");
}

TEST(RunHostOptions, PluginInstanceNumberRefused) {
  auto cfg = two_json_sinks(json::parse(R"({"good#1": {}})"));
  cfg.plugins = {"good"};
  const auto msg = error_of<netmon::UsageError>([&] { netmon::host::run_host(cfg); });
  EXPECT_EQ(msg, "options given for 'good#1', but plugins are loaded once: write -o good.KEY=VALUE");
}

TEST(RunHostOptions, OptionsForNothingLoadedAreAUsageError) {
  const auto msg =
      error_of<netmon::UsageError>([] { netmon::host::run_host(two_json_sinks(json::parse(R"({"csv": {}})"))); });
  EXPECT_THAT(msg, HasSubstr("options given for 'csv', but no plugin or sink of that name is loaded (loaded: json)"));
}

// The same checks as a phase of their own, with no library loaded: what is
// loaded is only names.
TEST(HostPhases, OptionOwnersAreCheckedAgainstTheLoadedNames) {
  netmon::host::LoadedNames loaded;
  loaded.plugins = {"flow_top", "xdp_stats"};
  loaded.sink_count = {{"json", 2}, {"csv", 1}};
  using netmon::host::check_option_owners;
  EXPECT_NO_THROW(
      check_option_owners(json::parse(R"({"flow_top": {}, "json#2": {}, "csv": {}, "csv#1": {}})"), loaded));
  EXPECT_EQ(error_of<netmon::UsageError>([&] { check_option_owners(json::parse(R"({"json": {}})"), loaded); }),
            "options given for 'json' are ambiguous: --sink json is given 2 times; name the instance: "
            "-o json#1.KEY=VALUE ... -o json#2.KEY=VALUE");
  EXPECT_EQ(error_of<netmon::UsageError>([&] { check_option_owners(json::parse(R"({"tc_stats": {}})"), loaded); }),
            "options given for 'tc_stats', but no plugin or sink of that name is loaded (loaded: flow_top, xdp_stats, "
            "csv, json)");
  EXPECT_EQ(error_of<netmon::UsageError>([&] { check_option_owners(json::parse(R"({"xdp_stats#2": {}})"), loaded); }),
            "options given for 'xdp_stats#2', but plugins are loaded once: write -o xdp_stats.KEY=VALUE");
}

TEST(HostPhases, ASinkInstanceTakesItsNamesOptionsThenItsOwnOverThem) {
  const auto options = json::parse(R"({"json": {"pretty": true, "x": 1}, "json#2": {"x": 2}})");
  EXPECT_EQ(json::parse(netmon::host::sink_options_json(options, "json", 1)),
            json::parse(R"({"pretty": true, "x": 1})"));
  EXPECT_EQ(json::parse(netmon::host::sink_options_json(options, "json", 2)),
            json::parse(R"({"pretty": true, "x": 2})"));
  EXPECT_EQ(netmon::host::sink_options_json(options, "csv", 1), "{}");
}

// The host names a plugin or sink once in what it shows of it (plugin_abi.h).
TEST(Messages, TheHostNamesThePluginOnce) {
  using netmon::host::attribute;
  EXPECT_EQ(attribute("xdp_stats", "xdp_stats", "cannot attach"), "xdp_stats: cannot attach");
  EXPECT_EQ(attribute("xdp_stats", "xdp_stats", "xdp_stats: cannot attach"), "xdp_stats: cannot attach");
  EXPECT_EQ(attribute("xdp_stats", "xdp_stats", "option xdp_stats.mode: expected one of auto"),
            "option xdp_stats.mode: expected one of auto");
  EXPECT_EQ(attribute("flow_top", "flow_top", "unknown option flow_top.colour (valid: flow_top.top)"),
            "unknown option flow_top.colour (valid: flow_top.top)");
  EXPECT_EQ(attribute("json", "sink json:out.json", "cannot open out.json for writing: Permission denied"),
            "sink json:out.json: cannot open out.json for writing: Permission denied");
  // Not its name: a file name, another plugin's option, a longer name.
  EXPECT_EQ(attribute("xdp", "xdp", "cannot read /lib/xdp.so"), "xdp: cannot read /lib/xdp.so");
  EXPECT_EQ(attribute("xdp", "xdp", "option xdp_stats.mode is odd"), "xdp: option xdp_stats.mode is odd");
  EXPECT_EQ(attribute("xdp", "xdp", "xdp_stats: busy"), "xdp: xdp_stats: busy");
  EXPECT_EQ(attribute("xdp", "xdp", "version xdp. is odd"), "xdp: version xdp. is odd");
}
