// SPDX-License-Identifier: MIT
// netmon::Output, the SDK's file-or-stdout writer that sinks open their
// targets with: what its errors say.
#include <netmon/error.hpp>
#include <netmon/output.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/unit_util.hpp"

using netmon::Error;
using netmon::unit::error_of;
using netmon::unit::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// The fix names where the path came from: the target, or an option.
TEST(Output, OpenFailureNamesWhereThePathWasGiven) {
  TempDir tmp;
  const std::string path = (tmp / "no" / "out.txt").string();
  netmon::Output out;
  EXPECT_EQ(
      error_of<Error>([&] { out.open(path, "my_sink"); }),
      "cannot open " + path + " for writing: No such file or directory (choose a writable path: --sink my_sink:PATH)");
  const auto msg = error_of<Error>([&] { out.open(path, "my_sink", "-o my_sink.path=PATH"); });
  EXPECT_EQ(msg, "cannot open " + path +
                     " for writing: No such file or directory (choose a writable path: -o "
                     "my_sink.path=PATH)");
  EXPECT_THAT(msg, Not(HasSubstr("--sink")));
  out.open(std::string("-"), "my_sink", "-o my_sink.path=PATH");
  EXPECT_EQ(out.describe(), "stdout");
}
