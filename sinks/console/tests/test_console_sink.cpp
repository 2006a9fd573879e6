// SPDX-License-Identifier: MIT
// The console sink as netmon-host loads it, not on a terminal: its golden
// file and its sections.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/sink_run.hpp"

namespace fs = std::filesystem;
using netmon::Batch;
using netmon::Error;
using netmon::Sample;
using netmon::host::load_sink_library;
using netmon::host::SinkInstance;
using namespace netmon::unit;  // golden_batch(), render(), run_sink() and friends
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SinkGolden, Console) { expect_golden("sample.console.txt", render("console")); }

TEST(ConsoleSink, SectionsAndOtherMeasurements) {
  const std::string text = render("console");
  EXPECT_THAT(text, HasSubstr("Traffic Statistics [16:11:18]"));
  EXPECT_THAT(text, HasSubstr("Global Statistics:"));
  EXPECT_THAT(text, HasSubstr("  eth0 (index 2, native XDP):"));
  EXPECT_THAT(text, HasSubstr("  eth1 (index 3, generic XDP):"));
  // Global RX adds both interfaces: 20123 + 512 packets.
  EXPECT_THAT(text, HasSubstr("RX: 20.6K packets, 4.9 MB"));
  EXPECT_THAT(text, HasSubstr("Other Measurements:"));
  EXPECT_THAT(text, HasSubstr("acme_probe{host=db-1,path=a;b=c\\d}:"));
  EXPECT_THAT(text, HasSubstr("wrap=18446744073709551615"));
  EXPECT_THAT(text, HasSubstr("offset=-42"));
  EXPECT_THAT(text, HasSubstr("healthy=true"));
  EXPECT_THAT(text, HasSubstr("Note: sink csv dropped 2 batches"));
  // The host's own measurements are not listed as "other".
  EXPECT_THAT(text, Not(HasSubstr("netmon_host")));
  // Not a terminal: no screen control codes.
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(ConsoleSink, BlocksFollowOneAnother) {
  const std::string one = render("console");
  const auto run = run_sink("console", {golden_batch(), golden_batch()});
  EXPECT_EQ(run.output, one + "\n" + one);
}
