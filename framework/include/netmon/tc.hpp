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
// Placement (tcx only): a tcx hook runs its programs in a chain. `last`
// appends netmon's program to the chain (as an attach without placement
// does), `first` puts it in front of every program there at the time
// (BPF_F_AFTER or BPF_F_BEFORE with no relative program). A program attached
// later can still go in front of it. Filters on a clsact qdisc run after the
// whole tcx chain, in the order of their priority: `first` is refused there,
// and `last` changes nothing.
//
// Programs must return TC_ACT_UNSPEC (TCX_NEXT) so the other filters run.
//
//   netmon::bpf::TcAttach how{mode, placement, 49300};  // 49300: the plugin's netlink priority
//   netmon::bpf::TcPair links = netmon::bpf::attach_tc_pair(skel->progs.my_in, skel->progs.my_out, iface, how, log);
#pragma once

#include <netmon/bpf.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace netmon::bpf {

enum class TcMode { automatic, tcx, netlink };
enum class TcDirection { ingress, egress };
enum class TcPlacement { first, last };

// "auto", "tcx", "netlink"; throws netmon::Error otherwise.
TcMode parse_tc_mode(const std::string& s);
// "first", "last"; throws netmon::Error otherwise.
TcPlacement parse_tc_placement(const std::string& s);
const char* to_string(TcMode m);
const char* to_string(TcDirection d);
const char* to_string(TcPlacement p);

// How a plugin attaches at TC: its options (attach mode, tcx placement) and
// its own netlink priority (1..65535; the handle is always 1).
struct TcAttach {
  TcMode mode = TcMode::automatic;
  TcPlacement placement = TcPlacement::last;
  std::uint16_t priority = 0;
};

// For configure(), after reading the options: placement first with attach
// netlink cannot be had, and is refused as a netmon::UsageError naming the
// options of `owner` (the plugin's name), before anything is attached. (With
// attach auto on a kernel without tcx, attach_tc refuses it at start.)
void check_tc_attach(const TcAttach& how, const std::string& owner);

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

// Attaches prog at iface's ingress or egress. automatic: tcx, and netlink
// with a log line if the kernel has no tcx. Placement `first` where the attach
// is netlink throws.
TcLink attach_tc(const bpf_program* prog, const Interface& iface, TcDirection dir, const TcAttach& how,
                 const Logger& log);
// The same, placed last.
TcLink attach_tc(const bpf_program* prog, const Interface& iface, TcDirection dir, TcMode mode, std::uint16_t priority,
                 const Logger& log);

// One program at ingress and one at egress of an interface. Destroying the
// pair detaches egress, then ingress (the reverse of attaching: the first
// netlink link made the clsact qdisc and removes it when it goes last).
struct TcPair {
  TcLink ingress;
  TcLink egress;

  TcPair() = default;
  TcPair(TcLink in, TcLink out) : ingress(std::move(in)), egress(std::move(out)) {}
  TcPair(TcPair&&) noexcept = default;
  TcPair& operator=(TcPair&& o) noexcept {
    egress = std::move(o.egress);  // the links held until now: egress first
    ingress = std::move(o.ingress);
    return *this;
  }
  ~TcPair() = default;  // egress, then ingress

  [[nodiscard]] const Interface& iface() const { return ingress.iface(); }
  [[nodiscard]] TcMode mode() const { return ingress.mode(); }  // tcx or netlink
};

// Attaches ingress_prog at ingress, then egress_prog at egress. If the second
// attach throws, the first is detached again.
TcPair attach_tc_pair(const bpf_program* ingress_prog, const bpf_program* egress_prog, const Interface& iface,
                      const TcAttach& how, const Logger& log);

// True when the running kernel accepts tcx links (probed once).
bool kernel_has_tcx();

// Filters on iface's clsact hook (any owner), counted through a netlink dump;
// -1 if the hook or the qdisc does not exist.
int count_tc_filters(std::uint32_t ifindex, TcDirection dir);

}  // namespace netmon::bpf
