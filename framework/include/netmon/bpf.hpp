// SPDX-License-Identifier: MIT
// Helpers for plugins that own BPF programs (user-space side, libbpf).
//
//   auto skel = netmon::bpf::Skeleton<my_prog>::open_and_load("my_prog");
//   auto link = netmon::bpf::attach_xdp(skel->progs.my_prog, iface, XdpMode::automatic, log);
//   auto per_cpu = netmon::bpf::lookup_percpu<my_value>(bpf_map__fd(skel->maps.stats), 0u);
//   my_value sum = netmon::bpf::percpu_sum<my_value>(bpf_map__fd(skel->maps.stats), 0u);
//   auto probe = netmon::bpf::Link::check(bpf_program__attach(skel->progs.my_kprobe), "my_prog: kprobe");
//
// Everything here is RAII: destroying the object detaches or closes what it
// holds, so a plugin that throws half-way through start() leaves nothing
// attached. Errors throw netmon::Error with the object, the operation, the
// reason and the fix.
#pragma once

#include <netmon/error.hpp>
#include <netmon/logger.hpp>
#include <netmon/plugin.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace netmon::bpf {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// An owned libbpf link (struct bpf_link *), whatever attached it: every
// bpf_program__attach*() returns one. Destroying the Link destroys the link
// (bpf_link__destroy), which detaches the program, unless the link is pinned.
class Link {
 public:
  Link() = default;
  explicit Link(bpf_link* link) : link_(link) {}
  Link(Link&& o) noexcept : link_(std::exchange(o.link_, nullptr)) {}
  Link& operator=(Link&& o) noexcept {
    if (this != &o) {
      reset();
      link_ = std::exchange(o.link_, nullptr);
    }
    return *this;
  }
  ~Link() { reset(); }

  // Owns what a bpf_program__attach*() call returned, or throws netmon::Error
  // ("<what>: <errno's reason>") for NULL: pass the call itself, so that
  // errno is read before anything else can change it.
  static Link check(bpf_link* link, const std::string& what) {
    const int err = errno;
    if (!link) throw Error(errno_message(what, err));
    return Link(link);
  }

  void reset() noexcept {
    if (link_) bpf_link__destroy(link_);
    link_ = nullptr;
  }
  // Gives the link up: the caller destroys it.
  [[nodiscard]] bpf_link* release() noexcept { return std::exchange(link_, nullptr); }
  [[nodiscard]] bpf_link* get() const { return link_; }
  [[nodiscard]] int fd() const { return link_ ? bpf_link__fd(link_) : -1; }
  explicit operator bool() const { return link_ != nullptr; }

 private:
  bpf_link* link_ = nullptr;
};

// libbpf's own messages (the verifier log of a failed load among them) reach
// the host's log through a callback netmon-host installs once for the whole
// process. Plugins must not call libbpf_set_print(): the callback would live
// in the plugin's library and dangle once that library is unloaded.

// A bpftool-generated skeleton (the C++ members bpftool emits), owned.
template <class T>
class Skeleton {
 public:
  // Opens and loads (verifies) the embedded object. `configure` runs between
  // open and load, to set `rodata` constants or resize maps.
  template <class Configure>
  static Skeleton open_and_load(const std::string& what, Configure&& configure) {
    Skeleton s(T::open(nullptr));
    if (!s.p_) {
      const int err = errno;
      throw Error(errno_message(what + ": cannot open the BPF object", err));
    }
    configure(*s.p_);
    if (const int err = T::load(s.p_))
      throw Error(errno_message(what + ": the kernel refused the BPF program (run with --log-level debug for the "
                                       "verifier log)",
                                err));
    return s;
  }
  static Skeleton open_and_load(const std::string& what) {
    return open_and_load(what, [](T&) {});
  }

  Skeleton(Skeleton&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Skeleton& operator=(Skeleton&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~Skeleton() { reset(); }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  T* get() const { return p_; }

 private:
  explicit Skeleton(T* p) : p_(p) {}
  void reset() noexcept {
    if (p_) T::destroy(p_);
    p_ = nullptr;
  }
  T* p_ = nullptr;
};

// Number of possible CPUs: the length of every per-CPU map value array.
int possible_cpus();

// Bytes between two CPUs' copies in the buffer the kernel fills for a
// per-CPU map: each copy is rounded up to 8 bytes. A buffer of
// possible_cpus() * sizeof(V) is too small whenever sizeof(V) is not a
// multiple of 8, and the kernel writes past its end.
constexpr std::size_t percpu_stride(std::size_t value_size) { return (value_size + 7) / 8 * 8; }

// Reads every CPU's copy of one per-CPU map entry into `out`, packed
// `value_size` bytes apart (n_cpus copies: possible_cpus()). The kernel's
// 8-byte stride is handled here, in a buffer of its own. Throws netmon::Error
// (ENOENT for a missing key among the reasons).
void read_percpu(int map_fd, const void* key, void* out, std::size_t value_size, std::size_t n_cpus);

// All CPUs' values of one per-CPU map entry, whatever sizeof(V).
template <class V, class K>
std::vector<V> lookup_percpu(int map_fd, const K& key) {
  static_assert(std::is_trivially_copyable_v<V>, "a per-CPU map value is plain bytes");
  std::vector<V> values(static_cast<std::size_t>(possible_cpus()));
  read_percpu(map_fd, &key, values.data(), sizeof(V), values.size());
  return values;
}

// The sum over every CPU of one per-CPU map entry, for counters. V is an
// integer, or a struct made only of std::uint64_t (__u64) members, arrays
// of them and structs of them (netmon_class_counters, a struct of packet and
// byte counters), summed member by member. For any other V, give the sum of
// two: percpu_sum<V>(fd, key, [](V& sum, const V& cpu) { ... }).
template <class V, class K, class Add>
V percpu_sum(int map_fd, const K& key, Add&& add) {
  V sum{};
  for (const V& cpu : lookup_percpu<V>(map_fd, key)) add(sum, cpu);
  return sum;
}

template <class V, class K>
V percpu_sum(int map_fd, const K& key) {
  if constexpr (std::is_integral_v<V>) {
    return percpu_sum<V>(map_fd, key, [](V& sum, const V& cpu) { sum += cpu; });
  } else {
    // What the type system can check of "only uint64_t members": no padding,
    // a whole number of 8-byte words, 8-byte aligned.
    static_assert(std::is_trivially_copyable_v<V> && std::has_unique_object_representations_v<V> &&
                      sizeof(V) % sizeof(std::uint64_t) == 0 && alignof(V) == alignof(std::uint64_t),
                  "percpu_sum<V>: V must be made of std::uint64_t counters only; else pass the sum of two V");
    return percpu_sum<V>(map_fd, key, [](V& sum, const V& cpu) {
      constexpr std::size_t n = sizeof(V) / sizeof(std::uint64_t);
      std::uint64_t a[n], b[n];
      std::memcpy(a, &sum, sizeof(V));
      std::memcpy(b, &cpu, sizeof(V));
      for (std::size_t i = 0; i < n; ++i) a[i] += b[i];
      std::memcpy(&sum, a, sizeof(V));
    });
  }
}

// ---- XDP ------------------------------------------------------------------

enum class XdpMode { automatic, native, generic };

// "auto", "native", "generic"; throws netmon::Error otherwise.
XdpMode parse_xdp_mode(const std::string& s);
const char* to_string(XdpMode m);

// An XDP program attached to one interface through a bpf_link: the kernel
// detaches it when the link's last fd closes, so a killed process leaves
// nothing behind. Destroying the XdpLink detaches it.
class XdpLink {
 public:
  XdpLink() = default;
  XdpLink(UniqueFd fd, Interface iface, XdpMode mode) : fd_(std::move(fd)), iface_(std::move(iface)), mode_(mode) {}
  [[nodiscard]] const Interface& iface() const { return iface_; }
  [[nodiscard]] XdpMode mode() const { return mode_; }  // native or generic
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  Interface iface_;
  XdpMode mode_ = XdpMode::generic;
};

// Attaches prog to iface, never replacing a program that is already there.
// automatic: generic on veth (native XDP there copies every frame and costs
// more than generic), else native with a logged fallback to generic.
XdpLink attach_xdp(const bpf_program* prog, const Interface& iface, XdpMode requested, const Logger& log);

// Describes the XDP program attached to ifindex ("'name' (id N, generic mode)"),
// or "" if none.
std::string describe_attached_xdp(std::uint32_t ifindex);

}  // namespace netmon::bpf
