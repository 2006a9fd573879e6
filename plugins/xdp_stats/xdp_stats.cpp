// SPDX-License-Identifier: MIT
// xdp_stats: per-interface RX packets and bytes at XDP, per L3/L4 class.
#include <netmon/bpf.hpp>
#include <netmon/classes.hpp>
#include <netmon/iface.hpp>
#include <netmon/plugin.hpp>

#include "xdp_stats.h"
#include "xdp_stats.skel.h"

namespace {

using netmon::bpf::Skeleton;
using netmon::bpf::XdpLink;
using netmon::bpf::XdpMode;

static_assert(sizeof(xdp_stats_value) == sizeof(netmon_class_counters));

constexpr netmon::option::Choice kMode{.key = "mode",
                                       .values = "auto|native|generic",
                                       .def = "auto",
                                       .help = "how to attach (auto: generic on veth, else native with a fallback)"};
constexpr netmon::OptionList kOptions{kMode};

class XdpStats final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    mode_ = netmon::bpf::parse_xdp_mode(opts.get(kMode));
    opts.finish();
  }

  void start(const netmon::StartContext& ctx) override {
    // Every interface or none: what is attached is detached again if one throws.
    attached_.attach(ctx.interfaces, [&](const netmon::Interface& iface) {
      auto skel = Skeleton<xdp_stats>::open_and_load("xdp_stats");
      XdpLink link;
      try {
        link = netmon::bpf::attach_xdp(skel->progs.xdp_stats_rx, iface, mode_, ctx.log);
      } catch (const netmon::Error& e) {
        if (mode_ != XdpMode::native) throw;
        throw netmon::Error(std::string(e.what()) + " (-o xdp_stats.mode=generic)");
      }
      ctx.log.info("attached to " + iface.name + " (ifindex " + std::to_string(iface.ifindex) + ", " +
                   netmon::bpf::to_string(link.mode()) + " XDP)");
      return Attached{std::move(skel), std::move(link)};
    });
    log_ = ctx.log;
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    attached_.drop_vanished(log_);
    for (const auto& [iface, a] : attached_) {
      const auto sum = netmon::bpf::percpu_sum<netmon_class_counters>(bpf_map__fd(a.skel->maps.stats), 0u);
      const netmon_counter total = netmon_class_counters_total(&sum);
      const std::vector<netmon::Tag> tags{{"ifname", iface.name}, {"ifindex", std::to_string(iface.ifindex)}};
      netmon::Sample s("xdp_stats");
      s.tags = tags;
      out.publish(s.counter("packets", total.packets)
                      .counter("bytes", total.bytes)
                      .counter("malformed_packets", sum.malformed.packets)
                      .text("mode", netmon::bpf::to_string(a.link.mode())));
      netmon::publish_classes(out, "xdp_stats_class", tags, sum);
    }
  }

  void stop() noexcept override { attached_.clear(); }

 private:
  struct Attached {
    Skeleton<xdp_stats> skel;
    XdpLink link;  // declared after skel: detached before the program is freed
  };
  XdpMode mode_ = XdpMode::automatic;
  netmon::PerInterface<Attached> attached_;
  netmon::Logger log_;
};

constexpr netmon::Attaches kAttaches{NETMON_ATTACH_XDP, 0, nullptr};

}  // namespace

NETMON_PLUGIN_ATTACHING(XdpStats, "xdp_stats", "0.1.0",
                        "RX packets and bytes per interface at XDP, per L3 (IPv4, IPv6, ARP, other) and L4 (TCP, "
                        "UDP, ICMP, other) class",
                        kOptions, kAttaches)
