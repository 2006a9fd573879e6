// SPDX-License-Identifier: MIT
// Host-wide BPF programs: attach helpers for tracepoints, raw tracepoints,
// tp_btf, fentry/fexit and kprobes, the links they make owned and detached in
// reverse order, and what the running kernel offers them (its BTF, its enums).
//
//   class Drops final : public netmon::Plugin {
//     void start(const netmon::StartContext& ctx) override {
//       netmon::bpf::require_kernel_btf("drops");
//       skel_ = netmon::bpf::Skeleton<drops_bpf>::open_and_load("drops");
//       links_.add(netmon::bpf::attach_program(skel_->progs.drops_kfree_skb, "drops"));
//     }
//     void stop() noexcept override { links_.clear(); skel_ = {}; }
//     netmon::bpf::Links links_;
//   };
//   constexpr netmon::Attaches kAttaches{NETMON_ATTACH_RAW_TRACEPOINT, NETMON_NEEDS_KERNEL_BTF,
//                                        "tp_btf/kfree_skb"};
//   NETMON_PLUGIN_ATTACHING(Drops, "drops", "0.1.0", "...", kOptions, kAttaches)
//
// The attach point is the program's section name (SEC("tp_btf/kfree_skb"),
// SEC("tracepoint/tcp/tcp_retransmit_skb"), SEC("fentry/tcp_send_reset"),
// SEC("kprobe/tcp_v4_rcv")): attach_program() attaches it there, as libbpf's
// skeleton attach would, but one program at a time and with a message that
// says why the kernel refused.
#pragma once

#include <netmon/bpf.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace netmon::bpf {

// Where the kernel publishes its own BTF (CONFIG_DEBUG_INFO_BTF=y).
inline constexpr const char* kKernelBtfPath = "/sys/kernel/btf/vmlinux";

// "" when the kernel's BTF is at `path` and readable, else why not, as a
// clause ("/sys/kernel/btf/vmlinux does not exist").
std::string kernel_btf_error(const std::string& path = kKernelBtfPath);
inline bool kernel_has_btf(const std::string& path = kKernelBtfPath) { return kernel_btf_error(path).empty(); }

// Throws netmon::Error naming `what`, the missing BTF and the fix when the
// running kernel has none (CO-RE relocations, tp_btf and fentry need it).
// netmon-host checks this before starting a plugin whose descriptor says
// NETMON_NEEDS_KERNEL_BTF; call it yourself to fail early elsewhere.
// `or_else` is a second fix, added to the message after ", or ".
void require_kernel_btf(const std::string& what, const std::string& or_else = "");

// The values and names of an enum of the running kernel, read from its BTF:
// kernel_enum("skb_drop_reason") -> {0: "SKB_NOT_DROPPED_YET", 2: "NOT_SPECIFIED"...}
// with `strip_prefix` ("SKB_DROP_REASON_") taken off the names that have it.
// Values a newer kernel added appear by name without a rebuild. Throws
// netmon::Error when the kernel has no BTF or no such enum.
std::map<std::int64_t, std::string> kernel_enum(const std::string& name, const std::string& strip_prefix = "");

// How many arguments the running kernel passes to the BTF tracepoint `name`
// (tp_btf/<name>, raw_tp/<name>): its btf_trace_<name> prototype without
// the leading context. Tracepoints gain arguments across kernels
// (tcp_retransmit_skb got `err` in 6.13): a plugin loads the program that
// reads what this kernel passes. -1 when the kernel's BTF has no such
// tracepoint; throws netmon::Error when the kernel has no BTF.
int kernel_tracepoint_args(const std::string& name);

// Attaches `prog` where its section name says (tracepoint/, raw_tp/,
// tp_btf/, fentry/, fexit/, kprobe/, kretprobe/, ksyscall/). On failure
// throws netmon::Error: "<what>: cannot attach <section>: <reason> (<hint>)",
// the hint naming the likely cause (CAP_PERFMON or lockdown for EPERM, a hook
// this kernel lacks for ENOENT, a program type it cannot attach for
// EOPNOTSUPP).
Link attach_program(bpf_program* prog, const std::string& what);

// A perf-event tracepoint by category and name, whatever the section says.
Link attach_tracepoint(bpf_program* prog, const std::string& category, const std::string& name,
                       const std::string& what);

// A raw tracepoint by name, whatever the section says.
Link attach_raw_tracepoint(bpf_program* prog, const std::string& name, const std::string& what);

// The message attach_program() throws for errno `err`: for plugins that
// attach by other libbpf calls.
std::string attach_error_message(const std::string& what, const std::string& target, int err);

// The links of a plugin, detached in reverse order of attach by clear() or
// the destructor.
class Links {
 public:
  Links() = default;
  Links(Links&&) noexcept = default;
  Links& operator=(Links&& o) noexcept {
    if (this != &o) {
      clear();
      links_ = std::move(o.links_);
    }
    return *this;
  }
  ~Links() { clear(); }

  Link& add(Link link) { return links_.emplace_back(std::move(link)); }
  void clear() noexcept {
    while (!links_.empty()) links_.pop_back();
  }
  [[nodiscard]] std::size_t size() const { return links_.size(); }
  [[nodiscard]] bool empty() const { return links_.empty(); }

 private:
  std::vector<Link> links_;
};

}  // namespace netmon::bpf
