// SPDX-License-Identifier: MIT
// The installed SDK, as a third party uses it (scripts/test-sdk.sh installs
// netmon to a temporary prefix, builds examples/ and tests/sdk/ against it
// alone, and runs this with the paths in the environment):
//   NETMON_SDK_PREFIX    the install prefix (its bin/netmon-host is the host under test)
//   NETMON_SDK_EXAMPLES  examples/' plugin directory
//   NETMON_SDK_FIXTURES  tests/sdk/'s plugin directory
//   NETMON_SDK_WORK      a scratch directory
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using netmon::test::json_lines;
using netmon::test::lines_of;
using netmon::test::sample_of;
using netmon::test::Subprocess;
using netmon::test::VethPair;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class Sdk : public ::testing::Test {
 protected:
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    prefix_ = env("NETMON_SDK_PREFIX");
    examples_ = env("NETMON_SDK_EXAMPLES");
    fixtures_ = env("NETMON_SDK_FIXTURES");
    work_ = env("NETMON_SDK_WORK");
    if (prefix_.empty() || examples_.empty() || fixtures_.empty() || work_.empty()) {
      if (netmon::test::in_ci()) FAIL() << "run through scripts/test-sdk.sh, which sets NETMON_SDK_*";
      GTEST_SKIP() << "run through scripts/test-sdk.sh, which sets NETMON_SDK_*";
    }
  }
  // The installed host with extra plugin directories.
  [[nodiscard]] std::vector<std::string> host(const std::vector<std::string>& args) const {
    std::vector<std::string> cmd{prefix_ + "/bin/netmon-host", "--plugin-dir", examples_, "--plugin-dir", fixtures_};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
  }
  [[nodiscard]] std::string fixture(const std::string& name) const { return fixtures_ + "/libnetmon_" + name + ".so"; }

  std::string prefix_, examples_, fixtures_, work_;
};

TEST_F(Sdk, ExamplePluginCountsExactlyAndExampleSinkWritesLineProtocol) {
  VethPair v;
  const std::string lp = work_ + "/dns.lp";
  Subprocess p(host({"--plugins", "dns_queries,c_ifstats", "--iface", v.host_if(), "--sink", "json", "--sink",
                     "influx:" + lp, "--interval", "200ms"}));
  std::vector<nlohmann::json> seen;
  const auto dns_in = sample_of("dns", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  ASSERT_TRUE(netmon::test::next_json(p, dns_in, 15s, &seen)) << p.stderr_text();
  constexpr std::uint64_t kQueries = 777;
  const auto r = netmon::test::traffic(v, "--port 53 --dns netmon.test --count " + std::to_string(kQueries), 30s);
  ASSERT_EQ(r.status.code, 0) << r.err;
  std::this_thread::sleep_for(300ms);
  p.signal(SIGINT);
  const auto st = p.wait(15s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << p.stderr_text();
  for (auto& j : json_lines(p.stdout_rest())) seen.push_back(j);
  std::optional<nlohmann::json> last_dns, last_if;
  for (const auto& j : seen) {
    if (dns_in(j)) last_dns = j;
    if (sample_of("ifstats", {{"ifname", v.host_if()}})(j)) last_if = j;
  }
  ASSERT_TRUE(last_dns && last_if);
  // The example plugin's own BPF program counted every query, exactly.
  EXPECT_EQ(netmon::test::field_u64(*last_dns, "queries"), kQueries);
  EXPECT_EQ(netmon::test::field_u64(*last_dns, "responses"), 0u);
  // The C plugin read the kernel's counters: nothing crossed the pair since the last collection.
  EXPECT_EQ(netmon::test::field_u64(*last_if, "rx_packets"), v.host_stat("rx_packets"));
  EXPECT_EQ(netmon::test::field_u64(*last_if, "tx_bytes"), v.host_stat("tx_bytes"));

  // The example sink wrote the same last interval as line protocol.
  std::ifstream in(lp);
  std::string line, last_lp;
  while (std::getline(in, line))
    if (line.rfind("dns,ifname=" + v.host_if() + ",direction=ingress ", 0) == 0) last_lp = line;
  EXPECT_NE(last_lp.find(" queries=" + std::to_string(kQueries) + "u,responses=0u,errors=0u,malformed=0u,"),
            std::string::npos)
      << last_lp;
  EXPECT_NE(last_lp.find(" " + std::to_string((*last_dns)["timestamp_ns"].get<std::int64_t>())), std::string::npos)
      << last_lp;
}

TEST_F(Sdk, PlainCPluginLoadsAndPublishes) {
  const auto r = netmon::test::run(host({"--plugins", "cplugin", "--iface", "lo", "--sink", "json", "--count", "3",
                                         "--interval", "50ms"}));
  ASSERT_EQ(r.status.code, 0) << r.err;
  std::uint64_t calls = 0;
  for (const auto& j : json_lines(r.out))
    if (j["measurement"] == "cplugin") {
      EXPECT_EQ(j["tags"]["lang"], "c");
      EXPECT_EQ(j["fields"]["greeting"], "hello from C");
      EXPECT_EQ(j["fields"]["temperature"], -3);
      calls = j["fields"]["calls"];
    }
  EXPECT_EQ(calls, 3u);
}

TEST_F(Sdk, OlderMinorAbiLoadsAndWorks) {
  const auto r = netmon::test::run(host({"--plugins", "abi_1_0", "--iface", "lo", "--sink", "json", "--count", "2",
                                         "--interval", "50ms"}));
  ASSERT_EQ(r.status.code, 0) << r.err;
  int samples = 0;
  for (const auto& j : json_lines(r.out)) samples += j["measurement"] == "cplugin";
  EXPECT_EQ(samples, 2);
  const auto list = netmon::test::run(host({"--list-plugins"}));
  EXPECT_NE(list.out.find("abi_1_0"), std::string::npos) << list.out;
}

struct Refusal {
  const char* plugin;
  std::vector<std::string> expect;
};

// gtest prints the parameter by its name, not as bytes.
void PrintTo(const Refusal& r, std::ostream* os) { *os << r.plugin; }

class SdkRefusal : public Sdk, public ::testing::WithParamInterface<Refusal> {};

TEST_P(SdkRefusal, OneClearLineAndNothingAttached) {
  VethPair v;
  // The standard plugins come first: they are loaded (and, for start_throws,
  // started) before the bad one, and must be stopped and detached.
  const auto r = netmon::test::run(
      host({"--plugins", std::string("xdp_stats,tc_stats,") + GetParam().plugin, "--iface", v.host_if(), "--sink",
            "json"}),
      30s);
  EXPECT_EQ(r.status.code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  const auto lines = lines_of(r.err);
  std::vector<std::string> errors;
  for (const auto& l : lines)
    if (l.find(": error:") != std::string::npos) errors.push_back(l);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  for (const auto& e : GetParam().expect) EXPECT_NE(errors[0].find(e), std::string::npos) << e << " not in: " << errors[0];
  EXPECT_EQ(netmon::test::xdp_prog_id(v.host_if()), 0u);
  EXPECT_TRUE(netmon::test::tc_filters(v.host_if(), "ingress").empty());
  EXPECT_TRUE(netmon::test::wait_no_programs_named("xdp_stats_rx"));
  EXPECT_TRUE(netmon::test::wait_no_programs_named("tc_stats_ingres"));
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, SdkRefusal,
    ::testing::Values(
        Refusal{"abi_newer_minor", {"netmon ABI 1.2", "this netmon-host's ABI 1.1", "upgrade netmon-host or rebuild"}},
        Refusal{"abi_other_major", {"netmon ABI 2.1", "speaks ABI 1.1", "rebuild the plugin against this netmon SDK"}},
        Refusal{"notaplugin", {"is not a netmon plugin", "NETMON_PLUGIN"}},
        Refusal{"create_fails", {"create_fails: cannot create the plugin", "no widgets available"}},
        Refusal{"start_throws", {"start_throws: cannot start", "fixture start refused"}}),
    [](const ::testing::TestParamInfo<Refusal>& i) { return std::string(i.param.plugin); });

// From an empty directory to a loaded plugin, as docs/WRITING_PLUGINS.md tells it.
TEST_F(Sdk, TemplateBuildsTestsAndLoads) {
  const std::string dir = work_ + "/my_probe";
  auto r = netmon::test::run({prefix_ + "/bin/netmon-new-plugin", "my_probe", dir});
  ASSERT_EQ(r.status.code, 0) << r.err;
  r = netmon::test::run({"/bin/sh", "-c",
                         "cmake -S " + dir + " -B " + dir + "/build -DCMAKE_PREFIX_PATH=" + prefix_ +
                             " >/dev/null && cmake --build " + dir + "/build >/dev/null"},
                        300s);
  ASSERT_EQ(r.status.code, 0) << r.out << r.err;
  r = netmon::test::run({dir + "/build/test_my_probe"}, 60s);
  EXPECT_EQ(r.status.code, 0) << r.out << r.err;
  VethPair v;
  r = netmon::test::run({prefix_ + "/bin/netmon-host", "--plugin-dir", dir + "/build/plugins", "--plugins", "my_probe",
                         "--iface", v.host_if(), "--sink", "json", "--count", "1", "--interval", "100ms"});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"measurement\":\"my_probe\""), std::string::npos) << r.out;
}

// The pkg-config file is enough for a plugin in C: no CMake at all.
TEST_F(Sdk, PkgConfigBuildsTheCPlugin) {
  const std::string out = work_ + "/pc/libnetmon_c_ifstats.so";
  fs::create_directories(work_ + "/pc");
  const auto r = netmon::test::run(
      {"/bin/sh", "-c",
       "cc -shared -fPIC -O2 -Wall -Werror $(PKG_CONFIG_PATH=" + prefix_ + "/lib/pkgconfig pkg-config --cflags netmon) " +
           std::string(NETMON_TEST_SOURCE_DIR) + "/../examples/c_ifstats/c_ifstats.c -o " + out});
  ASSERT_EQ(r.status.code, 0) << r.err;
  const auto run = netmon::test::run({prefix_ + "/bin/netmon-host", "--plugins", out, "--iface", "lo", "--sink", "json",
                                      "--count", "1", "--interval", "50ms"});
  ASSERT_EQ(run.status.code, 0) << run.err;
  EXPECT_NE(run.out.find("\"measurement\":\"ifstats\""), std::string::npos);
}

}  // namespace
