// sinks/prometheus/exposition.hpp  (create exactly this if absent, identical text)
#pragma once
#include <netmon/sink.hpp>
#include <memory>
#include <string>
#include <string_view>
namespace netmon::prometheus {
struct Scrape {
  std::string text;         // text format 0.0.4
  std::string openmetrics;  // OpenMetrics 1.0, ends with "# EOF\n"
  std::size_t series = 0;
};
struct RenderOptions {};
std::shared_ptr<const Scrape> render(const netmon::Batch& batch, const RenderOptions& opts = {});
bool wants_openmetrics(std::string_view accept_header);
}  // namespace netmon::prometheus
