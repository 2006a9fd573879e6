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
using netmon::bpf::TcPair;

constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "tcx links, or filters on a clsact qdisc"};
constexpr netmon::option::Integer kPriority{
    .key = "priority", .min = 1, .max = 65535, .def = 49153, .help = "the netlink filter's priority"};
constexpr netmon::option::Choice kPlacement{.key = "placement",
                                            .values = "first|last",
                                            .def = "last",
                                            .help = "where on a tcx hook the programs go (netlink: first is refused)"};
constexpr netmon::OptionList kOptions{kAttach, kPlacement, kPriority};

class TcStats final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    tc_.mode = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    tc_.placement = netmon::bpf::parse_tc_placement(opts.get(kPlacement));
    tc_.priority = static_cast<std::uint16_t>(opts.get(kPriority));
    opts.finish();
    netmon::bpf::check_tc_attach(tc_, plugin_name());
  }

  void start(const netmon::StartContext& ctx) override {
    // Every interface or none: what is attached is detached again if one throws.
    attached_.attach(ctx.interfaces, [&](const netmon::Interface& iface) {
      auto skel = Skeleton<tc_stats_bpf>::open_and_load("tc_stats");
      TcPair links =
          netmon::bpf::attach_tc_pair(skel->progs.tc_stats_ingress, skel->progs.tc_stats_egress, iface, tc_, ctx.log);
      ctx.log.info("attached to " + iface.name + " (ifindex " + std::to_string(iface.ifindex) +
                   ", ingress and egress, " + netmon::bpf::to_string(links.mode()) + ")");
      return Attached{std::move(skel), std::move(links)};
    });
    log_ = ctx.log;
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    attached_.drop_vanished(log_);
    for (const auto& [iface, a] : attached_) {
      const int fd = bpf_map__fd(a.skel->maps.stats);
      for (const auto dir : {TcDirection::ingress, TcDirection::egress}) {
        const std::uint32_t key = dir == TcDirection::ingress ? TC_STATS_INGRESS : TC_STATS_EGRESS;
        const auto sum = netmon::bpf::percpu_sum<netmon_class_counters>(fd, key);
        const netmon_counter total = netmon_class_counters_total(&sum);
        const std::vector<netmon::Tag> tags{{"ifname", iface.name},
                                            {"ifindex", std::to_string(iface.ifindex)},
                                            {"direction", netmon::bpf::to_string(dir)}};
        netmon::Sample s("tc_stats");
        s.tags = tags;
        out.publish(s.counter("packets", total.packets)
                        .counter("bytes", total.bytes)
                        .counter("malformed_packets", sum.malformed.packets)
                        .text("attach", netmon::bpf::to_string(a.links.mode())));
        netmon::publish_classes(out, "tc_stats_class", tags, sum);
      }
    }
  }

  // Reverse order of attachment: egress, ingress, then the program.
  void stop() noexcept override { attached_.clear(); }

 private:
  struct Attached {
    Skeleton<tc_stats_bpf> skel;
    TcPair links;  // declared after skel: detached before the programs are freed
  };
  netmon::bpf::TcAttach tc_{netmon::bpf::TcMode::automatic, netmon::bpf::TcPlacement::last, kPriority.def};
  netmon::PerInterface<Attached> attached_;
  netmon::Logger log_;
};

constexpr netmon::Attaches kAttaches{NETMON_ATTACH_TC, 0, "tc ingress, tc egress"};

}  // namespace

NETMON_PLUGIN_ATTACHING(TcStats, "tc_stats", "0.1.0",
                        "Ingress and egress packets and bytes per interface at TC (tcx, or clsact on older "
                        "kernels), per L3/L4 class",
                        kOptions, kAttaches)
