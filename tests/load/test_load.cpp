// SPDX-License-Identifier: MIT
// Under load, with all three plugins and the json sink:
//  - 30 s at the highest rate this machine pushes through a veth pair: the
//    totals equal the sender's count and the kernel's counters exactly, and
//    flow_top holds every flow with its exact count;
//  - 1,000,000 distinct flows through a table of 65,536: no crash, LRU
//    eviction, bounded memory and failed inserts, the heavy flows on top
//    with exact counts.
// The figures reached are printed (and kept as test properties).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "support/collectors.hpp"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::field_u64;
using netmon::test::HostRun;
using netmon::test::sample_of;
using netmon::test::VethPair;

// Runs netmon-traffic in the namespace; returns its JSON report.
nlohmann::json traffic(const VethPair& v, const std::string& args, std::chrono::seconds timeout) {
  const auto r = netmon::test::traffic(v, args, timeout);
  return nlohmann::json::parse(r.out.empty() ? "{}" : r.out);
}

// Every flow_top_totals sample of the run: its parts add up to its totals,
// packets and bytes. Returns how many there were.
std::size_t expect_totals_add_up(const HostRun& host) {
  std::size_t n = 0;
  for (const auto& t : host.samples()) {
    if (t.value("measurement", "") != "flow_top_totals") continue;
    ++n;
    for (const char* unit : {"packets", "bytes"}) {
      const auto part = [&t, unit](const std::string& p) { return field_u64(t, p.empty() ? unit : p + "_" + unit); };
      EXPECT_EQ(part(""), part("table") + part("ended") + part("evicted") + part("evicted_unseen") + part("unread") +
                              part("insert_failed"))
          << t.dump();
    }
  }
  return n;
}

TEST(Load, ThirtySecondsAtFullRateCountedExactly) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--interval", "1s"});
  const auto in = sample_of("tc_stats", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  const auto xdp = sample_of("xdp_stats", {{"ifname", v.host_if()}});
  const auto udp =
      sample_of("tc_stats_class", {{"ifname", v.host_if()}, {"direction", "ingress"}, {"l3", "ipv4"}, {"l4", "udp"}});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 20s)) << host.stderr_text();
  const auto base_in = *host.last(in), base_xdp = *host.last(xdp), base_udp = *host.last(udp);
  const auto k0 = netmon::test::if_counters(v);

  constexpr int kFlows = 4;
  constexpr std::uint64_t kPayload = 64;
  // The samples are read as they come: a full stdout pipe must not be what is measured.
  const auto report = host.reading_while(
      [&v] { return traffic(v, "--port 9000 --flows 4 --size 64 --count 1000000000 --seconds 30", 120s); });
  const std::uint64_t sent = report.value("sent", 0ull);
  std::this_thread::sleep_for(500ms);
  const auto k1 = netmon::test::if_counters(v);
  const auto st = host.stop(SIGINT, 30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();

  const double pps = report.value("pps", 0.0);
  std::cout << "[ load     ] " << sent << " datagrams in 30 s: " << static_cast<std::uint64_t>(pps)
            << " packets/s through the veth pair\n";
  RecordProperty("packets_per_second", static_cast<int>(pps));
  ASSERT_GT(sent, 0u);
  // The sender's count, exactly.
  EXPECT_EQ(host.delta(udp, base_udp, "packets"), sent);
  EXPECT_EQ(host.delta(udp, base_udp, "bytes"), sent * (14 + 20 + 8 + kPayload));
  // The kernel's counters, exactly.
  EXPECT_EQ(host.delta(in, base_in, "packets"), k1.rx_packets - k0.rx_packets);
  EXPECT_EQ(host.delta(in, base_in, "bytes"), k1.rx_bytes - k0.rx_bytes);
  EXPECT_EQ(host.delta(xdp, base_xdp, "packets"), k1.rx_packets - k0.rx_packets);
  EXPECT_EQ(v.host_stat("rx_dropped"), 0u);
  // flow_top: every flow, exactly (datagram i left from port 40000 + i mod 4).
  for (int f = 0; f < kFlows; ++f) {
    const auto flow = host.last(sample_of(
        "flow_top",
        {{"direction", "ingress"}, {"proto", "udp"}, {"sport", std::to_string(40000 + f)}, {"dport", "9000"}}));
    ASSERT_TRUE(flow) << "flow from port " << 40000 + f << " missing";
    const std::uint64_t expected = sent / kFlows + (static_cast<std::uint64_t>(f) < sent % kFlows ? 1 : 0);
    EXPECT_EQ(field_u64(*flow, "packets"), expected) << "flow from port " << 40000 + f;
  }
  netmon::test::expect_nothing_left(v.host_if());
}

TEST(Load, AMillionFlowsThroughATableOf65536) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  // Scraped by the prometheus sink too: its series must not follow the flows.
  const std::string metrics = "127.0.0.1:" + std::to_string(netmon::test::free_loopback_port());
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--sink", "prometheus:" + metrics, "--interval", "1s", "-o",
                "flow_top.top=3"});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 20s)) << host.stderr_text();
  const std::uint64_t rss_before = netmon::test::rss_kb(host.process().pid());
  std::atomic<bool> churning{true};
  std::size_t scrapes = 0, max_series = 0;
  std::thread scraper([&] {
    while (churning) {
      const auto r =
          netmon::test::run({"/usr/bin/curl", "-sS", "--max-time", "5", "http://" + metrics + "/metrics"}, 10s);
      if (r.status.code == 0) {
        std::size_t series = 0;
        for (const auto& line : netmon::test::lines_of(r.out)) series += !line.empty() && line[0] != '#';
        max_series = std::max(max_series, series);
        ++scrapes;
      }
      std::this_thread::sleep_for(300ms);
    }
  });

  // Three heavy flows, steady, while a million light ones (one datagram each) go through.
  constexpr std::uint64_t kHeavy = 10000;
  const auto light = host.reading_while([&v] {
    std::thread heavy([&v] {
      traffic(v, "--port 9999 --sport 30000 --flows 3 --rate 3000 --count " + std::to_string(3 * kHeavy), 60s);
    });
    std::this_thread::sleep_for(200ms);
    auto report = traffic(v, "--port 10000 --sport 40000 --flows 1000 --dports 1000 --size 18 --count 1000000", 120s);
    heavy.join();
    return report;
  });
  churning = false;
  scraper.join();
  EXPECT_EQ(light.value("sent", 0ull), 1000000u);
  // Two intervals more: the table read after the last packet.
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 5s));
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 5s));
  const std::uint64_t rss_after = netmon::test::rss_kb(host.process().pid());
  const auto st = host.stop(SIGINT, 30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();

  const auto table = *host.last(sample_of("flow_top_table", {}));
  const std::uint64_t entries = field_u64(table, "entries"), evicted = field_u64(table, "evicted");
  const std::uint64_t failures = field_u64(table, "insert_failures");
  std::cout << "[ load     ] 1,000,000 flows: table " << entries << " of " << field_u64(table, "capacity")
            << " entries, " << evicted << " seen evicted, " << failures << " failed inserts; netmon-host RSS "
            << rss_before / 1024 << " MB before, " << rss_after / 1024 << " MB after\n";
  RecordProperty("rss_after_kb", static_cast<int>(rss_after));
  EXPECT_LE(entries, 65536u);
  EXPECT_GT(evicted, 100000u) << "the LRU must have pushed flows out";
  EXPECT_LE(failures, 1000000u);
  // sinks/prometheus/README.md: 6 + 3·plugins + 3·sinks + 22·xdp_ifaces +
  // 44·tc_ifaces + 2·top + 13 series, whatever the traffic.
  const std::size_t bound = 6 + 3 * 3 + 3 * 2 + 22 * 1 + 44 * 1 + 8 * 1 + 2 * 3 + 13;
  std::cout << "[ load     ] prometheus: " << scrapes << " scrapes during the million flows, at most " << max_series
            << " series (bound " << bound << ")\n";
  EXPECT_GE(scrapes, 5u);
  EXPECT_LE(max_series, bound);
  EXPECT_GT(max_series, bound - 2 * 3 - 10) << "the scrape must hold the standard set";
#if defined(__SANITIZE_ADDRESS__)
  const std::uint64_t bound_kb = 1024 * 1024;  // AddressSanitizer's shadow and quarantine
#else
  const std::uint64_t bound_kb = 200 * 1024;
#endif
  EXPECT_LT(rss_after, rss_before + bound_kb) << "memory must stay bounded by the table, not the flows seen";
  // Every packet accounted for, at every interval (flow_top's README): the
  // parts add up to the totals exactly, and the part no read saw is known.
  const auto ingress_totals = sample_of("flow_top_totals", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  ASSERT_GT(expect_totals_add_up(host), 10u);
  std::uint64_t previous_unseen = 0;
  for (const auto& t : host.samples()) {
    if (!ingress_totals(t)) continue;
    EXPECT_GE(field_u64(t, "evicted_unseen_packets"), previous_unseen) << "a counter never decreases";
    previous_unseen = field_u64(t, "evicted_unseen_packets");
  }
  const auto first_it = std::find_if(host.samples().begin(), host.samples().end(), ingress_totals);
  ASSERT_NE(first_it, host.samples().end());
  const nlohmann::json first = *first_it;
  const auto last = *host.last(ingress_totals);
  EXPECT_EQ(field_u64(last, "unread_packets"), 0u) << "no packet arrived during the last reads";
  EXPECT_GT(field_u64(last, "evicted_unseen_packets"), 0u) << "a million flows through 65,536 evict unseen ones";
  // The totals against the kernel's own view at the same hook: tc_stats'
  // IPv4 and IPv6 packets at ingress, over the same span (quiet at both ends).
  const auto ip_packets = [&](const nlohmann::json& first_totals, const nlohmann::json& last_totals) {
    std::uint64_t n = 0;
    for (const char* l3 : {"ipv4", "ipv6"})
      for (const char* l4 : {"tcp", "udp", "icmp", "other"}) {
        const auto cls =
            sample_of("tc_stats_class", {{"ifname", v.host_if()}, {"direction", "ingress"}, {"l3", l3}, {"l4", l4}});
        std::optional<nlohmann::json> a, b;
        for (const auto& x : host.samples()) {
          if (x["timestamp_ns"] == first_totals["timestamp_ns"] && cls(x)) a = x;
          if (x["timestamp_ns"] == last_totals["timestamp_ns"] && cls(x)) b = x;
        }
        if (a && b) n += field_u64(*b, "packets") - field_u64(*a, "packets");
      }
    return n;
  };
  EXPECT_EQ(field_u64(last, "packets") - field_u64(first, "packets"), ip_packets(first, last));
  EXPECT_GE(field_u64(last, "packets") - field_u64(first, "packets"), 1000000u + 3 * kHeavy);
  std::cout << "[ load     ] flow_top totals: " << field_u64(last, "packets")
            << " ingress packets = " << field_u64(last, "table_packets") << " in the table + "
            << field_u64(last, "ended_packets") << " ended + " << field_u64(last, "evicted_packets") << " evicted + "
            << field_u64(last, "evicted_unseen_packets") << " evicted unseen + "
            << field_u64(last, "insert_failed_packets") << " in failed inserts\n";
  // The heavy flows survive the churn, on top, with exact counts.
  for (int f = 0; f < 3; ++f) {
    const auto flow = host.last(
        sample_of("flow_top", {{"direction", "ingress"}, {"sport", std::to_string(30000 + f)}, {"dport", "9999"}}));
    ASSERT_TRUE(flow) << "heavy flow " << f << " not in the top 3";
    EXPECT_EQ(field_u64(*flow, "packets"), kHeavy) << "heavy flow " << f;
    EXPECT_LE(std::stoi((*flow)["tags"]["rank"].get<std::string>()), 3);
  }
  netmon::test::expect_nothing_left(v.host_if());
}

// 100,000 flows through a table of 16,384, every ended flow exported over
// IPFIX to nfcapd: the accounting holds exactly at every interval, and what
// the collector stored is exactly what netmon recorded, with the part no read
// saw (evicted unseen) being the whole difference to the totals.
TEST(Load, AHundredThousandFlowsThroughATableOf16384ExportedToNfcapd) {
  NETMON_REQUIRE_ROOT();
  NETMON_REQUIRE_TOOLS(netmon::test::kNfcapd, netmon::test::kNfdump);
  VethPair v;
  // The records of 100,000 flows leave in bursts of thousands of datagrams:
  // a collector needs a receive buffer that holds one (as in production,
  // nfcapd -B with net.core.rmem_max raised); the kernel's own drop counter
  // says whether it did.
  constexpr int kRcvbuf = 32 << 20;
  netmon::test::RaiseRmemMax rmem(kRcvbuf);
  netmon::test::Nfcapd nfcapd(-1, 10s, kRcvbuf);
  ASSERT_TRUE(nfcapd.ready()) << nfcapd.log();
  const std::uint64_t rcvbuf_errors = netmon::test::udp_rcvbuf_errors();
  HostRun host({"--plugins", "flow_top", "--iface", v.host_if(), "--sink", "json", "--sink",
                "ipfix:127.0.0.1:" + std::to_string(nfcapd.port()), "--interval", "500ms", "-o",
                "flow_top.table_size=16384", "-o", "flow_top.finished=true", "-o", "flow_top.idle_timeout=1s"});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 20s)) << host.stderr_text();

  // 100 source ports x 1000 destination ports, one datagram each, as fast as it goes.
  const auto report = host.reading_while([&v] {
    return traffic(v, "--port 10000 --sport 40000 --flows 100 --dports 1000 --size 18 --count 100000", 120s);
  });
  EXPECT_EQ(report.value("sent", 0ull), 100000u);
  // Until every flow has ended (idle 1 s) and the table is empty.
  const auto empty_table = [](const nlohmann::json& j) {
    return j.value("measurement", "") == "flow_top_table" && field_u64(j, "entries") == 0;
  };
  // Generous: under AddressSanitizer both netmon-host's collections (16,384
  // flows ending) and this process's parsing of some 35,000 JSON records
  // take seconds.
  ASSERT_TRUE(host.wait_for(empty_table, 90s)) << host.stderr_text();
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 5s));
  const auto st = host.stop(SIGINT, 30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();

  // The invariant at every interval, both directions, packets and bytes.
  EXPECT_GT(expect_totals_add_up(host), 4u);

  // What netmon recorded: the flow_top_end records, and the totals.
  std::uint64_t records = 0, record_packets = 0, record_ip_bytes = 0;
  for (const auto& s : host.samples()) {
    if (s.value("measurement", "") != "flow_top_end") continue;
    ++records;
    record_packets += field_u64(s, "packets");
    record_ip_bytes += field_u64(s, "ip_bytes");
  }
  std::uint64_t total_packets = 0, unseen_packets = 0, total_ip_bytes = 0, evicted = 0;
  for (const char* dir : {"ingress", "egress"}) {
    const auto t = host.last(sample_of("flow_top_totals", {{"ifname", v.host_if()}, {"direction", dir}}));
    ASSERT_TRUE(t) << dir;
    EXPECT_EQ(field_u64(*t, "table_packets"), 0u) << dir;
    EXPECT_EQ(field_u64(*t, "unread_packets"), 0u) << dir;
    total_packets += field_u64(*t, "packets");
    total_ip_bytes += field_u64(*t, "ip_bytes");
    unseen_packets += field_u64(*t, "evicted_unseen_packets");
    evicted += field_u64(*t, "evicted_packets");
  }
  EXPECT_GE(total_packets, 100000u);
  EXPECT_EQ(record_packets + unseen_packets + 0, total_packets)
      << "records and evicted-unseen packets must be every packet counted";
  EXPECT_GT(evicted + unseen_packets, 0u) << "100,000 flows through 16,384 must evict";

  // Every record sent, none lost, and the collector holds exactly them.
  static const std::regex summary(R"((\d+) records sent to \S+ over udp, (\d+) lost)");
  std::smatch m;
  const std::string err = host.stderr_text();
  ASSERT_TRUE(std::regex_search(err, m, summary)) << err;
  EXPECT_EQ(std::stoull(m[1]), records);
  EXPECT_EQ(std::stoull(m[2]), 0u);
  const auto rows = nfcapd.flows();
  EXPECT_EQ(netmon::test::udp_rcvbuf_errors(), rcvbuf_errors)
      << "the kernel dropped datagrams at a full receive buffer";
  std::uint64_t nf_packets = 0, nf_bytes = 0;
  for (const auto& r : rows) nf_packets += r.packets, nf_bytes += r.bytes;
  EXPECT_EQ(rows.size(), records);
  EXPECT_EQ(nf_packets, record_packets);
  EXPECT_EQ(nf_bytes, record_ip_bytes);
  std::cout << "[ load     ] 100,000 flows through 16,384 entries at "
            << static_cast<std::uint64_t>(report.value("pps", 0.0)) << " packets/s: " << total_packets << " packets ("
            << total_ip_bytes << " IP bytes) = " << record_packets << " in " << records
            << " records nfcapd stored exactly + " << unseen_packets << " evicted unseen\n";
  netmon::test::expect_nothing_left(v.host_if());
}

}  // namespace
