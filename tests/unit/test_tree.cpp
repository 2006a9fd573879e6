// SPDX-License-Identifier: MIT
// The tree's rules for plugins and sinks: each is one folder of plugins/ or
// sinks/ with everything it needs, so that adding one is adding a folder.
//   - CMakeLists.txt, README.md, and tests/ with its CMakeLists.txt and at
//     least one test source (test_*.cpp or test_*.c);
//   - the README is titled after the folder ("# NAME", a sink "# NAME sink")
//     and has an "## Options" (or "### Options") section; a plugin's also has "## Samples",
//     naming at least one measurement called NAME or NAME_...;
//   - a plugin's BPF programs (SEC(...) functions of its *.bpf.c) are named
//     NAME_..., so that tools and tests can tell whose a program is.
// A failure names the folder and the rule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "support/unit_util.hpp"

namespace fs = std::filesystem;
using netmon::unit::read_file;

namespace {

const fs::path kRoot = fs::path(NETMON_TEST_SOURCE_DIR).parent_path();

std::vector<fs::path> folders_of(const std::string& kind) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kRoot / kind))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The text of a "## Title" section, up to the next "## " heading.
std::string section(const std::string& readme, const std::string& title) {
  const auto at = readme.find("\n## " + title + "\n");
  if (at == std::string::npos) return {};
  const auto from = at + 4 + title.size();
  const auto next = readme.find("\n## ", from);
  return readme.substr(from, next == std::string::npos ? std::string::npos : next - from);
}

void expect_folder_rules(const fs::path& dir, const std::string& title) {
  const std::string name = dir.filename().string();
  SCOPED_TRACE(dir.string());
  EXPECT_TRUE(fs::exists(dir / "CMakeLists.txt")) << name << ": no CMakeLists.txt";
  ASSERT_TRUE(fs::exists(dir / "README.md")) << name << ": no README.md";
  const std::string readme = read_file(dir / "README.md");
  EXPECT_EQ(readme.substr(0, readme.find('\n')), "# " + title) << name << ": the README's first line";
  EXPECT_TRUE(std::regex_search(readme, std::regex("\n###? Options\n")))
      << name << ": the README has no '## Options' (or '### Options') section";
  EXPECT_TRUE(fs::exists(dir / "tests" / "CMakeLists.txt")) << name << ": no tests/CMakeLists.txt";
  int sources = 0;
  if (fs::is_directory(dir / "tests"))
    for (const auto& e : fs::directory_iterator(dir / "tests")) {
      const std::string f = e.path().filename().string();
      sources += f.rfind("test_", 0) == 0 && (e.path().extension() == ".cpp" || e.path().extension() == ".c");
    }
  EXPECT_GT(sources, 0) << name << ": no tests/test_*.cpp or tests/test_*.c";
}

}  // namespace

TEST(Tree, EveryPluginFolderHasItsCodeReadmeAndTests) {
  const auto plugins = folders_of("plugins");
  ASSERT_FALSE(plugins.empty());
  for (const auto& dir : plugins) {
    const std::string name = dir.filename().string();
    expect_folder_rules(dir, name);
    if (!fs::exists(dir / "README.md")) continue;
    const std::string samples = section(read_file(dir / "README.md"), "Samples");
    EXPECT_FALSE(samples.empty()) << name << ": the README has no '## Samples' section";
    const std::regex measurement("`" + name + "(_[a-z0-9_]+)?`");
    EXPECT_TRUE(std::regex_search(samples, measurement))
        << name << ": '## Samples' names no measurement `" << name << "` or `" << name << "_...`";
  }
}

TEST(Tree, EverySinkFolderHasItsCodeReadmeAndTests) {
  const auto sinks = folders_of("sinks");
  ASSERT_FALSE(sinks.empty());
  for (const auto& dir : sinks) expect_folder_rules(dir, dir.filename().string() + " sink");
}

TEST(Tree, APluginsBpfProgramsAreNamedAfterIt) {
  // SEC("...") then the program's return type and name on the next line,
  // plain or in libbpf's macros for tracing programs (int BPF_PROG(name, ...)).
  const std::regex program(R"re(SEC\("[^"]*"\)\s*\n\s*int\s+(?:BPF_[A-Z_]+\(\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*[(,)])re");
  int seen = 0;
  for (const auto& dir : folders_of("plugins")) {
    const std::string name = dir.filename().string();
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string f = e.path().filename().string();
      if (f.size() < 6 || f.substr(f.size() - 6) != ".bpf.c") continue;
      const std::string text = read_file(e.path());
      for (std::sregex_iterator it(text.begin(), text.end(), program), end; it != end; ++it) {
        ++seen;
        EXPECT_EQ((*it)[1].str().rfind(name + "_", 0), 0u)
            << e.path() << ": program " << (*it)[1] << " is not named " << name << "_...";
      }
    }
  }
  EXPECT_GT(seen, 0) << "no BPF program found under plugins/: the pattern no longer matches";
}
