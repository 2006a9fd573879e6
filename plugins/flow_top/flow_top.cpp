// SPDX-License-Identifier: MIT
// flow_top: the busiest flows (interface, direction, 5-tuple) seen at TC
// ingress and egress, with iftop-style 2 s / 10 s / 40 s rates, and the flows
// that ended (IPFIX-style records).
#include <netmon/bpf.hpp>
#include <netmon/iface.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tc.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "flow_accounting.hpp"
#include "flow_cache.hpp"
#include "flow_clock.hpp"
#include "flow_collector.hpp"
#include "flow_samples.hpp"
#include "flow_table.hpp"
#include "flow_top.skel.h"

namespace {

using netmon::bpf::Skeleton;
using netmon::bpf::TcPair;
using namespace netmon::flow_top;
using namespace std::chrono_literals;

std::int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Interface indexes below this find their totals' slot in an array (whose
// lookup the verifier inlines); larger ones in a hash.
constexpr std::uint32_t kIfSlotArrayLimit = 65536;
// Interface indexes below this index the totals directly (24 bytes per CPU,
// index and direction: at most 48 kB per CPU).
constexpr std::uint32_t kTotalsDirectLimit = 1024;

// The options, in the order --list-plugins shows them.
constexpr netmon::option::Integer kTop{
    .key = "top", .min = 1, .max = 1000, .def = 10, .help = "flows published per interval"};
constexpr netmon::option::Choice kSort{.key = "sort",
                                       .values = "packets|bytes|rate",
                                       .def = "packets",
                                       .help = "ranking (rate: bytes/s over the last interval)"};
constexpr netmon::option::Integer kTableSize{.key = "table_size",
                                             .min = 16,
                                             .max = 1 << 24,
                                             .def = FLOW_TOP_DEFAULT_ENTRIES,
                                             .help = "flows the kernel table holds"};
constexpr netmon::option::Duration kIdleTimeout{
    .key = "idle_timeout", .min = 10ms, .max = 24h, .def = 30s, .help = "a flow with no packet for this long ends"};
constexpr netmon::option::Duration kActiveTimeout{.key = "active_timeout",
                                                  .min = 10ms,
                                                  .max = 7 * 24h,
                                                  .def = 30min,
                                                  .help = "a flow older than this is cut and restarts"};
constexpr netmon::option::Boolean kFinished{
    .key = "finished", .def = false, .help = "publish a flow_top_end sample for every ended flow"};
constexpr netmon::option::Boolean kCache{
    .key = "cache", .def = true, .help = "the per-CPU flow cache in front of the table (kernel 5.19)"};
constexpr netmon::option::Choice kRead{
    .key = "read", .values = "auto|batch|iterate", .def = "auto", .help = "how the table is read"};
constexpr netmon::option::Choice kAttach{
    .key = "attach", .values = "auto|tcx|netlink", .def = "auto", .help = "tcx links, or filters on a clsact qdisc"};
constexpr netmon::option::Choice kPlacement{.key = "placement",
                                            .values = "first|last",
                                            .def = "last",
                                            .help = "where on a tcx hook the programs go (netlink: first is refused)"};
constexpr netmon::option::Integer kPriority{
    .key = "priority", .min = 1, .max = 65535, .def = 49154, .help = "the netlink filter's priority"};
constexpr netmon::OptionList kOptions{kTop,   kSort, kTableSize, kIdleTimeout, kActiveTimeout, kFinished,
                                      kCache, kRead, kAttach,    kPlacement,   kPriority};

class FlowTop final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    table_size_ = static_cast<std::uint32_t>(opts.get(kTableSize));
    config_.top = static_cast<std::size_t>(opts.get(kTop));
    config_.sort = parse_sort_key(opts.get(kSort));
    read_ = parse_read_method(opts.get(kRead));
    config_.idle_timeout_ns = opts.get(kIdleTimeout).count();
    config_.active_timeout_ns = opts.get(kActiveTimeout).count();
    finished_ = opts.get(kFinished);
    cache_ = opts.get(kCache);
    tc_.mode = netmon::bpf::parse_tc_mode(opts.get(kAttach));
    tc_.placement = netmon::bpf::parse_tc_placement(opts.get(kPlacement));
    tc_.priority = static_cast<std::uint16_t>(opts.get(kPriority));
    opts.finish();
    netmon::bpf::check_tc_attach(tc_, plugin_name());
  }

  void start(const netmon::StartContext& ctx) override {
    // One skeleton for every interface: the key carries the ifindex. The
    // totals: indexed by the ifindex itself while every attached one is
    // small (one inlined lookup per packet), else by a slot per interface
    // (1..n; 0 for any other) found through if_slot, an array indexed by
    // ifindex, or a hash when even that would be large.
    std::uint32_t max_ifindex = 0;
    for (const auto& iface : ctx.interfaces) max_ifindex = std::max(max_ifindex, iface.ifindex);
    const bool direct = max_ifindex < kTotalsDirectLimit;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> total_slots;  // slot, ifindex
    if (direct) {
      for (const auto& iface : ctx.interfaces) total_slots.emplace_back(iface.ifindex, iface.ifindex);
    } else {
      total_slots.emplace_back(0, 0);
      for (std::uint32_t i = 0; i < ctx.interfaces.size(); ++i)
        total_slots.emplace_back(i + 1, ctx.interfaces[i].ifindex);
    }
    const std::uint32_t slots = direct ? max_ifindex + 1 : static_cast<std::uint32_t>(ctx.interfaces.size() + 1);
    const bool cache = cache_ && flow_cache_supported();
    if (cache_ && !cache)
      ctx.log.info(
          "flow_top: this kernel lacks bpf_loop or bpf_map_lookup_percpu_elem (5.19); running without the "
          "flow cache");
    auto skel = Skeleton<flow_top>::open_and_load("flow_top", [&](flow_top& s) {
      if (const int err = bpf_map__set_max_entries(s.maps.flows, table_size_))
        throw netmon::Error(netmon::errno_message(
            "flow_top: cannot size the flow table to " + std::to_string(table_size_) + " entries", err));
      s.rodata->totals_direct = direct ? 1 : 0;
      configure_flow_cache(s, cache);
      int err = 0;
      if (direct) {
        err = 0;  // if_slot stays the one-entry placeholder
      } else if (max_ifindex < kIfSlotArrayLimit) {
        err = bpf_map__set_max_entries(s.maps.if_slot, max_ifindex + 1);
      } else {
        err = bpf_map__set_type(s.maps.if_slot, BPF_MAP_TYPE_HASH);
        if (!err) err = bpf_map__set_max_entries(s.maps.if_slot, slots);
      }
      if (!err) err = bpf_map__set_max_entries(s.maps.totals, 2 * slots);
      if (!err) err = bpf_map__set_max_entries(s.maps.failed, 2 * slots);
      if (err) throw netmon::Error(netmon::errno_message("flow_top: cannot size the interface totals", err));
    });
    if (!direct) {
      for (const auto& [slot, ifindex] : total_slots) {
        if (slot == 0) continue;
        if (const int rc = bpf_map_update_elem(bpf_map__fd(skel->maps.if_slot), &ifindex, &slot, BPF_ANY); rc != 0)
          throw netmon::Error(netmon::errno_message("flow_top: cannot fill the interface slots", rc));
      }
    }
    total_slots_ = std::move(total_slots);
    auto reader = std::make_unique<FlowTableReader>(bpf_map__fd(skel->maps.flows), read_, ctx.log);
    const StampClock clock = read_stamp_clock(*skel);
    reader->set_clock(clock);
    if (!clock.hz) ctx.log.debug("flow_top: the kernel's HZ is unknown; timestamping with the coarse clock");
    std::map<std::uint32_t, std::string> names;
    const std::int64_t start_ns = clock_ns(CLOCK_MONOTONIC);
    netmon::PerInterface<TcPair> links;  // detached again if anything below throws
    links.attach(ctx.interfaces, [&](const netmon::Interface& iface) {
      TcPair pair =
          netmon::bpf::attach_tc_pair(skel->progs.flow_top_ingress, skel->progs.flow_top_egress, iface, tc_, ctx.log);
      ctx.log.info("attached to " + iface.name + " (ifindex " + std::to_string(iface.ifindex) +
                   ", ingress and egress, " + netmon::bpf::to_string(pair.mode()) + "; table of " +
                   std::to_string(table_size_) + " flows)");
      names[iface.ifindex] = iface.name;
      return pair;
    });
    skel_ = std::move(skel);
    links_ = std::move(links);
    reader_ = std::move(reader);
    collector_ = std::make_unique<FlowCollector>(config_, start_ns);
    names_ = std::move(names);
    log_ = ctx.log;
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    if (!skel_) return;
    // A deleted interface took its programs with it: let its links go. Its
    // flows end by themselves (idle timeout).
    links_.drop_vanished(log_);
    // The cache first: the drain adds what it held to the table and to the
    // totals together, so `before` already has it, and after - before (the
    // accountant's bound on what arrived during the read) stays the packets
    // counted straight into the table meanwhile. What the cache takes from
    // here on is in neither until the next drain.
    const auto t0 = std::chrono::steady_clock::now();
    drain_flow_cache(**skel_);
    const Totals before = read_totals();
    reader_->read(entries_);
    const auto read_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    // After the read, so no packet in it is stamped later than `now`.
    const std::int64_t mono = clock_ns(CLOCK_MONOTONIC);
    const std::int64_t unix_offset = clock_ns(CLOCK_REALTIME) - mono;

    const auto stats = netmon::bpf::percpu_sum<flow_top_stats>(bpf_map__fd((*skel_)->maps.stats), 0u);
    TableInfo table;
    table.capacity = table_size_;
    table.insert_failures = stats.insert_failures;
    table.untracked_packets = stats.untracked_packets;
    table.read_method = to_string(reader_->method());
    table.read_duration_us = static_cast<std::uint64_t>(read_us.count());

    const CollectResult& r =
        collector_->collect(entries_, mono, [this](const flow_top_key& k) { return reader_->remove(k); });
    // After the ends' deletes: every packet in the table as read or in an
    // ended flow's final counts is in these totals, but for a program
    // between its flow's update and the totals': they are behind the table
    // for that moment, so read again (a few microseconds; the bound only
    // guards against a stalled CPU).
    Totals after = read_totals();
    for (int i = 0; i < 100 && FlowAccountant::behind(after, r.accounts); ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      after = read_totals();
    }
    const std::vector<Accounting>& accounts = accountant_.settle(before, after, r.accounts);
    const Counts unseen = accountant_.evicted_unseen_total();
    table.evicted_unseen_packets = unseen.packets;
    table.evicted_unseen_bytes = unseen.bytes;

    SampleOptions opts;
    opts.sort = config_.sort;
    opts.finished = finished_;
    opts.unix_offset_ns = unix_offset;
    opts.ifname = [this](std::uint32_t ifindex) {
      auto it = names_.find(ifindex);
      if (it == names_.end()) it = names_.emplace(ifindex, netmon::ifname_of(ifindex)).first;
      return it->second;
    };
    for (const auto& s : build_samples(r, table, opts)) out.publish(s);
    for (const auto& s : build_account_samples(accounts, opts)) out.publish(s);
  }

  // The totals per (interface, direction) still attached, summed over CPUs.
  // Slot 0 (an interface flow_top did not attach to) is reported only when
  // it counted.
  Totals read_totals() const {
    Totals t;
    const int totals = bpf_map__fd((*skel_)->maps.totals), failed = bpf_map__fd((*skel_)->maps.failed);
    for (const auto& [slot, ifindex] : total_slots_) {
      // An interface deleted meanwhile (its links dropped) is reported no more.
      if (ifindex != 0 && !links_.contains(ifindex)) continue;
      for (std::uint8_t dir = 0; dir < 2; ++dir) {
        TotalsReading reading;
        const auto total = netmon::bpf::percpu_sum<flow_top_total>(totals, slot * 2 + dir);
        const auto fail = netmon::bpf::percpu_sum<flow_top_total>(failed, slot * 2 + dir);
        reading.total.add_raw(total.packets, total.bytes, total.ip_bytes);
        reading.failed.add_raw(fail.packets, fail.bytes, fail.ip_bytes);
        if (ifindex == 0 && reading.total.packets == 0) continue;
        t[{ifindex, dir}] = reading;
      }
    }
    return t;
  }

  // Links first (declared after the skeleton, cleared before it): nothing
  // runs the programs once their maps go.
  void stop() noexcept override {
    links_.clear();
    collector_.reset();
    reader_.reset();
    skel_ = {};
  }

 private:
  std::uint32_t table_size_ = kTableSize.def;
  CollectorConfig config_;
  ReadMethod read_ = ReadMethod::automatic;
  bool finished_ = kFinished.def;
  bool cache_ = kCache.def;
  netmon::bpf::TcAttach tc_{netmon::bpf::TcMode::automatic, netmon::bpf::TcPlacement::last, kPriority.def};

  std::optional<Skeleton<flow_top>> skel_;
  netmon::PerInterface<TcPair> links_;  // declared after skel_: detached before the programs are freed
  std::unique_ptr<FlowTableReader> reader_;
  std::unique_ptr<FlowCollector> collector_;
  std::map<std::uint32_t, std::string> names_;
  netmon::Logger log_;
  std::vector<FlowEntry> entries_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> total_slots_;  // (slot, ifindex) of every totals slot read
  FlowAccountant accountant_;
};

constexpr netmon::Attaches kAttaches{NETMON_ATTACH_TC, 0, "tc ingress, tc egress"};

}  // namespace

NETMON_PLUGIN_ATTACHING(
    FlowTop, "flow_top", "0.1.0",
    "Top flows (interface, direction, 5-tuple; IPv4 and IPv6) at TC ingress and egress, with 2 s/10 s/40 s rates "
    "and ended-flow records",
    kOptions, kAttaches)
