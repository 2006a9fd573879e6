// SPDX-License-Identifier: MIT
// The ipfix sink as netmon-host loads it (libnetmon_ipfix.so through the
// host's loader): flow records from any plugin exported to a UDP collector
// this test binds on loopback, snapshots and other events left out, options
// refused, and the exit summary with what was sent, lost and ignored.
#include "loader.hpp"

#include <netmon/error.hpp>
#include <netmon/sample.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const std::filesystem::path kPluginDir = NETMON_TEST_PLUGIN_DIR;

std::mutex log_mu;
std::vector<std::string> log_lines;
void capture(void*, int level, const char* msg) {
  std::lock_guard<std::mutex> lock(log_mu);
  log_lines.push_back(std::to_string(level) + " " + msg);
}
std::string logged() {
  std::lock_guard<std::mutex> lock(log_mu);
  std::string s;
  for (const auto& l : log_lines) s += l + "\n";
  return s;
}

netmon::Sample flow(const std::string& name, bool v6, const std::string& reason) {
  return netmon::Sample(name)
      .event()
      .tag("family", v6 ? "ipv6" : "ipv4")
      .tag("src", v6 ? "2001:db8::1" : "192.0.2.1")
      .tag("dst", v6 ? "2001:db8::2" : "192.0.2.2")
      .tag("sport", "1234")
      .tag("dport", "53")
      .tag("ifindex", "3")
      .tag("direction", "egress")
      .tag("reason", reason)
      .gauge("ip_proto", 17)
      .gauge("packets", 2)
      .gauge("ip_bytes", 150)
      .gauge("first_seen_ms", 1795536678000)
      .gauge("last_seen_ms", 1795536678500)
      .gauge("tcp_control_bits", 0);
}

struct Udp {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  Udp() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Udp() { ::close(fd); }
  // Data records in the datagrams waiting.
  unsigned records() {
    unsigned n = 0;
    std::vector<std::uint8_t> buf(65536);
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) return n;
      const ssize_t len = ::recv(fd, buf.data(), buf.size(), 0);
      for (ssize_t at = 16; at + 4 <= len;) {
        const unsigned id = (buf[at] << 8) | buf[at + 1], slen = (buf[at + 2] << 8) | buf[at + 3];
        if (id == 256) n += (slen - 4) / 57;
        if (id == 257) n += (slen - 4) / 81;
        if (slen < 4) break;
        at += slen;
      }
    }
  }
};

std::unique_ptr<netmon::host::SinkInstance> open_sink(const std::string& target, const std::string& options) {
  auto sink = std::make_unique<netmon::host::SinkInstance>(
      netmon::host::load_sink_library(kPluginDir / "libnetmon_ipfix.so"), "ipfix:" + target);
  netmon_sink_context ctx{};
  ctx.struct_size = sizeof ctx;
  ctx.target = target.c_str();
  ctx.interval_ns = 1'000'000'000;
  ctx.options_json = options.c_str();
  ctx.log = &capture;
  sink->open(ctx);
  return sink;
}

}  // namespace

TEST(IpfixSink, ExportsEveryPluginsFlowRecordsAndNothingElse) {
  Udp collector;
  {
    log_lines.clear();
    auto sink = open_sink("127.0.0.1:" + std::to_string(collector.port), R"({"domain": 9, "mtu": 200})");
    netmon::Batch b;
    b.samples.push_back(flow("flow_top_end", false, "idle"));
    b.samples.push_back(flow("someone_elses_flows", true, "whatever"));
    netmon::Sample snapshot = flow("flow_top", false, "idle");
    snapshot.kind = netmon::SampleKind::snapshot;  // a top-N row: not exported, not counted
    b.samples.push_back(snapshot);
    b.samples.push_back(netmon::Sample("dns_queries").event().tag("qname", "example.org"));  // not a flow record
    b.samples.push_back(netmon::Sample("xdp_stats").counter("packets", 1));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(sink->write(b), NETMON_OK);
    EXPECT_EQ(collector.records(), 20u);
    sink->close();
  }
  const std::string text = logged();
  EXPECT_THAT(text, HasSubstr("ignoring event 'dns_queries': not a flow record (no tag family)"));
  EXPECT_THAT(text, HasSubstr("20 records sent to 127.0.0.1:" + std::to_string(collector.port) +
                              " over udp, 0 lost; 10 events that are not flow records ignored"));
}

TEST(IpfixSink, AnAbsentCollectorIsCountedNotAnError) {
  std::uint16_t port = 0;
  {
    Udp gone;
    port = gone.port;
  }
  log_lines.clear();
  {
    auto sink = open_sink("127.0.0.1:" + std::to_string(port), "{}");
    netmon::Batch b;
    for (int i = 0; i < 5; ++i) b.samples.push_back(flow("f", i % 2, "tcp_fin"));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(sink->write(b), NETMON_OK);
    sink->close();
  }
  EXPECT_THAT(logged(), HasSubstr("0 records sent to 127.0.0.1:" + std::to_string(port) +
                                  " over udp, 20 lost (20 refused by the collector's host (ICMP unreachable))"));
}

TEST(IpfixSink, SaysSoWhenNoPluginPublishesFlowRecords) {
  Udp collector;
  log_lines.clear();
  {
    auto sink = open_sink("127.0.0.1:" + std::to_string(collector.port), "{}");
    netmon::Batch b;
    b.samples.push_back(netmon::Sample("xdp_stats").counter("packets", 1));
    for (int i = 0; i < 9; ++i) EXPECT_EQ(sink->write(b), NETMON_OK);
    EXPECT_THAT(logged(), Not(HasSubstr("no flow record")));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(sink->write(b), NETMON_OK);
    sink->close();
  }
  const std::string text = logged();
  EXPECT_THAT(text, HasSubstr("no flow record in 10 intervals: no plugin publishes them; flow_top does with -o "
                              "flow_top.finished=true"));
  EXPECT_EQ(text.find("no flow record"), text.rfind("no flow record")) << "said once";
}

TEST(IpfixSink, RefusesUnknownOptionsAndBadValues) {
  const auto refused = [](const std::string& target, const std::string& options) {
    try {
      open_sink(target, options);
    } catch (const netmon::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(refused("127.0.0.1:4739", R"({"colour": "red"})"),
              HasSubstr("unknown option ipfix.colour (valid: ipfix.transport, ipfix.mtu, ipfix.domain, "
                        "ipfix.template_refresh)"));
  EXPECT_THAT(refused("127.0.0.1:4739", R"({"mtu": 139})"), HasSubstr("option ipfix.mtu: 139 is below 140"));
  EXPECT_THAT(refused("127.0.0.1:4739", R"({"mtu": 65535, "transport": "tcp"})"), "accepted");
  EXPECT_THAT(refused("127.0.0.1:4739", R"({"domain": 4294967296})"), HasSubstr("option ipfix.domain"));
  EXPECT_THAT(refused("127.0.0.1:4739", R"({"template_refresh": 0})"), HasSubstr("option ipfix.template_refresh"));
  EXPECT_THAT(refused("127.0.0.1:4739", R"({"transport": "sctp"})"),
              HasSubstr("option ipfix.transport: expected one of udp, tcp"));
}
