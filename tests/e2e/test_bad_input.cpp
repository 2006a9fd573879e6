// SPDX-License-Identifier: MIT
// Every bad input: one clear line on stderr naming the problem (and the fix),
// a non-zero exit, and nothing attached to the interface.
#include <gtest/gtest.h>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace {

using namespace std::chrono_literals;

struct BadInput {
  const char* name;
  std::vector<std::string> args;  // "@IF" is replaced by the test interface
  int exit_code;
  std::vector<std::string> expect;  // substrings of the one stderr line
  const char* shell_prefix = "";     // e.g. a capsh wrapper
};

std::vector<BadInput> bad_inputs() {
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
      {"bad_plugin_option", {"--iface", "@IF", "-o", "xdp_stats.mode=turbo"}, 1,
       {"xdp_stats.mode", "auto, native, generic", "turbo"}},
      {"unknown_plugin_option", {"--iface", "@IF", "-o", "xdp_stats.speed=3"}, 1,
       {"unknown option xdp_stats.speed", "xdp_stats.mode"}},
      {"option_for_unloaded_plugin", {"--plugins", "xdp_stats", "--iface", "@IF", "-o", "flow_top.top=3"}, 1,
       {"'flow_top'", "loaded"}},
      {"plugin_is_a_sink", {"--plugins", "json", "--iface", "@IF"}, 1, {"is a netmon sink, not a plugin"}},
      {"no_privileges", {"--iface", "@IF"}, 1, {"CAP_BPF", "CAP_NET_ADMIN", "root"},
       "capsh --drop=cap_bpf,cap_net_admin,cap_sys_admin,cap_perfmon -- -c 'exec \"$0\" \"$@\"' "},
  };
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, OneClearLineNonZeroExitNothingAttached) {
  NETMON_REQUIRE_ROOT();
  const BadInput& c = GetParam();
  netmon::test::VethPair v;
  std::vector<std::string> args = netmon::test::host_cmd({});
  for (auto a : c.args) args.push_back(a == "@IF" ? v.host_if() : a);
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
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInputTest, ::testing::ValuesIn(bad_inputs()),
                         [](const ::testing::TestParamInfo<BadInput>& i) { return std::string(i.param.name); });

}  // namespace
