// SPDX-License-Identifier: MIT
// xdp_stats: per-interface RX packets and bytes at XDP, per L3/L4 class.
#include <netmon/bpf.hpp>
#include <netmon/plugin.hpp>

#include <array>

#include "xdp_stats.h"
#include "xdp_stats.skel.h"

namespace {

using netmon::bpf::Skeleton;
using netmon::bpf::XdpLink;
using netmon::bpf::XdpMode;

static_assert(sizeof(xdp_stats_counter) == 16);
static_assert(sizeof(xdp_stats_value) == (int{NETMON_L3_MAX} * int{NETMON_L4_MAX} + 1) * sizeof(xdp_stats_counter));

constexpr std::array<const char*, NETMON_L3_MAX> kL3Names{"ipv4", "ipv6", "arp", "other"};
constexpr std::array<const char*, NETMON_L4_MAX> kL4Names{"tcp", "udp", "icmp", "other", "none"};

// The classes the parser can produce: IP carries an L4 class, the rest none.
bool valid_class(int l3, int l4) {
  const bool ip = l3 == NETMON_L3_IPV4 || l3 == NETMON_L3_IPV6;
  return ip ? l4 != NETMON_L4_NONE : l4 == NETMON_L4_NONE;
}

class XdpStats final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name());
    mode_ = netmon::bpf::parse_xdp_mode(opts.choice("mode", {"auto", "native", "generic"}, "auto"));
    opts.finish();
  }

  void start(const netmon::StartContext& ctx) override {
    netmon::bpf::route_libbpf_logs(ctx.log);
    std::vector<Attached> attached;  // detached again if anything below throws
    for (const auto& iface : ctx.interfaces) {
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
      attached.push_back({std::move(skel), std::move(link)});
    }
    attached_ = std::move(attached);
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    for (const auto& a : attached_) {
      const auto per_cpu = netmon::bpf::lookup_percpu<xdp_stats_value>(bpf_map__fd(a.skel->maps.stats), 0u);
      xdp_stats_value sum{};
      for (const auto& v : per_cpu) xdp_stats_value_add(&sum, &v);
      const auto& iface = a.link.iface();
      std::uint64_t packets = 0, bytes = 0;
      for (int l3 = 0; l3 < NETMON_L3_MAX; ++l3)
        for (int l4 = 0; l4 < NETMON_L4_MAX; ++l4) {
          packets += sum.cls[l3][l4].packets;
          bytes += sum.cls[l3][l4].bytes;
        }
      out.publish(netmon::Sample("xdp_stats")
                      .tag("ifname", iface.name)
                      .tag("ifindex", std::to_string(iface.ifindex))
                      .counter("packets", packets)
                      .counter("bytes", bytes)
                      .counter("malformed_packets", sum.malformed.packets)
                      .text("mode", netmon::bpf::to_string(a.link.mode())));
      for (int l3 = 0; l3 < NETMON_L3_MAX; ++l3)
        for (int l4 = 0; l4 < NETMON_L4_MAX; ++l4) {
          if (!valid_class(l3, l4)) continue;
          out.publish(netmon::Sample("xdp_stats_class")
                          .tag("ifname", iface.name)
                          .tag("ifindex", std::to_string(iface.ifindex))
                          .tag("l3", kL3Names[l3])
                          .tag("l4", kL4Names[l4])
                          .counter("packets", sum.cls[l3][l4].packets)
                          .counter("bytes", sum.cls[l3][l4].bytes));
        }
    }
  }

  void stop() noexcept override { attached_.clear(); }

 private:
  struct Attached {
    Skeleton<xdp_stats> skel;
    XdpLink link;  // declared after skel: detached before the program is freed
  };
  XdpMode mode_ = XdpMode::automatic;
  std::vector<Attached> attached_;
};

}  // namespace

NETMON_PLUGIN(XdpStats, "xdp_stats", "0.1.0",
              "RX packets and bytes per interface at XDP, per L3 (IPv4, IPv6, ARP, other) and L4 (TCP, UDP, ICMP, "
              "other) class")
