// SPDX-License-Identifier: MIT
// Every bad input: one clear line on stderr naming the problem (and the fix),
// a non-zero exit, and nothing attached to the interface.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace {

using namespace std::chrono_literals;

struct BadInput {
  const char* name;
  std::vector<std::string> args;  // "@IF": the test interface; "@TMP": a directory of prepared bad files
  int exit_code;
  std::vector<std::string> expect;  // substrings of the one stderr line
  const char* shell_prefix = "";    // e.g. a capsh wrapper
};

// gtest prints a case by its name, not as bytes.
void PrintTo(const BadInput& b, std::ostream* os) { *os << b.name; }

std::vector<BadInput> bad_inputs() {
  // A case a line, or two when it is long: laid out by hand (clang-format
  // would give most of them a line per field).
  // clang-format off
  return {
      {"unknown_plugin", {"--plugins", "nope", "--iface", "@IF"}, 1, {"unknown plugin 'nope'", "--list-plugins"}},
      {"unknown_sink", {"--iface", "@IF", "--sink", "nope"}, 1, {"unknown sink 'nope'"}},
      {"missing_interface", {"--iface", "nmt-missing0"}, 1, {"interface 'nmt-missing0' does not exist", "--iface"}},
      {"invalid_interface_name", {"--iface", "a/b"}, 1, {"not a valid interface name"}},
      {"zero_interval", {"--iface", "@IF", "--interval", "0s"}, 2, {"--interval", "greater than zero"}},
      {"garbage_interval", {"--iface", "@IF", "--interval", "soon"}, 2, {"--interval", "'soon'", "1s"}},
      {"tiny_interval", {"--iface", "@IF", "--interval", "1ms"}, 2, {"--interval", "10ms to 1h"}},
      {"zero_count", {"--iface", "@IF", "--count", "0"}, 2, {"--count"}},
      {"unknown_flag", {"--iface", "@IF", "--frobnicate"}, 2, {"--frobnicate", "--help"}},
      {"unwritable_csv_path", {"--iface", "@IF", "--sink", "csv:/nonexistent-dir/out.csv"}, 1,
       {"/nonexistent-dir/out.csv", "No such file or directory", "writable"}},
      {"ready_file_in_missing_directory", {"--iface", "@IF", "--ready-file", "/nonexistent-dir/ready"}, 1,
       {"--ready-file /nonexistent-dir/ready", "No such file or directory", "existing directory"}},
      {"ready_file_is_a_directory", {"--iface", "@IF", "--ready-file", "@TMP/dir.so"}, 1,
       {"--ready-file", "dir.so", "exists and is not a ready file", "remove it or name another"}},
      // A file that is not a ready file is never removed (nor is the csv file
      // before it truncated: the ready file is checked first).
      {"ready_file_is_another_file",
       {"--iface", "@IF", "--sink", "csv:@TMP/keep.csv", "--ready-file", "@TMP/array.json"},
       1, {"--ready-file", "array.json", "exists and is not a ready file"}},
      {"ready_file_in_a_users_directory", {"--iface", "@IF", "--ready-file", "@TMP/private/ready"}, 1,
       {"--ready-file", "drops its privileges", "could not remove", "directory root owns"}},
      {"ready_file_empty", {"--iface", "@IF", "--ready-file", ""}, 1, {"--ready-file", "name a file"}},
      {"bad_plugin_option", {"--iface", "@IF", "-o", "xdp_stats.mode=turbo"}, 2,
       {"xdp_stats.mode", "auto, native, generic", "turbo"}},
      {"unknown_plugin_option", {"--iface", "@IF", "-o", "xdp_stats.speed=3"}, 2,
       {"unknown option xdp_stats.speed", "xdp_stats.mode"}},
      // The tcx placement of the TC plugins: first or last; first cannot be had with netlink filters.
      {"tc_placement_unknown", {"--plugins", "tc_stats", "--iface", "@IF", "-o", "tc_stats.placement=middle"}, 2,
       {"option tc_stats.placement", "expected one of first, last", "\"middle\""}},
      {"flow_top_placement_not_a_string", {"--plugins", "flow_top", "--iface", "@IF", "-o", "flow_top.placement=1"}, 2,
       {"option flow_top.placement", "expected one of first, last", "number 1"}},
      {"tc_placement_first_with_netlink",
       {"--plugins", "xdp_stats,tc_stats", "--iface", "@IF", "-o", "tc_stats.attach=netlink", "-o",
        "tc_stats.placement=first"},
       2, {"option tc_stats.placement: first needs a tcx link", "tc_stats.attach=netlink",
           "tc_stats.placement=last"}},
      {"option_for_unloaded_plugin", {"--plugins", "xdp_stats", "--iface", "@IF", "-o", "flow_top.top=3"}, 2,
       {"'flow_top'", "loaded"}},
      {"plugin_is_a_sink", {"--plugins", "json", "--iface", "@IF"}, 1, {"is a netmon sink, not a plugin"}},
      {"no_privileges", {"--iface", "@IF"}, 1, {"CAP_BPF", "CAP_NET_ADMIN", "root"},
       "capsh --drop=cap_bpf,cap_net_admin,cap_sys_admin,cap_perfmon -- -c 'exec \"$0\" \"$@\"' "},
      {"no_cap_net_admin", {"--iface", "@IF"}, 1, {"missing capability CAP_NET_ADMIN,", "root"},
       "capsh --drop=cap_net_admin -- -c 'exec \"$0\" \"$@\"' "},
      {"no_cap_bpf", {"--iface", "@IF"}, 1, {"missing capability CAP_BPF,", "root"},
       "capsh --drop=cap_bpf,cap_sys_admin -- -c 'exec \"$0\" \"$@\"' "},
      // A host-wide plugin's tracing hook needs CAP_PERFMON; CAP_NET_ADMIN it does not need.
      {"drops_without_cap_perfmon", {"--plugins", "drops"}, 1,
       {"missing capability CAP_PERFMON,", "for the tracing hooks of drops", "root"},
       "capsh --drop=cap_perfmon,cap_sys_admin -- -c 'exec \"$0\" \"$@\"' "},
      {"tcp_health_without_cap_perfmon", {"--plugins", "tcp_health"}, 1,
       {"missing capability CAP_PERFMON,", "for the tracing hooks of tcp_health", "root"},
       "capsh --drop=cap_perfmon,cap_sys_admin -- -c 'exec \"$0\" \"$@\"' "},
      {"tcp_health_idle_too_short", {"--plugins", "tcp_health", "-o", "tcp_health.idle=10ms"}, 2,
       {"option tcp_health.idle", "10ms"}},
      // --check-config finds what a run would refuse, and loads nothing.
      {"check_config_unknown_plugin_option", {"--check-config", "--iface", "@IF", "-o", "xdp_stats.speed=3"}, 2,
       {"unknown option xdp_stats.speed", "xdp_stats.mode"}},
      {"check_config_missing_interface", {"--check-config", "--iface", "nmt-missing0"}, 1,
       {"interface 'nmt-missing0' does not exist"}},
      {"config_setting_of_the_wrong_type", {"--iface", "@IF", "--config", "@TMP/bad_setting.json"}, 2,
       {"bad_setting.json", "\"interval\" must be a duration"}},
      {"drops_unknown_reason", {"--plugins", "drops", "-o", "drops.ignore=NO_SUCH_REASON"}, 2,
       {"drops.ignore", "no drop reason NO_SUCH_REASON", "SKB_DROP_REASON_"}},
      // Plugin options: wrong types, out of range, huge, not UTF-8.
      {"option_not_an_integer", {"--iface", "@IF", "-o", "flow_top.top=abc"}, 2,
       {"option flow_top.top", "expected an integer from 1 to 1000", "abc"}},
      {"option_out_of_range", {"--iface", "@IF", "-o", "flow_top.top=1000000"}, 2,
       {"option flow_top.top", "out of range (1 to 1000)"}},
      {"option_huge_number", {"--iface", "@IF", "-o", "flow_top.table_size=99999999999999999999"}, 2,
       {"option flow_top.table_size", "expected an integer"}},
      {"option_wrong_type_for_choice", {"--iface", "@IF", "-o", "xdp_stats.mode=3"}, 2,
       {"option xdp_stats.mode", "expected one of auto, native, generic", "number 3"}},
      {"option_bad_duration", {"--iface", "@IF", "-o", "flow_top.idle_timeout=soonish"}, 2,
       {"flow_top.idle_timeout", "'soonish'", "1s, 500ms"}},
      {"option_not_utf8", {"--iface", "@IF", "-o", "flow_top.sort=\xff\xfe"}, 2, {"-o", "not valid UTF-8"}},
      {"option_malformed", {"--iface", "@IF", "-o", "novalue"}, 2, {"expected NAME.KEY=VALUE"}},
      // Found by the fuzzer: a number no double can hold aborted netmon-host.
      {"option_number_overflow", {"--iface", "@IF", "-o", "flow_top.top=1e999"}, 2,
       {"flow_top.top=1e999", "the number is too large"}},
      {"config_number_overflow", {"--iface", "@IF", "--config", "@TMP/overflow.json"}, 2,
       {"overflow.json", "not valid JSON", "number overflow"}},
      // Config files: wrong shapes and types, unknown keys, broken JSON.
      {"config_top_level_array", {"--iface", "@IF", "--config", "@TMP/array.json"}, 2,
       {"array.json", "expected a JSON object with one object per plugin, got array"}},
      {"config_entry_not_object", {"--iface", "@IF", "--config", "@TMP/entry_string.json"}, 2,
       {"\"flow_top\" must be an object of options, got string"}},
      {"config_wrong_type", {"--iface", "@IF", "--config", "@TMP/wrong_type.json"}, 2,
       {"option flow_top.top", "expected an integer", "string \"many\""}},
      {"config_unknown_key", {"--iface", "@IF", "--config", "@TMP/unknown_key.json"}, 2,
       {"unknown option flow_top.colour", "flow_top.top"}},
      {"config_huge_number", {"--iface", "@IF", "--config", "@TMP/huge.json"}, 2,
       {"option flow_top.table_size", "expected an integer"}},
      {"config_invalid_json", {"--iface", "@IF", "--config", "@TMP/invalid.json"}, 2,
       {"invalid.json", "not valid JSON"}},
      {"config_not_utf8", {"--iface", "@IF", "--config", "@TMP/not_utf8.json"}, 2, {"not_utf8.json", "not valid JSON"}},
      {"config_missing", {"--iface", "@IF", "--config", "@TMP/missing.json"}, 2, {"missing.json", "cannot read"}},
      {"config_is_a_directory", {"--iface", "@IF", "--config", "@TMP"}, 2, {"--config", "not a regular file"}},
      // Huge and malformed values of the host's own options.
      {"count_huge", {"--iface", "@IF", "--count", "99999999999999999999"}, 2, {"--count"}},
      {"interval_exponent", {"--iface", "@IF", "--interval", "1e30s"}, 2, {"--interval", "unknown unit"}},
      {"duration_negative", {"--iface", "@IF", "--duration", "-5s"}, 2, {"--duration"}},
      {"log_level_unknown", {"--iface", "@IF", "--log-level", "loud"}, 2, {"--log-level", "loud"}},
      {"no_plugins", {"--iface", "@IF", "--plugins", ","}, 2, {"--plugins", "no plugin named"}},
      {"plugin_twice", {"--iface", "@IF", "--plugins", "xdp_stats,xdp_stats"}, 2, {"'xdp_stats' is listed twice"}},
      {"interface_name_too_long", {"--iface", "nmt-this-name-is-too-long"}, 1, {"not a valid interface name"}},
      {"interface_name_not_utf8", {"--iface", "\xff\xfe"}, 1, {"does not exist"}},
      {"plugin_dir_missing", {"--iface", "@IF", "--plugin-dir", "@TMP/nowhere"}, 1,
       {"--plugin-dir", "no such directory"}},
      {"sink_target_unwritable", {"--iface", "@IF", "--sink", "json:/proc/netmon-test/out.json"}, 1,
       {"/proc/netmon-test/out.json", "cannot open"}},
      // Plugin files: directories, symlink loops, world-writable, not libraries, not plugins.
      {"plugin_path_is_directory", {"--iface", "@IF", "--plugins", "@TMP/dir.so"}, 1,
       {"it is a directory, not a library"}},
      {"plugin_symlink_loop", {"--iface", "@IF", "--plugins", "@TMP/loop_a"}, 1, {"symbolic link loop"}},
      {"plugin_world_writable", {"--iface", "@IF", "--plugins", "@TMP/ww/libnetmon_xdp_stats.so"}, 1,
       {"refusing to load", "world-writable", "chmod o-w"}},
      {"plugin_dir_world_writable", {"--iface", "@IF", "--plugins", "@TMP/wwdir/libnetmon_xdp_stats.so"}, 1,
       {"refusing to load", "its directory", "world-writable"}},
      {"plugin_not_a_library", {"--iface", "@IF", "--plugins", "@TMP/text.so"}, 1, {"cannot load", "text.so"}},
      // Options of a sink given more than once (--sink NAME twice): per
      // instance, NAME#N; plain NAME is ambiguous then. All usage errors.
      {"sink_option_ambiguous",
       {"--plugin-dir", "@SINKS", "--iface", "@IF", "--sink", "linesink:@TMP/one.txt", "--sink",
        "linesink:@TMP/two.txt", "-o", "linesink.prefix=x"},
       2, {"options given for 'linesink' are ambiguous", "-o linesink#1.KEY=VALUE", "-o linesink#2.KEY=VALUE"}},
      {"sink_option_ambiguous_in_config",
       {"--plugin-dir", "@SINKS", "--iface", "@IF", "--sink", "linesink:@TMP/one.txt", "--sink",
        "linesink:@TMP/two.txt", "--config", "@TMP/linesink.json"},
       2, {"options given for 'linesink' are ambiguous", "linesink#2"}},
      {"sink_instance_out_of_range",
       {"--plugin-dir", "@SINKS", "--iface", "@IF", "--sink", "linesink:@TMP/one.txt", "--sink",
        "linesink:@TMP/two.txt", "-o", "linesink#3.prefix=x"},
       2, {"'linesink#3'", "given 2 times", "linesink#1 to linesink#2"}},
      {"plugin_instance_number", {"--iface", "@IF", "-o", "xdp_stats#1.mode=generic"}, 2,
       {"'xdp_stats#1'", "plugins are loaded once", "-o xdp_stats.KEY=VALUE"}},
      {"instance_number_malformed", {"--iface", "@IF", "-o", "json#0.x=1"}, 2, {"'json#0' is not NAME or NAME#N"}},
      {"sink_option_bad_value",
       {"--plugin-dir", "@SINKS", "--iface", "@IF", "--sink", "linesink", "-o", "linesink.only=3"},
       2, {"option linesink.only: expected a string, got number 3"}},
      {"sink_option_unknown", {"--iface", "@IF", "--sink", "json", "-o", "json.pretty=true"}, 2,
       {"unknown option json.pretty", "it takes no options"}},
      {"sink_path_unwritable_names_the_target",
       {"--plugin-dir", "@SINKS", "--iface", "@IF", "--sink", "linesink:/nonexistent-dir/x.txt"}, 1,
       {"sink linesink:/nonexistent-dir/x.txt: cannot open /nonexistent-dir/x.txt for writing",
        "choose a writable path: --sink linesink:PATH"}},
      {"plugin_is_a_system_library", {"--iface", "@IF", "--plugins", NETMON_TEST_SYSTEM_LIBRARY}, 1,
       {"is not a netmon plugin", "NETMON_PLUGIN"}},
      // The prometheus sink: its address, port, certificate and hashes.
      {"prometheus_port_in_use", {"--iface", "@IF", "--sink", "prometheus:127.0.0.1:@PORT"}, 1,
       {"sink prometheus:127.0.0.1:", "cannot listen on 127.0.0.1:", "Address already in use", "choose another port"}},
      {"prometheus_unparseable_address", {"--iface", "@IF", "--sink", "prometheus:localhost:9464"}, 1,
       {"sink prometheus:localhost:9464: 'localhost' is not a numeric IPv4 address",
        "--sink prometheus:127.0.0.1:9464"}},
      {"prometheus_ipv6_without_brackets", {"--iface", "@IF", "--sink", "prometheus:::1:9464"}, 1,
       {"sink prometheus:::1:9464: an IPv6 address goes in brackets", "[::1]:9464"}},
      {"prometheus_missing_certificate",
       {"--iface", "@IF", "--sink", "prometheus:127.0.0.1:@PORT2", "-o", "prometheus.tls_cert_file=@TMP/nope.pem", "-o",
        "prometheus.tls_key_file=@TMP/nope.key"},
       1, {"prometheus.tls_cert_file", "nope.pem", "No such file or directory", "readable PEM file"}},
      {"prometheus_unloadable_certificate",
       {"--iface", "@IF", "--sink", "prometheus:127.0.0.1:@PORT2", "-o", "prometheus.tls_cert_file=@TMP/text.so", "-o",
        "prometheus.tls_key_file=@TMP/text.so"},
       1, {"prometheus.tls_cert_file", "text.so", "cannot load them as a PEM certificate", "matching pair"}},
      {"prometheus_bad_bcrypt_hash",
       {"--iface", "@IF", "--sink", "prometheus:127.0.0.1:@PORT2", "-o",
        "prometheus.basic_auth_users={\"alice\": \"$2y$10$tooshort\"}"},
       1, {"prometheus.basic_auth_users", "'alice'", "not a bcrypt hash", "htpasswd -nbB alice"}},
      // A value of the wrong shape is refused as any option's: a usage error.
      {"prometheus_users_not_an_object",
       {"--iface", "@IF", "--sink", "prometheus:127.0.0.1:@PORT2", "-o", "prometheus.basic_auth_users=alice"}, 2,
       {"option prometheus.basic_auth_users: expected an object of strings", "string \"alice\""}},
      // The ipfix sink: its collector, port, MTU and transport.
      {"ipfix_unresolvable_host", {"--iface", "@IF", "--sink", "ipfix:no-such-collector.invalid:4739"}, 1,
       {"sink ipfix:no-such-collector.invalid:4739: cannot resolve the collector's host 'no-such-collector.invalid'",
        "numeric address", "--sink ipfix:192.0.2.10:4739"}},
      {"ipfix_no_collector", {"--iface", "@IF", "--sink", "ipfix"}, 2,
       {"no collector given", "give the collector as HOST:PORT"}},
      {"ipfix_missing_port", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1"}, 2,
       {"sink ipfix:127.0.0.1: no port (4739 is IPFIX's)", "HOST:PORT"}},
      {"ipfix_port_zero", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:0"}, 2,
       {"port '0' is not a number from 1 to 65535", "--sink ipfix:192.0.2.10:4739"}},
      {"ipfix_port_out_of_range", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:70000"}, 2,
       {"port '70000' is not a number from 1 to 65535"}},
      {"ipfix_ipv6_without_brackets", {"--iface", "@IF", "--sink", "ipfix:::1:4739"}, 2,
       {"an IPv6 address goes in brackets", "[::1]:4739"}},
      {"ipfix_mtu_too_small", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:@PORT2", "-o", "ipfix.mtu=100"}, 2,
       {"option ipfix.mtu: 100 is below 140", "template set", "-o ipfix.mtu=140 or more"}},
      {"ipfix_mtu_too_large_for_udp", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:@PORT2", "-o", "ipfix.mtu=65535"},
       2, {"option ipfix.mtu: 65535 is above 65507", "UDP datagram"}},
      {"ipfix_mtu_not_an_integer", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:@PORT2", "-o", "ipfix.mtu=big"}, 2,
       {"option ipfix.mtu: expected an integer from 140 to 65535", "string \"big\""}},
      {"ipfix_unknown_transport",
       {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:@PORT2", "-o", "ipfix.transport=sctp"}, 2,
       {"option ipfix.transport: expected one of udp, tcp", "sctp"}},
      {"ipfix_unknown_option", {"--iface", "@IF", "--sink", "ipfix:127.0.0.1:@PORT2", "-o", "ipfix.refresh=5"}, 2,
       {"unknown option ipfix.refresh", "ipfix.transport", "ipfix.template_refresh"}},
  };
  // clang-format on
}

// Bad files, made once per process.
class BadInputTest : public ::testing::TestWithParam<BadInput> {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    tmp_ = "/tmp/netmon-bad-input-" + std::to_string(::getpid());
    namespace fs = std::filesystem;
    fs::create_directories(tmp_ + "/dir.so");
    fs::create_directories(tmp_ + "/ww");
    fs::create_directories(tmp_ + "/wwdir");
    const std::string plugin = std::string(NETMON_TEST_PLUGIN_DIR) + "/libnetmon_xdp_stats.so";
    fs::copy_file(plugin, tmp_ + "/ww/libnetmon_xdp_stats.so");
    fs::permissions(tmp_ + "/ww/libnetmon_xdp_stats.so", fs::perms::others_write, fs::perm_options::add);
    fs::copy_file(plugin, tmp_ + "/wwdir/libnetmon_xdp_stats.so");
    fs::permissions(tmp_ + "/wwdir", fs::perms::others_write, fs::perm_options::add);  // no sticky bit
    fs::create_symlink(tmp_ + "/loop_b", tmp_ + "/loop_a");
    fs::create_symlink(tmp_ + "/loop_a", tmp_ + "/loop_b");
    const auto write = [](const std::string& path, const std::string& text) { std::ofstream(path) << text; };
    write(tmp_ + "/text.so", "this is not a shared library\n");
    write(tmp_ + "/array.json", "[1, 2]");
    write(tmp_ + "/entry_string.json", R"({"flow_top": "top=3"})");
    write(tmp_ + "/wrong_type.json", R"({"flow_top": {"top": "many"}})");
    write(tmp_ + "/unknown_key.json", R"({"flow_top": {"top": 5, "colour": "blue"}})");
    write(tmp_ + "/huge.json", R"({"flow_top": {"table_size": 1e30}})");
    write(tmp_ + "/invalid.json", R"({"flow_top": {"top": )");
    write(tmp_ + "/overflow.json", R"({"flow_top": {"top": 1e999}})");
    write(tmp_ + "/not_utf8.json", "{\"flow_top\": {\"sort\": \"\xff\xfe\"}}");
    write(tmp_ + "/keep.csv", "kept\n");
    write(tmp_ + "/linesink.json", R"({"linesink": {"prefix": "x"}})");
    write(tmp_ + "/bad_setting.json", R"({"interval": -1})");
    // A user's private directory: root without its capabilities cannot write there.
    fs::create_directories(tmp_ + "/private");
    if (::chown((tmp_ + "/private").c_str(), 65534, 65534) != 0) ADD_FAILURE() << "cannot chown " << tmp_ << "/private";
    fs::permissions(tmp_ + "/private", fs::perms::owner_all, fs::perm_options::replace);
    listen_on_a_port();
  }
  static void TearDownTestSuite() {
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
    if (busy_fd_ >= 0) ::close(busy_fd_);
    busy_fd_ = -1;
  }
  // A port this process listens on (busy_port_, "@PORT") and one nobody
  // listens on ("@PORT2").
  static void listen_on_a_port() {
    busy_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (busy_fd_ < 0 || ::bind(busy_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(busy_fd_, 1) != 0 || ::getsockname(busy_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    busy_port_ = ntohs(a.sin_port);
    free_port_ = netmon::test::free_loopback_port();
    if (free_port_ < 0) ADD_FAILURE() << "no free port on 127.0.0.1";
  }
  static std::string tmp_;
  static int busy_fd_, busy_port_, free_port_;
};
std::string BadInputTest::tmp_;
int BadInputTest::busy_fd_ = -1;
int BadInputTest::busy_port_ = 0;
int BadInputTest::free_port_ = 0;

TEST_P(BadInputTest, OneClearLineNonZeroExitNothingAttached) {
  NETMON_REQUIRE_ROOT();
  const BadInput& c = GetParam();
  netmon::test::VethPair v;
  std::vector<std::string> args = netmon::test::host_cmd({});
  for (auto a : c.args) {
    if (a == "@IF") a = v.host_if();
    if (const auto at = a.find("@TMP"); at != std::string::npos) a.replace(at, 4, tmp_);
    if (a == "@SINKS") a = NETMON_TEST_SINK_TEMPLATE_DIR;
    if (const auto at = a.find("@PORT2"); at != std::string::npos) a.replace(at, 6, std::to_string(free_port_));
    if (const auto at = a.find("@PORT"); at != std::string::npos) a.replace(at, 5, std::to_string(busy_port_));
    args.push_back(a);
  }
  netmon::test::RunResult r;
  if (*c.shell_prefix) {
    std::string cmd = c.shell_prefix;
    for (const auto& a : args) cmd += " '" + a + "'";
    r = netmon::test::run({"/bin/sh", "-c", cmd}, 20s);
  } else {
    r = netmon::test::run(args, 20s);
  }
  EXPECT_EQ(r.status.code, c.exit_code) << r.err;
  const auto lines = netmon::test::lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << "stderr:\n" << r.err;
  for (const auto& e : c.expect) EXPECT_NE(lines[0].find(e), std::string::npos) << "'" << e << "' not in: " << lines[0];
  EXPECT_TRUE(r.out.empty()) << "stdout should be empty, got: " << r.out;
  EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), 0u) << "something was left attached";
  for (const char* dir : {"ingress", "egress"}) {
    EXPECT_TRUE(netmon::test::tcx_prog_ids(v.host_if(), dir).empty()) << "a tcx " << dir << " program was left";
    EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), dir).empty()) << "a TC " << dir << " filter was left";
  }
  EXPECT_FALSE(netmon::test::tc_has_clsact(v.host_if())) << "a clsact qdisc was left";
  // Files a bad run was given but must not touch.
  std::ifstream keep(tmp_ + "/keep.csv"), array(tmp_ + "/array.json");
  std::string k, a;
  std::getline(keep, k);
  std::getline(array, a);
  EXPECT_EQ(k, "kept");
  EXPECT_EQ(a, "[1, 2]");
}

// A refused option value is named once, as the user wrote it: no "xdp_stats: "
// (or "sink linesink: ") in front of a message that already names it.
TEST(BadOptionValue, TheLineNamesThePluginOrSinkOnce) {
  NETMON_REQUIRE_ROOT();
  netmon::test::VethPair v;
  const struct {
    std::vector<std::string> args;
    std::string line;
  } cases[] = {
      {{"--plugins", "xdp_stats", "-o", "xdp_stats.mode=turbo"},
       "netmon-host: error: option xdp_stats.mode: expected one of auto, native, generic, got string \"turbo\""},
      {{"--plugins", "flow_top", "-o", "flow_top.idle_timeout=soonish"},
       "netmon-host: error: option flow_top.idle_timeout: 'soonish' is not a duration (use a duration such as 1s, "
       "500ms, 2m)"},
      {{"--plugins", "xdp_stats", "--plugin-dir", NETMON_TEST_SINK_TEMPLATE_DIR, "--sink", "linesink", "-o",
        "linesink.only=3"},
       "netmon-host: error: option linesink.only: expected a string, got number 3"},
  };
  for (const auto& c : cases) {
    auto args = netmon::test::host_cmd({"--iface", v.host_if()});
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto r = netmon::test::run(args, 20s);
    EXPECT_EQ(r.status.code, 2) << r.err;
    EXPECT_EQ(r.err, c.line + "\n");
    EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), 0u) << "something was left attached";
  }
}

// A valid configuration: --check-config says so and exits 0 without any
// privilege (it loads nothing into the kernel); --print-config prints a file
// that --check-config of it finds valid too, and runs as given.
TEST(CheckConfig, AValidConfigurationNeedsNoPrivilegeAndPrintsAsAFileThatReadsBack) {
  NETMON_REQUIRE_ROOT();
  netmon::test::VethPair v;
  const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- ";
  std::string cmd;
  for (const auto& a :
       netmon::test::host_cmd({"--plugins", "xdp_stats,tc_stats,flow_top,drops,tcp_health", "--iface", v.host_if(),
                               "--interval", "250ms", "-o", "flow_top.top=5", "--print-config"}))
    cmd += " '" + a + "'";
  const auto printed = netmon::test::run({"/bin/sh", "-c", nobody + cmd}, 20s);
  ASSERT_EQ(printed.status.code, 0) << printed.err;
  const auto config = nlohmann::json::parse(printed.out);
  EXPECT_EQ(config["interval"], "250ms");
  EXPECT_EQ(config["flow_top"]["top"], 5);
  const std::string file = "/tmp/netmon-check-config-" + std::to_string(::getpid()) + ".json";
  std::ofstream(file) << printed.out;
  std::string check;
  for (const auto& a : netmon::test::host_cmd({"--config", file, "--check-config"})) check += " '" + a + "'";
  const auto r = netmon::test::run({"/bin/sh", "-c", nobody + check}, 20s);
  std::filesystem::remove(file);
  EXPECT_EQ(r.status.code, 0) << r.err;
  EXPECT_NE(r.err.find("the configuration is valid"), std::string::npos) << r.err;
  EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), 0u);
}

TEST(BadInputTable, HasAtLeastThirtyCases) { EXPECT_GE(bad_inputs().size(), 30u); }

INSTANTIATE_TEST_SUITE_P(Cases, BadInputTest, ::testing::ValuesIn(bad_inputs()),
                         [](const ::testing::TestParamInfo<BadInput>& i) { return std::string(i.param.name); });

}  // namespace
