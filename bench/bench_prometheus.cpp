// SPDX-License-Identifier: MIT
// netmon-bench-prometheus: rendering one collection of the full standard set
// (3 plugins on 2 interfaces, flow_top's top 100, the host's measurements)
// for a Prometheus scrape, both formats, against the json sink writing the
// same batch (the real sink library, to /dev/null), as a ratio. No root.
//
//   build/bin/netmon-bench-prometheus [--iterations 2000] [--trials 7] [--top 100]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include "bench_util.hpp"
#include "exposition.hpp"
#include "loader.hpp"
#include "standard_batch.hpp"

namespace {

using netmon::bench::Clock;
using netmon::bench::median;
using netmon::bench::per_call;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prometheus exposition of the standard set vs the json sink"};
  int iterations = 2000, trials = 7;
  std::size_t top = 100, interfaces = 2;
  app.add_option("--iterations", iterations, "renders per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", trials, "trials (the median is reported)")->check(CLI::PositiveNumber);
  app.add_option("--top", top, "flow_top's top N");
  app.add_option("--interfaces", interfaces, "interfaces of xdp_stats and tc_stats");
  CLI11_PARSE(app, argc, argv);

  const netmon::Batch batch = netmon::unit::standard_batch(interfaces, top, 1);

  const auto json_sink = netmon::bench::open_json_sink_on_dev_null();
  auto& json = *json_sink;

  std::size_t series = 0, text_bytes = 0, om_bytes = 0;
  std::vector<double> prom, js;
  for (int t = 0; t < trials; ++t) {  // alternate, so drift hits both alike
    prom.push_back(per_call(iterations, [&] {
      const auto s = netmon::prometheus::render(batch);
      series = s->series;
      text_bytes = s->text.size();
      om_bytes = s->openmetrics.size();
    }));
    js.push_back(per_call(iterations, [&] { json.write(batch); }));
  }
  json.close();

  const double p = median(prom), j = median(js);
  fmt::print("batch: {} samples ({} interfaces, top {}), {} series; text {} bytes, OpenMetrics {} bytes\n",
             batch.samples.size(), interfaces, top, series, text_bytes, om_bytes);
  fmt::print("prometheus render (both formats), median of {} x {}: {:.1f} us  (target < 1000 us)\n", trials, iterations,
             p * 1e6);
  fmt::print("json sink write of the same batch, median of {} x {}: {:.1f} us\n", trials, iterations, j * 1e6);
  fmt::print("ratio (prometheus / json): {:.2f}\n", p / j);
  return 0;
}
