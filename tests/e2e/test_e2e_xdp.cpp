// SPDX-License-Identifier: MIT
// End to end: netmon-host with xdp_stats on a veth pair, exact UDP traffic
// from a namespace, JSON read back; after the stop nothing of ours remains.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "support/host.hpp"
#include "support/host_on_veth.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::host_cmd;
using netmon::test::lines_of;
using netmon::test::next_json;
using netmon::test::sample_of;
using netmon::test::Subprocess;

constexpr std::uint64_t kPackets = 10000;
constexpr std::uint64_t kPayload = 64;
constexpr std::uint64_t kFrameBytes = 14 + 20 + 8 + kPayload;  // what XDP sees of each datagram

// Root, a veth pair, netmon-host on its host end.
class E2eXdp : public netmon::test::HostOnVeth {};

TEST_F(E2eXdp, CountsExactlyTheUdpPacketsSentAndDetachesOnSigint) {
  Subprocess host(host_cmd(host_args({"--plugins", "xdp_stats", "--sink", "json", "--interval", "200ms"})));
  const auto udp = sample_of("xdp_stats_class", {{"ifname", iface()}, {"l3", "ipv4"}, {"l4", "udp"}});
  const auto first = next_json(host, udp, 10s);
  ASSERT_TRUE(first) << host.stderr_text();
  EXPECT_NE(netmon::test::xdp_prog_id(iface()), 0u) << "not attached while running";
  const std::uint64_t base_packets = (*first)["fields"]["packets"];
  const std::uint64_t base_bytes = (*first)["fields"]["bytes"];

  netmon::test::send_udp(veth(), kPackets, kPayload);

  // The final collection after SIGINT holds every packet.
  host.signal(SIGINT);
  std::vector<nlohmann::json> seen;
  while (next_json(host, udp, 10s, &seen)) {
  }
  const auto status = host.wait(10s);
  ASSERT_TRUE(status) << "netmon-host did not exit after SIGINT";
  EXPECT_EQ(status->code, 0) << host.stderr_text();
  std::optional<nlohmann::json> last;
  for (const auto& j : seen)
    if (udp(j)) last = j;
  ASSERT_TRUE(last) << "no ipv4/udp sample after the traffic";
  EXPECT_EQ((*last)["fields"]["packets"].get<std::uint64_t>() - base_packets, kPackets);
  EXPECT_EQ((*last)["fields"]["bytes"].get<std::uint64_t>() - base_bytes, kPackets * kFrameBytes);
  EXPECT_TRUE((*last)["fields"].contains("packets_per_sec"));
  for (const auto& line : lines_of(host.stderr_text())) EXPECT_EQ(line.find(": error:"), std::string::npos) << line;

  expect_nothing_left();
  const std::string ns = veth().ns();
  veth().remove();
  EXPECT_NE(netmon::test::sh("test -e /run/netns/" + ns), 0) << "namespace " << ns << " is still there";
}

TEST_F(E2eXdp, ThroughJqTheCountIsExact) {
  if (netmon::test::sh("command -v jq >/dev/null") != 0) {
    if (netmon::test::in_ci()) FAIL() << "jq is not installed";
    GTEST_SKIP() << "jq is not installed";
  }
  // netmon-host | jq, as the README shows: jq prints the ipv4/udp packet count of every interval.
  const std::string cmd = std::string(NETMON_TEST_HOST_BIN) + " --plugins xdp_stats --iface " + iface() +
                          " --sink json --interval 200ms --duration 3s | jq --unbuffered -c "
                          "'select(.measurement == \"xdp_stats_class\" and .tags.l3 == \"ipv4\" and .tags.l4 == "
                          "\"udp\") | .fields.packets'";
  Subprocess pipeline({"/bin/bash", "-o", "pipefail", "-c", cmd});
  const auto first = pipeline.read_line(10s);
  ASSERT_TRUE(first) << pipeline.stderr_text();
  const std::uint64_t base = std::stoull(*first);
  netmon::test::send_udp(veth(), kPackets, kPayload);
  std::string last = *first;
  while (auto line = pipeline.read_line(10s)) last = *line;
  const auto status = pipeline.wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0) << pipeline.stderr_text();
  EXPECT_EQ(std::stoull(last) - base, kPackets);
  expect_nothing_left();
}

TEST_F(E2eXdp, HeadClosingStdoutEndsCleanlyWithExitZero) {
  const std::string cmd = std::string(NETMON_TEST_HOST_BIN) + " --plugins xdp_stats --iface " + iface() +
                          " --sink json --interval 100ms | head -n 3 > /dev/null; exit ${PIPESTATUS[0]}";
  const auto r = netmon::test::run({"/bin/bash", "-c", cmd}, 20s);
  EXPECT_EQ(r.status.code, 0) << r.err;
  for (const auto& line : lines_of(r.err)) {
    EXPECT_EQ(line.find(": error:"), std::string::npos) << line;
    EXPECT_EQ(line.find(": warning:"), std::string::npos) << line;
  }
  expect_nothing_left();
}

class E2eStopSignal : public netmon::test::HostOnVethWithParam<int> {};

TEST_P(E2eStopSignal, StopsCleanlyAndDetaches) {
  Subprocess host(host_cmd(host_args({"--sink", "json", "--interval", "100ms"})));
  ASSERT_TRUE(next_json(host, sample_of("xdp_stats", {{"ifname", iface()}}), 10s)) << host.stderr_text();
  host.signal(GetParam());
  const auto status = host.wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0) << host.stderr_text();
  EXPECT_EQ(status->signal, 0);
  expect_nothing_left();
}

INSTANTIATE_TEST_SUITE_P(Signals, E2eStopSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& i) { return std::string(sigabbrev_np(i.param)); });

TEST_F(E2eXdp, SigkillLeavesNothingAttached) {
  {
    Subprocess host(host_cmd(host_args({"--sink", "json", "--interval", "100ms"})));
    ASSERT_TRUE(next_json(host, sample_of("xdp_stats", {{"ifname", iface()}}), 10s)) << host.stderr_text();
    host.signal(SIGKILL);
    ASSERT_TRUE(host.wait(10s));
  }
  // The bpf_link died with the process: the kernel detached the program.
  expect_nothing_left();
}

TEST_F(E2eXdp, ConsoleShowsTheSectionsOfARealRun) {
  // The traffic starts once every plugin is attached (--ready-file), not
  // after a guess at how long attaching takes.
  const std::string ready = (std::filesystem::temp_directory_path() / ("nmt-ready-" + iface())).string();
  Subprocess host(host_cmd(host_args({"--interval", "300ms", "--duration", "2s", "--ready-file", ready})));
  for (int i = 0; i < 200 && !std::filesystem::exists(ready); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(std::filesystem::exists(ready)) << "not attached within 10 s: " << host.stderr_text();
  netmon::test::send_udp(veth(), 1000, 100);
  const auto status = host.wait(15s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0) << host.stderr_text();
  const std::string out = host.stdout_rest();
  EXPECT_NE(out.find("Traffic Statistics ["), std::string::npos) << out;
  EXPECT_NE(out.find("Global Statistics:"), std::string::npos) << out;
  EXPECT_NE(out.find("  RX: 1.0K packets, 142.0 KB"), std::string::npos) << out;  // 1000 x (42 + 100) bytes
  EXPECT_NE(out.find("Average packet size: 142 bytes"), std::string::npos) << out;
  EXPECT_NE(out.find("  " + iface() + " (index "), std::string::npos) << out;
  EXPECT_NE(out.find("generic XDP"), std::string::npos) << out;
  expect_nothing_left();
}

TEST_F(E2eXdp, SamplesDocumentEveryMeasurementAndField) {
  const auto r = run_host({"--sink", "json", "--interval", "100ms", "--count", "2"}, 20s);
  ASSERT_EQ(r.status.code, 0) << r.err;
  const auto samples = netmon::test::json_lines(r.out);
  netmon::test::expect_documented(samples);
  EXPECT_GT(samples.size(), 20u);
}

// The sink template's lines ([PREFIX]TIMESTAMP MEASUREMENT key=value ...),
// split: "head" is the first word (prefix and timestamp), then the
// measurement, then every key=value.
struct SinkLine {
  std::string head;
  std::string measurement;
  std::map<std::string, std::string> kv;
};

std::vector<SinkLine> sink_lines(const std::string& path) {
  std::vector<SinkLine> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    SinkLine l;
    words >> l.head >> l.measurement;
    for (std::string w; words >> w;)
      if (const auto eq = w.find('='); eq != std::string::npos) l.kv[w.substr(0, eq)] = w.substr(eq + 1);
    out.push_back(std::move(l));
  }
  return out;
}

// Two instances of one sink (--sink linesink:A --sink linesink:B), each with
// options of its own (-o linesink#N.KEY=VALUE): each writes what its own
// options say, and the host tells them apart (linesink#1, linesink#2).
TEST_F(E2eXdp, TwoInstancesOfOneSinkTakeTheirOwnOptions) {
  const std::string dir = "/tmp/netmon-two-sinks-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string a = dir + "/a.txt", b = dir + "/b.txt";
  Subprocess host(host_cmd(host_args({"--plugin-dir", NETMON_TEST_SINK_TEMPLATE_DIR, "--plugins", "xdp_stats",
                                      "--interval", "200ms", "--sink", "json", "--sink", "linesink:" + a, "--sink",
                                      "linesink:" + b, "-o", "linesink#1.only=xdp_stats_class", "-o",
                                      "linesink#2.only=netmon_host_sink", "-o", "linesink#2.prefix=two:"})));
  const auto udp = sample_of("xdp_stats_class", {{"ifname", iface()}, {"l3", "ipv4"}, {"l4", "udp"}});
  ASSERT_TRUE(next_json(host, udp, 10s)) << host.stderr_text();
  constexpr std::uint64_t kSent = 1000;
  netmon::test::send_udp(veth(), kSent, kPayload);
  host.signal(SIGINT);
  while (host.read_line(10s)) {
  }
  const auto status = host.wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0) << host.stderr_text();

  // Instance 1: only xdp_stats_class, no prefix; every UDP packet counted.
  const auto one = sink_lines(a);
  std::vector<std::uint64_t> udp_packets;
  for (const auto& l : one) {
    EXPECT_EQ(l.measurement, "xdp_stats_class") << l.head;
    EXPECT_EQ(l.head.find("two:"), std::string::npos) << l.head;
    if (l.kv.count("ifname") && l.kv.at("ifname") == iface() && l.kv.count("l3") && l.kv.at("l3") == "ipv4" &&
        l.kv.count("l4") && l.kv.at("l4") == "udp")
      udp_packets.push_back(std::stoull(l.kv.at("packets")));
  }
  ASSERT_GE(udp_packets.size(), 2u) << "too few ipv4/udp lines in " << a;
  EXPECT_EQ(udp_packets.back() - udp_packets.front(), kSent);

  // Instance 2: only netmon_host_sink, every line prefixed; it names all three sinks.
  const auto two = sink_lines(b);
  ASSERT_FALSE(two.empty()) << "nothing in " << b;
  std::set<std::string> sinks;
  for (const auto& l : two) {
    EXPECT_EQ(l.head.rfind("two:", 0), 0u) << l.head;
    EXPECT_EQ(l.measurement, "netmon_host_sink") << l.head;
    if (l.kv.count("sink")) sinks.insert(l.kv.at("sink"));
  }
  EXPECT_EQ(sinks, (std::set<std::string>{"json", "linesink#1:" + a, "linesink#2:" + b}));
  std::filesystem::remove_all(dir);
  expect_nothing_left();
}

}  // namespace
