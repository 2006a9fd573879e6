// SPDX-License-Identifier: MIT
// Tests that need root (BPF, namespaces) skip when not root, except under
// CI=true, where a skip would hide the most important tests: there it fails.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace netmon::test {

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

}  // namespace netmon::test

#define NETMON_REQUIRE_ROOT()                                                                         \
  do {                                                                                                \
    if (::geteuid() != 0) {                                                                           \
      if (::netmon::test::in_ci()) FAIL() << "this test needs root, and CI=true forbids skipping it"; \
      GTEST_SKIP() << "needs root (BPF and network namespaces)";                                      \
    }                                                                                                 \
  } while (0)
