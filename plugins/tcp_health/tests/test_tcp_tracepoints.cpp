// SPDX-License-Identifier: MIT
// How many arguments the running kernel passes to its TCP tracepoints, as
// tcp_health reads them (netmon::bpf::kernel_tracepoint_args) to choose its
// program, against bpftool's own dump of the same prototypes.
#include <netmon/tracing.hpp>

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace {

// From `bpftool btf dump ... format raw`:
//   [38273] TYPEDEF 'btf_trace_tcp_retransmit_skb' type_id=38274
//   [38274] PTR '(anon)' type_id=38275
//   [38275] FUNC_PROTO '(anon)' ret_type_id=0 vlen=4
// the prototype's vlen less the context, per tracepoint; -1 if absent.
std::map<std::string, int> bpftool_tracepoint_args(const std::vector<std::string>& names) {
  std::istringstream in(netmon::test::sh_out("bpftool btf dump file /sys/kernel/btf/vmlinux format raw"));
  std::map<std::string, int> out;
  for (const auto& n : names) out[n] = -1;
  std::map<long, long> points_to;
  std::map<long, std::pair<std::string, int>> types;  // id -> (kind, vlen)
  std::map<std::string, long> typedef_id;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '[') continue;
    const long id = std::stol(line.substr(1));
    const auto sp = line.find("] ") + 2;
    const std::string kind = line.substr(sp, line.find(' ', sp) - sp);
    const auto t = line.find(" type_id="), v = line.find(" vlen=");
    if (t != std::string::npos) points_to[id] = std::stol(line.substr(t + 9));
    types[id] = {kind, v == std::string::npos ? -1 : std::stoi(line.substr(v + 6))};
    for (const auto& n : names)
      if (kind == "TYPEDEF" && line.find("'btf_trace_" + n + "'") != std::string::npos) typedef_id[n] = id;
  }
  for (const auto& [n, id] : typedef_id) {
    long at = id;
    while (types.count(at) && (types[at].first == "TYPEDEF" || types[at].first == "PTR") && points_to.count(at))
      at = points_to[at];
    if (types.count(at) && types[at].first == "FUNC_PROTO") out[n] = types[at].second - 1;
  }
  return out;
}

TEST(TcpTracepoints, ArgumentCountsAreTheRunningKernelsPrototypes) {
  if (!netmon::bpf::kernel_has_btf()) {
    if (netmon::test::in_ci()) FAIL() << "no /sys/kernel/btf/vmlinux, and CI=true forbids skipping";
    GTEST_SKIP() << "this kernel has no BTF";
  }
  const std::vector<std::string> names{"tcp_retransmit_skb", "tcp_retransmit_synack",
                                       "tcp_send_reset",     "tcp_receive_reset",
                                       "kfree_skb",          "netmon_no_such_tracepoint"};
  const auto theirs = bpftool_tracepoint_args(names);
  for (const auto& n : names) EXPECT_EQ(netmon::bpf::kernel_tracepoint_args(n), theirs.at(n)) << n;
  // tcp_health reads (sk, skb[, err]) and (sk): every kernel with these has them.
  EXPECT_GE(theirs.at("tcp_retransmit_skb"), 2);
  EXPECT_EQ(theirs.at("tcp_receive_reset"), 1);
  EXPECT_EQ(theirs.at("netmon_no_such_tracepoint"), -1);
}

}  // namespace
