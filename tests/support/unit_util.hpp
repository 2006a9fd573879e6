// SPDX-License-Identifier: MIT
// Small helpers shared by the unit tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace netmon::unit {

// A fresh directory from mkdtemp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "netmon-unit-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    // A test may leave a directory without write permission behind.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + p.string());
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

// Compares actual with golden/<file> beside the test's own sources; with NETMON_UPDATE_GOLDEN set in
// the environment, writes it there first (read the diff before committing).
inline void expect_golden(const std::string& file, const std::string& actual) {
  const std::filesystem::path golden = std::filesystem::path(NETMON_TEST_OWN_DIR) / "golden" / file;
  if (std::getenv("NETMON_UPDATE_GOLDEN")) {
    write_file(golden, actual);
    std::fprintf(stderr, "updated %s\n", golden.c_str());
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden << " is missing (NETMON_UPDATE_GOLDEN=1 writes it)";
  EXPECT_EQ(actual, read_file(golden)) << "output differs from " << golden;
}

// Runs f, which must throw an exception of type E; returns its what().
template <class E = std::exception, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return {};
}

}  // namespace netmon::unit
