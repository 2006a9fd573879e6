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

using netmon::bpf::TcDirection;

constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "how to attach at TC"};
constexpr netmon::OptionList kOptions{kAttach};

class DnsQueries final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    attach_ = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    opts.finish();
  }

  void start(const netmon::StartContext& ctx) override {
    std::vector<Attached> attached;  // RAII: detached again if anything below throws
    for (const auto& iface : ctx.interfaces) {
      Attached a{netmon::bpf::Skeleton<dns_queries>::open_and_load("dns_queries"), {}, {}};
      // A priority of our own for the netlink fallback (tcx needs none).
      a.in = netmon::bpf::attach_tc(a.skel->progs.dns_ingress, iface, TcDirection::ingress, attach_, 49200, ctx.log);
      a.out = netmon::bpf::attach_tc(a.skel->progs.dns_egress, iface, TcDirection::egress, attach_, 49200, ctx.log);
      ctx.log.info("counting DNS on " + iface.name);
      attached.push_back(std::move(a));
    }
    attached_ = std::move(attached);
    log_ = ctx.log;
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    // An interface deleted while monitored took its hooks with it: drop it
    // (detaching what is left, with a warning) and go on with the others.
    netmon::drop_vanished(attached_, [](const Attached& a) -> const netmon::Interface& { return a.in.iface(); }, log_);
    for (const auto& a : attached_) {
      for (const std::uint32_t dir : {0u, 1u}) {
        dns_counts sum{};
        for (const auto& c : netmon::bpf::lookup_percpu<dns_counts>(bpf_map__fd(a.skel->maps.counts), dir)) {
          sum.queries += c.queries;
          sum.responses += c.responses;
          sum.errors += c.errors;
          sum.malformed += c.malformed;
        }
        out.publish(netmon::Sample("dns_queries")
                        .tag("ifname", a.in.iface().name)
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
    netmon::bpf::TcLink in;  // after skel: detached before the program is freed
    netmon::bpf::TcLink out;
  };
  netmon::bpf::TcMode attach_ = netmon::bpf::TcMode::automatic;
  std::vector<Attached> attached_;
  netmon::Logger log_;
};

}  // namespace

NETMON_PLUGIN_WITH_OPTIONS(DnsQueries, "dns_queries", "1.0.0",
                           "DNS queries, responses and error responses over UDP port 53, per interface and direction",
                           kOptions)
