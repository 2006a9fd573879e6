// SPDX-License-Identifier: MIT
// The C API of the support library (<netmon/support.h>) without privileges:
// options read from C give the very messages of netmon::Options, errors come
// back as return values and messages, logging formats. The BPF parts (per-CPU
// reads, TC attach) are in tests/bpf/test_c_api_bpf.cpp.
#include <netmon/options.hpp>
#include <netmon/support.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "c_api_probe.h"

namespace {

using namespace std::chrono_literals;

// The same options read by a C++ plugin: the message it would report, or "".
std::string cpp_configure(const std::string& text, c_api_probe_options* out) {
  try {
    netmon::Options opts(nlohmann::json::parse(text), "probe");
    out->top = opts.integer("top", 10, 1, 10000);
    const std::string sort = opts.choice("sort", {"packets", "bytes", "rate"}, "packets");
    out->sort = nullptr;
    for (const char* s : c_api_probe_sorts)
      if (sort == s) out->sort = s;
    out->verbose = opts.boolean("verbose", false) ? 1 : 0;
    out->window_ns = opts.duration("window", 1s, 100ms, 60s).count();
    const std::string label = opts.string("label", "none");
    std::snprintf(out->label, sizeof out->label, "%s", label.c_str());
    opts.finish();
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

class COptionsWording : public ::testing::TestWithParam<std::string> {};

TEST_P(COptionsWording, EqualsTheCppOptions) {
  const std::string& text = GetParam();
  c_api_probe_options c{}, cpp{};
  char msg[512] = "untouched";
  const int rc = c_api_probe_configure(text.c_str(), &c, msg, sizeof msg);
  const std::string want = cpp_configure(text, &cpp);
  if (want.empty()) {
    ASSERT_EQ(rc, 0) << msg;
    EXPECT_EQ(c.top, cpp.top);
    EXPECT_EQ(c.sort, cpp.sort);  // the very element of the table
    EXPECT_EQ(c.verbose, cpp.verbose);
    EXPECT_EQ(c.window_ns, cpp.window_ns);
    EXPECT_STREQ(c.label, cpp.label);
  } else {
    EXPECT_EQ(rc, -1);
    EXPECT_EQ(std::string(msg), want);
  }
}

INSTANTIATE_TEST_SUITE_P(Inputs, COptionsWording,
                         ::testing::Values("{}",
                                           R"({"top":5,"sort":"bytes","verbose":true,"window":"500ms","label":"x y"})",
                                           R"({"top":null,"sort":null})", R"({"window":2})", R"({"top":0})",
                                           R"({"top":10001})", R"({"top":"5"})", R"({"top":1.5})",
                                           R"({"top":18446744073709551615})", R"({"sort":"size"})", R"({"sort":3})",
                                           R"({"verbose":1})", R"({"window":"5m"})", R"({"window":"bogus"})",
                                           R"({"window":-1})", R"({"label":3})", R"({"tpo":1})",
                                           R"({"top":5,"sortt":"bytes"})", "[1]", "7", "{not json"));

// The wording itself, once, so that both sides cannot drift together unseen.
TEST(COptions, MessagesNameTheOptionAndWhatIsAccepted) {
  c_api_probe_options c{};
  char msg[512];
  ASSERT_EQ(c_api_probe_configure(R"({"top":0})", &c, msg, sizeof msg), -1);
  EXPECT_STREQ(msg, "option probe.top: 0 is out of range (1 to 10000)");
  ASSERT_EQ(c_api_probe_configure(R"({"sort":"size"})", &c, msg, sizeof msg), -1);
  EXPECT_STREQ(msg, R"(option probe.sort: expected one of packets, bytes, rate, got string "size")");
  ASSERT_EQ(c_api_probe_configure(R"({"tpo":1})", &c, msg, sizeof msg), -1);
  EXPECT_STREQ(msg,
               "unknown option probe.tpo (valid: probe.top, probe.sort, probe.verbose, probe.window, probe.label)");
  ASSERT_EQ(c_api_probe_configure("[1]", &c, msg, sizeof msg), -1);
  EXPECT_STREQ(msg, "options of probe must be a JSON object, got array");
}

TEST(COptions, TheFirstFailureSticksAndLaterReadersGiveTheirDefault) {
  const char* sort = "untouched";
  char msg[512];
  // top fails; sort is valid, yet its reader refuses and leaves the default.
  EXPECT_EQ(c_api_probe_sticky(R"({"top":0,"sort":"bytes"})", &sort, msg, sizeof msg), NETMON_ERROR);
  EXPECT_STREQ(sort, "packets");
  EXPECT_STREQ(msg, "option probe.top: 0 is out of range (1 to 10000)");
  EXPECT_EQ(c_api_probe_sticky(R"({"sort":"bytes"})", &sort, msg, sizeof msg), NETMON_OK);
  EXPECT_EQ(sort, c_api_probe_sorts[1]);
  EXPECT_STREQ(msg, "");
}

TEST(COptions, NullArgumentsAreErrorsNotCrashes) {
  char err[128] = "";
  EXPECT_EQ(netmon_options_open("{}", nullptr, err, sizeof err), nullptr);
  EXPECT_STREQ(err, "netmon_options_open: the owner (the plugin's name) must be given");
  EXPECT_EQ(netmon_options_open("{", "probe", nullptr, 0), nullptr);  // no buffer: nothing written
  int64_t v = 7;
  EXPECT_EQ(netmon_options_integer(nullptr, "top", 1, 0, 10, &v), NETMON_ERROR);
  EXPECT_EQ(v, 1);
  EXPECT_EQ(netmon_options_finish(nullptr), NETMON_ERROR);
  EXPECT_STREQ(netmon_options_error(nullptr), "");
  netmon_options_close(nullptr);

  netmon_options* o = netmon_options_open(nullptr, "probe", err, sizeof err);  // NULL: "{}"
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(netmon_options_integer(o, nullptr, 1, 0, 10, &v), NETMON_ERROR);
  EXPECT_STREQ(netmon_options_error(o), "netmon_options_integer: the key and the output must not be NULL");
  netmon_options_close(o);

  o = netmon_options_open("{}", "probe", err, sizeof err);
  const char* s = "x";
  EXPECT_EQ(netmon_options_choice(o, "sort", nullptr, 0, "a", &s), NETMON_ERROR);
  EXPECT_STREQ(netmon_options_error(o), "netmon_options_choice: no choices given for sort");
  netmon_options_close(o);
}

TEST(COptions, StringsLiveInTheHandleAndANullDefaultIsEmpty) {
  char err[128];
  netmon_options* o = netmon_options_open(R"({"a":"alpha"})", "probe", err, sizeof err);
  ASSERT_NE(o, nullptr);
  const char *a = nullptr, *b = nullptr;
  ASSERT_EQ(netmon_options_string(o, "a", "d", &a), NETMON_OK);
  ASSERT_EQ(netmon_options_string(o, "b", nullptr, &b), NETMON_OK);
  int flag = 5;
  ASSERT_EQ(netmon_options_boolean(o, "c", 1, &flag), NETMON_OK);
  EXPECT_EQ(netmon_options_finish(o), NETMON_OK);
  EXPECT_STREQ(a, "alpha");
  EXPECT_STREQ(b, "");
  EXPECT_EQ(flag, 1);
  netmon_options_close(o);
}

TEST(CTc, ModesParseAndName) {
  EXPECT_EQ(netmon_tc_mode_parse("auto"), NETMON_TC_AUTO);
  EXPECT_EQ(netmon_tc_mode_parse("tcx"), NETMON_TC_TCX);
  EXPECT_EQ(netmon_tc_mode_parse("netlink"), NETMON_TC_NETLINK);
  EXPECT_EQ(netmon_tc_mode_parse("TCX"), -1);
  EXPECT_EQ(netmon_tc_mode_parse(nullptr), -1);
  EXPECT_STREQ(netmon_tc_mode_name(NETMON_TC_NETLINK), "netlink");
  EXPECT_STREQ(netmon_tc_mode_name(9), "?");
  EXPECT_EQ(netmon_tc_link_mode(nullptr), -1);
  netmon_tc_detach(nullptr);
}

TEST(CTc, BadArgumentsComeBackAsMessages) {
  char err[256] = "";
  EXPECT_EQ(netmon_tc_attach(nullptr, 1, "lo", NETMON_TC_INGRESS, NETMON_TC_AUTO, 1, nullptr, nullptr, err, sizeof err),
            nullptr);
  EXPECT_STREQ(err, "lo: netmon_tc_attach: no program (NULL); load the BPF object first");
  // Truncated to the buffer, NUL-terminated.
  char tiny[8];
  EXPECT_EQ(
      netmon_tc_attach(nullptr, 1, "lo", NETMON_TC_INGRESS, NETMON_TC_AUTO, 1, nullptr, nullptr, tiny, sizeof tiny),
      nullptr);
  EXPECT_STREQ(tiny, "lo: net");
}

TEST(CPercpu, BadArgumentsAreNegativeErrnos) {
  std::uint32_t key = 0;
  std::uint64_t v[1024];
  EXPECT_EQ(netmon_percpu_lookup(-1, nullptr, v, 8, 1024), -EINVAL);
  EXPECT_EQ(netmon_percpu_lookup(-1, &key, nullptr, 8, 1024), -EINVAL);
  EXPECT_EQ(netmon_percpu_lookup(-1, &key, v, 0, 1024), -EINVAL);
  EXPECT_EQ(netmon_percpu_lookup(-1, &key, v, 8, 0), -ENOSPC);
  EXPECT_LT(netmon_percpu_lookup(-1, &key, v, 8, 1024), 0);  // no map: the kernel's (or libbpf's) errno
  EXPECT_EQ(netmon_percpu_sum_u64(-1, &key, nullptr, 2), -EINVAL);
  EXPECT_GT(netmon_possible_cpus(), 0);
}

std::vector<std::pair<int, std::string>> logged;
void capture(void* ctx, int level, const char* message) {
  EXPECT_EQ(ctx, &logged);
  logged.emplace_back(level, message);
}

TEST(CLog, FormatsShortAndLongLines) {
  logged.clear();
  netmon_logf(capture, &logged, NETMON_LOG_WARN, "%s has %d", "eth0", 3);
  const std::string long_text(2000, 'x');
  netmon_logf(capture, &logged, NETMON_LOG_INFO, "<%s>", long_text.c_str());
  netmon_logf(nullptr, nullptr, NETMON_LOG_INFO, "nowhere");  // a no-op
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0], std::make_pair(static_cast<int>(NETMON_LOG_WARN), std::string("eth0 has 3")));
  EXPECT_EQ(logged[1].second, "<" + long_text + ">");
}

TEST(CInterfaces, GoneSaysSoOnceInTheStandardWords) {
  logged.clear();
  EXPECT_EQ(netmon_interface_present(1), 1);  // lo
  EXPECT_EQ(netmon_interface_gone(1, "lo", capture, &logged), 0);
  const std::uint32_t none = 0x7ffffff0;
  EXPECT_EQ(netmon_interface_present(none), 0);
  EXPECT_EQ(netmon_interface_gone(none, "veth9", capture, &logged), 1);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, NETMON_LOG_WARN);
  EXPECT_EQ(logged[0].second, "veth9 (ifindex 2147483632) is gone: no longer monitored");
}

}  // namespace
