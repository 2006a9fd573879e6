// SPDX-License-Identifier: MIT
#include "support/traffic.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace netmon::test {

using namespace std::chrono_literals;

RunResult traffic(const VethPair& v, const std::string& args, std::chrono::milliseconds timeout) {
  auto r = run({"/bin/sh", "-c", v.in_ns(std::string(NETMON_TEST_TRAFFIC_BIN) + " --dst " + v.host_ip() + " " + args)},
               timeout);
  EXPECT_EQ(r.status.code, 0) << "netmon-traffic " << args << ": " << r.err;
  return r;
}

void send_udp(const VethPair& v, std::uint64_t n, std::uint64_t payload, int flows, int port, int sport) {
  traffic(v,
          "--port " + std::to_string(port) + " --count " + std::to_string(n) + " --size " + std::to_string(payload) +
              " --flows " + std::to_string(flows) + " --sport " + std::to_string(sport),
          60s);
}

TcpEchoServer::TcpEchoServer(const VethPair& v, int port)
    : p_(std::make_unique<Subprocess>(std::vector<std::string>{NETMON_TEST_TRAFFIC_BIN, "--tcp-server", "--dst",
                                                               v.host_ip(), "--port", std::to_string(port)})) {
  const auto line = p_->read_line(10s);
  if (!line || line->find("listening") == std::string::npos)
    ADD_FAILURE() << "TCP echo server did not start: " << p_->stderr_text();
}

TcpEchoServer::~TcpEchoServer() = default;

bool TcpEchoServer::finished(std::chrono::milliseconds timeout) {
  const auto st = p_->wait(timeout);
  return st && st->code == 0;
}

void tcp_exchanges(const VethPair& v, int port, std::uint64_t exchanges) {
  traffic(v, "--tcp --port " + std::to_string(port) + " --count " + std::to_string(exchanges), 60s);
}

TcpSegs tcp_segments(const VethPair& v) {
  // Two "Tcp:" lines: field names, then values.
  std::istringstream in(sh_out(v.in_ns("cat /proc/net/snmp")));
  std::string names, values, line;
  while (std::getline(in, line))
    if (line.rfind("Tcp:", 0) == 0) (names.empty() ? names : values) = line;
  std::istringstream n(names), val(values);
  TcpSegs s;
  std::string key, value;
  while (n >> key && val >> value) {
    if (key == "InSegs") s.in = std::stoull(value);
    if (key == "OutSegs") s.out = std::stoull(value);
  }
  return s;
}

IfCounters if_counters(const VethPair& v) {
  return {v.host_stat("rx_packets"), v.host_stat("rx_bytes"), v.host_stat("tx_packets"), v.host_stat("tx_bytes")};
}

std::uint64_t nstat(const VethPair& v, const std::string& name) {
  std::istringstream in(sh_out(v.in_ns("nstat -asz " + name)));
  for (std::string key, value, rest; in >> key;) {
    if (key == name && in >> value) return std::stoull(value);
    std::getline(in, rest);
  }
  ADD_FAILURE() << "nstat printed no " << name;
  return 0;
}

}  // namespace netmon::test
