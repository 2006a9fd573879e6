// SPDX-License-Identifier: MIT
// The C API of the support library (<netmon/support.h>): thin wrappers over
// netmon::Options, netmon::bpf::attach_tc and the interface helpers. No
// exception leaves an entry point: each one turns it into its return value
// and, where it has one, a message in the caller's buffer.
#include <netmon/iface.hpp>
#include <netmon/options.hpp>
#include <netmon/support.h>
#include <netmon/tc.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <new>
#include <string>
#include <vector>

struct netmon_options {
  netmon::Options opts;
  std::string error;                // the first failure; "" while none
  std::deque<std::string> strings;  // what netmon_options_string() handed out
};

struct netmon_tc_link {
  netmon::bpf::TcLink link;
};

namespace {

void put_error(char* err, std::size_t err_len, const char* message) noexcept {
  if (err && err_len > 0) std::snprintf(err, err_len, "%s", message);
}

// Runs f for the reader `what` on o: NETMON_OK, or NETMON_ERROR with the
// first failure kept in o. Sticky: nothing runs after a failure.
template <class F>
int read_option(netmon_options* o, const char* what, const char* key, const void* out, F&& f) noexcept {
  if (!o) return NETMON_ERROR;
  if (!o->error.empty()) return NETMON_ERROR;
  try {
    if (!key || !out) throw netmon::Error(std::string(what) + ": the key and the output must not be NULL");
    f();
    return NETMON_OK;
  } catch (const std::exception& e) {
    o->error = e.what();
  } catch (...) {
    o->error = std::string(what) + ": unexpected failure";
  }
  if (o->error.empty()) o->error = std::string(what) + ": failed";
  return NETMON_ERROR;
}

bool is_percpu(std::uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: return true;
    default: return false;
  }
}

}  // namespace

extern "C" {

// ---- options ----------------------------------------------------------------

netmon_options* netmon_options_open(const char* options_json, const char* owner, char* err, size_t err_len) {
  try {
    if (!owner || !*owner) throw netmon::Error("netmon_options_open: the owner (the plugin's name) must be given");
    // Parsed as the C++ SDK parses configure()'s text, hence the same messages.
    nlohmann::json json = nlohmann::json::parse(options_json ? options_json : "{}");
    return new netmon_options{netmon::Options(json, owner), {}, {}};
  } catch (const std::exception& e) {
    put_error(err, err_len, e.what());
  } catch (...) {
    put_error(err, err_len, "netmon_options_open: unexpected failure");
  }
  return nullptr;
}

int netmon_options_integer(netmon_options* o, const char* key, int64_t def, int64_t min, int64_t max, int64_t* out) {
  if (out) *out = def;
  return read_option(o, "netmon_options_integer", key, out, [&] { *out = o->opts.integer(key, def, min, max); });
}

int netmon_options_boolean(netmon_options* o, const char* key, int def, int* out) {
  if (out) *out = def ? 1 : 0;
  return read_option(o, "netmon_options_boolean", key, out, [&] { *out = o->opts.boolean(key, def != 0) ? 1 : 0; });
}

int netmon_options_string(netmon_options* o, const char* key, const char* def, const char** out) {
  if (out) *out = def;
  return read_option(o, "netmon_options_string", key, out, [&] {
    o->strings.push_back(o->opts.string(key, def ? def : ""));
    *out = o->strings.back().c_str();
  });
}

int netmon_options_choice(netmon_options* o, const char* key, const char* const* choices, size_t n_choices,
                          const char* def, const char** out) {
  if (out) *out = def;
  return read_option(o, "netmon_options_choice", key, out, [&] {
    if (!choices || n_choices == 0)
      throw netmon::Error("netmon_options_choice: no choices given for " + std::string(key));
    for (std::size_t i = 0; i < n_choices; ++i)
      if (!choices[i]) throw netmon::Error("netmon_options_choice: choice " + std::to_string(i) + " is NULL");
    const std::string v = o->opts.choice(key, choices, n_choices, def ? def : "");
    for (std::size_t i = 0; i < n_choices; ++i)
      if (v == choices[i]) {
        *out = choices[i];
        return;
      }
    // Not one of the choices: the key was absent, and the result is def.
  });
}

int netmon_options_duration_ns(netmon_options* o, const char* key, int64_t def_ns, int64_t min_ns, int64_t max_ns,
                               int64_t* out_ns) {
  if (out_ns) *out_ns = def_ns;
  return read_option(o, "netmon_options_duration_ns", key, out_ns, [&] {
    using ns = std::chrono::nanoseconds;
    *out_ns = o->opts.duration(key, ns(def_ns), ns(min_ns), ns(max_ns)).count();
  });
}

int netmon_options_finish(netmon_options* o) {
  static const char unused = 0;
  return read_option(o, "netmon_options_finish", "", &unused, [&] { o->opts.finish(); });
}

const char* netmon_options_error(const netmon_options* o) { return o ? o->error.c_str() : ""; }

void netmon_options_close(netmon_options* o) { delete o; }

// ---- TC ---------------------------------------------------------------------

int netmon_tc_mode_parse(const char* text) {
  if (!text) return -1;
  if (std::strcmp(text, "auto") == 0) return NETMON_TC_AUTO;
  if (std::strcmp(text, "tcx") == 0) return NETMON_TC_TCX;
  if (std::strcmp(text, "netlink") == 0) return NETMON_TC_NETLINK;
  return -1;
}

const char* netmon_tc_mode_name(int mode) {
  switch (mode) {
    case NETMON_TC_AUTO: return "auto";
    case NETMON_TC_TCX: return "tcx";
    case NETMON_TC_NETLINK: return "netlink";
    default: return "?";
  }
}

netmon_tc_link* netmon_tc_attach(const struct bpf_program* prog, uint32_t ifindex, const char* ifname, int direction,
                                 int mode, uint16_t priority, netmon_log_fn log, void* host_ctx, char* err,
                                 size_t err_len) {
  try {
    const std::string name = ifname && *ifname ? ifname : "if" + std::to_string(ifindex);
    if (!prog) throw netmon::Error(name + ": netmon_tc_attach: no program (NULL); load the BPF object first");
    if (direction != NETMON_TC_INGRESS && direction != NETMON_TC_EGRESS)
      throw netmon::Error(name + ": netmon_tc_attach: direction " + std::to_string(direction) +
                          " is neither NETMON_TC_INGRESS nor NETMON_TC_EGRESS");
    using netmon::bpf::TcMode;
    TcMode m{};
    switch (mode) {
      case NETMON_TC_AUTO: m = TcMode::automatic; break;
      case NETMON_TC_TCX: m = TcMode::tcx; break;
      case NETMON_TC_NETLINK: m = TcMode::netlink; break;
      default:
        throw netmon::Error(name + ": netmon_tc_attach: mode " + std::to_string(mode) +
                            " is none of NETMON_TC_AUTO, NETMON_TC_TCX, NETMON_TC_NETLINK");
    }
    if (priority == 0)
      throw netmon::Error(name + ": netmon_tc_attach: priority 0; give the plugin's own TC priority, 1 to 65535");
    const auto dir =
        direction == NETMON_TC_INGRESS ? netmon::bpf::TcDirection::ingress : netmon::bpf::TcDirection::egress;
    auto link =
        netmon::bpf::attach_tc(prog, netmon::Interface{ifindex, name}, dir, m, priority, netmon::Logger(log, host_ctx));
    return new netmon_tc_link{std::move(link)};
  } catch (const std::exception& e) {
    put_error(err, err_len, e.what());
  } catch (...) {
    put_error(err, err_len, "netmon_tc_attach: unexpected failure");
  }
  return nullptr;
}

int netmon_tc_link_mode(const netmon_tc_link* link) {
  if (!link) return -1;
  return link->link.mode() == netmon::bpf::TcMode::tcx ? NETMON_TC_TCX : NETMON_TC_NETLINK;
}

void netmon_tc_detach(netmon_tc_link* link) {
  delete link;  // TcLink's destructor detaches and never throws
}

// ---- per-CPU maps -----------------------------------------------------------

int netmon_possible_cpus(void) {
  const int n = libbpf_num_possible_cpus();
  return n > 0 ? n : (n < 0 ? n : -EINVAL);
}

int netmon_percpu_lookup(int map_fd, const void* key, void* values, size_t value_size, size_t n_values) {
  if (!key || !values || value_size == 0) return -EINVAL;
  const int ncpu = netmon_possible_cpus();
  if (ncpu < 0) return ncpu;
  if (n_values < static_cast<std::size_t>(ncpu)) return -ENOSPC;
  // The kernel writes round_up(the map's value size, 8) bytes per CPU: a
  // value_size other than the map's would overrun the buffer, so check it.
  bpf_map_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0) return errno ? -errno : -EBADF;
  if (!is_percpu(info.type) || info.value_size != value_size) return -EINVAL;
  const std::size_t stride = (value_size + 7) / 8 * 8;
  try {
    std::vector<unsigned char> buf(stride * static_cast<std::size_t>(ncpu));
    if (bpf_map_lookup_elem(map_fd, key, buf.data()) != 0) return errno ? -errno : -EIO;
    auto* dst = static_cast<unsigned char*>(values);
    for (int i = 0; i < ncpu; ++i)
      std::memcpy(dst + static_cast<std::size_t>(i) * value_size, buf.data() + static_cast<std::size_t>(i) * stride,
                  value_size);
    return ncpu;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (...) {
    return -EIO;
  }
}

int netmon_percpu_sum_u64(int map_fd, const void* key, uint64_t* sums, size_t n_u64) {
  if (!sums || n_u64 == 0) return -EINVAL;
  const int ncpu = netmon_possible_cpus();
  if (ncpu < 0) return ncpu;
  try {
    std::vector<std::uint64_t> all(n_u64 * static_cast<std::size_t>(ncpu));
    const int n =
        netmon_percpu_lookup(map_fd, key, all.data(), n_u64 * sizeof(std::uint64_t), static_cast<std::size_t>(ncpu));
    if (n < 0) return n;
    for (std::size_t k = 0; k < n_u64; ++k) sums[k] = 0;
    for (int i = 0; i < n; ++i)
      for (std::size_t k = 0; k < n_u64; ++k) sums[k] += all[static_cast<std::size_t>(i) * n_u64 + k];
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (...) {
    return -EIO;
  }
}

// ---- interfaces -------------------------------------------------------------

int netmon_interface_present(uint32_t ifindex) { return netmon::interface_present(ifindex) ? 1 : 0; }

int netmon_interface_gone(uint32_t ifindex, const char* ifname, netmon_log_fn log, void* host_ctx) {
  if (netmon::interface_present(ifindex)) return 0;
  // The wording of netmon::drop_vanished(), which C++ plugins use.
  netmon_logf(log, host_ctx, NETMON_LOG_WARN, "%s (ifindex %u) is gone: no longer monitored",
              ifname && *ifname ? ifname : "?", static_cast<unsigned>(ifindex));
  return 1;
}

// ---- logging ----------------------------------------------------------------

void netmon_logf(netmon_log_fn log, void* host_ctx, int level, const char* fmt, ...) {
  if (!log || !fmt) return;
  try {
    char small[512];
    std::va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (static_cast<std::size_t>(n) < sizeof small) {
      log(host_ctx, level, small);
      return;
    }
    std::string big(static_cast<std::size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    std::vsnprintf(big.data(), big.size(), fmt, ap);
    va_end(ap);
    log(host_ctx, level, big.c_str());
  } catch (...) {
    // Out of memory for a long line: it is lost, not the plugin.
  }
}

}  // extern "C"
