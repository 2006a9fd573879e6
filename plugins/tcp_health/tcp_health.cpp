// SPDX-License-Identifier: MIT
// tcp_health: TCP segments retransmitted and resets sent and received, per
// connection (network namespace and 4-tuple, as the local end sees it) and
// for the host, from the kernel's TCP tracepoints (tp_btf). Publishes the N
// connections with most retransmissions, with the smoothed RTT each had at
// its last event, and host totals that every event adds to. Host-wide: it
// attaches to no interface.
#include <netmon/bpf.hpp>
#include <netmon/classes.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tracing.hpp>

#include <bpf/bpf.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <vector>

#include "tcp_health.h"
#include "tcp_health_bpf.skel.h"

namespace {

using netmon::bpf::Skeleton;

constexpr netmon::option::Integer kTop{
    .key = "top", .min = 1, .max = 1000, .def = 10, .help = "publish the N connections with most retransmissions"};
constexpr netmon::option::Integer kEntries{
    .key = "max_entries",
    .min = 64,
    .max = 1 << 20,
    .def = TCP_HEALTH_DEFAULT_ENTRIES,
    .help = "connections kept; events of more are counted in the totals and as lost"};
constexpr netmon::option::Duration kIdle{
    .key = "idle",
    .min = std::chrono::seconds(1),
    .def = std::chrono::minutes(5),
    .help = "forget a connection this long after its last event (its counts stay in the totals)"};
constexpr netmon::OptionList kOptions{kTop, kEntries, kIdle};

std::uint64_t events(const tcp_health_value& v) {
  return v.retransmits + v.retransmit_failures + v.resets_sent + v.resets_received;
}

struct KeyLess {
  bool operator()(const tcp_health_key& a, const tcp_health_key& b) const { return std::memcmp(&a, &b, sizeof a) < 0; }
};

class TcpHealth final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    top_ = static_cast<std::size_t>(opts.get(kTop));
    entries_ = static_cast<std::uint32_t>(opts.get(kEntries));
    idle_ = opts.get(kIdle);
    opts.finish();
  }

  void start(const netmon::StartContext& ctx) override {
    // tcp_retransmit_skb passes (sk, skb, err) since Linux 6.13, (sk, skb)
    // before: load the program that reads what this kernel passes.
    const int args = netmon::bpf::kernel_tracepoint_args("tcp_retransmit_skb");
    if (args < 0)
      throw netmon::Error(
          "tcp_health: the running kernel's BTF has no tracepoint tcp_retransmit_skb (btf_trace_tcp_retransmit_skb); "
          "run tcp_health on a kernel with the TCP tracepoints and CONFIG_DEBUG_INFO_BTF=y");
    with_err_ = args >= 3;
    skel_.emplace(Skeleton<tcp_health_bpf>::open_and_load("tcp_health", [this](tcp_health_bpf& s) {
      if (const int err = bpf_map__set_max_entries(s.maps.connections, entries_))
        throw netmon::Error(netmon::errno_message("tcp_health: cannot size the connections map", -err));
      bpf_program__set_autoload(with_err_ ? s.progs.tcp_health_retransmit_old : s.progs.tcp_health_retransmit, false);
    }));
    auto& p = (*skel_)->progs;
    links_.add(
        netmon::bpf::attach_program(with_err_ ? p.tcp_health_retransmit : p.tcp_health_retransmit_old, "tcp_health"));
    links_.add(netmon::bpf::attach_program(p.tcp_health_retransmit_synack, "tcp_health"));
    links_.add(netmon::bpf::attach_program(p.tcp_health_send_reset, "tcp_health"));
    links_.add(netmon::bpf::attach_program(p.tcp_health_receive_reset, "tcp_health"));
    ctx.log.info(
        std::string("attached to tp_btf/tcp_retransmit_skb (") +
        (with_err_ ? "every attempt, with its error" : "successful attempts only: this kernel passes no error") +
        "), tcp_retransmit_synack, tcp_send_reset and tcp_receive_reset, host-wide");
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    const int fd = bpf_map__fd((*skel_)->maps.connections);
    std::vector<std::pair<tcp_health_key, tcp_health_value>> conns;
    std::vector<tcp_health_key> idle;
    const auto now = std::chrono::steady_clock::now();
    std::map<tcp_health_key, Seen, KeyLess> seen;
    tcp_health_key cur{}, next{};
    for (bool have = false;; have = true, cur = next) {
      if (bpf_map_get_next_key(fd, have ? &cur : nullptr, &next) != 0) {
        const int err = errno;
        if (err == ENOENT) break;
        throw netmon::Error(netmon::errno_message("tcp_health: cannot read the connections map", err));
      }
      tcp_health_value v{};
      if (bpf_map_lookup_elem(fd, &next, &v) != 0) continue;  // deleted meanwhile
      // A connection is idle since its counts last changed (the program
      // keeps no clock: a time read per event would cost more than the rest).
      Seen s{events(v), now};
      if (const auto it = seen_.find(next); it != seen_.end() && it->second.events == s.events)
        s.since = it->second.since;
      if (now - s.since > idle_) {
        idle.push_back(next);
        continue;
      }
      seen.emplace(next, s);
      conns.emplace_back(next, v);
    }
    seen_ = std::move(seen);
    // After the walk: deleting during it would restart it.
    for (const auto& k : idle) bpf_map_delete_elem(fd, &k);
    forgotten_ += idle.size();

    // The top N: most retransmitted segments, then most resets.
    const auto rank = [](const tcp_health_value& v) {
      return std::pair{v.retransmits, v.resets_sent + v.resets_received + v.retransmit_failures};
    };
    const std::size_t n = std::min(top_, conns.size());
    // Ties in key order: the same connections keep their places.
    std::partial_sort(conns.begin(), conns.begin() + static_cast<std::ptrdiff_t>(n), conns.end(),
                      [&rank](const auto& a, const auto& b) {
                        const auto ra = rank(a.second), rb = rank(b.second);
                        return ra != rb ? ra > rb : KeyLess{}(a.first, b.first);
                      });
    tcp_health_value shown{};
    for (std::size_t i = 0; i < n; ++i) {
      const auto& [k, v] = conns[i];
      shown.retransmits += v.retransmits;
      shown.retransmit_failures += v.retransmit_failures;
      shown.resets_sent += v.resets_sent;
      shown.resets_received += v.resets_received;
      netmon::Sample s("tcp_health");
      s.tag("rank", std::to_string(i + 1))
          .tag("netns", std::to_string(k.netns))
          .tag("l3", netmon::l3_name(k.l3))
          .tag("local", netmon::address_text(k.l3, k.local))
          .tag("local_port", std::to_string(k.local_port))
          .tag("remote", netmon::address_text(k.l3, k.remote))
          .tag("remote_port", std::to_string(k.remote_port))
          .counter("retransmits", v.retransmits)
          .counter("retransmit_failures", v.retransmit_failures)
          .counter("resets_sent", v.resets_sent)
          .counter("resets_received", v.resets_received);
      if (v.srtt_us) s.gauge("srtt_us", v.srtt_us);
      out.publish(std::move(s));
    }

    // The totals count every event, also of connections not shown,
    // forgotten or never in the map: shown + other = total, always.
    const int tfd = bpf_map__fd((*skel_)->maps.totals);
    std::array<std::uint64_t, TCP_HEALTH_TOTALS> t{};
    for (std::uint32_t i = 0; i < TCP_HEALTH_TOTALS; ++i) t[i] = netmon::bpf::percpu_sum<std::uint64_t>(tfd, i);
    const auto other = [&t](std::uint32_t i, std::uint64_t in_top) { return t[i] > in_top ? t[i] - in_top : 0; };
    out.publish(
        netmon::Sample("tcp_health_total")
            .counter("retransmits", t[TCP_HEALTH_RETRANSMITS])
            .counter("retransmit_failures", t[TCP_HEALTH_RETRANSMIT_FAILURES])
            .counter("resets_sent", t[TCP_HEALTH_RESETS_SENT])
            .counter("resets_received", t[TCP_HEALTH_RESETS_RECEIVED])
            .counter("other_retransmits", other(TCP_HEALTH_RETRANSMITS, shown.retransmits))
            .counter("other_retransmit_failures", other(TCP_HEALTH_RETRANSMIT_FAILURES, shown.retransmit_failures))
            .counter("other_resets_sent", other(TCP_HEALTH_RESETS_SENT, shown.resets_sent))
            .counter("other_resets_received", other(TCP_HEALTH_RESETS_RECEIVED, shown.resets_received))
            .counter("lost_events", t[TCP_HEALTH_LOST])
            .counter("forgotten_connections", forgotten_)
            .gauge("connections", conns.size())
            .gauge("max_entries", entries_));
  }

  // The links first, then the programs and maps.
  void stop() noexcept override {
    links_.clear();
    skel_.reset();
  }

 private:
  std::size_t top_ = 10;
  std::uint32_t entries_ = TCP_HEALTH_DEFAULT_ENTRIES;
  std::chrono::nanoseconds idle_{};
  struct Seen {
    std::uint64_t events;
    std::chrono::steady_clock::time_point since;  // when `events` last changed
  };
  std::map<tcp_health_key, Seen, KeyLess> seen_;
  std::uint64_t forgotten_ = 0;
  bool with_err_ = true;
  std::optional<Skeleton<tcp_health_bpf>> skel_;
  netmon::bpf::Links links_;  // declared after skel_: detached before the programs are freed
};

constexpr netmon::Attaches kAttaches{
    NETMON_ATTACH_RAW_TRACEPOINT, NETMON_NEEDS_KERNEL_BTF,
    "tp_btf/tcp_retransmit_skb, tp_btf/tcp_retransmit_synack, tp_btf/tcp_send_reset, tp_btf/tcp_receive_reset"};

}  // namespace

NETMON_PLUGIN_ATTACHING(TcpHealth, "tcp_health", "0.1.0",
                        "TCP segments retransmitted and resets sent and received, per connection (the top N, with "
                        "their smoothed RTT) and for the host; host-wide",
                        kOptions, kAttaches)
