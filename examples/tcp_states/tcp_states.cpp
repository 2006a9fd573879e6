// SPDX-License-Identifier: MIT
// tcp_states: a host-wide plugin written against the installed netmon SDK.
// It hooks the kernel's sock:inet_sock_set_state tracepoint (tp_btf, CO-RE)
// and publishes how many times TCP sockets entered each state, per network
// namespace: connections opened (SYN_SENT), accepted (SYN_RECV), established,
// closed.
#include <netmon/bpf.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tracing.hpp>

#include <bpf/bpf.h>

#include <cerrno>
#include <optional>
#include <string>

#include "tcp_states.h"
#include "tcp_states.skel.h"

namespace {

// The kernel's TCP states (include/net/tcp_states.h): an anonymous enum, so
// not in its BTF by name; they have not changed since Linux 2.6.
const char* state_name(std::uint32_t s) {
  static constexpr const char* kNames[] = {"",          "ESTABLISHED", "SYN_SENT",    "SYN_RECV",   "FIN_WAIT1",
                                           "FIN_WAIT2", "TIME_WAIT",   "CLOSE",       "CLOSE_WAIT", "LAST_ACK",
                                           "LISTEN",    "CLOSING",     "NEW_SYN_RECV"};
  return s > 0 && s < std::size(kNames) ? kNames[s] : "UNKNOWN";
}

class TcpStates final : public netmon::Plugin {
 public:
  void start(const netmon::StartContext& ctx) override {
    skel_.emplace(netmon::bpf::Skeleton<tcp_states>::open_and_load("tcp_states"));
    links_.add(netmon::bpf::attach_program((*skel_)->progs.tcp_states_set_state, "tcp_states"));
    ctx.log.info("attached to tp_btf/inet_sock_set_state, host-wide");
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    const int fd = bpf_map__fd((*skel_)->maps.entered);
    tcp_states_key cur{}, next{};
    for (bool have = false; bpf_map_get_next_key(fd, have ? &cur : nullptr, &next) == 0; have = true, cur = next) {
      out.publish(netmon::Sample("tcp_states")
                      .tag("netns", std::to_string(next.netns))
                      .tag("state", state_name(next.state))
                      .counter("entered", netmon::bpf::percpu_sum<std::uint64_t>(fd, next)));
    }
    if (errno != ENOENT) throw netmon::Error(netmon::errno_message("tcp_states: cannot read its map", errno));
  }

  void stop() noexcept override {
    links_.clear();
    skel_.reset();
  }

 private:
  std::optional<netmon::bpf::Skeleton<tcp_states>> skel_;
  netmon::bpf::Links links_;  // after skel_: detached before the program is freed
};

constexpr netmon::Attaches kAttaches{NETMON_ATTACH_RAW_TRACEPOINT, NETMON_NEEDS_KERNEL_BTF,
                                     "tp_btf/inet_sock_set_state"};

}  // namespace

NETMON_PLUGIN_ATTACHING(TcpStates, "tcp_states", "0.1.0",
                        "TCP state changes per network namespace (tp_btf/inet_sock_set_state); host-wide", nullptr,
                        kAttaches)
