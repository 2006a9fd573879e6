// SPDX-License-Identifier: MIT
// The options tables of the READMEs against the declarations: every plugin
// and sink library of the build, loaded as netmon-host loads it
// (PluginPath::list(), as --list-plugins does), describes its options in its
// descriptor's options_help, the text netmon::options_help makes from its
// netmon::OptionList. Its README (plugins/NAME/README.md or
// sinks/NAME/README.md) must list exactly those options in its table
//
//   | option | values | default | meaning |
//   |---|---|---|---|
//   | `flow_top.top` | 1 to 1000 | `10` | ... |
//
// with the same values and default (backticks aside; "1 to 1000" reads as
// 1..1000 and "`a`, `b`" as a|b). The meaning is the README's own. A library
// without options says so in its README ("no options"), and has no table.
#include "host.hpp"
#include "loader.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/unit_util.hpp"

namespace fs = std::filesystem;
using netmon::host::LibraryKind;
using netmon::host::PluginPath;

namespace {

const fs::path kRoot = fs::path(NETMON_TEST_SOURCE_DIR).parent_path();

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

// A cell as compared: no backticks, single spaces, "A to B" as "A..B", a
// list "a, b" as "a|b".
std::string normal(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
  std::istringstream words(s);
  std::string out;
  for (std::string w; words >> w;) out += (out.empty() ? "" : " ") + w;
  out = replace_all(out, " to ", "..");
  out = replace_all(out, ", ", "|");
  return out;
}

// How a README writes what options_help writes: "1..1000" as "1 to 1000",
// "a|b" as "`a`, `b`", anything else in backticks.
std::string readme_values(const std::string& help) {
  if (const auto dots = help.find(".."); dots != std::string::npos && help.find(' ') == std::string::npos)
    return help.substr(0, dots) + " to " + help.substr(dots + 2);
  // Appended, not prepended to a temporary: gcc 12 at -O3 warns (-Wrestrict)
  // about the insert that "`" + std::string&& makes.
  std::string out = "`";
  out += help.find('|') != std::string::npos && help.find(' ') == std::string::npos ? replace_all(help, "|", "`, `")
                                                                                    : help;
  out += "`";
  return out;
}

struct Declared {
  std::string key, values, def, meaning;
};

// Splits a line of options_help at its runs of two or more spaces.
std::vector<std::string> columns(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t end = line.find("  ", i);
    if (end == std::string::npos || out.size() == 3) end = line.size();
    out.push_back(trim(line.substr(i, end - i)));
    i = line.find_first_not_of(' ', end);
    if (i == std::string::npos) break;
  }
  return out;
}

// The options a library declares, from its options_help. Fails (and returns
// what it could read) when the text is not netmon::options_help's.
std::vector<Declared> declared_options(const std::string& name, const std::string& help) {
  std::vector<Declared> out;
  if (help.empty()) return out;
  std::istringstream lines(help);
  std::string line;
  std::getline(lines, line);
  if (columns(line) != std::vector<std::string>{"option", "values", "default", "meaning"}) {
    ADD_FAILURE() << name << ": its options_help does not begin with netmon::options_help's header line "
                  << "(option  values  default  meaning); declare its options with a netmon::OptionList and give "
                  << "that to NETMON_PLUGIN_WITH_OPTIONS / NETMON_SINK_WITH_OPTIONS. It is:\n"
                  << help;
    return out;
  }
  while (std::getline(lines, line)) {
    const auto c = columns(line);
    if (c.size() != 4) {
      ADD_FAILURE() << name << ": a line of its options_help is not 'key  values  default  meaning': " << line;
      continue;
    }
    out.push_back({c[0], c[1], c[2], c[3]});
  }
  return out;
}

struct Row {
  int line = 0;
  std::vector<std::string> cells;
};

std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::string t = trim(line);
  if (t.size() < 2 || t.front() != '|' || t.back() != '|') return cells;
  t = t.substr(1, t.size() - 2);
  std::string cell;
  bool code = false;  // a '|' inside `...` (`a|b`) is not a cell separator
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '`') code = !code;
    if (c == '\\' && i + 1 < t.size() && t[i + 1] == '|') {
      cell += '|';
      ++i;
      continue;
    }
    if (c == '|' && !code) {
      cells.push_back(trim(cell));
      cell.clear();
      continue;
    }
    cell += c;
  }
  cells.push_back(trim(cell));
  return cells;
}

bool is_separator(const std::vector<std::string>& cells) {
  return !cells.empty() && std::all_of(cells.begin(), cells.end(), [](const std::string& c) {
    return !c.empty() && c.find_first_not_of("-: ") == std::string::npos;
  });
}

// The rows of every table of the README whose header is
// | option | values | default | meaning |.
struct OptionsTables {
  int tables = 0;
  std::vector<Row> rows;
};

OptionsTables options_tables(const std::string& text) {
  const std::vector<std::string> header{"option", "values", "default", "meaning"};
  OptionsTables out;
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  bool in_table = false, options = false, in_code = false;
  while (std::getline(lines, line)) {
    ++n;
    if (trim(line).rfind("```", 0) == 0) in_code = !in_code;
    const auto cells = in_code ? std::vector<std::string>{} : cells_of(line);
    if (cells.empty()) {
      in_table = false;
      continue;
    }
    if (!in_table) {
      in_table = true;
      std::vector<std::string> lower;
      for (auto c : cells) {
        std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
        lower.push_back(c);
      }
      options = lower == header;
      if (options) ++out.tables;
      continue;
    }
    if (options && !is_separator(cells)) out.rows.push_back({n, cells});
  }
  return out;
}

std::string suggested_row(const std::string& name, const Declared& d) {
  return "| `" + name + "." + d.key + "` | " + readme_values(d.values) + " | `" + d.def + "` | " + d.meaning + " |";
}

// Checks the text of the README rel (of the library name) against what the
// library declares (help: its options_help).
void check_table(const std::string& rel, const std::string& text, const std::string& name, const std::string& help) {
  const std::vector<Declared> declared = declared_options(name, help);
  if (!help.empty() && declared.empty()) return;  // not options_help's text: declared_options said so
  const OptionsTables tables = options_tables(text);

  if (declared.empty()) {
    EXPECT_TRUE(tables.rows.empty()) << rel << ": " << name << " declares no options, but the README lists "
                                     << tables.rows.size() << " in its table (line " << tables.rows[0].line << ")";
    EXPECT_NE(text.find("no options"), std::string::npos)
        << rel << ": " << name << " declares no options; say so in the README (\"It takes no options.\")";
    return;
  }
  if (tables.tables != 1) {
    std::string rows;
    for (const auto& d : declared) (rows += "\n") += suggested_row(name, d);
    ADD_FAILURE() << rel << ": " << (tables.tables == 0 ? "no" : std::to_string(tables.tables))
                  << " options tables (| option | values | default | meaning |); there must be one, listing what "
                  << name << " declares:\n| option | values | default | meaning |\n|---|---|---|---|" << rows;
    return;
  }

  std::map<std::string, const Declared*> by_key;
  std::string valid;
  for (const auto& d : declared) {
    by_key[name + "." + d.key] = &d;
    valid += (valid.empty() ? "" : ", ") + name + "." + d.key;
  }
  std::set<std::string> listed;
  for (const auto& row : tables.rows) {
    const std::string where = rel + ":" + std::to_string(row.line) + ": ";
    if (row.cells.size() != 4) {
      ADD_FAILURE() << where << "a row of the options table has " << row.cells.size() << " cells, not 4";
      continue;
    }
    const std::string key = normal(row.cells[0]);
    const auto it = by_key.find(key);
    if (it == by_key.end()) {
      ADD_FAILURE() << where << "the row '" << row.cells[0] << "' names no option " << name
                    << " declares (write the key as `" << name << ".KEY`; declared: " << valid << ")";
      continue;
    }
    if (!listed.insert(key).second) ADD_FAILURE() << where << "`" << key << "` is listed twice";
    const Declared& d = *it->second;
    EXPECT_EQ(normal(row.cells[1]), normal(d.values))
        << where << "`" << key << "`: the values column says '" << row.cells[1] << "', but " << name << " declares "
        << d.values << "; write: " << readme_values(d.values);
    EXPECT_EQ(normal(row.cells[2]), normal(d.def))
        << where << "`" << key << "`: the default column says '" << row.cells[2] << "', but " << name << " declares "
        << d.def << "; write: `" << d.def << "`";
    EXPECT_FALSE(row.cells[3].empty()) << where << "`" << key << "`: the meaning column is empty";
  }
  for (const auto& d : declared)
    if (!listed.count(name + "." + d.key))
      ADD_FAILURE() << rel << ": the options table has no row for `" << name << "." << d.key << "`, which " << name
                    << " declares; add:\n"
                    << suggested_row(name, d);
}

// Checks the README of one library of the build.
void check_readme(LibraryKind kind, const std::string& name, const std::string& help) {
  const std::string rel = std::string(kind == LibraryKind::plugin ? "plugins/" : "sinks/") + name + "/README.md";
  const fs::path readme = kRoot / rel;
  if (!fs::exists(readme)) {
    std::string rows;
    for (const auto& d : declared_options(name, help)) (rows += "\n") += suggested_row(name, d);
    ADD_FAILURE() << rel << " is missing: every plugin and sink has a README, with "
                  << (rows.empty()
                          ? "the words \"no options\" (" + name + " declares none)"
                          : "its options table:\n| option | values | default | meaning |\n|---|---|---|---|" + rows);
    return;
  }
  check_table(rel, netmon::unit::read_file(readme), name, help);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

TEST(ReadmeOptions, EveryLibraryOfTheBuildIsChecked) {
  // NETMON_TEST_LIBRARIES: "plugin:xdp_stats,sink:json,...", every library
  // the build declares with netmon_add_plugin / netmon_add_sink.
  const auto expected = split(NETMON_TEST_LIBRARIES, ',');
  ASSERT_FALSE(expected.empty());
  const auto entries = PluginPath({NETMON_TEST_PLUGIN_DIR}).list();
  for (const auto& item : expected) {
    const auto colon = item.find(':');
    ASSERT_NE(colon, std::string::npos) << item;
    const std::string kind = item.substr(0, colon), name = item.substr(colon + 1);
    const auto it = std::find_if(entries.begin(), entries.end(), [&](const PluginPath::Entry& e) {
      return e.path.filename() == "libnetmon_" + name + ".so";
    });
    ASSERT_NE(it, entries.end()) << "libnetmon_" << name << ".so is not in " << NETMON_TEST_PLUGIN_DIR;
    EXPECT_EQ(it->error, "") << name;
    EXPECT_EQ(it->name, name);
    EXPECT_EQ(it->kind == LibraryKind::plugin ? "plugin" : "sink", kind) << name;
  }
}

TEST(ReadmeOptions, EveryReadmeListsExactlyTheDeclaredOptions) {
  const auto entries = PluginPath({NETMON_TEST_PLUGIN_DIR}).list();
  ASSERT_FALSE(entries.empty()) << "no library in " << NETMON_TEST_PLUGIN_DIR;
  for (const auto& e : entries) {
    if (!e.error.empty()) continue;  // EveryLibraryOfTheBuildIsChecked says why
    SCOPED_TRACE(e.path.filename().string());
    check_readme(e.kind, e.name, e.options_help);
  }
}

// --list-plugins shows under each library the text made from its
// declarations, whole, each line indented.
TEST(ReadmeOptions, ListPluginsShowsTheDeclaredOptions) {
  netmon::host::HostConfig cfg;
  cfg.plugin_dirs = {NETMON_TEST_PLUGIN_DIR};
  testing::internal::CaptureStdout();
  EXPECT_EQ(netmon::host::list_plugins(cfg), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  int shown = 0;
  for (const auto& e : PluginPath({NETMON_TEST_PLUGIN_DIR}).list()) {
    if (e.options_help.empty()) continue;
    ++shown;
    std::string indented;
    std::istringstream lines(e.options_help);
    for (std::string line; std::getline(lines, line);) indented += "      " + line + "\n";
    EXPECT_NE(out.find(indented), std::string::npos) << e.name << ":\n" << indented << "not in:\n" << out;
  }
  EXPECT_GE(shown, 3) << out;
  EXPECT_NE(out.find("      option          values"), std::string::npos) << out;
  EXPECT_NE(out.find("      top             1..1000"), std::string::npos) << out;
}

// The sink template's README, as netmon-new-plugin --sink makes it (NAME:
// linesink), against the template built in the tree.
TEST(ReadmeOptions, TheSinkTemplatesReadmeListsItsOptions) {
  const auto entries = PluginPath({NETMON_TEST_SINK_TEMPLATE_DIR}).list();
  const auto it = std::find_if(entries.begin(), entries.end(),
                               [](const PluginPath::Entry& e) { return e.name == "linesink" && e.error.empty(); });
  ASSERT_NE(it, entries.end()) << "no loadable libnetmon_linesink.so in " << NETMON_TEST_SINK_TEMPLATE_DIR;
  const std::string rel = "framework/sdk/template-sink/README.md";
  check_table(rel, replace_all(netmon::unit::read_file(kRoot / rel), "@NAME@", "linesink"), "linesink",
              it->options_help);
}

// The checker itself, on a README written for it: it finds what is missing,
// wrong or extra, and accepts the forms a README writes.
TEST(ReadmeOptions, TheCheckerReadsTablesAsDocumented) {
  EXPECT_EQ(normal("`packets`, `bytes`, `rate`"), normal("packets|bytes|rate"));
  EXPECT_EQ(normal("1 to 1000"), normal("1..1000"));
  EXPECT_EQ(normal("10ms to 168h"), normal("10ms..168h"));
  EXPECT_EQ(normal("`true`, `false`"), normal("true|false"));
  EXPECT_EQ(normal("`PATH`"), normal("PATH"));
  EXPECT_NE(normal("1 to 100"), normal("1..1000"));
  EXPECT_EQ(readme_values("1..1000"), "1 to 1000");
  EXPECT_EQ(readme_values("auto|tcx|netlink"), "`auto`, `tcx`, `netlink`");
  EXPECT_EQ(readme_values("PATH"), "`PATH`");

  const auto d = declared_options("p",
                                  "option  values         default  meaning\n"
                                  "top     1..1000        10       flows\n"
                                  "users   {\"A\": \"B\", ...}  none     who may");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].values, "{\"A\": \"B\", ...}");
  EXPECT_EQ(d[1].def, "none");

  const auto t = options_tables(
      "# p\n\n| option | meaning |\n|---|---|\n| `-x` | not this one |\n\n"
      "| option | values | default | meaning |\n|---|---|---|---|\n"
      "| `p.top` | 1 to 1000 | `10` | flows |\n| `p.mode` | `a|b` | `a` | how |\n\n"
      "```\n| option | values | default | meaning |\n```\n");
  EXPECT_EQ(t.tables, 1);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].cells, (std::vector<std::string>{"`p.top`", "1 to 1000", "`10`", "flows"}));
  EXPECT_EQ(t.rows[1].cells[1], "`a|b`");
  EXPECT_EQ(t.rows[1].line, 10);
}

// What the checker says about a README that is wrong, row by row.
const char kHelp[] =
    "option  values            default  meaning\n"
    "top     1..1000           10       flows published per interval\n"
    "attach  auto|tcx|netlink  auto     how to attach";
const char kRight[] =
    "| option | values | default | meaning |\n|---|---|---|---|\n"
    "| `p.top` | 1 to 1000 | 10 | flows |\n| `p.attach` | `auto`, `tcx`, `netlink` | `auto` | how |\n";
const char kMissing[] =
    "| option | values | default | meaning |\n|---|---|---|---|\n| `p.top` | 1 to 1000 | 10 | flows |\n";
const char kWrongValues[] =
    "| option | values | default | meaning |\n|---|---|---|---|\n"
    "| `p.top` | 1 to 100 | 10 | flows |\n| `p.attach` | `auto`, `tcx`, `netlink` | `auto` | how |\n";
const char kWrongDefault[] =
    "| option | values | default | meaning |\n|---|---|---|---|\n"
    "| `p.top` | 1 to 1000 | 10 | flows |\n| `p.attach` | `auto`, `tcx`, `netlink` | `tcx` | how |\n";
const char kExtra[] =
    "| option | values | default | meaning |\n|---|---|---|---|\n"
    "| `p.top` | 1 to 1000 | 10 | flows |\n| `p.attach` | `auto`, `tcx`, `netlink` | `auto` | how |\n"
    "| `p.colour` | `red` | `red` | gone |\n";
const char kNoTable[] = "# p\n\nNo table here.\n";

TEST(ReadmeOptions, TheCheckerNamesTheRowThatIsMissingOrWrong) {
  check_table("p/README.md", kRight, "p", kHelp);  // no failure
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kMissing, "p", kHelp),
                          "p/README.md: the options table has no row for `p.attach`, which p declares; add:\n"
                          "| `p.attach` | `auto`, `tcx`, `netlink` | `auto` | how to attach |");
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kWrongValues, "p", kHelp),
                          "p/README.md:3: `p.top`: the values column says '1 to 100', but p declares 1..1000; "
                          "write: 1 to 1000");
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kWrongDefault, "p", kHelp),
                          "p/README.md:4: `p.attach`: the default column says '`tcx`', but p declares auto");
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kExtra, "p", kHelp),
                          "p/README.md:5: the row '`p.colour`' names no option p declares");
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kNoTable, "p", kHelp), "p/README.md: no options tables");
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kNoTable, "p", ""), "declares no options; say so");
  EXPECT_NONFATAL_FAILURE(check_table("p/README.md", kRight, "p", "top  1..1000  10  flows"),
                          "does not begin with netmon::options_help's header line");
}
