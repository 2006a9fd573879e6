// SPDX-License-Identifier: MIT
// netmon/enum_names.hpp: one table per enum gives its names, parses them and
// lists them for messages; the SDK's own enums read and print through it.
#include <netmon/bpf.hpp>
#include <netmon/enum_names.hpp>
#include <netmon/error.hpp>
#include <netmon/tc.hpp>

#include <gtest/gtest.h>

#include <string>

#include "support/unit_util.hpp"

namespace {

using netmon::unit::error_of;

enum class Colour { red, green, blue, unnamed };

constexpr auto kColours = netmon::enum_names<Colour>({
    {Colour::red, "red"},
    {Colour::green, "green"},
    {Colour::blue, "blue"},
});

// The lookups are constexpr: a table can be checked at compile time.
static_assert(kColours.entries().size() == 3);
static_assert(std::string_view(kColours.name_of(Colour::green)) == "green");
static_assert(std::string_view(kColours.name_of(Colour::unnamed)) == "?");
static_assert(kColours.parse("blue") == Colour::blue);
static_assert(!kColours.parse("Blue").has_value());

TEST(EnumNames, NamesParseAndChoices) {
  EXPECT_STREQ(kColours.name_of(Colour::red), "red");
  EXPECT_STREQ(kColours.name_of(Colour::unnamed), "?");
  EXPECT_STREQ(kColours.name_of(Colour::unnamed, "none"), "none");
  EXPECT_EQ(kColours.parse("green"), Colour::green);
  EXPECT_FALSE(kColours.parse("").has_value());
  EXPECT_FALSE(kColours.parse("red ").has_value());
  EXPECT_EQ(kColours.choices(), "red, green or blue");
  EXPECT_EQ(netmon::enum_names<Colour>({{Colour::red, "red"}}).choices(), "red");
  EXPECT_EQ(netmon::enum_names<Colour>({{Colour::red, "red"}, {Colour::blue, "blue"}}).choices(), "red or blue");
}

TEST(EnumNames, XdpModeNamesAndMessages) {
  using netmon::bpf::XdpMode;
  for (const XdpMode m : {XdpMode::automatic, XdpMode::native, XdpMode::generic})
    EXPECT_EQ(netmon::bpf::parse_xdp_mode(netmon::bpf::to_string(m)), m);
  EXPECT_STREQ(netmon::bpf::to_string(XdpMode::automatic), "auto");
  EXPECT_STREQ(netmon::bpf::to_string(XdpMode::native), "native");
  EXPECT_STREQ(netmon::bpf::to_string(XdpMode::generic), "generic");
  EXPECT_EQ(error_of<netmon::Error>([] { netmon::bpf::parse_xdp_mode("hw"); }),
            "unknown XDP mode 'hw' (use auto, native or generic)");
}

TEST(EnumNames, TcModeAndDirectionNamesAndMessages) {
  using netmon::bpf::TcDirection;
  using netmon::bpf::TcMode;
  for (const TcMode m : {TcMode::automatic, TcMode::tcx, TcMode::netlink})
    EXPECT_EQ(netmon::bpf::parse_tc_mode(netmon::bpf::to_string(m)), m);
  EXPECT_STREQ(netmon::bpf::to_string(TcMode::automatic), "auto");
  EXPECT_STREQ(netmon::bpf::to_string(TcMode::tcx), "tcx");
  EXPECT_STREQ(netmon::bpf::to_string(TcMode::netlink), "netlink");
  EXPECT_STREQ(netmon::bpf::to_string(TcDirection::ingress), "ingress");
  EXPECT_STREQ(netmon::bpf::to_string(TcDirection::egress), "egress");
  EXPECT_EQ(error_of<netmon::Error>([] { netmon::bpf::parse_tc_mode("cls"); }),
            "unknown TC attach mode 'cls' (use auto, tcx or netlink)");
}

}  // namespace
