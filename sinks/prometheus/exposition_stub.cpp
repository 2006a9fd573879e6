// SPDX-License-Identifier: MIT
// STAND-IN for exposition.cpp, for testing the serving part alone; replaced
// by the real renderer at merge. It renders one series per sample, named by
// the batch's sequence, so that every batch gives a distinct body.
#include "exposition.hpp"

#include <cctype>

namespace netmon::prometheus {

std::shared_ptr<const Scrape> render(const netmon::Batch& batch, const RenderOptions&) {
  auto s = std::make_shared<Scrape>();
  std::string body = "# TYPE netmon_stub_sample gauge\n";
  std::size_t i = 0;
  for (const auto& sample : batch.samples) {
    body += "netmon_stub_sample{measurement=\"" + sample.measurement + "\",sequence=\"" +
            std::to_string(batch.sequence) + "\",index=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
    ++i;
  }
  body += "netmon_stub_sequence " + std::to_string(batch.sequence) + "\n";
  s->text = body;
  s->openmetrics = body + "# EOF\n";
  s->series = i + 1;
  return s;
}

bool wants_openmetrics(std::string_view accept) {
  std::string lower(accept);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("application/openmetrics-text") != std::string::npos;
}

}  // namespace netmon::prometheus
