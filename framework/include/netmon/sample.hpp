// SPDX-License-Identifier: MIT
// netmon::Sample: a measurement name, a timestamp, tags (identity) and typed
// fields (values), the C++ form of netmon_sample (plugin_abi.h).
//
// Header-only and part of the SDK. The conversions to and from the C ABI live
// here too, so the host and the SDK convert in exactly one way.
#pragma once

#include <netmon/plugin_abi.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace netmon {

// A monotonic counter (NETMON_FIELD_COUNTER): the host derives `<key>_per_sec`.
struct Counter {
  std::uint64_t value = 0;
  friend bool operator==(const Counter&, const Counter&) = default;
};

// A field's value. The alternatives' order is not the C ABI's
// netmon_field_type numbering: field_type() (below) maps one to the other.
using FieldValue = std::variant<Counter, std::uint64_t, std::int64_t, double, bool, std::string>;

struct Field {
  std::string key;
  FieldValue value;
  friend bool operator==(const Field&, const Field&) = default;
};

struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};

// What a sample is to the host's queues (netmon_sample_kind, ABI 1.2). A
// snapshot (the default) is superseded by a newer one and may be dropped for
// a sink that falls behind; an event happened once and is delivered to every
// sink exactly once, up to NETMON_EVENT_QUEUE_BOUND events queued per sink.
enum class SampleKind : std::uint32_t {
  snapshot = NETMON_SAMPLE_SNAPSHOT,
  event = NETMON_SAMPLE_EVENT,
};

struct Sample {
  std::string measurement;
  std::int64_t timestamp_ns = 0;  // Unix ns; 0 = the interval's time
  std::vector<Tag> tags;
  std::vector<Field> fields;
  SampleKind kind = SampleKind::snapshot;

  Sample() = default;
  explicit Sample(std::string name) : measurement(std::move(name)) {}

  // Builder style: Sample("xdp_stats").tag("ifname", "eth0").counter("packets", n)
  Sample& tag(std::string key, std::string value) {
    tags.push_back({std::move(key), std::move(value)});
    return *this;
  }
  Sample& counter(std::string key, std::uint64_t v) { return add(std::move(key), Counter{v}); }
  Sample& gauge(std::string key, std::uint64_t v) { return add(std::move(key), v); }
  Sample& gauge_i(std::string key, std::int64_t v) { return add(std::move(key), v); }
  Sample& gauge_f(std::string key, double v) { return add(std::move(key), v); }
  Sample& flag(std::string key, bool v) { return add(std::move(key), v); }
  Sample& text(std::string key, std::string v) { return add(std::move(key), std::move(v)); }
  Sample& add(std::string key, FieldValue v) {
    fields.push_back({std::move(key), std::move(v)});
    return *this;
  }
  // Marks the sample as an event: Sample("flow_top_end").event().tag(...)
  Sample& event() {
    kind = SampleKind::event;
    return *this;
  }
  [[nodiscard]] bool is_event() const { return kind == SampleKind::event; }

  [[nodiscard]] const std::string* tag_value(std::string_view key) const {
    for (const auto& t : tags)
      if (t.key == key) return &t.value;
    return nullptr;
  }
  [[nodiscard]] const FieldValue* field(std::string_view key) const {
    for (const auto& f : fields)
      if (f.key == key) return &f.value;
    return nullptr;
  }
  // Integer value of a counter or unsigned gauge field, if present.
  [[nodiscard]] std::optional<std::uint64_t> u64(std::string_view key) const {
    const FieldValue* v = field(key);
    if (!v) return std::nullopt;
    if (const auto* c = std::get_if<Counter>(v)) return c->value;
    if (const auto* u = std::get_if<std::uint64_t>(v)) return *u;
    return std::nullopt;
  }
  [[nodiscard]] std::optional<double> number(std::string_view key) const {
    const FieldValue* v = field(key);
    if (!v) return std::nullopt;
    if (const auto* c = std::get_if<Counter>(v)) return static_cast<double>(c->value);
    if (const auto* u = std::get_if<std::uint64_t>(v)) return static_cast<double>(*u);
    if (const auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(v)) return *d;
    return std::nullopt;
  }

  friend bool operator==(const Sample&, const Sample&) = default;
};

inline netmon_field_type field_type(const FieldValue& v) {
  switch (v.index()) {
    case 0: return NETMON_FIELD_COUNTER;
    case 1: return NETMON_FIELD_U64;
    case 2: return NETMON_FIELD_I64;
    case 3: return NETMON_FIELD_F64;
    case 4: return NETMON_FIELD_BOOL;
    default: return NETMON_FIELD_STRING;
  }
}

// A field's value as text: integers in full, doubles in their shortest exact
// form, booleans as true/false, strings as they are.
inline std::string field_text(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Counter>) return std::to_string(x.value);
        else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, double>) {
          // Plain decimal (400000, 0.25) unless that is too long (1e-300).
          char buf[40];
          auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed);
          if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof buf, x);
          return std::string(buf, r.ptr);
        } else if constexpr (std::is_same_v<T, std::string>) return x;
        else return std::to_string(x);
      },
      v);
}

// ---- conversions to and from the C ABI -------------------------------------

// A C view of a Sample. Points into the Sample: keep the Sample alive and
// unchanged while the view is used.
class SampleView {
 public:
  explicit SampleView(const Sample& s) {
    tags_.reserve(s.tags.size());
    for (const auto& t : s.tags) tags_.push_back({t.key.c_str(), t.value.c_str()});
    fields_.reserve(s.fields.size());
    for (const auto& f : s.fields) {
      netmon_field cf{};
      cf.key = f.key.c_str();
      cf.type = field_type(f.value);
      std::visit(
          [&cf](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, Counter>) cf.value.u64 = v.value;
            else if constexpr (std::is_same_v<T, std::uint64_t>) cf.value.u64 = v;
            else if constexpr (std::is_same_v<T, std::int64_t>) cf.value.i64 = v;
            else if constexpr (std::is_same_v<T, double>) cf.value.f64 = v;
            else if constexpr (std::is_same_v<T, bool>) cf.value.b = v ? 1u : 0u;
            else cf.value.str = v.c_str();
          },
          f.value);
      fields_.push_back(cf);
    }
    c_.struct_size = sizeof(netmon_sample);
    c_.measurement = s.measurement.c_str();
    c_.timestamp_ns = s.timestamp_ns;
    c_.tags = tags_.data();
    c_.n_tags = static_cast<std::uint32_t>(tags_.size());
    c_.fields = fields_.data();
    c_.n_fields = static_cast<std::uint32_t>(fields_.size());
    c_.kind = static_cast<std::uint32_t>(s.kind);
  }
  SampleView(const SampleView&) = delete;
  SampleView& operator=(const SampleView&) = delete;
  SampleView(SampleView&&) = default;

  [[nodiscard]] const netmon_sample* get() const { return &c_; }

 private:
  std::vector<netmon_tag> tags_;
  std::vector<netmon_field> fields_;
  netmon_sample c_{};
};

// Copies a C sample into a Sample. Throws std::invalid_argument naming what is
// wrong when the sample is malformed (NULL names, unknown field type).
inline Sample from_c(const netmon_sample& c) {
  if (!NETMON_HAS_MEMBER(netmon_sample, &c, n_fields))
    throw std::invalid_argument("sample struct_size " + std::to_string(c.struct_size) + " is too small");
  if (!c.measurement || !*c.measurement) throw std::invalid_argument("sample without a measurement name");
  Sample s{c.measurement};
  s.timestamp_ns = c.timestamp_ns;
  // An ABI 1.0 or 1.1 sample has no kind: a snapshot, as it always was.
  if (NETMON_HAS_MEMBER(netmon_sample, &c, kind)) {
    if (c.kind != NETMON_SAMPLE_SNAPSHOT && c.kind != NETMON_SAMPLE_EVENT)
      throw std::invalid_argument("sample '" + s.measurement + "' has unknown kind " + std::to_string(c.kind));
    s.kind = static_cast<SampleKind>(c.kind);
  }
  if (c.n_tags && !c.tags) throw std::invalid_argument("sample '" + s.measurement + "': tags array is NULL");
  if (c.n_fields && !c.fields) throw std::invalid_argument("sample '" + s.measurement + "': fields array is NULL");
  s.tags.reserve(c.n_tags);
  for (std::uint32_t i = 0; i < c.n_tags; ++i) {
    if (!c.tags[i].key || !c.tags[i].value)
      throw std::invalid_argument("sample '" + s.measurement + "': tag " + std::to_string(i) +
                                  " has a NULL key or value");
    s.tags.push_back({c.tags[i].key, c.tags[i].value});
  }
  s.fields.reserve(c.n_fields);
  for (std::uint32_t i = 0; i < c.n_fields; ++i) {
    const netmon_field& f = c.fields[i];
    if (!f.key || !*f.key)
      throw std::invalid_argument("sample '" + s.measurement + "': field " + std::to_string(i) + " has no key");
    switch (f.type) {
      case NETMON_FIELD_COUNTER: s.add(f.key, Counter{f.value.u64}); break;
      case NETMON_FIELD_U64: s.add(f.key, f.value.u64); break;
      case NETMON_FIELD_I64: s.add(f.key, f.value.i64); break;
      case NETMON_FIELD_F64: s.add(f.key, f.value.f64); break;
      case NETMON_FIELD_BOOL: s.add(f.key, f.value.b != 0); break;
      case NETMON_FIELD_STRING:
        if (!f.value.str)
          throw std::invalid_argument("sample '" + s.measurement + "': string field '" + f.key + "' is NULL");
        s.add(f.key, std::string(f.value.str));
        break;
      default:
        throw std::invalid_argument("sample '" + s.measurement + "': field '" + f.key + "' has unknown type " +
                                    std::to_string(f.type));
    }
  }
  return s;
}

}  // namespace netmon

namespace netmon {

// All samples of one interval, from every plugin, in plugin order.
struct Batch {
  std::int64_t timestamp_ns = 0;
  std::uint64_t interval_ns = 0;
  std::uint64_t sequence = 0;
  std::vector<Sample> samples;
};

}  // namespace netmon
