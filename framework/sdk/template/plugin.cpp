// @NAME@: the plugin. Loads one copy of the BPF program per interface,
// attaches it at TC ingress and egress, and publishes the counts every interval.
#include <netmon/bpf.hpp>
#include <netmon/iface.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tc.hpp>

#include "@NAME@.h"
#include "@NAME@.skel.h"

namespace {

using netmon::bpf::TcPair;

// The options: each declared once, with what it accepts, its default and one
// line of meaning. configure() reads them by these declarations, and
// --list-plugins shows the text made from them. Add one here, to kOptions,
// and read it in configure().
constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "how to attach at TC"};
constexpr netmon::option::Choice kPlacement{
    .key = "placement", .values = "first|last", .def = "last", .help = "where on a tcx hook the programs go "};
constexpr netmon::OptionList kOptions{kAttach, kPlacement};

class Plugin final : public netmon::Plugin {
 public:
  // Options arrive as a JSON object (-o @NAME@.key=value, or --config).
  // Read each declared one, then finish(): an unknown key is refused, naming
  // the valid ones; a bad value is refused naming what it accepts.
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    tc_.mode = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    tc_.placement = netmon::bpf::parse_tc_placement(opts.get(kPlacement));
    opts.finish();
    netmon::bpf::check_tc_attach(tc_, plugin_name());  // placement first needs tcx
  }

  // Load and attach, one skeleton per interface. Throw netmon::Error on
  // failure: attach() detaches what it attached (RAII), and the host reports
  // the message.
  void start(const netmon::StartContext& ctx) override {
    attached_.attach(ctx.interfaces, [&](const netmon::Interface& iface) {
      auto skel = netmon::bpf::Skeleton<@NAME@>::open_and_load("@NAME@");
      TcPair links = netmon::bpf::attach_tc_pair(skel->progs.@NAME@_in, skel->progs.@NAME@_out, iface, tc_, ctx.log);
      ctx.log.info("attached to " + iface.name);
      return Attached{std::move(skel), std::move(links)};
    });
    log_ = ctx.log;  // for collect()
  }

  // Every interval: read the maps, publish samples. Counters are monotonic
  // totals; the host adds the <field>_per_sec rates.
  void collect(std::int64_t, netmon::Emitter& out) override {
    // An interface deleted while monitored took its hooks with it: drop it
    // (logging "<name> (ifindex N) is gone: no longer monitored") and go on
    // with the others. The host stops once every interface is gone.
    attached_.drop_vanished(log_);
    for (const auto& [iface, a] : attached_) {
      for (const std::uint32_t dir : {0u, 1u}) {
        // The per-CPU copies summed, member by member (all __u64 counters).
        const auto sum = netmon::bpf::percpu_sum<@NAME@_counts>(bpf_map__fd(a.skel->maps.counts), dir);
        out.publish(netmon::Sample("@NAME@")
                        .tag("ifname", iface.name)
                        .tag("direction", dir == 0 ? "ingress" : "egress")
                        .counter("packets", sum.packets)
                        .counter("bytes", sum.bytes)
                        .counter("tcp_syn", sum.tcp_syn));
      }
    }
  }

  // Detach everything. Never throws.
  void stop() noexcept override { attached_.clear(); }

 private:
  struct Attached {
    netmon::bpf::Skeleton<@NAME@> skel;
    TcPair links;  // declared after skel: detached before the programs are freed
  };
  // Attach mode and tcx placement (options), and this plugin's own netlink
  // priority: give each plugin its own (1..65535).
  netmon::bpf::TcAttach tc_{netmon::bpf::TcMode::automatic, netmon::bpf::TcPlacement::last, 49300};
  netmon::PerInterface<Attached> attached_;
  netmon::Logger log_;
};

}  // namespace

NETMON_PLUGIN_WITH_OPTIONS(Plugin, "@NAME@", "0.1.0", "Packets, bytes and TCP SYNs per interface and direction at TC",
                           kOptions)
