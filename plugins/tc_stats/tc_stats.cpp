// SPDX-License-Identifier: MIT
// tc_stats: per-interface ingress and egress packets and bytes at TC, per
// L3/L4 class.
#include <netmon/bpf.hpp>
#include <netmon/classes.hpp>
#include <netmon/iface.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tc.hpp>

#include "tc_stats.h"
#include "tc_stats_bpf.skel.h"

namespace {

using netmon::bpf::Skeleton;
using netmon::bpf::TcDirection;
using netmon::bpf::TcLink;
using netmon::bpf::TcMode;

constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "tcx links, or filters on a clsact qdisc"};
constexpr netmon::option::Integer kPriority{
    .key = "priority", .min = 1, .max = 65535, .def = 49153, .help = "the netlink filter's priority"};
constexpr netmon::OptionList kOptions{kAttach, kPriority};

class TcStats final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    mode_ = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    priority_ = static_cast<std::uint16_t>(opts.get(kPriority));
    opts.finish();
  }

  void start(const netmon::StartContext& ctx) override {
    std::vector<Attached> attached;  // detached again if anything below throws
    for (const auto& iface : ctx.interfaces) {
      Attached a{Skeleton<tc_stats_bpf>::open_and_load("tc_stats"), {}, {}};
      a.ingress = netmon::bpf::attach_tc(a.skel->progs.tc_stats_ingress, iface, TcDirection::ingress, mode_,
                                         priority_, ctx.log);
      a.egress = netmon::bpf::attach_tc(a.skel->progs.tc_stats_egress, iface, TcDirection::egress, mode_,
                                        priority_, ctx.log);
      ctx.log.info("attached to " + iface.name + " (ifindex " + std::to_string(iface.ifindex) + ", ingress and egress, " +
                   netmon::bpf::to_string(a.ingress.mode()) + ")");
      attached.push_back(std::move(a));
    }
    attached_ = std::move(attached);
    log_ = ctx.log;
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    netmon::drop_vanished(attached_, [](const Attached& a) -> const netmon::Interface& { return a.ingress.iface(); }, log_);
    for (const auto& a : attached_) {
      const auto& iface = a.ingress.iface();
      const int fd = bpf_map__fd(a.skel->maps.stats);
      for (const auto dir : {TcDirection::ingress, TcDirection::egress}) {
        const std::uint32_t key = dir == TcDirection::ingress ? TC_STATS_INGRESS : TC_STATS_EGRESS;
        const netmon_class_counters sum = netmon::sum_counters(netmon::bpf::lookup_percpu<netmon_class_counters>(fd, key));
        const netmon_counter total = netmon_class_counters_total(&sum);
        const std::vector<netmon::Tag> tags{{"ifname", iface.name},
                                            {"ifindex", std::to_string(iface.ifindex)},
                                            {"direction", netmon::bpf::to_string(dir)}};
        netmon::Sample s("tc_stats");
        s.tags = tags;
        out.publish(s.counter("packets", total.packets)
                        .counter("bytes", total.bytes)
                        .counter("malformed_packets", sum.malformed.packets)
                        .text("attach", netmon::bpf::to_string(a.ingress.mode())));
        netmon::publish_classes(out, "tc_stats_class", tags, sum);
      }
    }
  }

  // Reverse order of attachment: egress, ingress, then the program.
  void stop() noexcept override {
    while (!attached_.empty()) attached_.pop_back();
  }

 private:
  struct Attached {
    Skeleton<tc_stats_bpf> skel;
    TcLink ingress;  // declared after skel: detached before the programs are freed
    TcLink egress;
  };
  TcMode mode_ = TcMode::automatic;
  std::uint16_t priority_ = kPriority.def;
  std::vector<Attached> attached_;
  netmon::Logger log_;
};

}  // namespace

NETMON_PLUGIN_WITH_OPTIONS(TcStats, "tc_stats", "0.1.0",
                           "Ingress and egress packets and bytes per interface at TC (tcx, or clsact on older "
                           "kernels), per L3/L4 class",
                           kOptions)
