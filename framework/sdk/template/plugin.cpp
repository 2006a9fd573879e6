// @NAME@: the plugin. Loads one copy of the BPF program per interface,
// attaches it at TC ingress and egress, and publishes the counts every interval.
#include <netmon/bpf.hpp>
#include <netmon/iface.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tc.hpp>

#include "@NAME@.h"
#include "@NAME@.skel.h"

namespace {

using netmon::bpf::TcDirection;

// The options: each declared once, with what it accepts, its default and one
// line of meaning. configure() reads them by these declarations, and
// --list-plugins shows the text made from them. Add one here, to kOptions,
// and read it in configure().
constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "how to attach at TC"};
constexpr netmon::OptionList kOptions{kAttach};

class Plugin final : public netmon::Plugin {
 public:
  // Options arrive as a JSON object (-o @NAME@.key=value, or --config).
  // Read each declared one, then finish(): an unknown key is refused, naming
  // the valid ones; a bad value is refused naming what it accepts.
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    attach_ = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    opts.finish();
  }

  // Load and attach. Throw netmon::Error on failure: what is attached so far
  // is detached by the destructors (RAII), and the host reports the message.
  void start(const netmon::StartContext& ctx) override {
    std::vector<Attached> attached;
    for (const auto& iface : ctx.interfaces) {
      Attached a{netmon::bpf::Skeleton<@NAME@>::open_and_load("@NAME@"), {}, {}};
      a.in = netmon::bpf::attach_tc(a.skel->progs.@NAME@_in, iface, TcDirection::ingress, attach_, 49300, ctx.log);
      a.out = netmon::bpf::attach_tc(a.skel->progs.@NAME@_out, iface, TcDirection::egress, attach_, 49300, ctx.log);
      ctx.log.info("attached to " + iface.name);
      attached.push_back(std::move(a));
    }
    attached_ = std::move(attached);
    log_ = ctx.log;  // for collect()
  }

  // Every interval: read the maps, publish samples. Counters are monotonic
  // totals; the host adds the <field>_per_sec rates.
  void collect(std::int64_t, netmon::Emitter& out) override {
    // An interface deleted while monitored took its hooks with it: drop it
    // (logging "<name> (ifindex N) is gone: no longer monitored") and go on
    // with the others. The host stops once every interface is gone.
    netmon::drop_vanished(attached_, [](const Attached& a) -> const netmon::Interface& { return a.in.iface(); }, log_);
    for (const auto& a : attached_) {
      for (const std::uint32_t dir : {0u, 1u}) {
        @NAME@_counts sum{};
        for (const auto& c : netmon::bpf::lookup_percpu<@NAME@_counts>(bpf_map__fd(a.skel->maps.counts), dir)) {
          sum.packets += c.packets;
          sum.bytes += c.bytes;
          sum.tcp_syn += c.tcp_syn;
        }
        out.publish(netmon::Sample("@NAME@")
                        .tag("ifname", a.in.iface().name)
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
    netmon::bpf::TcLink in;  // declared after skel: detached before the program is freed
    netmon::bpf::TcLink out;
  };
  netmon::bpf::TcMode attach_ = netmon::bpf::TcMode::automatic;
  std::vector<Attached> attached_;
  netmon::Logger log_;
};

}  // namespace

NETMON_PLUGIN_WITH_OPTIONS(Plugin, "@NAME@", "0.1.0", "Packets, bytes and TCP SYNs per interface and direction at TC",
                           kOptions)
