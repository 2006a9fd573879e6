// SPDX-License-Identifier: MIT
// netmon::Options (framework/include/netmon/options.hpp): strict reading of a
// plugin's or sink's options object, with messages naming owner.key.
#include <netmon/error.hpp>
#include <netmon/options.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "support/unit_util.hpp"

using netmon::Error;
using netmon::Options;
using netmon::unit::error_of;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Options, DefaultsWhenAbsentOrNull) {
  const json j = json::parse(R"({"sort": null})");
  Options o(j, "flow_top");
  EXPECT_EQ(o.integer("top", 10, 1, 10000), 10);
  EXPECT_EQ(o.choice("sort", {"packets", "bytes"}, "packets"), "packets");
  EXPECT_EQ(o.boolean("ipv6", true), true);
  EXPECT_EQ(o.string("label", "none"), "none");
  EXPECT_NO_THROW(o.finish());
  EXPECT_EQ(o.keys(), (std::vector<std::string>{"top", "sort", "ipv6", "label"}));
}

TEST(Options, ReadsValuesOfTheRightType) {
  const json j = json::parse(R"({"top": 20, "sort": "bytes", "ipv6": false, "label": "x y", "neg": -5,
                                "big": 9223372036854775807})");
  Options o(j, "flow_top");
  EXPECT_EQ(o.integer("top", 10, 1, 10000), 20);
  EXPECT_EQ(o.choice("sort", {"packets", "bytes", "rate"}, "packets"), "bytes");
  EXPECT_FALSE(o.boolean("ipv6", true));
  EXPECT_EQ(o.string("label", ""), "x y");
  EXPECT_EQ(o.integer("neg", 0, -10, 10), -5);
  EXPECT_EQ(o.integer("big", 0, 0), std::numeric_limits<std::int64_t>::max());
  EXPECT_NO_THROW(o.finish());
}

TEST(Options, IntegerBelowRange) {
  const json j = json::parse(R"({"top": 0})");
  Options o(j, "flow_top");
  const auto msg = error_of<Error>([&] { o.integer("top", 10, 1, 10000); });
  EXPECT_THAT(msg, HasSubstr("flow_top.top"));
  EXPECT_THAT(msg, HasSubstr("0 is out of range"));
  EXPECT_THAT(msg, HasSubstr("1 to 10000"));
}

TEST(Options, IntegerAboveRange) {
  const json j = json::parse(R"({"top": 10001})");
  Options o(j, "flow_top");
  const auto msg = error_of<Error>([&] { o.integer("top", 10, 1, 10000); });
  EXPECT_THAT(msg, HasSubstr("flow_top.top"));
  EXPECT_THAT(msg, HasSubstr("10001"));
  EXPECT_THAT(msg, HasSubstr("1 to 10000"));
}

TEST(Options, IntegerBeyondInt64) {
  const json j = json::parse(R"({"top": 18446744073709551615})");
  Options o(j, "flow_top");
  const auto msg = error_of<Error>([&] { o.integer("top", 10, 1, 10000); });
  EXPECT_THAT(msg, HasSubstr("flow_top.top"));
  EXPECT_THAT(msg, HasSubstr("18446744073709551615"));
  EXPECT_THAT(msg, HasSubstr("out of range"));
}

TEST(Options, IntegerOfWrongType) {
  for (const char* text : {R"({"top": "ten"})", R"({"top": 2.5})", R"({"top": true})", R"({"top": [1]})"}) {
    const json j = json::parse(text);
    Options o(j, "flow_top");
    const auto msg = error_of<Error>([&] { o.integer("top", 10, 1, 10000); });
    EXPECT_THAT(msg, HasSubstr("option flow_top.top: expected an integer from 1 to 10000, got")) << text;
  }
  const json j = json::parse(R"({"top": "ten"})");
  Options o(j, "flow_top");
  EXPECT_THAT(error_of<Error>([&] { o.integer("top", 10, 1, 10000); }), HasSubstr("got string \"ten\""));
}

TEST(Options, ChoiceErrorListsAllowedValues) {
  const json j = json::parse(R"({"sort": "size"})");
  Options o(j, "flow_top");
  const auto msg = error_of<Error>([&] { o.choice("sort", {"packets", "bytes", "rate"}, "packets"); });
  EXPECT_THAT(msg, HasSubstr("flow_top.sort"));
  EXPECT_THAT(msg, HasSubstr("one of packets, bytes, rate"));
  EXPECT_THAT(msg, HasSubstr("\"size\""));
}

TEST(Options, ChoiceOfWrongType) {
  const json j = json::parse(R"({"mode": 1})");
  Options o(j, "xdp_stats");
  const auto msg = error_of<Error>([&] { o.choice("mode", {"native", "generic", "auto"}, "auto"); });
  EXPECT_THAT(msg, HasSubstr("xdp_stats.mode"));
  EXPECT_THAT(msg, HasSubstr("native, generic, auto"));
  EXPECT_THAT(msg, HasSubstr("number"));
}

TEST(Options, BooleanAndStringOfWrongType) {
  const json j = json::parse(R"({"ipv6": "yes", "label": 5})");
  Options o(j, "p");
  EXPECT_THAT(error_of<Error>([&] { o.boolean("ipv6", false); }),
              HasSubstr("option p.ipv6: expected true or false, got string \"yes\""));
  EXPECT_THAT(error_of<Error>([&] { o.string("label", ""); }), HasSubstr("option p.label: expected a string, got number 5"));
}

TEST(Options, LongValuesAreShortenedInMessages) {
  const json j = json{{"label", std::string(200, 'x')}};
  Options o(j, "p");
  const auto msg = error_of<Error>([&] { o.integer("label", 0, 0, 1); });
  EXPECT_LT(msg.size(), 200u);
  EXPECT_THAT(msg, HasSubstr("..."));
}

TEST(Options, UnknownKeyRefusedByFinishListingValidKeys) {
  const json j = json::parse(R"({"top": 5, "sortt": "bytes"})");
  Options o(j, "flow_top");
  o.integer("top", 10, 1, 10000);
  o.choice("sort", {"packets", "bytes"}, "packets");
  const auto msg = error_of<Error>([&] { o.finish(); });
  EXPECT_THAT(msg, HasSubstr("unknown option flow_top.sortt"));
  EXPECT_THAT(msg, HasSubstr("valid: flow_top.top, flow_top.sort"));
}

TEST(Options, UnknownKeyWhenNoOptionsAreTaken) {
  const json j = json::parse(R"({"x": 1})");
  Options o(j, "console");
  const auto msg = error_of<Error>([&] { o.finish(); });
  EXPECT_THAT(msg, HasSubstr("unknown option console.x"));
  EXPECT_THAT(msg, HasSubstr("takes no options"));
  EXPECT_THAT(msg, Not(HasSubstr("valid:")));
}

TEST(Options, EmptyObjectFinishes) {
  const json j = json::object();
  Options o(j, "console");
  EXPECT_NO_THROW(o.finish());
}

TEST(Options, NonObjectIsRefused) {
  for (const char* text : {"[1,2]", "5", "\"s\"", "null"}) {
    const json j = json::parse(text);
    const auto msg = error_of<Error>([&] { Options o(j, "csv"); });
    EXPECT_THAT(msg, HasSubstr("options of csv must be a JSON object, got")) << text;
  }
}

TEST(Options, StringMapReadsAnObjectOfStrings) {
  Options o(json{{"users", {{"alice", "h1"}, {"bob", "h2"}}}}, "prometheus");
  const auto m = o.string_map("users");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("alice"), "h1");
  EXPECT_EQ(m.at("bob"), "h2");
  EXPECT_TRUE(Options(json::object(), "prometheus").string_map("users").empty());
}

TEST(Options, StringMapRefusesOtherShapes) {
  EXPECT_THAT(error_of([] { Options(json{{"users", "alice"}}, "prometheus").string_map("users"); }),
              HasSubstr("option prometheus.users: expected an object of strings"));
  EXPECT_THAT(error_of([] { Options(json{{"users", {{"alice", 3}}}}, "prometheus").string_map("users"); }),
              HasSubstr("option prometheus.users: the value of \"alice\" must be a string, got number 3"));
}
