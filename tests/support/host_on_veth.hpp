// SPDX-License-Identifier: MIT
// The prologue most end-to-end tests share, as a fixture: root (or a skip, a
// failure under CI=true), a fresh veth pair, and netmon-host started on its
// host end. A suite names its fixture after itself, so the tests keep their
// names:
//
//   class E2eTc : public netmon::test::HostOnVeth {};
//   TEST_F(E2eTc, Counts) {
//     auto& host = start_host({"--plugins", "tc_stats", "--sink", "json"});  // --iface <host end> added
//     ...
//     expect_nothing_left();
//   }
#pragma once

#include <gtest/gtest.h>

#include <list>
#include <optional>
#include <string>
#include <vector>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace netmon::test {

class HostOnVeth : public ::testing::Test {
 protected:
  // ipv6: keep IPv6 on the pair (VethPair's addresses fd00:nm::1/2).
  explicit HostOnVeth(bool ipv6 = false) : ipv6_(ipv6) {}

  void SetUp() override {
    NETMON_REQUIRE_ROOT();  // a skip or a failure here: the test body does not run
    veth_.emplace(ipv6_);
  }

  [[nodiscard]] VethPair& veth() { return *veth_; }
  [[nodiscard]] const std::string& iface() const { return veth_->host_if(); }

  // netmon-host's arguments: --iface <host end>, then args.
  [[nodiscard]] std::vector<std::string> host_args(const std::vector<std::string>& args) const {
    std::vector<std::string> all{"--iface", iface()};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }

  // Starts netmon-host on the host end with args (give it --sink json for
  // HostRun to read). The fixture keeps it until the test ends, stopping it
  // (SIGKILL, if the test did not) before the pair goes.
  HostRun& start_host(const std::vector<std::string>& args) { return hosts_.emplace_back(host_args(args)); }

  // Runs netmon-host on the host end to its end (give it --count or
  // --duration) and returns what it wrote.
  [[nodiscard]] RunResult run_host(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    return run(host_cmd(host_args(args)), timeout);
  }

  // Nothing of netmon's left on the host end or in the kernel (host.hpp).
  void expect_nothing_left(bool clsact_expected = false) const {
    netmon::test::expect_nothing_left(iface(), clsact_expected);
  }

 private:
  bool ipv6_;
  std::optional<VethPair> veth_;
  std::list<HostRun> hosts_;  // destroyed first: the hosts stop before the pair is removed
};

// The same for a parameterized suite: GetParam() as in TEST_P.
template <class Param>
class HostOnVethWithParam : public HostOnVeth, public ::testing::WithParamInterface<Param> {};

}  // namespace netmon::test
