// SPDX-License-Identifier: MIT
// XDP attach modes and coexistence: auto picks generic on veth and falls back
// (logged) where the driver has no native XDP; a program already attached is
// never replaced.
#include <netmon/bpf.hpp>

#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <net/if.h>

#include "foreign_xdp.skel.h"
#include "support/host.hpp"
#include "support/host_on_veth.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::host_cmd;
using netmon::test::lines_of;

// The mode reported by the first xdp_stats sample of a one-interval run.
std::string mode_of(const netmon::test::RunResult& r, const std::string& ifname) {
  for (const auto& line : lines_of(r.out)) {
    const auto j = nlohmann::json::parse(line);
    if (j["measurement"] == "xdp_stats" && j["tags"]["ifname"] == ifname) return j["fields"]["mode"];
  }
  return "";
}

// Root, a veth pair, netmon-host on its host end.
class XdpModes : public netmon::test::HostOnVeth {};

TEST_F(XdpModes, AutoOnVethIsGeneric) {
  const auto r = run_host({"--sink", "json", "--count", "1", "--interval", "100ms"});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(mode_of(r, iface()), "generic");
}

TEST_F(XdpModes, NativeOnVethWhenAsked) {
  const auto r = run_host({"--sink", "json", "--count", "1", "--interval", "100ms", "-o", "xdp_stats.mode=native"});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(mode_of(r, iface()), "native");
  EXPECT_EQ(netmon::test::xdp_prog_id(iface()), 0u);
}

// A bridge has no native XDP (and, unlike dummy, needs no extra module): auto falls back, saying so; native fails.
class NoNativeXdpIface : public ::testing::Test {
 protected:
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    name_ = "nmtd" + std::to_string(getpid() % 100000);
    ASSERT_EQ(netmon::test::sh("ip link add " + name_ + " type bridge && ip link set " + name_ + " up"), 0);
  }
  void TearDown() override {
    if (!name_.empty()) netmon::test::sh("ip link del " + name_ + " 2>/dev/null");
  }
  std::string name_;
};

TEST_F(NoNativeXdpIface, AutoFallsBackToGenericAndSaysSo) {
  const auto r =
      netmon::test::run(host_cmd({"--iface", name_, "--sink", "json", "--count", "1", "--interval", "100ms"}));
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(mode_of(r, name_), "generic");
  EXPECT_NE(r.err.find(name_ + ": driver has no native XDP support; falling back to generic XDP"), std::string::npos)
      << r.err;
}

TEST_F(NoNativeXdpIface, NativeIsRefusedWithAClearError) {
  const auto r =
      netmon::test::run(host_cmd({"--iface", name_, "--sink", "json", "--count", "1", "-o", "xdp_stats.mode=native"}));
  EXPECT_EQ(r.status.code, 1);
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("cannot attach the XDP program in native mode"), std::string::npos) << lines[0];
  EXPECT_EQ(netmon::test::xdp_prog_id(name_), 0u);
}

// Someone else's program on the interface, attached the old way (netlink).
class ForeignXdp : public netmon::test::HostOnVethWithParam<std::uint32_t> {};

TEST_P(ForeignXdp, IsNeverReplaced) {
  auto foreign = netmon::bpf::Skeleton<foreign_xdp>::open_and_load("foreign_xdp");
  const int ifindex = static_cast<int>(if_nametoindex(iface().c_str()));
  ASSERT_EQ(bpf_xdp_attach(ifindex, bpf_program__fd(foreign->progs.foreign_xdp), GetParam(), nullptr), 0);
  const std::uint32_t foreign_id = netmon::test::xdp_prog_id(iface());
  ASSERT_NE(foreign_id, 0u);

  const auto r = run_host({"--sink", "json", "--count", "1"});
  EXPECT_EQ(r.status.code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  const auto lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("'foreign_xdp' (id " + std::to_string(foreign_id)), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("never replaces"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("ip link set dev " + iface() + " xdp off"), std::string::npos) << lines[0];
  // The foreign program is still there, untouched.
  EXPECT_EQ(netmon::test::xdp_prog_id(iface()), foreign_id);
  EXPECT_EQ(bpf_xdp_detach(ifindex, GetParam(), nullptr), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, ForeignXdp, ::testing::Values(XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE),
                         [](const ::testing::TestParamInfo<std::uint32_t>& i) {
                           return std::string(i.param == XDP_FLAGS_SKB_MODE ? "generic" : "native");
                         });

}  // namespace
