// SPDX-License-Identifier: MIT
// Attaching BPF programs at TC ingress/egress, for plugins.
//
// tcx first (kernel 6.6 and later): bpf_link_create with BPF_TCX_INGRESS or
// BPF_TCX_EGRESS. A tcx link lives as long as its fd: the kernel detaches it
// when netmon-host exits or is killed, so nothing can be left behind, and
// programs of several owners coexist on one hook in a defined order.
//
// netlink fallback (older kernels, or asked for): libbpf's bpf_tc_* API on a
// clsact qdisc, at the plugin's own priority. The clsact qdisc is created only
// if absent and removed only by the attachment that created it, when no filter
// is left on it. Filters outlive a killed process, so at attach time a filter
// of ours found at our priority (same program name) is removed, with a log
// line, and the clsact it sat on is treated as ours (removed when empty).
//
// Programs must return TC_ACT_UNSPEC (TCX_NEXT) so the other filters run.
#pragma once

#include <netmon/bpf.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace netmon::bpf {

enum class TcMode { automatic, tcx, netlink };
enum class TcDirection { ingress, egress };

// "auto", "tcx", "netlink"; throws netmon::Error otherwise.
TcMode parse_tc_mode(const std::string& s);
const char* to_string(TcMode m);
const char* to_string(TcDirection d);

// One program attached at one hook. Destroying it detaches the program.
class TcLink {
 public:
  TcLink();
  TcLink(TcLink&&) noexcept;
  TcLink& operator=(TcLink&&) noexcept;
  ~TcLink();

  [[nodiscard]] TcMode mode() const;  // tcx or netlink
  [[nodiscard]] TcDirection direction() const;
  [[nodiscard]] const Interface& iface() const;
  // Detaches now (the destructor does it otherwise). Never throws; problems are logged.
  void detach() noexcept;

  struct State;  // defined in tc.cpp
  explicit TcLink(std::unique_ptr<State> s);

 private:
  std::unique_ptr<State> s_;
};

// Attaches prog at iface's ingress or egress. `priority` is the plugin's own
// netlink priority (1..65535; the handle is always 1). automatic: tcx, and
// netlink with a log line if the kernel has no tcx.
TcLink attach_tc(const bpf_program* prog, const Interface& iface, TcDirection dir, TcMode mode,
                 std::uint16_t priority, const Logger& log);

// True when the running kernel accepts tcx links (probed once).
bool kernel_has_tcx();

// Filters on iface's clsact hook (any owner), counted through a netlink dump;
// -1 if the hook or the qdisc does not exist.
int count_tc_filters(std::uint32_t ifindex, TcDirection dir);

}  // namespace netmon::bpf
