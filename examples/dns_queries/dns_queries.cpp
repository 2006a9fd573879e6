// SPDX-License-Identifier: MIT
// dns_queries: DNS queries, responses and error responses per interface and
// direction, counted by a BPF program at TC. Built only against the installed
// netmon SDK: find_package(netmon), <netmon/...> headers.
#include <netmon/bpf.hpp>
#include <netmon/iface.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tc.hpp>

#include "dns_queries.h"
#include "dns_queries.skel.h"

namespace {

using netmon::bpf::TcPair;

constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "how to attach at TC"};
constexpr netmon::OptionList kOptions{kAttach};

class DnsQueries final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    tc_.mode = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    opts.finish();
  }

  void start(const netmon::StartContext& ctx) override {
    // RAII: every interface or none, detached again if anything below throws.
    attached_.attach(ctx.interfaces, [&](const netmon::Interface& iface) {
      auto skel = netmon::bpf::Skeleton<dns_queries>::open_and_load("dns_queries");
      TcPair links = netmon::bpf::attach_tc_pair(skel->progs.dns_ingress, skel->progs.dns_egress, iface, tc_, ctx.log);
      ctx.log.info("counting DNS on " + iface.name);
      return Attached{std::move(skel), std::move(links)};
    });
    log_ = ctx.log;
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    // An interface deleted while monitored took its hooks with it: drop it
    // (detaching what is left, with a warning) and go on with the others.
    attached_.drop_vanished(log_);
    for (const auto& [iface, a] : attached_) {
      for (const std::uint32_t dir : {0u, 1u}) {
        const auto sum = netmon::bpf::percpu_sum<dns_counts>(bpf_map__fd(a.skel->maps.counts), dir);
        out.publish(netmon::Sample("dns_queries")
                        .tag("ifname", iface.name)
                        .tag("direction", dir == 0 ? "ingress" : "egress")
                        .counter("queries", sum.queries)
                        .counter("responses", sum.responses)
                        .counter("errors", sum.errors)
                        .counter("malformed", sum.malformed));
      }
    }
  }

  void stop() noexcept override { attached_.clear(); }

 private:
  struct Attached {
    netmon::bpf::Skeleton<dns_queries> skel;
    TcPair links;  // after skel: detached before the programs are freed
  };
  // A netlink priority of our own for the fallback (tcx needs none).
  netmon::bpf::TcAttach tc_{netmon::bpf::TcMode::automatic, netmon::bpf::TcPlacement::last, 49200};
  netmon::PerInterface<Attached> attached_;
  netmon::Logger log_;
};

}  // namespace

NETMON_PLUGIN_WITH_OPTIONS(DnsQueries, "dns_queries", "1.0.0",
                           "DNS queries, responses and error responses over UDP port 53, per interface and direction",
                           kOptions)
