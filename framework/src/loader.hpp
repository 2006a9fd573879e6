// SPDX-License-Identifier: MIT
// Finding, loading and checking plugin and sink libraries (host side).
//
// A library is opened with Boost.DLL (RTLD_NOW | RTLD_LOCAL, so a missing
// symbol fails here, not in the middle of a run). Its descriptor is checked
// (ABI major equal, minor not newer, required entries present) before any of
// its functions is called. Every instance keeps a shared_ptr to its Library:
// the code stays mapped as long as anything made by it lives.
//
// Every failure throws netmon::Error with a one-line message naming the file,
// what is wrong and what to do.
#pragma once

#include <netmon/plugin.hpp>
#include <netmon/plugin_abi.h>
#include <netmon/sample.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace netmon::host {

enum class LibraryKind { plugin, sink };

const char* to_string(LibraryKind k);

// An open shared library. Never unloaded while referenced.
class Library {
 public:
  static std::shared_ptr<Library> open(const std::filesystem::path& path);
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // Address of an exported symbol, or nullptr.
  [[nodiscard]] const void* symbol(const char* name) const;

 private:
  Library() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
};

struct AbiVersion {
  unsigned major = 0;
  unsigned minor = 0;
};

// Checks an ABI version against the host's; throws netmon::Error if refused.
void check_abi(const std::filesystem::path& path, LibraryKind kind, AbiVersion got);

// A checked plugin descriptor, copied into the host's layout (absent trailing
// members of an older, shorter descriptor are zero).
struct PluginLibrary {
  std::shared_ptr<Library> library;
  netmon_plugin_descriptor desc{};
  AbiVersion abi;
};

// What a plugin attaches to and needs, for --list-plugins:
// "tracing (tp_btf/kfree_skb), host-wide; needs the kernel's BTF". A plugin
// that says nothing (ABI 1.2 and older): "interfaces".
std::string attach_summary(const netmon_plugin_descriptor& desc);

// True when the plugin attaches to no interface hook but to some host-wide
// one: it runs host-wide (NETMON_SCOPE_HOST).
bool runs_host_wide(const netmon_plugin_descriptor& desc);

struct SinkLibrary {
  std::shared_ptr<Library> library;
  netmon_sink_descriptor desc{};
  AbiVersion abi;
};

// A batch's samples as the C array a sink built for ABI 1.<abi_minor>
// indexes: elements of that minor's netmon_sample size (NETMON_SAMPLE_SIZE_1_0
// before 1.2), each with that struct_size. Points into `samples`: keep them
// alive and unchanged while the array is used.
class CSampleArray {
 public:
  CSampleArray(const std::vector<Sample>& samples, unsigned abi_minor);
  [[nodiscard]] const netmon_sample* data() const { return storage_.data(); }
  [[nodiscard]] std::uint32_t size() const { return n_; }
  [[nodiscard]] std::size_t stride() const { return stride_; }

 private:
  std::vector<SampleView> views_;
  std::vector<netmon_sample> storage_;  // n_ * stride_ bytes used
  std::size_t stride_;
  std::uint32_t n_;
};

PluginLibrary load_plugin_library(const std::filesystem::path& path);
SinkLibrary load_sink_library(const std::filesystem::path& path);

class PluginPath;

// What --plugins and --sink load: a name looked up in `dir`, or a path (a
// value with a '/'). A library found by name must call itself by that name
// in its descriptor (its options, its samples and --list-plugins go by the
// descriptor's name): otherwise netmon::Error names both.
PluginLibrary load_plugin(const PluginPath& dir, const std::string& name_or_path);
SinkLibrary load_sink(const PluginPath& dir, const std::string& name_or_path);

// Refuses files an unprivileged user could have written: a world-writable
// file or directory on the path (sticky directories such as /tmp excepted for
// the directory check, as the file itself is still checked), a directory, a
// missing file. Throws netmon::Error.
void check_library_file(const std::filesystem::path& path);

// Where plugins and sinks are looked up by name: a search path of
// directories, the first holding libnetmon_<name>.so wins.
class PluginPath {
 public:
  explicit PluginPath(std::vector<std::filesystem::path> dirs) : dirs_(std::move(dirs)) {}

  // Each --plugin-dir (which must exist), then each entry of
  // $NETMON_PLUGIN_DIR (colon-separated), then <exe>/../<libdir>/netmon/plugins,
  // so a directory of one's own plugins adds to the standard ones.
  static PluginPath from(const std::vector<std::string>& cli_dirs);

  [[nodiscard]] const std::vector<std::filesystem::path>& dirs() const { return dirs_; }
  // The search path as text: "a:b:c".
  [[nodiscard]] std::string describe() const;

  // "xdp_stats" -> the first <dir>/libnetmon_xdp_stats.so; a value with a '/' is a path.
  [[nodiscard]] std::filesystem::path resolve(const std::string& name_or_path, LibraryKind kind) const;

  struct Entry {
    LibraryKind kind;
    std::string name;
    std::string version;
    std::string description;
    std::string options_help;  // ABI 1.1: what the options are, or ""
    std::string attaches;      // plugins: attach_summary() of the descriptor
    std::filesystem::path path;
    std::string error;  // set when the file could not be loaded
    // Set when a library of the same file name earlier in the path is the
    // one used: that library's path.
    std::filesystem::path shadowed_by;
  };
  // Every libnetmon_*.so in the path, loaded and described, in path order.
  [[nodiscard]] std::vector<Entry> list() const;

 private:
  std::vector<std::filesystem::path> dirs_;
};

// One live plugin instance. Destroying it calls the plugin's destroy().
class PluginInstance {
 public:
  explicit PluginInstance(PluginLibrary lib);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  void configure(const std::string& options_json);
  void start(const netmon_start_context& ctx);
  // Calls collect; publish receives each sample (already copied to C++).
  void collect(std::int64_t now_ns, const std::function<void(Sample&&)>& publish);
  void stop() noexcept;

 private:
  [[noreturn]] void fail(const std::string& what, bool usage = false) const;
  PluginLibrary lib_;  // declared first: destroyed last
  void* self_ = nullptr;
  std::string name_;
};

// One live sink instance.
class SinkInstance {
 public:
  SinkInstance(SinkLibrary lib, std::string display_name);
  ~SinkInstance();
  SinkInstance(const SinkInstance&) = delete;
  SinkInstance& operator=(const SinkInstance&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  // For netmon_sink_context.host_ctx: the sink's name as plugin_log() prints
  // it, owned by the instance (which outlives every call of the sink, even
  // on a thread the bus abandoned).
  [[nodiscard]] void* log_context() { return &log_name_; }
  void open(const netmon_sink_context& ctx);
  // NETMON_OK or NETMON_CLOSED; throws netmon::Error on NETMON_ERROR.
  int write(const Batch& batch);
  void close();

 private:
  [[noreturn]] void fail(const std::string& what, bool usage = false) const;
  SinkLibrary lib_;
  void* self_ = nullptr;
  std::string name_;
  std::string log_name_;
};

}  // namespace netmon::host
