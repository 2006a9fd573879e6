// SPDX-License-Identifier: MIT
#include "exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <iterator>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mapping.hpp"

namespace netmon::prometheus {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), 0 if invalid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

// Appends s with '\' and newline escaped, and '"' too when `quote`; invalid
// UTF-8 becomes U+FFFD (Prometheus rejects a whole scrape for one bad byte).
void append_escaped(std::string& out, std::string_view s, bool quote) {
  std::size_t run = 0;  // start of the bytes not yet appended
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n) {
        i += n;
        continue;
      }
      out.append(s.substr(run, i - run));
      out += kReplacement;
      run = ++i;
      continue;
    }
    if (c == '\\' || c == '\n' || (quote && c == '"')) {
      out.append(s.substr(run, i - run));
      out += '\\';
      out += c == '\n' ? 'n' : static_cast<char>(c);
      run = ++i;
      continue;
    }
    ++i;
  }
  out.append(s.substr(run));
}

void append_number(std::string& out, const Number& n) {
  char buf[32];
  switch (n.kind) {
    case Number::Kind::u64: {
      const auto r = std::to_chars(buf, buf + sizeof buf, n.u);
      out.append(buf, r.ptr);
      return;
    }
    case Number::Kind::i64: {
      const auto r = std::to_chars(buf, buf + sizeof buf, n.i);
      out.append(buf, r.ptr);
      return;
    }
    case Number::Kind::f64:
      if (std::isnan(n.d)) out += "NaN";
      else if (std::isinf(n.d)) out += n.d > 0 ? "+Inf" : "-Inf";
      else fmt::format_to(std::back_inserter(out), "{}", n.d);
      return;
  }
}

std::string_view type_text(MetricType t, bool openmetrics) {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::info: return openmetrics ? "info" : "gauge";
  }
  return "unknown";
}

std::string_view unit_text(Unit u) {
  switch (u) {
    case Unit::bytes: return "bytes";
    case Unit::seconds: return "seconds";
    case Unit::none: break;
  }
  return {};
}

struct Family {
  std::string name;  // on sample lines, and in the text format's metadata
  std::string base;  // OpenMetrics family name
  std::string help;
  MetricType type = MetricType::gauge;
  Unit unit = Unit::none;
  bool reserved = false;                 // the renderer's own: no mapped series may join it
  std::string body;                      // the sample lines, the same in both formats
  std::unordered_set<std::string> seen;  // label sets, to drop duplicates
  std::size_t count = 0;
};

constexpr std::string_view kSkippedName = "netmon_prometheus_skipped_series";

class Renderer final : public SeriesSink {
 public:
  explicit Renderer(std::size_t max_series) : cap_(std::max(max_series, kSelfSeries) - kSelfSeries) {
    Family& self = add_family(FamilySpec{kSkippedName, kSkippedName, MetricType::gauge, Unit::none,
                                         "Series left out of this scrape, by reason: a name already used with "
                                         "another type, a label set already in the family, or over the limit "
                                         "on series."});
    self.reserved = true;
  }

  void series(const FamilySpec& spec, std::vector<Label>& labels, Number value) override {
    // The family, if there is one: a name belongs to one family of one type.
    Family* fam = nullptr;
    if (const auto it = index_.find(spec.base); it != index_.end()) {
      fam = &families_[it->second];
      if (fam->reserved || fam->type != spec.type || fam->name != spec.name) {
        ++type_conflicts_;
        return;
      }
    } else if (spec.name != spec.base && index_.count(spec.name)) {
      ++type_conflicts_;
      return;
    }
    // A counter cannot go below zero (nor be NaN): a plugin's mistake, left out.
    if (spec.type == MetricType::counter &&
        ((value.kind == Number::Kind::i64 && value.i < 0) || (value.kind == Number::Kind::f64 && !(value.d >= 0)))) {
      ++type_conflicts_;
      return;
    }
    if (series_ >= cap_) {
      ++over_limit_;
      return;
    }

    // Labels sorted by name (as Prometheus keeps them), the first of a name
    // kept; an empty value is no label (so Prometheus reads it).
    std::stable_sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
    labels_buf_.clear();
    const std::string_view* previous = nullptr;
    bool first = true;
    for (const auto& l : labels) {
      if (previous && l.name == *previous) continue;
      previous = &l.name;
      if (l.value.empty()) continue;  // still the first of its name: a later one does not replace it
      labels_buf_ += first ? '{' : ',';
      labels_buf_ += l.name;
      labels_buf_ += "=\"";
      append_escaped(labels_buf_, l.value, true);
      labels_buf_ += '"';
      first = false;
    }
    if (!first) labels_buf_ += '}';

    if (!fam) {
      fam = &add_family(spec);
    } else if (!fam->seen.insert(labels_buf_).second) {
      ++duplicates_;
      return;
    }
    if (fam->count == 0) fam->seen.insert(labels_buf_);
    fam->body += fam->name;
    fam->body += labels_buf_;
    fam->body += ' ';
    append_number(fam->body, value);
    fam->body += '\n';
    ++fam->count;
    ++series_;
  }

  std::shared_ptr<Scrape> finish() {
    Family& self = families_[0];
    const std::pair<std::string_view, std::size_t> reasons[] = {
        {"duplicate", duplicates_}, {"limit", over_limit_}, {"type_conflict", type_conflicts_}};
    for (const auto& [reason, n] : reasons) {
      self.body += self.name;
      self.body += "{reason=\"";
      self.body += reason;
      self.body += "\"} ";
      append_number(self.body, Number::of_u64(n));
      self.body += '\n';
      ++self.count;
    }

    std::vector<const Family*> order;
    order.reserve(families_.size());
    std::size_t bytes = 0;
    for (const auto& f : families_) {
      order.push_back(&f);
      bytes += f.body.size() + f.help.size() + 2 * f.name.size() + 64;
    }
    std::sort(order.begin(), order.end(), [](const Family* a, const Family* b) { return a->base < b->base; });

    auto scrape = std::make_shared<Scrape>();
    scrape->text.reserve(bytes);
    scrape->openmetrics.reserve(bytes + order.size() * 32 + 8);
    for (const Family* f : order) {
      std::string& t = scrape->text;
      t += "# HELP ";
      t += f->name;
      t += ' ';
      append_escaped(t, f->help, false);
      t += "\n# TYPE ";
      t += f->name;
      t += ' ';
      t += type_text(f->type, false);
      t += '\n';
      t += f->body;

      std::string& o = scrape->openmetrics;
      o += "# HELP ";
      o += f->base;
      o += ' ';
      append_escaped(o, f->help, true);
      o += "\n# TYPE ";
      o += f->base;
      o += ' ';
      o += type_text(f->type, true);
      o += '\n';
      if (f->unit != Unit::none) {
        o += "# UNIT ";
        o += f->base;
        o += ' ';
        o += unit_text(f->unit);
        o += '\n';
      }
      o += f->body;
    }
    scrape->openmetrics += "# EOF\n";
    scrape->series = series_ + self.count;
    scrape->skipped = duplicates_ + over_limit_ + type_conflicts_;
    return scrape;
  }

 private:
  Family& add_family(const FamilySpec& spec) {
    Family& f = families_.emplace_back();
    f.name = spec.name;
    f.base = spec.base;
    f.help = spec.help;
    f.type = spec.type;
    f.unit = spec.unit;
    const std::size_t i = families_.size() - 1;
    index_.emplace(f.base, i);
    if (f.name != f.base) index_.emplace(f.name, i);
    return f;
  }

  std::deque<Family> families_;                              // stable addresses: index_ points into them
  std::unordered_map<std::string_view, std::size_t> index_;  // base and sample name -> family
  std::size_t cap_;
  std::size_t series_ = 0;
  std::size_t duplicates_ = 0, over_limit_ = 0, type_conflicts_ = 0;
  std::string labels_buf_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

std::shared_ptr<const Scrape> render(const netmon::Batch& batch, const RenderOptions& opts) {
  Renderer r(opts.max_series);
  Mapper m;
  for (const auto& s : batch.samples) m.map(s, r);
  return r.finish();
}

bool wants_openmetrics(std::string_view accept) {
  double q_om = 0, q_text = 0;
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);

    const std::size_t semi = range.find(';');
    const std::string_view type = trim(range.substr(0, semi));
    std::string_view params = semi == std::string_view::npos ? std::string_view() : range.substr(semi + 1);
    double q = 1;
    bool version_ok = true;
    while (!params.empty()) {
      const std::size_t next = params.find(';');
      const std::string_view p = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const std::size_t eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = trim(p.substr(0, eq));
      std::string_view value = trim(p.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (iequals(key, "q")) {
        double v = 1;
        const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
        if (r.ec == std::errc() && r.ptr == value.data() + value.size()) q = std::clamp(v, 0.0, 1.0);
      } else if (iequals(key, "version")) {
        version_ok = value == "1.0.0" || value == "0.0.1";
      }
    }
    if (iequals(type, "application/openmetrics-text")) {
      if (version_ok) q_om = std::max(q_om, q);
    } else if (iequals(type, "text/plain") || iequals(type, "text/*") || type == "*/*") {
      q_text = std::max(q_text, q);
    }
  }
  return q_om > 0 && q_om >= q_text;
}

}  // namespace netmon::prometheus
