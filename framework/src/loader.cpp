// SPDX-License-Identifier: MIT
#include "loader.hpp"

#include "log.hpp"

#include <netmon/error.hpp>

#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <utility>

namespace fs = std::filesystem;

namespace netmon::host {

const char* to_string(LibraryKind k) { return k == LibraryKind::plugin ? "plugin" : "sink"; }

struct Library::Impl {
  boost::dll::shared_library lib;
};

Library::~Library() = default;

std::shared_ptr<Library> Library::open(const fs::path& path) {
  check_library_file(path);
  auto lib = std::shared_ptr<Library>(new Library());
  lib->impl_ = std::make_unique<Impl>();
  lib->path_ = path;
  boost::dll::fs::error_code ec;
  dlerror();  // clear any stale message
  lib->impl_->lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char* why = dlerror();
    throw Error("cannot load " + path.string() + ": " + (why ? why : ec.message()) +
                " (is it a netmon plugin built for this system?)");
  }
  return lib;
}

const void* Library::symbol(const char* name) const {
  if (!impl_->lib.has(name)) return nullptr;
  return &impl_->lib.get<const char>(name);
}

void check_library_file(const fs::path& path) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  if (ec) {
    if (ec == std::errc::too_many_symbolic_link_levels)
      throw Error("cannot load " + path.string() + ": symbolic link loop");
    if (ec == std::errc::no_such_file_or_directory)
      throw Error("cannot load " + path.string() + ": no such file (see --list-plugins, or set --plugin-dir)");
    throw Error("cannot load " + path.string() + ": " + ec.message());
  }
  struct stat st = {};
  if (::stat(canonical.c_str(), &st) != 0) {
    const int err = errno;
    throw Error(errno_message("cannot load " + path.string(), err));
  }
  if (S_ISDIR(st.st_mode)) throw Error("cannot load " + path.string() + ": it is a directory, not a library");
  if (!S_ISREG(st.st_mode)) throw Error("cannot load " + path.string() + ": not a regular file");
  if (st.st_mode & S_IWOTH)
    throw Error("refusing to load " + canonical.string() +
                ": it is world-writable, so anyone could replace the code netmon runs as root (fix: chmod o-w " +
                canonical.string() + ")");
  for (fs::path dir = canonical.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    struct stat ds = {};
    if (::stat(dir.c_str(), &ds) == 0 && (ds.st_mode & S_IWOTH) && !(ds.st_mode & S_ISVTX))
      throw Error("refusing to load " + canonical.string() + ": its directory " + dir.string() +
                  " is world-writable (fix: chmod o-w " + dir.string() + ")");
    if (dir == dir.root_path()) break;
  }
}

namespace {

// The first members every descriptor shares.
struct DescriptorHead {
  std::uint32_t struct_size;
  std::uint16_t abi_major;
  std::uint16_t abi_minor;
};

template <class Desc>
Desc read_descriptor(const Library& lib, const char* symbol, const char* other_symbol, LibraryKind kind,
                     std::size_t min_size, AbiVersion& abi) {
  const void* sym = lib.symbol(symbol);
  const std::string file = lib.path().string();
  if (!sym) {
    if (lib.symbol(other_symbol))
      throw Error(file + " is a netmon " +
                  to_string(kind == LibraryKind::plugin ? LibraryKind::sink : LibraryKind::plugin) + ", not a " +
                  to_string(kind) +
                  (kind == LibraryKind::plugin ? " (use it with --sink)" : " (use it with --plugins)"));
    throw Error(file + " is not a netmon " + std::string(to_string(kind)) + ": it exports no '" + symbol +
                "' descriptor (build it with the netmon SDK's NETMON_" +
                (kind == LibraryKind::plugin ? "PLUGIN" : "SINK") + " macro)");
  }
  DescriptorHead head{};
  std::memcpy(&head, sym, sizeof head);
  abi = {head.abi_major, head.abi_minor};
  check_abi(lib.path(), kind, abi);
  if (head.struct_size < min_size)
    throw Error(file + ": descriptor is " + std::to_string(head.struct_size) + " bytes, smaller than ABI " +
                std::to_string(NETMON_ABI_MAJOR) + ".0's " + std::to_string(min_size) + " (corrupt library?)");
  Desc desc{};
  std::memcpy(&desc, sym, std::min<std::size_t>(head.struct_size, sizeof desc));
  if (!desc.name || !*desc.name) throw Error(file + ": descriptor has no name");
  return desc;
}

void require(const std::string& file, const void* fn, const char* what) {
  if (!fn) throw Error(file + ": descriptor lacks the required function '" + what + "'");
}

}  // namespace

std::string attach_summary(const netmon_plugin_descriptor& desc) {
  static constexpr std::pair<std::uint32_t, const char*> kKinds[] = {
      {NETMON_ATTACH_XDP, "xdp"},
      {NETMON_ATTACH_TC, "tc"},
      {NETMON_ATTACH_TRACEPOINT, "tracepoint"},
      {NETMON_ATTACH_RAW_TRACEPOINT, "raw tracepoint"},
      {NETMON_ATTACH_FENTRY, "fentry"},
      {NETMON_ATTACH_KPROBE, "kprobe"},
  };
  if (desc.attach == 0) return "interfaces";
  std::string kinds;
  for (const auto& [bit, name] : kKinds)
    if (desc.attach & bit) kinds += (kinds.empty() ? "" : ", ") + std::string(name);
  std::string out = kinds;
  if (desc.attach_targets && *desc.attach_targets) out += std::string(" (") + desc.attach_targets + ")";
  out += runs_host_wide(desc) ? ", host-wide" : ", per interface";
  if (desc.needs & NETMON_NEEDS_KERNEL_BTF) out += "; needs the kernel's BTF";
  return out;
}

bool runs_host_wide(const netmon_plugin_descriptor& desc) {
  return (desc.attach & NETMON_ATTACH_INTERFACE_MASK) == 0 && (desc.attach & NETMON_ATTACH_HOST_MASK) != 0;
}

void check_abi(const fs::path& path, LibraryKind kind, AbiVersion got) {
  const auto version = [](unsigned ma, unsigned mi) { return std::to_string(ma) + "." + std::to_string(mi); };
  const std::string host = version(NETMON_ABI_MAJOR, NETMON_ABI_MINOR);
  const std::string lib = version(got.major, got.minor);
  const std::string what = path.string() + ": " + to_string(kind) + " built for netmon ABI " + lib;
  if (got.major != NETMON_ABI_MAJOR)
    throw Error(what + ", but this netmon-host speaks ABI " + host + " (accepts " + std::to_string(NETMON_ABI_MAJOR) +
                ".0 to " + host + "): rebuild the " + to_string(kind) + " against this netmon SDK");
  if (got.minor > NETMON_ABI_MINOR)
    throw Error(what + ", newer than this netmon-host's ABI " + host + ": upgrade netmon-host or rebuild the " +
                to_string(kind) + " against this netmon SDK");
}

PluginLibrary load_plugin_library(const fs::path& path) {
  PluginLibrary out;
  out.library = Library::open(path);
  out.desc = read_descriptor<netmon_plugin_descriptor>(*out.library, NETMON_PLUGIN_SYMBOL, NETMON_SINK_SYMBOL,
                                                       LibraryKind::plugin, NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE, out.abi);
  const std::string file = path.string();
  const auto& d = out.desc;
  require(file, reinterpret_cast<const void*>(d.create), "create");
  require(file, reinterpret_cast<const void*>(d.configure), "configure");
  require(file, reinterpret_cast<const void*>(d.start), "start");
  require(file, reinterpret_cast<const void*>(d.collect), "collect");
  require(file, reinterpret_cast<const void*>(d.stop), "stop");
  require(file, reinterpret_cast<const void*>(d.destroy), "destroy");
  require(file, reinterpret_cast<const void*>(d.last_error), "last_error");
  return out;
}

SinkLibrary load_sink_library(const fs::path& path) {
  SinkLibrary out;
  out.library = Library::open(path);
  out.desc = read_descriptor<netmon_sink_descriptor>(*out.library, NETMON_SINK_SYMBOL, NETMON_PLUGIN_SYMBOL,
                                                     LibraryKind::sink, NETMON_SINK_DESCRIPTOR_MIN_SIZE, out.abi);
  const std::string file = path.string();
  const auto& d = out.desc;
  require(file, reinterpret_cast<const void*>(d.create), "create");
  require(file, reinterpret_cast<const void*>(d.open), "open");
  require(file, reinterpret_cast<const void*>(d.write), "write");
  require(file, reinterpret_cast<const void*>(d.close), "close");
  require(file, reinterpret_cast<const void*>(d.destroy), "destroy");
  require(file, reinterpret_cast<const void*>(d.last_error), "last_error");
  return out;
}

namespace {

void check_library_name(const fs::path& path, const std::string& requested, const std::string& own, LibraryKind kind) {
  if (requested.find('/') != std::string::npos || requested == own) return;
  throw Error(path.string() + ": this " + to_string(kind) + " calls itself '" + own + "', not '" + requested +
              "': name the file libnetmon_" + own + ".so, or load it by its path");
}

}  // namespace

PluginLibrary load_plugin(const PluginPath& dir, const std::string& name_or_path) {
  const fs::path path = dir.resolve(name_or_path, LibraryKind::plugin);
  PluginLibrary lib = load_plugin_library(path);
  check_library_name(path, name_or_path, lib.desc.name, LibraryKind::plugin);
  return lib;
}

SinkLibrary load_sink(const PluginPath& dir, const std::string& name_or_path) {
  const fs::path path = dir.resolve(name_or_path, LibraryKind::sink);
  SinkLibrary lib = load_sink_library(path);
  check_library_name(path, name_or_path, lib.desc.name, LibraryKind::sink);
  return lib;
}

// ---- directory ----------------------------------------------------------

PluginPath PluginPath::from(const std::vector<std::string>& cli_dirs) {
  std::vector<fs::path> dirs;
  const auto add = [&dirs](const fs::path& d) {
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  };
  for (const auto& d : cli_dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec))
      throw Error("--plugin-dir " + d + ": " + (fs::exists(d, ec) ? "not a directory" : "no such directory"));
    add(d);
  }
  if (const char* env = std::getenv("NETMON_PLUGIN_DIR"); env && *env) {
    std::string all = env;
    for (std::size_t start = 0; start <= all.size();) {
      const std::size_t colon = all.find(':', start);
      const std::string d = all.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!d.empty()) add(d);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  add(ec ? fs::path(NETMON_DEFAULT_PLUGIN_DIR) : exe.parent_path().parent_path() / NETMON_PLUGIN_RELDIR);
  return PluginPath(std::move(dirs));
}

std::string PluginPath::describe() const {
  std::string out;
  for (const auto& d : dirs_) out += (out.empty() ? "" : ":") + d.string();
  return out;
}

fs::path PluginPath::resolve(const std::string& name_or_path, LibraryKind kind) const {
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  static const std::regex valid("[A-Za-z0-9_-]+");
  if (!std::regex_match(name_or_path, valid))
    throw Error("'" + name_or_path + "' is not a valid " + to_string(kind) +
                " name (letters, digits, '_' and '-'; or give a path containing '/')");
  const std::string file = "libnetmon_" + name_or_path + ".so";
  for (const auto& d : dirs_) {
    std::error_code ec;
    if (fs::exists(d / file, ec)) return d / file;
  }
  throw Error("unknown " + std::string(to_string(kind)) + " '" + name_or_path + "': no " + file + " in " + describe() +
              " (netmon-host --list-plugins shows what is there; --plugin-dir or NETMON_PLUGIN_DIR add "
              "directories)");
}

std::vector<PluginPath::Entry> PluginPath::list() const {
  std::vector<Entry> out;
  std::map<std::string, fs::path> first;  // file name -> where it is first found
  for (const auto& dir : dirs_) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string f = e.path().filename().string();
      if (f.starts_with("libnetmon_") && f.ends_with(".so")) files.push_back(e.path());
    }
    if (ec) throw Error("cannot read plugin directory " + dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& p : files) {
      Entry entry{};
      entry.name = p.filename().string();
      entry.path = p;
      if (const auto [it, added] = first.emplace(p.filename().string(), p); !added) entry.shadowed_by = it->second;
      try {
        auto lib = Library::open(p);
        const auto text = [](const char* s) { return s ? std::string(s) : std::string(); };
        const auto describe = [&](LibraryKind kind, const auto& desc) {
          entry.kind = kind;
          entry.name = desc.name;
          entry.version = text(desc.version);
          entry.description = text(desc.description);
          entry.options_help = text(desc.options_help);
        };
        if (lib->symbol(NETMON_SINK_SYMBOL)) {
          describe(LibraryKind::sink, load_sink_library(p).desc);
        } else {
          const auto pl = load_plugin_library(p);
          describe(LibraryKind::plugin, pl.desc);
          entry.attaches = attach_summary(pl.desc);
        }
      } catch (const std::exception& e) {
        entry.error = e.what();
      }
      out.push_back(std::move(entry));
    }
  }
  return out;
}

// ---- instances ----------------------------------------------------------

PluginInstance::PluginInstance(PluginLibrary lib) : lib_(std::move(lib)), name_(lib_.desc.name) {
  char err[512] = {};
  self_ = lib_.desc.create(err, sizeof err);
  if (!self_) throw Error(name_ + ": cannot create the plugin: " + (err[0] ? err : "create() returned NULL"));
}

PluginInstance::~PluginInstance() {
  if (self_) lib_.desc.destroy(self_);
}

void PluginInstance::fail(const std::string& what, bool usage) const {
  const char* why = lib_.desc.last_error(self_);
  std::string msg;
  if (!why || !*why) msg = name_ + ": " + what + " (the plugin gave no reason)";
  else if (what.empty()) msg = attribute(name_, name_, why);
  else msg = name_ + ": " + what + ": " + why;
  if (usage) throw UsageError(msg);
  throw Error(msg);
}

void PluginInstance::configure(const std::string& options_json) {
  // configure() is given nothing but options: any refusal is a usage error.
  if (lib_.desc.configure(self_, options_json.c_str()) != NETMON_OK) fail("", true);
}

void PluginInstance::start(const netmon_start_context& ctx) {
  if (lib_.desc.start(self_, &ctx) != NETMON_OK) fail("cannot start");
}

namespace {
struct EmitCtx {
  const std::function<void(Sample&&)>* publish;
  std::string error;
};
int emit_trampoline(void* host_ctx, const netmon_sample* s) {
  auto* ctx = static_cast<EmitCtx*>(host_ctx);
  try {
    if (!s) throw std::invalid_argument("NULL sample");
    (*ctx->publish)(from_c(*s));
    return NETMON_OK;
  } catch (const std::exception& e) {
    if (ctx->error.empty()) ctx->error = e.what();
    return NETMON_ERROR;
  }
}
}  // namespace

void PluginInstance::collect(std::int64_t now_ns, const std::function<void(Sample&&)>& publish) {
  EmitCtx ctx{&publish, {}};
  netmon_emitter em{};
  em.struct_size = sizeof em;
  em.host_ctx = &ctx;
  em.publish = &emit_trampoline;
  const int rc = lib_.desc.collect(self_, now_ns, &em);
  if (!ctx.error.empty()) throw Error(name_ + ": published a malformed sample: " + ctx.error);
  if (rc != NETMON_OK) fail("collect failed");
}

void PluginInstance::stop() noexcept { lib_.desc.stop(self_); }

SinkInstance::SinkInstance(SinkLibrary lib, std::string display_name)
    : lib_(std::move(lib)), name_(std::move(display_name)), log_name_(lib_.desc.name) {
  char err[512] = {};
  self_ = lib_.desc.create(err, sizeof err);
  if (!self_) throw Error("sink " + name_ + ": cannot create: " + (err[0] ? err : "create() returned NULL"));
}

SinkInstance::~SinkInstance() {
  if (self_) lib_.desc.destroy(self_);
}

void SinkInstance::fail(const std::string& what, bool usage) const {
  const char* why = lib_.desc.last_error(self_);
  std::string msg;
  if (!why || !*why) msg = "sink " + name_ + ": " + what + " (the sink gave no reason)";
  else if (what.empty()) msg = attribute(log_name_, "sink " + name_, why);
  else msg = "sink " + name_ + ": " + what + ": " + why;
  if (usage) throw UsageError(msg);
  throw Error(msg);
}

void SinkInstance::open(const netmon_sink_context& ctx) {
  const int rc = lib_.desc.open(self_, &ctx);
  if (rc != NETMON_OK) fail("", rc == NETMON_USAGE);
}

CSampleArray::CSampleArray(const std::vector<Sample>& samples, unsigned abi_minor)
    : stride_(abi_minor >= 2 ? sizeof(netmon_sample) : NETMON_SAMPLE_SIZE_1_0),
      n_(static_cast<std::uint32_t>(samples.size())) {
  views_.reserve(samples.size());
  // Whole netmon_sample elements, for alignment; only n_ * stride_ bytes used.
  storage_.resize((samples.size() * stride_ + sizeof(netmon_sample) - 1) / sizeof(netmon_sample));
  auto* bytes = reinterpret_cast<unsigned char*>(storage_.data());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    views_.emplace_back(samples[i]);
    netmon_sample c = *views_.back().get();
    c.struct_size = static_cast<std::uint32_t>(stride_);
    std::memcpy(bytes + i * stride_, &c, stride_);
  }
}

int SinkInstance::write(const Batch& batch) {
  const CSampleArray samples(batch.samples, lib_.abi.minor);
  netmon_batch b{};
  b.struct_size = sizeof b;
  b.n_samples = samples.size();
  b.timestamp_ns = batch.timestamp_ns;
  b.interval_ns = batch.interval_ns;
  b.sequence = batch.sequence;
  b.samples = samples.data();
  const int rc = lib_.desc.write(self_, &b);
  if (rc == NETMON_ERROR) fail("write failed");
  if (rc != NETMON_OK && rc != NETMON_CLOSED)
    fail("write returned " + std::to_string(rc) + ", which is not a netmon return code");
  return rc == NETMON_CLOSED ? NETMON_CLOSED : NETMON_OK;
}

void SinkInstance::close() {
  if (lib_.desc.close(self_) != NETMON_OK) fail("close failed");
}

}  // namespace netmon::host
