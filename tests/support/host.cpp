// SPDX-License-Identifier: MIT
#include "support/host.hpp"

#include "netmon_default_plugins.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace netmon::test {

std::vector<std::string> host_cmd(const std::vector<std::string>& args) {
  std::vector<std::string> cmd{NETMON_TEST_HOST_BIN};
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

std::optional<nlohmann::json> next_json(Subprocess& p, const std::function<bool(const nlohmann::json&)>& pred,
                                        std::chrono::milliseconds timeout, std::vector<nlohmann::json>* seen) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = p.read_line(left);
    if (!line) return std::nullopt;
    auto j = nlohmann::json::parse(*line);  // throws on a non-JSON line: stdout must carry JSON only
    if (seen) seen->push_back(j);
    if (pred(j)) return j;
  }
}

std::function<bool(const nlohmann::json&)> sample_of(const std::string& measurement,
                                                     const std::vector<std::pair<std::string, std::string>>& tags) {
  return [measurement, tags](const nlohmann::json& j) {
    if (j.value("measurement", "") != measurement) return false;
    for (const auto& [k, v] : tags)
      if (!j["tags"].contains(k) || j["tags"][k] != v) return false;
    return true;
  };
}

std::uint32_t xdp_prog_id(const std::string& ifname) {
  const unsigned idx = if_nametoindex(ifname.c_str());
  if (!idx) return 0;
  bpf_xdp_query_opts q{};
  q.sz = sizeof q;
  if (bpf_xdp_query(static_cast<int>(idx), 0, &q) != 0) return 0;
  return q.prog_id ? q.prog_id : (q.skb_prog_id ? q.skb_prog_id : q.drv_prog_id);
}

namespace {

// Loaded programs whose name is `name` (whole) or begins with it (prefix).
int loaded_programs_matching(const std::string& name, bool prefix) {
  std::istringstream in(sh_out("bpftool prog show 2>/dev/null"));
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(" name " + name + (prefix ? "" : " ")) != std::string::npos) ++n;
  return n;
}

bool wait_none_matching(const std::string& name, bool prefix, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (loaded_programs_matching(name, prefix) > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

std::vector<std::string> default_plugins() {
  std::vector<std::string> out;
  std::istringstream in(NETMON_DEFAULT_PLUGINS);
  for (std::string name; std::getline(in, name, ',');) out.push_back(name);
  return out;
}

std::string program_prefix(const std::string& plugin) {
  return (plugin + "_").substr(0, 15);  // BPF_OBJ_NAME_LEN - 1
}

int loaded_programs_named(const std::string& name) { return loaded_programs_matching(name, false); }

bool wait_no_programs_named(const std::string& name, std::chrono::milliseconds timeout) {
  return wait_none_matching(name, false, timeout);
}

bool wait_no_programs_of(const std::string& plugin, std::chrono::milliseconds timeout) {
  return wait_none_matching(program_prefix(plugin), true, timeout);
}

HostRun::HostRun(const std::vector<std::string>& args) : p_(host_cmd(args)) {}

bool HostRun::wait_for(const std::function<bool(const nlohmann::json&)>& pred, std::chrono::milliseconds timeout) {
  return next_json(p_, pred, timeout, &samples_).has_value();
}

std::optional<ExitStatus> HostRun::stop(int sig, std::chrono::milliseconds timeout) {
  p_.signal(sig);
  const auto st = p_.wait(timeout);
  for (auto& j : json_lines(p_.stdout_rest())) samples_.push_back(std::move(j));
  return st;
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(text)) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::optional<nlohmann::json> last_of(const std::vector<nlohmann::json>& samples,
                                      const std::function<bool(const nlohmann::json&)>& pred) {
  for (auto it = samples.rbegin(); it != samples.rend(); ++it)
    if (pred(*it)) return *it;
  return std::nullopt;
}

std::optional<nlohmann::json> HostRun::last(const std::function<bool(const nlohmann::json&)>& pred) const {
  return last_of(samples_, pred);
}

std::uint64_t HostRun::delta(const std::function<bool(const nlohmann::json&)>& pred, const nlohmann::json& base,
                             const std::string& key) const {
  const auto last = this->last(pred);
  if (!last) ADD_FAILURE() << "no sample matched: the delta of " << key << " is unknown";
  return last ? field_u64(*last, key) - field_u64(base, key) : 0;
}

std::uint64_t rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::uint64_t value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

std::uint64_t field_u64(const nlohmann::json& sample, const std::string& key) {
  return sample.at("fields").at(key).get<std::uint64_t>();
}

std::vector<std::string> tc_filters(const std::string& ifname, const std::string& direction) {
  return lines_of(sh_out("tc filter show dev " + ifname + " " + direction + " 2>/dev/null"));
}

bool tc_has_clsact(const std::string& ifname) {
  return sh_out("tc qdisc show dev " + ifname + " 2>/dev/null").find("clsact") != std::string::npos;
}

std::vector<std::uint32_t> tcx_prog_ids(const std::string& ifname, const std::string& direction) {
  const unsigned idx = if_nametoindex(ifname.c_str());
  if (!idx) return {};
  // BPF_TCX_INGRESS and BPF_TCX_EGRESS: the installed uapi headers may predate them.
  const auto type = static_cast<bpf_attach_type>(direction == "ingress" ? 46 : 47);
  std::vector<std::uint32_t> ids(64);
  std::uint32_t count = static_cast<std::uint32_t>(ids.size()), flags = 0;
  if (bpf_prog_query(static_cast<int>(idx), type, 0, &flags, ids.data(), &count) != 0) return {};
  ids.resize(count);
  return ids;
}

std::string prog_name(std::uint32_t id) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return {};
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  const int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
  ::close(fd);
  return rc == 0 ? std::string(info.name) : std::string();
}

int links_of_plugin(const std::string& plugin) {
  const std::string prefix = program_prefix(plugin);
  int n = 0;
  for (const auto& l : nlohmann::json::parse(sh_out("bpftool -j link show")))
    if (l.contains("prog_id") && prog_name(l["prog_id"].get<std::uint32_t>()).starts_with(prefix)) ++n;
  return n;
}

RunResult run_host_without_cap_net_admin(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::string cmd = "capsh --drop=cap_net_admin -- -c 'exec \"$0\" \"$@\"'";
  for (const auto& a : host_cmd(args)) cmd += " '" + a + "'";
  return run({"/bin/sh", "-c", cmd}, timeout);
}

int break_bpf_map_fds() {
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) return 0;
  int replaced = 0;
  for (int fd = 3; fd < 1024; ++fd) {
    char link[64] = {};
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (::readlink(path.c_str(), link, sizeof link - 1) <= 0 || std::string(link) != "anon_inode:bpf-map") continue;
    if (::dup2(null, fd) == fd) ++replaced;
  }
  ::close(null);
  return replaced;
}

void expect_nothing_left(const std::string& ifname, bool clsact_expected) {
  EXPECT_EQ(xdp_prog_id(ifname), 0u) << "an XDP program is left on " << ifname;
  for (const char* dir : {"ingress", "egress"})
    for (const auto id : tcx_prog_ids(ifname, dir))
      for (const char* ours : {"tc_stats", "flow_top"})
        EXPECT_NE(prog_name(id).rfind(ours, 0), 0u) << "a tcx " << dir << " program of ours is left: " << prog_name(id);
  for (const char* dir : {"ingress", "egress"})
    for (const auto& line : tc_filters(ifname, dir))
      EXPECT_EQ(line.find("netmon"), std::string::npos) << "a TC " << dir << " filter is left: " << line;
  for (const char* dir : {"ingress", "egress"})
    for (const auto& line : tc_filters(ifname, dir))
      for (const auto& ours : default_plugins())
        EXPECT_EQ(line.find(ours), std::string::npos) << "a TC " << dir << " filter of ours is left: " << line;
  if (!clsact_expected) {
    EXPECT_FALSE(tc_has_clsact(ifname)) << "a clsact qdisc is left on " << ifname;
  }
  // A plugin's programs are named after it (a rule tests/unit/test_tree.cpp
  // checks).
  for (const auto& plugin : default_plugins())
    EXPECT_TRUE(wait_no_programs_of(plugin)) << "a program named " << program_prefix(plugin) << "... is still loaded";
  EXPECT_EQ(sh_out("ls /sys/fs/bpf 2>/dev/null | grep -ci netmon"), "0\n") << "something is pinned";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::multiset<std::string> expect_every_thread_dropped(int pid, const std::string& bounding) {
  const std::string none = "0000000000000000", net_admin = "0000000000001000";  // 1 << CAP_NET_ADMIN (12)
  std::multiset<std::string> names;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::map<std::string, std::string> caps;
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Cap", 0) == 0) {
        std::istringstream ss(line);
        std::string key, value;
        ss >> key >> value;
        caps[key.substr(0, key.size() - 1)] = value;
      }
    if (caps.size() < 5) continue;  // the thread ended meanwhile
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
    const std::string where = task.path().string() + " (" + name + ")";
    EXPECT_EQ(caps.at("CapEff"), none) << where;
    EXPECT_EQ(caps.at("CapPrm"), net_admin) << where;
    EXPECT_EQ(caps.at("CapBnd"), bounding) << where;
    EXPECT_EQ(caps.at("CapInh"), none) << where;
    EXPECT_EQ(caps.at("CapAmb"), none) << where;
  }
  return names;
}

void expect_documented(const std::vector<nlohmann::json>& samples) {
  std::ifstream in(std::string(NETMON_TEST_SOURCE_DIR) + "/../docs/SAMPLES.md");
  std::stringstream doc;
  doc << in.rdbuf();
  ASSERT_FALSE(doc.str().empty()) << "docs/SAMPLES.md not found";
  for (const auto& j : samples) {
    const std::string m = j["measurement"];
    EXPECT_NE(doc.str().find("### `" + m + "`"), std::string::npos) << "measurement " << m << " is not documented";
    for (const auto& [key, value] : j["tags"].items())
      EXPECT_NE(doc.str().find("`" + key + "`"), std::string::npos) << m << ": tag " << key << " is not documented";
    for (const auto& [key, value] : j["fields"].items())
      EXPECT_NE(doc.str().find("`" + key + "`"), std::string::npos) << m << ": field " << key << " is not documented";
  }
}

}  // namespace netmon::test
