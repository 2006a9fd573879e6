// SPDX-License-Identifier: MIT
// netmon::Options (framework/include/netmon/options.hpp): strict reading of a
// plugin's or sink's options object, with messages naming owner.key.
#include <netmon/error.hpp>
#include <netmon/options.hpp>
#include <netmon/plugin.hpp>

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
  EXPECT_THAT(error_of<Error>([&] { o.string("label", ""); }),
              HasSubstr("option p.label: expected a string, got number 5"));
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
  EXPECT_THAT(error_of([] {
                Options(json{{"users", "alice"}}, "prometheus").string_map("users");
              }),
              HasSubstr("option prometheus.users: expected an object of strings"));
  EXPECT_THAT(error_of([] {
                Options(json{{"users", {{"alice", 3}}}}, "prometheus").string_map("users");
              }),
              HasSubstr("option prometheus.users: the value of \"alice\" must be a string, got number 3"));
}

TEST(Options, StringMapOfTheWrongShapeIsAUsageError) {
  for (const json& users : {json("alice"), json{{"alice", 3}}}) {
    Options o(json{{"users", users}}, "prometheus");
    EXPECT_THAT(error_of<netmon::UsageError>([&] { o.string_map("users"); }), HasSubstr("option prometheus.users"));
  }
}

// ---- declarations: each option's key, values and default written once --------

namespace opt = netmon::option;
using namespace std::chrono_literals;

constexpr opt::Integer kTop{.key = "top", .min = 1, .max = 1000, .def = 10, .help = "flows published per interval"};
constexpr opt::Choice kSort{
    .key = "sort", .values = "packets|bytes|rate", .def = "packets", .help = "ranking (rate: bytes/s)"};
constexpr opt::Boolean kFinished{.key = "finished", .def = false, .help = "publish ended flows"};
constexpr opt::Duration kIdle{
    .key = "idle_timeout", .min = 10ms, .max = 7 * 24h, .def = 30min, .help = "a flow idle this long ends"};
constexpr opt::String kCert{.key = "tls_cert_file", .values = "PATH", .help = "PEM certificate"};
constexpr opt::String kLabel{.key = "label", .def = "x", .help = "a label"};
constexpr opt::StringMap kUsers{.key = "users", .values = R"({"USER": "HASH", ...})", .help = "who may"};
constexpr netmon::OptionList kDeclared{kTop, kSort, kFinished, kIdle, kCert, kLabel, kUsers};
static_assert(kDeclared.specs().size() == 7);
static_assert(kDeclared.specs()[1].def_text == "packets");

TEST(OptionDeclarations, DefaultsWhenAbsentOrNull) {
  Options o(json::parse(R"({"sort": null})"), "flow_top", kDeclared);
  EXPECT_EQ(o.get(kTop), 10);
  EXPECT_EQ(o.get(kSort), "packets");
  EXPECT_FALSE(o.get(kFinished));
  EXPECT_EQ(o.get(kIdle), 30min);
  EXPECT_EQ(o.get(kCert), "");
  EXPECT_EQ(o.get(kLabel), "x");
  EXPECT_TRUE(o.get(kUsers).empty());
  EXPECT_NO_THROW(o.finish());
}

TEST(OptionDeclarations, ReadsWhatTheUserGave) {
  Options o(json::parse(R"({"top": 20, "sort": "rate", "finished": true, "idle_timeout": "2m",
                            "tls_cert_file": "/etc/c.pem", "label": "y", "users": {"a": "h"}})"),
            "flow_top", kDeclared);
  EXPECT_EQ(o.get(kTop), 20);
  EXPECT_EQ(o.get(kSort), "rate");
  EXPECT_TRUE(o.get(kFinished));
  EXPECT_EQ(o.get(kIdle), 2min);
  EXPECT_EQ(o.get(kCert), "/etc/c.pem");
  EXPECT_EQ(o.get(kLabel), "y");
  EXPECT_EQ(o.get(kUsers).at("a"), "h");
  EXPECT_NO_THROW(o.finish());
}

TEST(OptionDeclarations, RefusesInTheSameWordsAsReadingByKey) {
  const auto refused = [](const char* text, auto read) {
    Options o(json::parse(text), "flow_top", kDeclared);
    return error_of<netmon::UsageError>([&] { read(o); });
  };
  EXPECT_EQ(refused(R"({"top": 0})", [](Options& o) { o.get(kTop); }),
            "option flow_top.top: 0 is out of range (1 to 1000)");
  EXPECT_EQ(refused(R"({"top": "ten"})", [](Options& o) { o.get(kTop); }),
            "option flow_top.top: expected an integer from 1 to 1000, got string \"ten\"");
  EXPECT_EQ(refused(R"({"sort": "size"})", [](Options& o) { o.get(kSort); }),
            "option flow_top.sort: expected one of packets, bytes, rate, got string \"size\"");
  EXPECT_EQ(refused(R"({"finished": "yes"})", [](Options& o) { o.get(kFinished); }),
            "option flow_top.finished: expected true or false, got string \"yes\"");
  EXPECT_EQ(refused(R"({"idle_timeout": "8d"})", [](Options& o) { o.get(kIdle); }),
            "option flow_top.idle_timeout: '8d' has an unknown unit 'd' (use a duration such as 1s, 500ms, 2m)");
  EXPECT_EQ(refused(R"({"idle_timeout": "200h"})", [](Options& o) { o.get(kIdle); }),
            "option flow_top.idle_timeout: \"200h\" is out of range (10ms to 168h)");
  EXPECT_EQ(refused(R"({"label": 5})", [](Options& o) { o.get(kLabel); }),
            "option flow_top.label: expected a string, got number 5");
  EXPECT_THAT(refused(R"({"users": [1]})", [](Options& o) { o.get(kUsers); }),
              HasSubstr("option flow_top.users: expected an object of strings"));
}

TEST(OptionDeclarations, UnknownKeyListsTheDeclaredKeysInTheirOrder) {
  Options o(json::parse(R"({"tpo": 5})"), "flow_top", kDeclared);
  o.get(kSort);  // read order does not matter
  o.get(kTop);
  EXPECT_EQ(error_of<netmon::UsageError>([&] { o.finish(); }),
            "unknown option flow_top.tpo (valid: flow_top.top, flow_top.sort, flow_top.finished, "
            "flow_top.idle_timeout, flow_top.tls_cert_file, flow_top.label, flow_top.users)");
}

TEST(OptionDeclarations, ReadingWhatIsNotDeclaredIsABug) {
  constexpr opt::Integer kOther{.key = "other", .def = 1, .help = "not in the list"};
  Options o(json::object(), "p", kDeclared);
  EXPECT_THAT(error_of<std::logic_error>([&] { o.get(kOther); }),
              HasSubstr("option p.other is read but not in the declarations given to netmon::Options"));
  // A declared option the user gave but the plugin never read.
  Options unread(json::parse(R"({"label": "z"})"), "p", kDeclared);
  unread.get(kTop);
  EXPECT_THAT(error_of<std::logic_error>([&] { unread.finish(); }),
              HasSubstr("option p.label is declared but was not read"));
}

TEST(OptionDeclarations, ACheckRunsBeforeTheRange) {
  constexpr opt::Integer kMtu{.key = "mtu", .min = 140, .max = 65535, .def = 1400, .help = "largest message"};
  constexpr netmon::OptionList kList{kMtu};
  const auto read = [&](const json& j) {
    Options o(j, "ipfix", kList);
    return o.get(kMtu, [](std::int64_t v) {
      if (v < 140) throw netmon::UsageError("option ipfix.mtu: " + std::to_string(v) + " is below 140, too small");
      if (v > 65507) throw netmon::UsageError("option ipfix.mtu: above what UDP carries");
    });
  };
  EXPECT_EQ(read(json{{"mtu", 1200}}), 1200);
  EXPECT_EQ(read(json::object()), 1400) << "the default is not checked";
  const json small{{"mtu", 100}}, large{{"mtu", 65535}};
  EXPECT_EQ(error_of<netmon::UsageError>([&] { read(small); }), "option ipfix.mtu: 100 is below 140, too small");
  EXPECT_EQ(error_of<netmon::UsageError>([&] { read(large); }), "option ipfix.mtu: above what UDP carries");
  EXPECT_THAT(error_of<netmon::UsageError>([&] {
                read(json{{"mtu", "big"}});
              }),
              HasSubstr("expected an integer from 140 to 65535"));
}

TEST(OptionDeclarations, HelpIsMadeFromTheDeclarations) {
  EXPECT_EQ(netmon::options_help(kDeclared),
            "option         values                 default  meaning\n"
            "top            1..1000                10       flows published per interval\n"
            "sort           packets|bytes|rate     packets  ranking (rate: bytes/s)\n"
            "finished       true|false             false    publish ended flows\n"
            "idle_timeout   10ms..168h             30m      a flow idle this long ends\n"
            "tls_cert_file  PATH                   none     PEM certificate\n"
            "label          TEXT                   x        a label\n"
            "users          {\"USER\": \"HASH\", ...}  none     who may");
  EXPECT_EQ(netmon::options_help(std::span<const netmon::OptionSpec>{}), "");
  EXPECT_EQ(netmon::option_values_text(opt::Integer{.key = "n", .min = 5, .def = 5, .help = "h"}), "5 or more");
  EXPECT_EQ(netmon::option_values_text(opt::Duration{.key = "d", .min = 250us, .max = 90min, .def = 1s, .help = "h"}),
            "250us..90m");
  EXPECT_EQ(netmon::option_default_text(opt::Duration{.key = "d", .min = 1ns, .max = 1h, .def = 1500ms, .help = "h"}),
            "1500ms");
}

TEST(OptionDeclarations, TheHelpOfADescriptorIsMadeFromTheList) {
  EXPECT_EQ(netmon::detail::help_text(kDeclared), netmon::options_help(kDeclared));
  EXPECT_EQ(netmon::detail::help_text("a  b  c  d"), "a  b  c  d");
  EXPECT_EQ(netmon::detail::c_str_or_null(netmon::detail::help_text(nullptr)), nullptr);
}

// A declaration that contradicts itself: a compile error when constexpr (as
// the SDK's declarations are), std::logic_error when made at run time.
TEST(OptionDeclarations, AContradictoryDeclarationIsRefused) {
  using netmon::OptionSpec;
  const auto why = [](auto make) { return error_of<std::logic_error>(make); };
  EXPECT_THAT(why([] { OptionSpec(opt::Integer{.key = "n", .min = 1, .max = 10, .def = 11, .help = "h"}); }),
              HasSubstr("default is out of its range"));
  EXPECT_THAT(why([] { OptionSpec(opt::Integer{.key = "n", .min = 10, .max = 1, .def = 5, .help = "h"}); }),
              HasSubstr("min is above its max"));
  EXPECT_THAT(why([] { OptionSpec(opt::Choice{.key = "c", .values = "a|b", .def = "c", .help = "h"}); }),
              HasSubstr("not one of its values"));
  EXPECT_THAT(why([] { OptionSpec(opt::Choice{.key = "c", .values = "a||b", .def = "a", .help = "h"}); }),
              HasSubstr("words separated by '|'"));
  EXPECT_THAT(why([] { OptionSpec(opt::Duration{.key = "d", .min = 1s, .max = 2s, .def = 3s, .help = "h"}); }),
              HasSubstr("default is out of its range"));
  EXPECT_THAT(why([] { OptionSpec(opt::Boolean{.key = "a.b", .help = "h"}); }), HasSubstr("a key must be"));
  EXPECT_THAT(why([] { OptionSpec(opt::Boolean{.key = "b", .help = "two\nlines"}); }), HasSubstr("one line"));
  EXPECT_THAT(why([] { OptionSpec(opt::String{.key = "s", .values = "A  B", .help = "h"}); }),
              HasSubstr("one short line"));
  EXPECT_THAT(
      why([] { netmon::OptionList<2>(opt::Boolean{.key = "b", .help = "h"}, opt::Integer{.key = "b", .help = "h"}); }),
      HasSubstr("declared twice"));
}
