// SPDX-License-Identifier: MIT
// The systemd unit the Debian package ships (debian/netmon.service) and its
// configuration (debian/netmon.json), run as systemd would run them where no
// systemd runs: its ExecStartPre and ExecStart lines, read from the unit, as
// an unprivileged user with exactly the unit's capabilities (setpriv, as
// DynamicUser=, AmbientCapabilities=, CapabilityBoundingSet= and
// NoNewPrivileges= make them), on a staged copy of the installed layout.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "support/host.hpp"
#include "support/host_on_veth.hpp"
#include "support/subprocess.hpp"
#include "support/traffic.hpp"
#include "support/unit_util.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using netmon::test::lines_of;
using netmon::test::next_json;
using netmon::test::sample_of;
using netmon::test::Subprocess;

const fs::path kDebian = fs::path(NETMON_TEST_SOURCE_DIR) / ".." / "debian";
// An unused user, as DynamicUser= picks one from 61184-65519.
constexpr int kServiceUid = 61999;

// The [Service] settings of a unit file (the last one given wins, as for
// these keys in systemd; comments and sections left out).
std::map<std::string, std::string> unit_settings(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "CAP_BPF CAP_NET_ADMIN" -> "+bpf,+net_admin", as setpriv takes them.
std::string setpriv_caps(const std::string& unit_caps) {
  std::string out = "-all";
  for (auto w : words(unit_caps)) {
    w = w.substr(4);  // "CAP_"
    for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += ",+" + w;
  }
  return out;
}

class Service : public netmon::test::HostOnVeth {
 protected:
  void SetUp() override {
    HostOnVeth::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    unit_ = unit_settings(kDebian / "netmon.service");
    ASSERT_FALSE(unit_["ExecStart"].empty()) << "no ExecStart= in " << kDebian / "netmon.service";
    // The installed layout (bin/, lib/netmon/plugins/), readable by anyone as
    // a package installs it: the service's user cannot enter a build tree
    // under a private home.
    root_ = tmp_.path() / "usr";
    fs::create_directories(root_ / "bin");
    fs::copy_file(NETMON_TEST_HOST_BIN, root_ / "bin" / "netmon-host");
    const fs::path plugins = fs::path(NETMON_TEST_PLUGIN_DIR);
    const fs::path rel = fs::relative(plugins, fs::path(NETMON_TEST_HOST_BIN).parent_path().parent_path());
    fs::create_directories(root_ / rel);
    for (const auto& e : fs::directory_iterator(plugins)) fs::copy_file(e.path(), root_ / rel / e.path().filename());
    ::chmod(tmp_.path().c_str(), 0755);
  }

  // The shipped configuration with the test's interface, a JSON sink to read
  // the counts from and a short interval; `change` edits it further. Each
  // call writes a file of its own.
  std::string write_config(const std::function<void(nlohmann::json&)>& change = {}) {
    std::ifstream in(kDebian / "netmon.json");
    nlohmann::json config = nlohmann::json::parse(in, nullptr, true, true);  // the shipped file has comments
    config["iface"] = {iface()};
    config["sink"] = {"json"};
    config["interval"] = "200ms";
    if (change) change(config);
    const fs::path path = tmp_.path() / ("netmon-" + std::to_string(++configs_) + ".json");
    std::ofstream(path) << config.dump(2);
    ::chmod(path.c_str(), 0644);
    return path.string();
  }

  // A command line of the unit (ExecStart= or ExecStartPre=) as the service
  // runs it: its program from the staged layout, its config file the test's,
  // under setpriv with the unit's user and capabilities (`caps`: the unit's
  // AmbientCapabilities= unless given).
  std::vector<std::string> as_service(const std::string& key, const std::string& config,
                                      std::optional<std::string> caps = std::nullopt) {
    const std::string ambient = setpriv_caps(caps.value_or(unit_["AmbientCapabilities"]));
    const std::string bounding = setpriv_caps(caps.value_or(unit_["CapabilityBoundingSet"]));
    std::vector<std::string> argv{"/usr/bin/setpriv",
                                  "--reuid=" + std::to_string(kServiceUid),
                                  "--regid=" + std::to_string(kServiceUid),
                                  "--clear-groups",
                                  "--inh-caps=" + ambient,
                                  "--ambient-caps=" + ambient,
                                  "--bounding-set=" + bounding};
    if (unit_["NoNewPrivileges"] == "yes") argv.push_back("--no-new-privs");
    argv.push_back("--");
    for (auto w : words(unit_[key])) {
      if (w == "/usr/bin/netmon-host") w = (root_ / "bin" / "netmon-host").string();
      if (w == "/etc/netmon/netmon.json") w = config;
      argv.push_back(w);
    }
    return argv;
  }

  std::map<std::string, std::string> unit_;
  netmon::unit::TempDir tmp_;
  fs::path root_;
  int configs_ = 0;
};

TEST_F(Service, UnitRunsUnprivilegedWithOnlyItsCapabilitiesCountsExactlyAndStopsOnSigterm) {
  EXPECT_EQ(unit_["DynamicUser"], "yes");
  EXPECT_EQ(unit_["NoNewPrivileges"], "yes");
  EXPECT_EQ(unit_["AmbientCapabilities"], unit_["CapabilityBoundingSet"]);
  // The tracing plugins too: the shipped file says the unit allows them.
  const std::string config =
      write_config([](nlohmann::json& c) { c["plugins"] = c["plugins"].get<std::string>() + ",drops,tcp_health"; });

  const auto pre = netmon::test::run(as_service("ExecStartPre", config), 30s);
  EXPECT_EQ(pre.status.code, 0) << pre.err;
  EXPECT_NE(pre.err.find("the configuration is valid"), std::string::npos) << pre.err;

  Subprocess host(as_service("ExecStart", config));
  const auto udp = sample_of("xdp_stats_class", {{"ifname", iface()}, {"l3", "ipv4"}, {"l4", "udp"}});
  const auto first = next_json(host, udp, 15s);
  ASSERT_TRUE(first) << host.stderr_text();
  // Attached, it holds nothing effective; the unit's bounding set stays (no
  // CAP_SETPCAP to shrink it, and NoNewPrivileges= makes it moot).
  const std::string unit_bounding = "000000c000001000";  // CAP_BPF (39), CAP_PERFMON (38), CAP_NET_ADMIN (12)
  ASSERT_EQ(unit_["CapabilityBoundingSet"], "CAP_BPF CAP_NET_ADMIN CAP_PERFMON");
  netmon::test::expect_every_thread_dropped(host.pid(), unit_bounding);
  std::ifstream status("/proc/" + std::to_string(host.pid()) + "/status");
  std::string line;
  while (std::getline(status, line) && line.rfind("Uid:", 0) != 0) {
  }
  EXPECT_EQ(words(line), (std::vector<std::string>{"Uid:", "61999", "61999", "61999", "61999"}));

  const std::uint64_t base = (*first)["fields"]["packets"];
  constexpr std::uint64_t kPackets = 3000;
  netmon::test::send_udp(veth(), kPackets, 64);
  host.signal(SIGTERM);  // systemctl stop
  std::vector<nlohmann::json> seen;
  while (next_json(host, udp, 10s, &seen)) {
  }
  const auto exit = host.wait(10s);
  ASSERT_TRUE(exit) << "netmon-host did not stop on SIGTERM";
  EXPECT_EQ(exit->code, 0) << host.stderr_text();
  std::optional<nlohmann::json> last;
  for (const auto& j : seen)
    if (udp(j)) last = j;
  ASSERT_TRUE(last) << host.stderr_text();
  EXPECT_EQ((*last)["fields"]["packets"].get<std::uint64_t>() - base, kPackets);
  for (const auto& l : lines_of(host.stderr_text())) {
    EXPECT_EQ(l.find(": error:"), std::string::npos) << l;
    EXPECT_EQ(l.find(": warning:"), std::string::npos) << l;
  }
  expect_nothing_left();
}

// Restart=on-failure must not loop on a start that cannot work: it fails at
// once, in one line naming what is missing.
TEST_F(Service, WithoutACapabilityOrTheInterfaceTheStartFailsAtOnceSayingWhy) {
  const std::string config = write_config();
  const auto t0 = std::chrono::steady_clock::now();
  const auto no_bpf = netmon::test::run(as_service("ExecStart", config, "CAP_NET_ADMIN CAP_PERFMON"), 15s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(no_bpf.status.code, 1) << no_bpf.err;
  ASSERT_EQ(lines_of(no_bpf.err).size(), 1u) << no_bpf.err;
  EXPECT_NE(no_bpf.err.find("CAP_BPF"), std::string::npos) << no_bpf.err;
  expect_nothing_left();

  const std::string gone = write_config([](nlohmann::json& c) { c["iface"] = {"netmon-gone0"}; });
  for (const char* key : {"ExecStartPre", "ExecStart"}) {
    const auto r = netmon::test::run(as_service(key, gone), 15s);
    EXPECT_EQ(r.status.code, 1) << key << ": " << r.err;
    ASSERT_EQ(lines_of(r.err).size(), 1u) << key << ": " << r.err;
    EXPECT_NE(r.err.find("netmon-gone0"), std::string::npos) << key << ": " << r.err;
  }
  // RestartPreventExitStatus=: a usage error (2) is not retried.
  EXPECT_EQ(unit_["Restart"], "on-failure");
  EXPECT_EQ(unit_["RestartPreventExitStatus"], "2");
}

// Under systemd, stderr is the journal's stream (JOURNAL_STREAM names it):
// each line carries its priority as journald reads it, no colour, no time.
TEST_F(Service, LogsToTheJournalWithPriorities) {
  const fs::path err = tmp_.path() / "stderr";
  const std::string gone = write_config([](nlohmann::json& c) { c["iface"] = {"netmon-gone0"}; });
  const auto run_journal = [&](const std::string& config, const std::string& stream) {
    std::string cmd = "exec 2>" + err.string() + "; JOURNAL_STREAM=" + stream + " exec";
    for (const auto& w : as_service("ExecStartPre", config)) cmd += " '" + w + "'";
    return netmon::test::sh(cmd);
  };
  const auto read_err = [&] {
    std::ifstream in(err);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  std::ofstream(err).close();
  struct stat st {};
  ASSERT_EQ(::stat(err.c_str(), &st), 0);
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);

  EXPECT_NE(run_journal(gone, stream), 0);
  auto text = read_err();
  ASSERT_EQ(lines_of(text).size(), 1u) << text;
  EXPECT_EQ(text.rfind("<3>error: ", 0), 0u) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;

  EXPECT_EQ(run_journal(write_config(), stream), 0);
  text = read_err();
  EXPECT_EQ(text.rfind("<6>info: the configuration is valid", 0), 0u) << text;

  // The variable alone, inherited by a process whose stderr is elsewhere:
  // the ordinary form.
  EXPECT_NE(run_journal(gone, "1:1"), 0);
  text = read_err();
  EXPECT_EQ(text.rfind("netmon-host: error: ", 0), 0u) << text;
}

}  // namespace
