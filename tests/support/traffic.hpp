// SPDX-License-Identifier: MIT
// Exact traffic across a VethPair, from its namespace, with netmon-traffic.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "support/netns.hpp"
#include "support/subprocess.hpp"

namespace netmon::test {

// Runs `netmon-traffic --dst <host side> ARGS` in the namespace; fails the
// test (gtest EXPECT) if it fails. Its stdout is its JSON report.
RunResult traffic(const VethPair& v, const std::string& args, std::chrono::milliseconds timeout);

// Sends exactly n UDP datagrams of `payload` bytes from the namespace to the
// host side's port, from `flows` source ports (40000, 40001, ...) in turn.
// Fails the test (gtest EXPECT) if the sender fails.
void send_udp(const VethPair& v, std::uint64_t n, std::uint64_t payload, int flows = 1, int port = 9000,
              int sport = 40000);

// A TCP echo server on the host side (netmon-traffic --tcp-server), for one connection.
class TcpEchoServer {
 public:
  TcpEchoServer(const VethPair& v, int port);
  ~TcpEchoServer();
  bool finished(std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<Subprocess> p_;
};

// A real TCP connection from the namespace: `exchanges` one-byte round trips.
void tcp_exchanges(const VethPair& v, int port, std::uint64_t exchanges);

// The namespace's TCP counters (/proc/net/snmp): segments sent and received.
struct TcpSegs {
  std::uint64_t out = 0;
  std::uint64_t in = 0;
};
TcpSegs tcp_segments(const VethPair& v);

// A counter of the namespace's SNMP MIBs as `nstat -asz NAME` prints it
// there (absolute, not against nstat's history file): UdpNoPorts,
// TcpRetransSegs, ... Fails the test (gtest) if nstat prints no such counter.
std::uint64_t nstat(const VethPair& v, const std::string& name);

// The host side's kernel interface counters.
struct IfCounters {
  std::uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};
IfCounters if_counters(const VethPair& v);

}  // namespace netmon::test
