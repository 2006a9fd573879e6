// SPDX-License-Identifier: MIT
#include "flow_samples.hpp"

#include <netmon/bpf/classes.h>
#include <netmon/classes.hpp>
#include <netmon/timefmt.hpp>

#include <arpa/inet.h>

namespace netmon::flow_top {

namespace {

// The tags that identify a flow (flow_top without rank, and flow_top_end).
void flow_tags(Sample& s, const flow_top_key& k, const SampleOptions& opts) {
  s.tag("ifname", opts.ifname ? opts.ifname(k.ifindex) : "if" + std::to_string(k.ifindex))
      .tag("ifindex", std::to_string(k.ifindex))
      .tag("direction", k.direction == FLOW_TOP_EGRESS ? "egress" : "ingress")
      .tag("family", k.family == NETMON_L3_IPV6 ? "ipv6" : "ipv4")
      .tag("proto", proto_name(k.family, k.ip_proto))
      .tag("src", netmon::address_text(k.family, k.saddr))
      .tag("dst", netmon::address_text(k.family, k.daddr))
      .tag("sport", std::to_string(ntohs(k.sport)))  // ICMP: 0, and dport = type << 8 | code
      .tag("dport", std::to_string(ntohs(k.dport)));
}

// first_seen, last_seen (ISO 8601 UTC), duration_s.
void time_fields(Sample& s, const flow_top_value& v, const SampleOptions& opts) {
  s.text("first_seen", iso8601_utc(static_cast<std::int64_t>(v.first_seen) + opts.unix_offset_ns))
      .text("last_seen", iso8601_utc(static_cast<std::int64_t>(v.last_seen) + opts.unix_offset_ns))
      .gauge_f("duration_s", v.last_seen > v.first_seen ? static_cast<double>(v.last_seen - v.first_seen) / 1e9 : 0.0);
}

std::uint64_t unix_ms(std::uint64_t mono_ns, const SampleOptions& opts) {
  const std::int64_t ns = static_cast<std::int64_t>(mono_ns) + opts.unix_offset_ns;
  return ns > 0 ? static_cast<std::uint64_t>(ns / 1'000'000) : 0;
}

}  // namespace

std::string tcp_flags_text(std::uint8_t flags) {
  static constexpr struct {
    std::uint8_t bit;
    const char* name;
  } kNames[] = {{NETMON_TCP_SYN, "SYN"}, {NETMON_TCP_ACK, "ACK"}, {NETMON_TCP_FIN, "FIN"}, {NETMON_TCP_RST, "RST"},
                {NETMON_TCP_PSH, "PSH"}, {NETMON_TCP_URG, "URG"}, {NETMON_TCP_ECE, "ECE"}, {NETMON_TCP_CWR, "CWR"}};
  std::string out;
  for (const auto& n : kNames)
    if (flags & n.bit) out += (out.empty() ? "" : "|") + std::string(n.name);
  return out;
}

const char* proto_name(std::uint8_t family, std::uint8_t ip_proto) {
  if (ip_proto == NETMON_IPPROTO_TCP) return "tcp";
  if (ip_proto == NETMON_IPPROTO_UDP) return "udp";
  if ((family == NETMON_L3_IPV4 && ip_proto == NETMON_IPPROTO_ICMP) ||
      (family == NETMON_L3_IPV6 && ip_proto == NETMON_IPPROTO_ICMPV6))
    return "icmp";
  return "other";
}

std::vector<Sample> build_samples(const CollectResult& r, const TableInfo& table, const SampleOptions& opts) {
  std::vector<Sample> out;
  out.reserve(r.top.size() + 2 + (opts.finished ? r.ended.size() : 0));
  for (std::size_t i = 0; i < r.top.size(); ++i) {
    const FlowReport& f = r.top[i];
    Sample s("flow_top");
    s.tag("rank", std::to_string(i + 1));
    flow_tags(s, f.key, opts);
    s.gauge("packets", f.value.packets)
        .gauge("bytes", f.value.bytes)
        .gauge_f("packets_per_sec", f.packets_per_sec)
        .gauge_f("bytes_per_sec", f.bytes_per_sec)
        .gauge_f("bytes_per_sec_2s", f.bytes_per_sec_window[0])
        .gauge_f("bytes_per_sec_10s", f.bytes_per_sec_window[1])
        .gauge_f("bytes_per_sec_40s", f.bytes_per_sec_window[2]);
    time_fields(s, f.value, opts);
    s.text("tcp_flags", tcp_flags_text(f.value.tcp_flags)).gauge("ip_proto", f.key.ip_proto);
    out.push_back(std::move(s));
  }

  Sample other("flow_top_other");
  other.tag("sort", to_string(opts.sort))
      .gauge("flows", r.other.flows)
      .gauge("packets", r.other.packets)
      .gauge("bytes", r.other.bytes)
      .gauge_f("bytes_per_sec", r.other.bytes_per_sec);
  out.push_back(std::move(other));

  Sample t("flow_top_table");
  t.gauge("entries", r.entries)
      .gauge("capacity", table.capacity)
      .counter("insert_failures", table.insert_failures)
      .counter("untracked_packets", table.untracked_packets)
      .counter("ended_idle", r.ended_total.idle)
      .counter("ended_active_timeout", r.ended_total.active_timeout)
      .counter("ended_tcp_fin", r.ended_total.tcp_fin)
      .counter("ended_tcp_rst", r.ended_total.tcp_rst)
      .counter("evicted", r.ended_total.evicted)
      .counter("evicted_unseen_packets", table.evicted_unseen_packets)
      .counter("evicted_unseen_bytes", table.evicted_unseen_bytes)
      .text("read_method", table.read_method)
      .gauge("read_duration_us", table.read_duration_us);
  out.push_back(std::move(t));

  if (opts.finished) {
    for (const EndedFlow& e : r.ended) {
      Sample s("flow_top_end");
      s.event();  // each ended flow is reported once: never superseded, never dropped for a snapshot
      flow_tags(s, e.key, opts);
      s.tag("reason", to_string(e.reason)).gauge("packets", e.value.packets).gauge("bytes", e.value.bytes);
      time_fields(s, e.value, opts);
      s.text("tcp_flags", tcp_flags_text(e.value.tcp_flags)).gauge("ip_proto", e.key.ip_proto);
      // The flow-record convention (docs/SAMPLES.md) that flow exporters read.
      s.gauge("ip_bytes", e.value.ip_bytes)
          .gauge("first_seen_ms", unix_ms(e.value.first_seen, opts))
          .gauge("last_seen_ms", unix_ms(e.value.last_seen, opts))
          .gauge("tcp_control_bits", e.value.tcp_flags);
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<Sample> build_account_samples(const std::vector<Accounting>& accounts, const SampleOptions& opts) {
  std::vector<Sample> out;
  out.reserve(accounts.size());
  for (const Accounting& a : accounts) {
    Sample s("flow_top_totals");
    s.tag("ifname", opts.ifname ? opts.ifname(a.ifindex) : "if" + std::to_string(a.ifindex))
        .tag("ifindex", std::to_string(a.ifindex))
        .tag("direction", a.direction == FLOW_TOP_EGRESS ? "egress" : "ingress")
        .counter("packets", a.total.packets)
        .counter("bytes", a.total.bytes)
        .counter("ip_bytes", a.total.ip_bytes)
        .gauge("table_packets", a.table.packets)
        .gauge("table_bytes", a.table.bytes)
        .counter("ended_packets", a.ended.packets)
        .counter("ended_bytes", a.ended.bytes)
        .counter("evicted_packets", a.evicted.packets)
        .counter("evicted_bytes", a.evicted.bytes)
        .counter("evicted_unseen_packets", a.evicted_unseen.packets)
        .counter("evicted_unseen_bytes", a.evicted_unseen.bytes)
        .gauge("unread_packets", a.unread.packets)
        .gauge("unread_bytes", a.unread.bytes)
        .counter("insert_failed_packets", a.insert_failed.packets)
        .counter("insert_failed_bytes", a.insert_failed.bytes);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace netmon::flow_top
