// SPDX-License-Identifier: MIT
// netmon-bench-ipfix: flow records per second through the ipfix sink's
// encoder (the mapping from samples and the IPFIX messages, no sending)
// against the json sink writing the same records (the real sink library, to
// /dev/null), in the same run, as a ratio. No root.
//
//   build/bin/netmon-bench-ipfix [--records 10000] [--iterations 200] [--trials 7] [--mtu 1400]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "encoder.hpp"
#include "loader.hpp"
#include "record.hpp"

namespace {

using netmon::bench::Clock;
using netmon::bench::median;
using netmon::bench::per_call;

// n flow records as a flow plugin publishes them (docs/SAMPLES.md, "Flow
// records"): one in four IPv6, the tags and fields flow_top's end records
// carry besides the convention's.
netmon::Batch flow_batch(std::size_t n) {
  netmon::Batch b;
  b.timestamp_ns = 1'795'536'678'004'073'596;
  b.interval_ns = 1'000'000'000;
  static const char* const reasons[] = {"idle", "active_timeout", "tcp_fin", "tcp_rst", "evicted"};
  for (std::size_t i = 0; i < n; ++i) {
    const bool v6 = i % 4 == 0;
    const std::string host = std::to_string(i % 250 + 1);
    netmon::Sample s("flow_end");
    s.event()
        .tag("ifname", "eth0")
        .tag("ifindex", "2")
        .tag("direction", i % 2 ? "egress" : "ingress")
        .tag("family", v6 ? "ipv6" : "ipv4")
        .tag("proto", "tcp")
        .tag("src", v6 ? "2001:db8::" + host : "10.0." + std::to_string(i / 250 % 250) + "." + host)
        .tag("dst", v6 ? "2001:db8:1::1" : "192.0.2.1")
        .tag("sport", std::to_string(1024 + i % 60000))
        .tag("dport", "443")
        .tag("reason", reasons[i % 5])
        .gauge("packets", 10 + i)
        .gauge("ip_bytes", 1500 * (10 + i))
        .gauge("first_seen_ms", 1'795'536'670'000 + i)
        .gauge("last_seen_ms", 1'795'536'678'000 + i)
        .gauge("tcp_control_bits", 0x1b)
        .gauge("ip_proto", 6)
        .gauge_f("duration_s", 8.0);
    b.samples.push_back(std::move(s));
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ipfix encoding of flow records vs the json sink"};
  int iterations = 200, trials = 7;
  std::size_t records = 10000, mtu = 1400;
  app.add_option("--records", records, "flow records per batch")->check(CLI::PositiveNumber);
  app.add_option("--iterations", iterations, "batches per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", trials, "trials (the median is reported)")->check(CLI::PositiveNumber);
  app.add_option("--mtu", mtu, "largest IPFIX message")->check(CLI::Range(140, 65535));
  CLI11_PARSE(app, argc, argv);

  const netmon::Batch batch = flow_batch(records);

  const auto json_sink = netmon::bench::open_json_sink_on_dev_null();
  auto& json = *json_sink;

  netmon::ipfix::Encoder encoder(0, mtu);
  netmon::ipfix::Messages out;
  std::vector<netmon::ipfix::FlowRecord> mapped;
  mapped.reserve(records);
  std::size_t messages = 0, bytes = 0;
  std::vector<double> full, encode_only, js;
  for (int t = 0; t < trials; ++t) {  // alternate, so drift hits all alike
    full.push_back(per_call(iterations, [&] {
      mapped.clear();
      for (const auto& s : batch.samples)
        if (auto r = netmon::ipfix::to_flow_record(s)) mapped.push_back(*r);
      out.clear();
      encoder.encode(mapped, 1'795'536'680, true, out);
      messages = out.list.size();
      bytes = out.bytes.size();
    }));
    encode_only.push_back(per_call(iterations, [&] {
      out.clear();
      encoder.encode(mapped, 1'795'536'680, true, out);
    }));
    js.push_back(per_call(iterations, [&] { json.write(batch); }));
  }
  json.close();

  const double f = median(full), e = median(encode_only), j = median(js);
  const double n = static_cast<double>(records);
  fmt::print("batch: {} flow records (1 in 4 IPv6), mtu {}: {} messages, {} bytes\n", records, mtu, messages, bytes);
  fmt::print(
      "ipfix, samples to messages (mapping + encoding), median of {} x {}: {:.0f} records/s ({:.1f} ns/record)"
      "  (target >= 1,000,000)\n",
      trials, iterations, n / f, f / n * 1e9);
  fmt::print("ipfix, encoding alone (records already mapped): {:.0f} records/s ({:.1f} ns/record)\n", n / e,
             e / n * 1e9);
  fmt::print("json sink write of the same samples: {:.0f} records/s ({:.1f} ns/record)\n", n / j, j / n * 1e9);
  fmt::print("ratio (ipfix records/s / json records/s): {:.2f}\n", j / f);
  return 0;
}
