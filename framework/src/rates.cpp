// SPDX-License-Identifier: MIT
#include "rates.hpp"

#include <iterator>

namespace netmon::host {

namespace {
std::string series_key(const std::string& plugin, const Sample& s) {
  std::string key = plugin;
  key += '\0';
  key += s.measurement;
  for (const auto& t : s.tags) {
    key += '\0';
    key += t.key;
    key += '\0';  // NUL cannot occur in strings that crossed the C ABI: no collisions
    key += t.value;
  }
  return key;
}
}  // namespace

void RateTracker::apply(const std::string& plugin, std::vector<Sample>& samples, std::int64_t now_ns) {
  const double dt = static_cast<double>(now_ns - prev_ns_) / 1e9;
  for (auto& s : samples) {
    Series& series = series_[series_key(plugin, s)];
    // Entries still here were seen in the previous interval (end_interval
    // forgets the others), or are new with no counters: baseline zero.
    series.seen_in = interval_no_;
    std::vector<std::pair<std::string, std::uint64_t>> now;
    std::vector<Field> rates;
    for (const auto& f : s.fields) {
      const auto* c = std::get_if<Counter>(&f.value);
      if (!c) continue;
      std::uint64_t before = 0;
      for (const auto& [k, v] : series.counters)
        if (k == f.key) before = v;
      const std::uint64_t delta = c->value >= before ? c->value - before : c->value;
      rates.push_back({f.key + "_per_sec", dt > 0 ? static_cast<double>(delta) / dt : 0.0});
      now.emplace_back(f.key, c->value);
    }
    series.counters = std::move(now);
    s.fields.insert(s.fields.end(), std::make_move_iterator(rates.begin()), std::make_move_iterator(rates.end()));
  }
}

void RateTracker::end_interval(std::int64_t now_ns) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.seen_in != interval_no_) it = series_.erase(it);
    else ++it;
  }
  prev_ns_ = now_ns;
  ++interval_no_;
}

}  // namespace netmon::host
