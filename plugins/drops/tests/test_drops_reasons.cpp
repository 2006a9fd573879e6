// SPDX-License-Identifier: MIT
// The drop reasons' names as drops reads them from the running kernel's BTF
// (netmon::bpf::kernel_enum), against bpftool's own dump of the same enum:
// every value with its name, none missing, none extra.
#include <netmon/tracing.hpp>

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace {

// enum skb_drop_reason as `bpftool btf dump ... format raw` prints it:
//   [12217] ENUM 'skb_drop_reason' encoding=UNSIGNED size=4 vlen=131
//   	'SKB_NOT_DROPPED_YET' val=0
std::map<std::int64_t, std::string> bpftool_enum(const std::string& name) {
  std::istringstream in(netmon::test::sh_out("bpftool btf dump file /sys/kernel/btf/vmlinux format raw"));
  std::map<std::int64_t, std::string> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') {
      if (inside) break;
      inside = line.find(" ENUM '" + name + "' ") != std::string::npos;
      continue;
    }
    if (!inside) continue;
    const auto q1 = line.find('\''), q2 = line.rfind('\''), v = line.find(" val=");
    if (q1 == std::string::npos || q2 <= q1 || v == std::string::npos) continue;
    std::string n = line.substr(q1 + 1, q2 - q1 - 1);
    if (n.starts_with("SKB_DROP_REASON_")) n.erase(0, 16);
    out.emplace(std::stoll(line.substr(v + 5)), n);
  }
  return out;
}

TEST(DropReasons, NamesAreTheRunningKernelsEnumExactly) {
  if (!netmon::bpf::kernel_has_btf()) {
    if (netmon::test::in_ci()) FAIL() << "no /sys/kernel/btf/vmlinux, and CI=true forbids skipping";
    GTEST_SKIP() << "this kernel has no BTF";
  }
  const auto ours = netmon::bpf::kernel_enum("skb_drop_reason", "SKB_DROP_REASON_");
  const auto theirs = bpftool_enum("skb_drop_reason");
  ASSERT_GT(theirs.size(), 10u) << "bpftool printed no enum skb_drop_reason";
  EXPECT_EQ(ours, theirs);
  // The reasons the end-to-end tests cause, by their names.
  std::map<std::string, std::int64_t> by_name;
  for (const auto& [v, n] : ours) by_name.emplace(n, v);
  for (const char* r : {"NOT_SPECIFIED", "NO_SOCKET", "NETFILTER_DROP", "SOCKET_RCVBUFF"})
    EXPECT_TRUE(by_name.contains(r)) << r;
}

TEST(DropReasons, AMissingEnumOrBtfIsOneClearError) {
  EXPECT_EQ(netmon::bpf::kernel_btf_error("/nonexistent/vmlinux"), "/nonexistent/vmlinux does not exist");
  if (!netmon::bpf::kernel_has_btf()) {
    if (netmon::test::in_ci()) FAIL() << "no /sys/kernel/btf/vmlinux, and CI=true forbids skipping";
    GTEST_SKIP() << "this kernel has no BTF";
  }
  try {
    (void)netmon::bpf::kernel_enum("netmon_no_such_enum");
    FAIL() << "no throw";
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "the running kernel's BTF has no enum netmon_no_such_enum");
  }
}

}  // namespace
