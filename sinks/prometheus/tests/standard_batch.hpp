// SPDX-License-Identifier: MIT
// A batch as the standard set publishes it (docs/SAMPLES.md): xdp_stats,
// tc_stats and flow_top on `interfaces` interfaces with `top` flows, the
// host's own measurements with `sinks` sinks. Shared by the Prometheus
// exposition tests and the exposition benchmark.
#pragma once

#include <netmon/sample.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace netmon::unit {

inline constexpr std::array<std::pair<const char*, const char*>, 10> kClasses{{{"ipv4", "tcp"},
                                                                               {"ipv4", "udp"},
                                                                               {"ipv4", "icmp"},
                                                                               {"ipv4", "other"},
                                                                               {"ipv6", "tcp"},
                                                                               {"ipv6", "udp"},
                                                                               {"ipv6", "icmp"},
                                                                               {"ipv6", "other"},
                                                                               {"arp", "none"},
                                                                               {"other", "none"}}};

// One flow_top sample, tags and fields in the plugin's order.
inline Sample flow_top_sample(std::size_t rank, const std::string& ifname, const std::string& ifindex,
                              const std::string& direction, const std::string& src, const std::string& dst,
                              std::uint16_t sport, std::uint16_t dport, std::uint64_t packets, std::uint64_t bytes) {
  Sample s("flow_top");
  s.tag("rank", std::to_string(rank))
      .tag("ifname", ifname)
      .tag("ifindex", ifindex)
      .tag("direction", direction)
      .tag("family", "ipv4")
      .tag("proto", "tcp")
      .tag("src", src)
      .tag("dst", dst)
      .tag("sport", std::to_string(sport))
      .tag("dport", std::to_string(dport))
      .gauge("packets", packets)
      .gauge("bytes", bytes)
      .gauge_f("packets_per_sec", 10.5)
      .gauge_f("bytes_per_sec", 15000.25)
      .gauge_f("bytes_per_sec_2s", 14000.0)
      .gauge_f("bytes_per_sec_10s", 13000.0)
      .gauge_f("bytes_per_sec_40s", 12000.0)
      .text("first_seen", "2026-11-24T16:11:10.000Z")
      .text("last_seen", "2026-11-24T16:11:18.000Z")
      .gauge_f("duration_s", 8.0)
      .text("tcp_flags", "SYN|ACK")
      .gauge("ip_proto", 6);
  return s;
}

inline Batch standard_batch(std::size_t interfaces, std::size_t top, std::size_t sinks) {
  Batch b;
  b.timestamp_ns = 1'795'536'678'004'073'596;
  b.interval_ns = 1'000'000'000;
  b.sequence = 9;
  std::uint64_t n = 1000;
  for (std::size_t i = 0; i < interfaces; ++i) {
    const std::string ifname = "eth" + std::to_string(i), ifindex = std::to_string(i + 2);
    b.samples.push_back(Sample("xdp_stats")
                            .tag("ifname", ifname)
                            .tag("ifindex", ifindex)
                            .counter("packets", n)
                            .counter("bytes", n * 100)
                            .counter("malformed_packets", 1)
                            .text("mode", "native")
                            .gauge_f("packets_per_sec", 1.5)
                            .gauge_f("bytes_per_sec", 150.5)
                            .gauge_f("malformed_packets_per_sec", 0.0));
    for (const auto& [l3, l4] : kClasses) {
      ++n;
      b.samples.push_back(Sample("xdp_stats_class")
                              .tag("ifname", ifname)
                              .tag("ifindex", ifindex)
                              .tag("l3", l3)
                              .tag("l4", l4)
                              .counter("packets", n)
                              .counter("bytes", n * 100)
                              .gauge_f("packets_per_sec", 1.5)
                              .gauge_f("bytes_per_sec", 150.5));
    }
  }
  for (std::size_t i = 0; i < interfaces; ++i) {
    const std::string ifname = "eth" + std::to_string(i), ifindex = std::to_string(i + 2);
    for (const char* dir : {"ingress", "egress"}) {
      b.samples.push_back(Sample("tc_stats")
                              .tag("ifname", ifname)
                              .tag("ifindex", ifindex)
                              .tag("direction", dir)
                              .counter("packets", n)
                              .counter("bytes", n * 100)
                              .counter("malformed_packets", 0)
                              .text("attach", "tcx")
                              .gauge_f("packets_per_sec", 1.5)
                              .gauge_f("bytes_per_sec", 150.5)
                              .gauge_f("malformed_packets_per_sec", 0.0));
      for (const auto& [l3, l4] : kClasses) {
        ++n;
        b.samples.push_back(Sample("tc_stats_class")
                                .tag("ifname", ifname)
                                .tag("ifindex", ifindex)
                                .tag("direction", dir)
                                .tag("l3", l3)
                                .tag("l4", l4)
                                .counter("packets", n)
                                .counter("bytes", n * 100)
                                .gauge_f("packets_per_sec", 1.5)
                                .gauge_f("bytes_per_sec", 150.5));
      }
    }
  }
  for (std::size_t r = 1; r <= top; ++r) {
    const std::string src = "10.0." + std::to_string(r / 256) + "." + std::to_string(r % 256);
    b.samples.push_back(flow_top_sample(r, "eth" + std::to_string(r % (interfaces ? interfaces : 1)), "2",
                                        r % 2 ? "ingress" : "egress", src, "192.0.2.1",
                                        static_cast<std::uint16_t>(40000 + r), 443, 1'000'000 - r, 90'000'000 - r));
  }
  b.samples.push_back(Sample("flow_top_other")
                          .tag("sort", "packets")
                          .gauge("flows", 999'000)
                          .gauge("packets", 5'000'000)
                          .gauge("bytes", 700'000'000)
                          .gauge_f("bytes_per_sec", 1e6));
  b.samples.push_back(Sample("flow_top_table")
                          .gauge("entries", 999'000 + top)
                          .gauge("capacity", 1'048'576)
                          .counter("insert_failures", 5)
                          .counter("untracked_packets", 77)
                          .counter("ended_idle", 100)
                          .counter("ended_active_timeout", 2)
                          .counter("ended_tcp_fin", 50)
                          .counter("ended_tcp_rst", 3)
                          .counter("evicted", 0)
                          .text("read_method", "batch")
                          .gauge("read_duration_us", 2500));
  b.samples.push_back(Sample("netmon_host")
                          .gauge("plugins", 3)
                          .gauge("collect_duration_us", 180)
                          .text("version", "0.1.0")
                          .text("abi", "1.1"));
  for (const char* p : {"xdp_stats", "tc_stats", "flow_top"})
    b.samples.push_back(Sample("netmon_host_plugin")
                            .tag("plugin", p)
                            .gauge("up", 1)
                            .gauge("collect_duration_us", 60)
                            .counter("collect_errors", 0)
                            .gauge_f("collect_errors_per_sec", 0.0));
  for (std::size_t i = 0; i < sinks; ++i)
    b.samples.push_back(Sample("netmon_host_sink")
                            .tag("sink", i == 0 ? "prometheus" : "json:/var/log/netmon-" + std::to_string(i) + ".jsonl")
                            .counter("dropped_batches", 0)
                            .counter("delivered_batches", 40)
                            .counter("lost_events", 0)
                            .gauge_f("dropped_batches_per_sec", 0.0)
                            .gauge_f("delivered_batches_per_sec", 1.0)
                            .gauge_f("lost_events_per_sec", 0.0));
  return b;
}

// Series netmon_prometheus_core renders for standard_batch(): see
// sinks/prometheus/README.md, "How many series".
constexpr std::size_t standard_series(std::size_t interfaces, std::size_t top, std::size_t plugins, std::size_t sinks) {
  return 6 + 3 * plugins + 3 * sinks + 66 * interfaces + 2 * top + 13;
}

}  // namespace netmon::unit
