// SPDX-License-Identifier: MIT
// The plugin loader (framework/src/loader.hpp): loading and checking plugin
// and sink libraries, the plugin directory, and driving a plugin instance in
// process. The libraries under test are the fixtures in fixtures/, built into
// a test-only directory (NETMON_TEST_FIXTURE_DIR).
#include "host.hpp"
#include "loader.hpp"

#include <netmon/error.hpp>
#include <netmon/plugin_abi.h>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "good_sample.hpp"
#include "support/unit_util.hpp"

namespace fs = std::filesystem;
using netmon::Error;
using netmon::Sample;
using netmon::host::LibraryKind;
using netmon::host::load_plugin_library;
using netmon::host::load_sink_library;
using netmon::host::PluginInstance;
using netmon::host::PluginPath;
using netmon::unit::error_of;
using netmon::unit::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const fs::path kFixtureDir = NETMON_TEST_FIXTURE_DIR;
const fs::path kPluginDir = NETMON_TEST_PLUGIN_DIR;

fs::path fixture(const std::string& name) { return kFixtureDir / ("libnetmon_" + name + ".so"); }

std::string version(unsigned major, unsigned minor) { return std::to_string(major) + "." + std::to_string(minor); }

// Collects what a plugin logs through the start context's callback.
struct LogCapture {
  std::mutex mu;
  std::vector<std::pair<int, std::string>> lines;

  static void fn(void* ctx, int level, const char* msg) {
    auto* self = static_cast<LogCapture*>(ctx);
    std::lock_guard lock(self->mu);
    self->lines.emplace_back(level, msg ? msg : "");
  }
  bool has(const std::string& text) {
    std::lock_guard lock(mu);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const auto& l) { return l.second.find(text) != std::string::npos; });
  }
};

struct StartCtx {
  std::vector<netmon_interface> ifaces{{1, 0, "lo"}, {7, 0, "eth7"}};
  netmon_start_context ctx{};
  explicit StartCtx(LogCapture* log = nullptr) {
    ctx.struct_size = sizeof ctx;
    ctx.n_interfaces = static_cast<std::uint32_t>(ifaces.size());
    ctx.interfaces = ifaces.data();
    ctx.interval_ns = 1'000'000'000;
    ctx.log = log ? &LogCapture::fn : nullptr;
    ctx.host_ctx = log;
  }
};

std::vector<Sample> collect_all(PluginInstance& p, std::int64_t now_ns) {
  std::vector<Sample> out;
  p.collect(now_ns, [&out](Sample&& s) { out.push_back(std::move(s)); });
  return out;
}

}  // namespace

// ---- good plugins -----------------------------------------------------------

TEST(Loader, FixturesAreBuilt) {
  for (const char* name : {"good", "cplugin", "abi_major", "abi_minor", "older_desc", "short_desc", "no_name",
                           "notaplugin", "create_fails", "start_throws", "abi11_plugin", "event_plugin"})
    EXPECT_TRUE(fs::is_regular_file(fixture(name))) << fixture(name);
}

TEST(Loader, GoodCppPluginDescriptor) {
  auto lib = load_plugin_library(fixture("good"));
  ASSERT_NE(lib.library, nullptr);
  EXPECT_EQ(lib.library->path(), fixture("good"));
  EXPECT_EQ(lib.abi.major, static_cast<unsigned>(NETMON_ABI_MAJOR));
  EXPECT_EQ(lib.abi.minor, static_cast<unsigned>(NETMON_ABI_MINOR));
  EXPECT_EQ(lib.desc.struct_size, sizeof(netmon_plugin_descriptor));
  EXPECT_STREQ(lib.desc.name, "good");
  EXPECT_STREQ(lib.desc.version, "1.2.3");
  EXPECT_STREQ(lib.desc.description, "Unit-test fixture: publishes one sample per collect");
  // Only the descriptor is exported.
  EXPECT_NE(lib.library->symbol(NETMON_PLUGIN_SYMBOL), nullptr);
  EXPECT_EQ(lib.library->symbol(NETMON_SINK_SYMBOL), nullptr);
  EXPECT_EQ(lib.library->symbol("netmon_plugin_create_"), nullptr);
}

TEST(Loader, GoodCppPluginEndToEnd) {
  LogCapture log;
  std::vector<Sample> first, second;
  {
    PluginInstance p(load_plugin_library(fixture("good")));
    EXPECT_EQ(p.name(), "good");
    p.configure(R"({"step": 5})");
    StartCtx sc(&log);
    p.start(sc.ctx);
    EXPECT_TRUE(log.has("good: started on lo#1,eth7#7 every 1000000000ns"));

    first = collect_all(p, 1'700'000'000'123'456'789);
    second = collect_all(p, 1'700'000'001'123'456'789);
    p.stop();
    EXPECT_TRUE(log.has("good: stopped"));
    EXPECT_FALSE(log.has("good: destroyed"));
  }
  // The instance is gone: destroy() ran, and the samples are the host's own copies.
  EXPECT_TRUE(log.has("good: destroyed"));

  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0], netmon::fixture::good_sample(5, 1'700'000'000'123'456'789, "lo#1,eth7#7", 5));
  EXPECT_EQ(second[0], netmon::fixture::good_sample(10, 1'700'000'001'123'456'789, "lo#1,eth7#7", 5));
  // Spot checks independent of the shared expectation.
  EXPECT_EQ(second[0].measurement, "fixture_good");
  EXPECT_EQ(second[0].u64("collections"), 10u);
  EXPECT_TRUE(std::holds_alternative<netmon::Counter>(*second[0].field("collections")));
  EXPECT_EQ(second[0].u64("max"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(std::get<std::int64_t>(*second[0].field("min")), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(std::get<bool>(*second[0].field("no")), false);
  EXPECT_EQ(std::get<std::string>(*second[0].field("utf8")), "d\xc3\xa9j\xc3\xa0 vu, \"quoted\"\nline 2");
  ASSERT_NE(second[0].tag_value("empty"), nullptr);
  EXPECT_EQ(*second[0].tag_value("empty"), "");
}

TEST(Loader, InstanceKeepsLibraryAlive) {
  // The PluginLibrary handed over is the only reference: the instance must
  // keep the code mapped while it lives.
  std::weak_ptr<netmon::host::Library> weak;
  {
    auto lib = load_plugin_library(fixture("good"));
    weak = lib.library;
    PluginInstance p(std::move(lib));
    EXPECT_FALSE(weak.expired());
    p.configure("{}");
    StartCtx sc;
    p.start(sc.ctx);
    EXPECT_EQ(collect_all(p, 1).size(), 1u);
    p.stop();
  }
  EXPECT_TRUE(weak.expired());
}

TEST(Loader, GoodPluginRejectsUnknownOption) {
  PluginInstance p(load_plugin_library(fixture("good")));
  const auto msg = error_of<Error>([&] { p.configure(R"({"step": 2, "bogus": 1})"); });
  EXPECT_THAT(msg, HasSubstr("good"));
  EXPECT_THAT(msg, HasSubstr("unknown option good.bogus"));
  EXPECT_THAT(msg, HasSubstr("good.step"));
}

TEST(Loader, GoodPluginRejectsBadOptionValue) {
  PluginInstance p(load_plugin_library(fixture("good")));
  const auto msg = error_of<Error>([&] { p.configure(R"({"step": 0})"); });
  EXPECT_THAT(msg, HasSubstr("good.step"));
  EXPECT_THAT(msg, HasSubstr("out of range"));
}

TEST(Loader, GoodPluginRejectsInvalidJsonOptions) {
  PluginInstance p(load_plugin_library(fixture("good")));
  const auto msg = error_of<Error>([&] { p.configure("{not json"); });
  EXPECT_THAT(msg, HasSubstr("good: "));
  EXPECT_THAT(msg, HasSubstr("parse"));
}

TEST(Loader, CollectErrorCarriesPluginMessage) {
  PluginInstance p(load_plugin_library(fixture("good")));
  p.configure(R"({"fail_collect": true})");
  StartCtx sc;
  p.start(sc.ctx);
  const auto msg = error_of<Error>([&] { collect_all(p, 1); });
  EXPECT_THAT(msg, HasSubstr("good"));
  EXPECT_THAT(msg, HasSubstr("collect failed"));
  EXPECT_THAT(msg, HasSubstr("good: collect refused on purpose"));
  p.stop();
}

TEST(Loader, MalformedSampleIsReported) {
  PluginInstance p(load_plugin_library(fixture("good")));
  p.configure(R"({"empty_name": true})");
  StartCtx sc;
  p.start(sc.ctx);
  std::vector<Sample> got;
  const auto msg = error_of<Error>([&] { p.collect(1, [&got](Sample&& s) { got.push_back(std::move(s)); }); });
  EXPECT_TRUE(got.empty());
  EXPECT_THAT(msg, HasSubstr("good"));
  EXPECT_THAT(msg, HasSubstr("malformed sample"));
  EXPECT_THAT(msg, HasSubstr("without a measurement name"));
  p.stop();
}

TEST(Loader, PlainCPluginEndToEnd) {
  auto lib = load_plugin_library(fixture("cplugin"));
  EXPECT_STREQ(lib.desc.name, "cplugin");
  EXPECT_STREQ(lib.desc.version, "0.1.0");
  EXPECT_EQ(lib.abi.major, static_cast<unsigned>(NETMON_ABI_MAJOR));
  PluginInstance p(std::move(lib));
  p.configure("{}");
  StartCtx sc;
  p.start(sc.ctx);
  const auto a = collect_all(p, 42);
  const auto b = collect_all(p, 43);
  p.stop();

  auto expected = [](std::uint64_t calls, std::int64_t ts) {
    Sample s("cplugin");
    s.timestamp_ns = ts;
    s.tag("lang", "c")
        .counter("calls", calls)
        .text("greeting", "hello from C")
        .gauge_i("temperature", -3)
        .gauge_f("ratio", 0.25);
    return s;
  };
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0], expected(1, 42));
  EXPECT_EQ(b[0], expected(2, 43));
}

TEST(Loader, PlainCPluginErrorsComeFromLastError) {
  PluginInstance p(load_plugin_library(fixture("cplugin")));
  auto msg = error_of<Error>([&] { p.configure(R"({"x": 1})"); });
  EXPECT_THAT(msg, HasSubstr("cplugin"));
  EXPECT_THAT(msg, HasSubstr("the C fixture takes no options"));
  // collect before start fails with the plugin's own reason
  msg = error_of<Error>([&] { collect_all(p, 1); });
  EXPECT_THAT(msg, HasSubstr("collect failed"));
  EXPECT_THAT(msg, HasSubstr("collect before start"));
}

TEST(Loader, OldestDescriptorSizeIsAccepted) {
  // A descriptor exactly NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE long (ABI 1.0's
  // layout). When MIN_SIZE < sizeof(descriptor) this is an older, shorter
  // descriptor whose missing trailing members must read as zero.
  auto lib = load_plugin_library(fixture("older_desc"));
  EXPECT_EQ(lib.desc.struct_size, NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE);
  EXPECT_STREQ(lib.desc.name, "older_desc");
  const auto* bytes = reinterpret_cast<const unsigned char*>(&lib.desc);
  for (std::size_t i = NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE; i < sizeof lib.desc; ++i)
    EXPECT_EQ(bytes[i], 0) << "byte " << i << " past the library's descriptor";
  PluginInstance p(std::move(lib));
  p.configure("{}");
  StartCtx sc;
  p.start(sc.ctx);
  EXPECT_EQ(collect_all(p, 5).size(), 1u);
  p.stop();
}

TEST(Loader, AnAbi11PluginLoadsAndItsShorterSamplesAreSnapshots) {
  // Built for ABI 1.1: its sample's struct_size ends before `kind`, and the
  // bytes after it (0x5a, a kind no one defines) are not the plugin's.
  auto lib = load_plugin_library(fixture("abi11_plugin"));
  EXPECT_EQ(lib.abi.minor, 1u);
  PluginInstance p(std::move(lib));
  p.configure("{}");
  StartCtx sc;
  p.start(sc.ctx);
  const auto got = collect_all(p, 7);
  p.stop();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].measurement, "cplugin");
  EXPECT_FALSE(got[0].is_event());
  EXPECT_EQ(got[0].u64("calls"), 1u);
}

TEST(Loader, AnAbi12PluginsEventSampleArrivesAsAnEvent) {
  PluginInstance p(load_plugin_library(fixture("event_plugin")));
  p.configure("{}");
  StartCtx sc;
  p.start(sc.ctx);
  const auto got = collect_all(p, 7);
  p.stop();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].is_event());
}

TEST(Loader, DescriptorSmallerThanMinimumIsRefused) {
  const auto msg = error_of<Error>([] { load_plugin_library(fixture("short_desc")); });
  EXPECT_THAT(msg, HasSubstr(fixture("short_desc").string()));
  EXPECT_THAT(msg, HasSubstr(std::to_string(NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE - sizeof(void*)) + " bytes"));
  EXPECT_THAT(msg, HasSubstr(std::to_string(NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE)));
  EXPECT_THAT(msg, HasSubstr("smaller"));
}

TEST(Loader, DescriptorWithoutNameIsRefused) {
  const auto msg = error_of<Error>([] { load_plugin_library(fixture("no_name")); });
  EXPECT_THAT(msg, HasSubstr(fixture("no_name").string()));
  EXPECT_THAT(msg, HasSubstr("no name"));
}

// ---- refused libraries --------------------------------------------------------

TEST(Loader, MissingFileNamesTheFile) {
  TempDir tmp;
  const fs::path p = tmp / "libnetmon_nothere.so";
  const auto msg = error_of<Error>([&] { load_plugin_library(p); });
  EXPECT_THAT(msg, HasSubstr(p.string()));
  EXPECT_THAT(msg, HasSubstr("no such file"));
}

TEST(Loader, DirectoryIsRefused) {
  TempDir tmp;
  const auto msg = error_of<Error>([&] { load_plugin_library(tmp.path()); });
  EXPECT_THAT(msg, HasSubstr(tmp.path().string()));
  EXPECT_THAT(msg, HasSubstr("directory"));
}

TEST(Loader, NonLibraryFileIsRefused) {
  TempDir tmp;
  const fs::path p = tmp / "libnetmon_text.so";
  netmon::unit::write_file(p, "this is not an ELF file\n");
  const auto msg = error_of<Error>([&] { load_plugin_library(p); });
  EXPECT_THAT(msg, HasSubstr("cannot load " + p.string()));
}

TEST(Loader, NotAPluginIsRefusedClearly) {
  const auto msg = error_of<Error>([] { load_plugin_library(fixture("notaplugin")); });
  EXPECT_THAT(msg, HasSubstr(fixture("notaplugin").string()));
  EXPECT_THAT(msg, HasSubstr("is not a netmon plugin"));
  EXPECT_THAT(msg, HasSubstr("netmon_plugin"));
  EXPECT_THAT(msg, HasSubstr("NETMON_PLUGIN"));
}

TEST(Loader, NotASinkIsRefusedClearly) {
  const auto msg = error_of<Error>([] { load_sink_library(fixture("notaplugin")); });
  EXPECT_THAT(msg, HasSubstr("is not a netmon sink"));
  EXPECT_THAT(msg, HasSubstr("NETMON_SINK"));
}

TEST(Loader, WrongMajorNamesBothVersions) {
  const auto msg = error_of<Error>([] { load_plugin_library(fixture("abi_major")); });
  EXPECT_THAT(msg, HasSubstr(fixture("abi_major").string()));
  EXPECT_THAT(msg, HasSubstr("ABI " + version(NETMON_ABI_MAJOR + 1, NETMON_ABI_MINOR)));
  EXPECT_THAT(msg, HasSubstr("ABI " + version(NETMON_ABI_MAJOR, NETMON_ABI_MINOR)));
  EXPECT_THAT(msg, HasSubstr("rebuild"));
}

TEST(Loader, NewerMinorNamesBothVersions) {
  const auto msg = error_of<Error>([] { load_plugin_library(fixture("abi_minor")); });
  EXPECT_THAT(msg, HasSubstr(fixture("abi_minor").string()));
  EXPECT_THAT(msg, HasSubstr("ABI " + version(NETMON_ABI_MAJOR, NETMON_ABI_MINOR + 1)));
  EXPECT_THAT(msg, HasSubstr("ABI " + version(NETMON_ABI_MAJOR, NETMON_ABI_MINOR)));
  EXPECT_THAT(msg, HasSubstr("newer"));
}

TEST(Loader, CheckAbiAcceptsOlderMinorAndRefusesOtherMajors) {
  using netmon::host::check_abi;
  const fs::path p = "/x/libnetmon_y.so";
  EXPECT_NO_THROW(check_abi(p, LibraryKind::plugin, {NETMON_ABI_MAJOR, NETMON_ABI_MINOR}));
  EXPECT_NO_THROW(check_abi(p, LibraryKind::sink, {NETMON_ABI_MAJOR, 0}));
  const auto older = error_of<Error>([&] { check_abi(p, LibraryKind::sink, {NETMON_ABI_MAJOR - 1, 7}); });
  EXPECT_THAT(older, HasSubstr(version(NETMON_ABI_MAJOR - 1, 7)));
  EXPECT_THAT(older, HasSubstr(version(NETMON_ABI_MAJOR, NETMON_ABI_MINOR)));
  EXPECT_THAT(older, HasSubstr("sink"));
}

TEST(Loader, WorldWritableLibraryIsRefused) {
  TempDir tmp;
  const fs::path copy = tmp / "libnetmon_good.so";
  fs::copy_file(fixture("good"), copy);
  ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
  EXPECT_NO_THROW(load_plugin_library(copy));  // the copy itself is fine

  ASSERT_EQ(::chmod(copy.c_str(), 0757), 0);  // o+w
  const auto msg = error_of<Error>([&] { load_plugin_library(copy); });
  EXPECT_THAT(msg, HasSubstr("world-writable"));
  EXPECT_THAT(msg, HasSubstr(fs::canonical(copy).string()));
  EXPECT_THAT(msg, HasSubstr("chmod o-w"));
  // The same check guards sinks and the explicit check.
  EXPECT_THAT(error_of<Error>([&] { load_sink_library(copy); }), HasSubstr("world-writable"));
  EXPECT_THAT(error_of<Error>([&] { netmon::host::check_library_file(copy); }), HasSubstr("world-writable"));
}

TEST(Loader, LibraryInWorldWritableDirectoryIsRefused) {
  TempDir tmp;
  const fs::path dir = tmp / "open";
  fs::create_directory(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);  // world-writable, not sticky
  const fs::path copy = dir / "libnetmon_good.so";
  fs::copy_file(fixture("good"), copy);
  ASSERT_EQ(::chmod(copy.c_str(), 0755), 0);
  const auto msg = error_of<Error>([&] { load_plugin_library(copy); });
  EXPECT_THAT(msg, HasSubstr("world-writable"));
  EXPECT_THAT(msg, HasSubstr(fs::canonical(dir).string()));

  // Sticky (like /tmp): the directory is accepted.
  ASSERT_EQ(::chmod(dir.c_str(), 01777), 0);
  EXPECT_NO_THROW(load_plugin_library(copy));
}

TEST(Loader, SymlinkToLibraryIsFollowed) {
  TempDir tmp;
  const fs::path link = tmp / "libnetmon_link.so";
  fs::create_symlink(fixture("good"), link);
  auto lib = load_plugin_library(link);
  EXPECT_STREQ(lib.desc.name, "good");

  const fs::path loop = tmp / "libnetmon_loop.so";
  fs::create_symlink(loop, loop);
  EXPECT_THAT(error_of<Error>([&] { load_plugin_library(loop); }), HasSubstr(loop.string()));
}

TEST(Loader, FactoryThrowingReportsTheMessage) {
  auto lib = load_plugin_library(fixture("create_fails"));
  const auto msg = error_of<Error>([&] { PluginInstance p(std::move(lib)); });
  EXPECT_THAT(msg, HasSubstr("create_fails"));
  EXPECT_THAT(msg, HasSubstr("cannot create"));
  EXPECT_THAT(msg, HasSubstr("fixture constructor refuses: no widgets available"));
}

TEST(Loader, StartThrowingReportsTheMessage) {
  PluginInstance p(load_plugin_library(fixture("start_throws")));
  p.configure("{}");
  StartCtx sc;
  const auto msg = error_of<Error>([&] { p.start(sc.ctx); });
  EXPECT_THAT(msg, HasSubstr("start_throws"));
  EXPECT_THAT(msg, HasSubstr("cannot start"));
  EXPECT_THAT(msg, HasSubstr("fixture start refused: 2 interfaces and no carrier"));
}

TEST(Loader, SinkLoadedAsPluginSaysItIsASink) {
  const fs::path json = kPluginDir / "libnetmon_json.so";
  const auto msg = error_of<Error>([&] { load_plugin_library(json); });
  EXPECT_THAT(msg, HasSubstr(json.string()));
  EXPECT_THAT(msg, HasSubstr("is a netmon sink, not a plugin"));
  EXPECT_THAT(msg, HasSubstr("--sink"));
}

TEST(Loader, PluginLoadedAsSinkSaysItIsAPlugin) {
  const auto msg = error_of<Error>([] { load_sink_library(fixture("good")); });
  EXPECT_THAT(msg, HasSubstr("is a netmon plugin, not a sink"));
  EXPECT_THAT(msg, HasSubstr("--plugins"));
}

TEST(Loader, RealSinkLibrariesLoad) {
  for (const char* name : {"json", "csv", "console"}) {
    auto lib = load_sink_library(kPluginDir / ("libnetmon_" + std::string(name) + ".so"));
    EXPECT_STREQ(lib.desc.name, name);
    EXPECT_EQ(lib.abi.major, static_cast<unsigned>(NETMON_ABI_MAJOR));
    EXPECT_EQ(lib.desc.struct_size, sizeof(netmon_sink_descriptor));
  }
}

// ---- the plugin directory ------------------------------------------------------

TEST(PluginPath, ResolvesNamesToFiles) {
  PluginPath dir({kFixtureDir});
  EXPECT_EQ(dir.dirs(), std::vector<fs::path>{kFixtureDir});
  EXPECT_EQ(dir.resolve("good", LibraryKind::plugin), fixture("good"));
  EXPECT_EQ(dir.resolve("create_fails", LibraryKind::plugin), fixture("create_fails"));
  // A value with a '/' is a path, taken as it is (even if it does not exist).
  EXPECT_EQ(dir.resolve("./libnetmon_x.so", LibraryKind::plugin), fs::path("./libnetmon_x.so"));
  EXPECT_EQ(dir.resolve("/opt/x/libfoo.so", LibraryKind::sink), fs::path("/opt/x/libfoo.so"));
}

TEST(PluginPath, UnknownNameMentionsListPlugins) {
  PluginPath dir({kFixtureDir});
  const auto msg = error_of<Error>([&] { (void)dir.resolve("nosuchplugin", LibraryKind::plugin); });
  EXPECT_THAT(msg, HasSubstr("unknown plugin 'nosuchplugin'"));
  EXPECT_THAT(msg, HasSubstr("libnetmon_nosuchplugin.so"));
  EXPECT_THAT(msg, HasSubstr(kFixtureDir.string()));
  EXPECT_THAT(msg, HasSubstr("--list-plugins"));
  EXPECT_THAT(error_of<Error>([&] { (void)dir.resolve("nosuchsink", LibraryKind::sink); }),
              HasSubstr("unknown sink 'nosuchsink'"));
}

// A library is loaded by the name it gives itself: found as 'renamed' but
// calling itself 'good', it is refused with both names and the fix; by its
// path it loads.
TEST(PluginPath, ALibraryFoundByNameMustCallItselfByThatName) {
  TempDir tmp;
  fs::copy_file(fixture("good"), tmp / "libnetmon_renamed.so");
  fs::copy_file(fixture("thread_sink"), tmp / "libnetmon_other_sink.so");
  const PluginPath dir({tmp.path(), kFixtureDir});
  const auto msg = error_of<Error>([&] { (void)netmon::host::load_plugin(dir, "renamed"); });
  EXPECT_THAT(msg, HasSubstr((tmp / "libnetmon_renamed.so").string()));
  EXPECT_THAT(msg, HasSubstr("calls itself 'good', not 'renamed'"));
  EXPECT_THAT(msg, HasSubstr("name the file libnetmon_good.so, or load it by its path"));
  EXPECT_THAT(error_of<Error>([&] { (void)netmon::host::load_sink(dir, "other_sink"); }),
              HasSubstr("this sink calls itself 'thread_sink', not 'other_sink'"));
  EXPECT_STREQ(netmon::host::load_plugin(dir, (tmp / "libnetmon_renamed.so").string()).desc.name, "good");
  EXPECT_STREQ(netmon::host::load_plugin(dir, "good").desc.name, "good");
  EXPECT_STREQ(netmon::host::load_sink(dir, "thread_sink").desc.name, "thread_sink");
}

TEST(PluginPath, InvalidNamesAreRefused) {
  PluginPath dir({kFixtureDir});
  for (const char* bad : {"", "two words", "a.b", "x;rm", "..", "é"}) {
    const auto msg = error_of<Error>([&] { (void)dir.resolve(bad, LibraryKind::plugin); });
    EXPECT_THAT(msg, HasSubstr("not a valid plugin name")) << "name '" << bad << "'";
  }
}

TEST(PluginPath, SearchesCommandLineThenEnvironmentThenTheDefault) {
  const char* old = std::getenv("NETMON_PLUGIN_DIR");
  const std::string saved = old ? old : "";
  TempDir a, b;
  ::setenv("NETMON_PLUGIN_DIR", ("/from/env1:" + b.path().string() + ":/from/env1").c_str(), 1);
  const auto dirs = PluginPath::from({a.path().string()}).dirs();
  ASSERT_EQ(dirs.size(), 4u);  // duplicates dropped
  EXPECT_EQ(dirs[0], a.path());
  EXPECT_EQ(dirs[1], fs::path("/from/env1"));
  EXPECT_EQ(dirs[2], b.path());
  // Last: next to the executable, <exe>/../lib/netmon/plugins.
  EXPECT_EQ(dirs[3].filename(), "plugins");
  EXPECT_EQ(dirs[3].parent_path().filename(), "netmon");
  ::unsetenv("NETMON_PLUGIN_DIR");
  EXPECT_EQ(PluginPath::from({}).dirs().size(), 1u);
  // A --plugin-dir that does not exist is an error, not a silent skip.
  EXPECT_THAT(error_of<Error>([&] { (void)PluginPath::from({(a / "nope").string()}); }),
              HasSubstr("no such directory"));
  if (old) ::setenv("NETMON_PLUGIN_DIR", saved.c_str(), 1);
}

TEST(PluginPath, TheFirstDirectoryHoldingANameWins) {
  PluginPath both({kFixtureDir, kPluginDir});
  EXPECT_EQ(both.resolve("good", LibraryKind::plugin), fixture("good"));
  EXPECT_EQ(both.resolve("json", LibraryKind::sink), kPluginDir / "libnetmon_json.so");
  const auto msg = error_of<Error>([&] { (void)both.resolve("nope", LibraryKind::plugin); });
  EXPECT_THAT(msg, HasSubstr(kFixtureDir.string() + ":" + kPluginDir.string()));
}

TEST(PluginPath, ListNamesTheLibraryThatShadowsAnother) {
  TempDir first;
  fs::copy_file(fixture("good"), first / "libnetmon_good.so");
  const auto entries = PluginPath({first.path(), kFixtureDir}).list();
  std::map<fs::path, fs::path> shadowed_by;
  for (const auto& e : entries) shadowed_by[e.path] = e.shadowed_by;
  ASSERT_TRUE(shadowed_by.count(first / "libnetmon_good.so"));
  EXPECT_EQ(shadowed_by[first / "libnetmon_good.so"], fs::path()) << "the first one is the one used";
  EXPECT_EQ(shadowed_by[fixture("good")], first / "libnetmon_good.so");
  EXPECT_EQ(shadowed_by[fixture("cplugin")], fs::path()) << "found once: shadows nothing, shadowed by nothing";
}

TEST(PluginPath, ListPluginsSaysWhichOfTwoSameNamedLibrariesIsUsed) {
  TempDir first;
  fs::copy_file(fixture("good"), first / "libnetmon_good.so");
  netmon::host::HostConfig cfg;
  cfg.plugin_dirs = {first.path().string(), kFixtureDir.string()};
  testing::internal::CaptureStdout();
  EXPECT_EQ(netmon::host::list_plugins(cfg), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("[not used: " + fixture("good").string() + "; " + (first / "libnetmon_good.so").string() +
                             " comes first]"));
  EXPECT_THAT(out, Not(HasSubstr("[not used: " + (first / "libnetmon_good.so").string())));
}

TEST(PluginPath, ListDescribesEveryLibrary) {
  PluginPath dir({kFixtureDir});
  const auto entries = dir.list();
  std::vector<std::string> files;
  for (const auto& e : entries) files.push_back(e.path.filename().string());
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  auto find = [&](const std::string& file) -> const PluginPath::Entry* {
    for (const auto& e : entries)
      if (e.path.filename() == file) return &e;
    return nullptr;
  };
  const auto* good = find("libnetmon_good.so");
  ASSERT_NE(good, nullptr);
  EXPECT_EQ(good->kind, LibraryKind::plugin);
  EXPECT_EQ(good->name, "good");
  EXPECT_EQ(good->version, "1.2.3");
  EXPECT_EQ(good->description, "Unit-test fixture: publishes one sample per collect");
  EXPECT_EQ(good->error, "");

  const auto* c = find("libnetmon_cplugin.so");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "cplugin");
  EXPECT_EQ(c->error, "");

  const auto* notp = find("libnetmon_notaplugin.so");
  ASSERT_NE(notp, nullptr);
  EXPECT_THAT(notp->error, HasSubstr("not a netmon plugin"));

  const auto* major = find("libnetmon_abi_major.so");
  ASSERT_NE(major, nullptr);
  EXPECT_THAT(major->error, HasSubstr(version(NETMON_ABI_MAJOR + 1, NETMON_ABI_MINOR)));

  // Loading does not create: a plugin whose constructor throws still lists.
  const auto* cf = find("libnetmon_create_fails.so");
  ASSERT_NE(cf, nullptr);
  EXPECT_EQ(cf->error, "");
  EXPECT_EQ(cf->name, "create_fails");
}

TEST(PluginPath, ListShowsSinksAsSinks) {
  const auto entries = PluginPath({kPluginDir}).list();
  int sinks = 0;
  for (const auto& e : entries) {
    const std::string f = e.path.filename().string();
    if (f == "libnetmon_json.so" || f == "libnetmon_csv.so" || f == "libnetmon_console.so") {
      EXPECT_EQ(e.kind, LibraryKind::sink) << f;
      EXPECT_EQ(e.error, "") << f;
      EXPECT_EQ("libnetmon_" + e.name + ".so", f);
      ++sinks;
    }
  }
  EXPECT_EQ(sinks, 3);
}

TEST(PluginPath, ListSkipsMissingDirectories) {
  TempDir tmp;
  EXPECT_TRUE(PluginPath({tmp / "gone"}).list().empty());
}

// ---- sample kinds across ABI minors ----------------------------------------

namespace {

netmon_sample c_sample(const char* measurement, std::uint32_t struct_size, std::uint32_t kind) {
  netmon_sample s{};
  s.struct_size = struct_size;
  s.measurement = measurement;
  s.kind = kind;  // read only when struct_size holds it
  return s;
}

}  // namespace

TEST(SampleKind, AnAbi11SampleIsASnapshotWhateverFollowsIt) {
  // An ABI 1.1 plugin's sample ends before `kind`: what lies past its
  // struct_size (here a stray 1) is not the plugin's and must not be read.
  const auto s = netmon::from_c(c_sample("old", static_cast<std::uint32_t>(NETMON_SAMPLE_SIZE_1_0), 1));
  EXPECT_EQ(s.kind, netmon::SampleKind::snapshot);
  EXPECT_FALSE(s.is_event());
}

TEST(SampleKind, AnAbi12SampleCarriesItsKind) {
  EXPECT_TRUE(netmon::from_c(c_sample("ev", sizeof(netmon_sample), NETMON_SAMPLE_EVENT)).is_event());
  EXPECT_FALSE(netmon::from_c(c_sample("snap", sizeof(netmon_sample), NETMON_SAMPLE_SNAPSHOT)).is_event());
  const auto msg = error_of<std::invalid_argument>([] { netmon::from_c(c_sample("odd", sizeof(netmon_sample), 7)); });
  EXPECT_THAT(msg, HasSubstr("'odd' has unknown kind 7"));
}

TEST(SampleKind, TheSdkRoundTripKeepsTheKind) {
  const Sample ev = Sample("flow_end").event().gauge("bytes", 3);
  const netmon::SampleView view(ev);
  EXPECT_EQ(view.get()->struct_size, sizeof(netmon_sample));
  EXPECT_EQ(view.get()->kind, static_cast<std::uint32_t>(NETMON_SAMPLE_EVENT));
  EXPECT_EQ(netmon::from_c(*view.get()), ev);
  const Sample snap = Sample("totals").counter("n", 1);
  EXPECT_EQ(netmon::from_c(*netmon::SampleView(snap).get()), snap);
}

TEST(SampleKind, ASinkGetsSamplesOfItsOwnMinorsSize) {
  // A sink built for ABI 1.1 indexes batch->samples with a 48-byte stride;
  // one built for 1.2 with 56. The host lays the array out for each.
  const std::vector<Sample> samples{Sample("a").counter("n", 1), Sample("b").event().gauge("g", 2),
                                    Sample("c").text("t", "x")};
  for (unsigned minor : {0u, 1u, 2u}) {
    const netmon::host::CSampleArray arr(samples, minor);
    const std::size_t stride = minor >= 2 ? sizeof(netmon_sample) : NETMON_SAMPLE_SIZE_1_0;
    EXPECT_EQ(arr.stride(), stride);
    ASSERT_EQ(arr.size(), 3u);
    const auto* bytes = reinterpret_cast<const unsigned char*>(arr.data());
    for (std::size_t i = 0; i < samples.size(); ++i) {
      // What a sink of that minor reads at samples[i]: exactly `stride` bytes.
      netmon_sample c{};
      std::memcpy(&c, bytes + i * stride, stride);
      EXPECT_EQ(c.struct_size, stride) << "minor " << minor << " sample " << i;
      Sample expect = samples[i];
      if (minor < 2) expect.kind = netmon::SampleKind::snapshot;  // an older sink knows no kinds
      EXPECT_EQ(netmon::from_c(c), expect) << "minor " << minor << " sample " << i;
    }
  }
}
