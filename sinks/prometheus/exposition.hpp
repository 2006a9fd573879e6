// SPDX-License-Identifier: MIT
// The Prometheus exposition of one batch: the text format 0.0.4 and
// OpenMetrics 1.0, rendered once per collection and shared by every scrape
// until the next. Pure: no I/O, no state between calls. The mapping from
// samples to metric families is in mapping.hpp; README.md in this folder lists
// every metric, the generic rule for third-party measurements and the bound
// on the number of series.
#pragma once

#include <netmon/sample.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace netmon::prometheus {

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// One collection rendered for a scrape, both formats, immutable once made.
struct Scrape {
  std::string text;         // text format 0.0.4 (Content-Type: kTextContentType)
  std::string openmetrics;  // OpenMetrics 1.0 (Content-Type: kOpenMetricsContentType), ends with "# EOF\n"
  std::size_t series = 0;   // number of sample lines (time series) in the scrape, self-metrics included
  std::size_t skipped = 0;  // series left out (type conflict, duplicate label set, over max_series)
};

struct RenderOptions {
  // Hard bound on the series of one scrape, self-metrics included. Series
  // beyond it are left out (in batch order) and counted in
  // netmon_prometheus_skipped_series{reason="limit"}. Must be at least
  // kSelfSeries; a smaller value is treated as kSelfSeries.
  std::size_t max_series = 10000;
};

// Series the renderer adds itself (netmon_prometheus_skipped_series, one per reason).
inline constexpr std::size_t kSelfSeries = 3;

std::shared_ptr<const Scrape> render(const netmon::Batch& batch, const RenderOptions& opts = {});

// True when the Accept header prefers OpenMetrics (application/openmetrics-text,
// version 1.0.0, 0.0.1 or none, with a q above 0 and not below text/plain's).
bool wants_openmetrics(std::string_view accept_header);

// The Content-Type of the body chosen for an Accept header.
inline std::string_view content_type(bool openmetrics) {
  return openmetrics ? kOpenMetricsContentType : kTextContentType;
}

}  // namespace netmon::prometheus
