// SPDX-License-Identifier: MIT
// From samples to Prometheus metric families: the rules for the standard
// measurements (docs/SAMPLES.md) and the generic rule for every other
// measurement. README.md in this folder documents both.
#pragma once

#include <netmon/sample.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netmon::prometheus {

enum class MetricType { counter, gauge, info };
enum class Unit { none, bytes, seconds };

// A metric family. `name` is the name on the sample lines (counters end in
// _total, info metrics in _info; the text format's # HELP and # TYPE use it
// too); `base` is the OpenMetrics family name (without _total or _info).
struct FamilySpec {
  std::string_view name;
  std::string_view base;
  MetricType type = MetricType::gauge;
  Unit unit = Unit::none;
  std::string_view help;
};

struct Label {
  std::string_view name;
  std::string_view value;
};

// A number as it came: integers stay exact, doubles as they are.
struct Number {
  enum class Kind { u64, i64, f64 } kind = Kind::u64;
  std::uint64_t u = 0;
  std::int64_t i = 0;
  double d = 0;
  static Number of_u64(std::uint64_t v) { return {Kind::u64, v, 0, 0}; }
  static Number of_i64(std::int64_t v) { return {Kind::i64, 0, v, 0}; }
  static Number of_f64(double v) { return {Kind::f64, 0, 0, v}; }
};

// Receives the series of one sample. `labels` may be reordered by the callee.
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  virtual void series(const FamilySpec& family, std::vector<Label>& labels, Number value) = 0;
};

// Maps one sample to its series (none for measurements that are not
// exported, such as flow_top_end). Strings the specs point to live in the
// mapper until it is destroyed.
class Mapper {
 public:
  void map(const Sample& sample, SeriesSink& out);

 private:
  void map_generic_field(const Sample& s, const Field& f, const std::vector<Label>& labels, SeriesSink& out);
  std::vector<std::string> arena_names_;  // sanitized label names of the current sample
  std::string name_, base_, help_;        // the generic family being built
  std::vector<Label> labels_;
};

// A part of a metric name that follows the netmon_ prefix (a measurement or a
// field name): every character but [a-zA-Z0-9_] replaced by '_' (':' too: it
// is for recording rules). Empty becomes "_".
std::string sanitize_metric_name(std::string_view s);
// [a-zA-Z_][a-zA-Z0-9_]*, no leading "__" (reserved): invalid characters
// become '_', a leading digit gets a '_' before it, leading underscores
// become one.
std::string sanitize_label_name(std::string_view s);

}  // namespace netmon::prometheus
