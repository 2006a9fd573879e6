// SPDX-License-Identifier: MIT
// A plugin's or sink's options (the JSON object configure() and open()
// receive): declared once, read strictly, described from the declaration.
//
// Declare each option once: its key, what it accepts, its default and one
// line of meaning. List the declarations, read each option by its
// declaration, and give the list to the descriptor macro, which makes the
// text --list-plugins shows from it (netmon::options_help):
//
//   constexpr netmon::option::Integer kTop{
//       .key = "top", .min = 1, .max = 1000, .def = 10, .help = "flows published per interval"};
//   constexpr netmon::option::Choice kSort{
//       .key = "sort", .values = "packets|bytes|rate", .def = "packets", .help = "ranking"};
//   constexpr netmon::OptionList kOptions{kTop, kSort};
//
//   void configure(const nlohmann::json& options) override {
//     netmon::Options opts(options, plugin_name(), kOptions);
//     top_ = opts.get(kTop);    // std::int64_t, within [1, 1000]; 10 when absent
//     sort_ = opts.get(kSort);  // std::string, one of the values
//     opts.finish();            // throws on any key not declared, listing the valid ones
//   }
//   NETMON_PLUGIN_WITH_OPTIONS(MyPlugin, "my_plugin", "1.0.0", "What it measures", kOptions)
//
// A declaration that contradicts itself (a default out of its range or not
// among its values, a key given twice, a line break in its help) does not
// compile when the declaration is constexpr.
//
// The readers by key (opts.integer("top", 10, 1, 1000), opts.choice(...))
// remain, for code that declares nothing; the C API uses them.
//
// Every failure throws netmon::UsageError (a netmon::Error) with a message
// that names the option as the user writes it (flow_top.top), what was wrong,
// and what is accepted. As the message names the owner, netmon-host shows it
// without adding "flow_top: " in front (see the message rule in plugin_abi.h).
#pragma once

#include <netmon/duration.hpp>
#include <netmon/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace netmon {

// ---- declarations -----------------------------------------------------------

// One declaration per option. Aggregates: write them with designated
// initializers, in the order of their members (key, what it accepts,
// default, help); key and help are required, the others have the defaults
// shown. help is one line, shown by --list-plugins.
namespace option {

// An integer within [min, max].
struct Integer {
  std::string_view key;
  std::int64_t min = 0;
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  std::int64_t def = 0;
  std::string_view help;
};

// One of the words of values, written "a|b|c".
struct Choice {
  std::string_view key;
  std::string_view values{};
  std::string_view def{};
  std::string_view help;
};

// true or false.
struct Boolean {
  std::string_view key;
  bool def = false;
  std::string_view help;
};

// A duration ("30s", "500ms", "2m", or a number of seconds) within [min, max].
struct Duration {
  std::string_view key;
  std::chrono::nanoseconds min{1};
  std::chrono::nanoseconds max = std::chrono::hours(24 * 365);
  std::chrono::nanoseconds def{1};
  std::string_view help;
};

// Any string. values names what to write (PATH, MEASUREMENT); an empty def
// is shown as "none".
struct String {
  std::string_view key;
  std::string_view values = "TEXT";
  std::string_view def{};
  std::string_view help;
};

// An object whose values are all strings, e.g. {"alice": "$2y$10$..."};
// empty when absent (shown as "none").
struct StringMap {
  std::string_view key;
  std::string_view values = R"({"KEY": "VALUE", ...})";
  std::string_view help;
};

}  // namespace option

enum class OptionType { integer, choice, boolean, duration, string, string_map };

namespace detail {

// Not constexpr on purpose: reached while a declaration is evaluated at
// compile time, it makes the compiler reject the declaration and show this
// call with its reason.
[[noreturn]] inline void bad_option_declaration(const char* why) {
  throw std::logic_error(std::string("bad netmon option declaration: ") + why);
}

constexpr bool one_line(std::string_view s) { return s.find('\n') == std::string_view::npos; }

// Shown in a column of --list-plugins: not empty, one line, no run of spaces.
constexpr bool column_text(std::string_view s) {
  return !s.empty() && one_line(s) && s.find("  ") == std::string_view::npos && s.front() != ' ' && s.back() != ' ';
}

constexpr bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

// Whether word is one of the '|'-separated words of values.
constexpr bool is_choice(std::string_view values, std::string_view word) {
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = values.find('|', start);
    if (values.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start) == word) return true;
    if (bar == std::string_view::npos) return false;
    start = bar + 1;
  }
}

constexpr bool valid_choices(std::string_view values) {
  if (!column_text(values)) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = values.find('|', start);
    const std::string_view word =
        values.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    if (word.empty() || word.find(' ') != std::string_view::npos) return false;
    if (bar == std::string_view::npos) return true;
    start = bar + 1;
  }
}

inline std::vector<std::string> split_choices(std::string_view values) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = values.find('|', start);
    out.emplace_back(values.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (bar == std::string_view::npos) return out;
    start = bar + 1;
  }
}

// "24h", "30m", "30s", "500ms", "250us", "7ns": the largest unit that
// divides d, in a form parse_duration reads back.
inline std::string duration_text(std::chrono::nanoseconds d) {
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {3'600'000'000'000, "h"}, {60'000'000'000, "m"}, {1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  const std::int64_t n = d.count();
  if (n == 0) return "0s";
  for (const auto& u : kUnits)
    if (n % u.ns == 0) return std::to_string(n / u.ns) + u.name;
  return std::to_string(n) + "ns";
}

}  // namespace detail

// Any declaration, as the list holds it and --list-plugins describes it.
struct OptionSpec {
  OptionType type = OptionType::string;
  std::string_view key;
  std::string_view values;  // choice: "a|b|c"; string, string_map: what to write
  std::int64_t min = 0;     // integer; duration in ns
  std::int64_t max = 0;
  std::int64_t def = 0;       // integer; duration in ns; boolean 0 or 1
  std::string_view def_text;  // choice, string
  std::string_view help;

  constexpr OptionSpec() = default;
  constexpr OptionSpec(const option::Integer& o)  // NOLINT: converts implicitly, for OptionList
      : type(OptionType::integer), key(o.key), min(o.min), max(o.max), def(o.def), help(o.help) {
    if (o.min > o.max) detail::bad_option_declaration("an integer's min is above its max");
    if (o.def < o.min || o.def > o.max) detail::bad_option_declaration("an integer's default is out of its range");
    check_common();
  }
  constexpr OptionSpec(const option::Choice& o)  // NOLINT
      : type(OptionType::choice), key(o.key), values(o.values), def_text(o.def), help(o.help) {
    if (!detail::valid_choices(o.values))
      detail::bad_option_declaration("a choice's values must be words separated by '|', as \"a|b|c\"");
    if (!detail::is_choice(o.values, o.def))
      detail::bad_option_declaration("a choice's default is not one of its values");
    check_common();
  }
  constexpr OptionSpec(const option::Boolean& o)  // NOLINT
      : type(OptionType::boolean), key(o.key), def(o.def ? 1 : 0), help(o.help) {
    check_common();
  }
  constexpr OptionSpec(const option::Duration& o)  // NOLINT
      : type(OptionType::duration),
        key(o.key),
        min(o.min.count()),
        max(o.max.count()),
        def(o.def.count()),
        help(o.help) {
    if (o.min.count() <= 0) detail::bad_option_declaration("a duration's min must be above zero");
    if (o.min > o.max) detail::bad_option_declaration("a duration's min is above its max");
    if (o.def < o.min || o.def > o.max) detail::bad_option_declaration("a duration's default is out of its range");
    check_common();
  }
  constexpr OptionSpec(const option::String& o)  // NOLINT
      : type(OptionType::string), key(o.key), values(o.values), def_text(o.def), help(o.help) {
    if (!detail::column_text(o.values)) detail::bad_option_declaration("a string's values text must be one short line");
    if (!detail::one_line(o.def) || o.def == "none")
      detail::bad_option_declaration("a string's default must be one line, and not \"none\" (shown for an empty one)");
    check_common();
  }
  constexpr OptionSpec(const option::StringMap& o)  // NOLINT
      : type(OptionType::string_map), key(o.key), values(o.values), help(o.help) {
    if (!detail::column_text(o.values))
      detail::bad_option_declaration("a string map's values text must be one short line");
    check_common();
  }

 private:
  constexpr void check_common() const {
    if (!detail::valid_key(key)) detail::bad_option_declaration("a key must be letters, digits, '_' or '-'");
    if (help.empty() || !detail::one_line(help)) detail::bad_option_declaration("the help must be one line of text");
  }
};

// The declarations of one plugin or sink, in the order --list-plugins shows
// them and "valid:" lists them. Made at compile time when constexpr.
template <std::size_t N>
class OptionList {
 public:
  template <class... O>
  constexpr OptionList(const O&... options) : specs_{OptionSpec(options)...} {  // NOLINT
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = i + 1; j < N; ++j)
        if (specs_[i].key == specs_[j].key) detail::bad_option_declaration("a key is declared twice");
  }
  constexpr operator std::span<const OptionSpec>() const { return {specs_.data(), N}; }  // NOLINT
  [[nodiscard]] constexpr std::span<const OptionSpec> specs() const { return {specs_.data(), N}; }

 private:
  std::array<OptionSpec, N> specs_;
};
template <class... O>
OptionList(const O&...) -> OptionList<sizeof...(O)>;

// ---- descriptions -------------------------------------------------------------

// What an option accepts, as --list-plugins shows it: "1..1000",
// "packets|bytes|rate", "true|false", "10ms..24h", or the declared text
// (PATH) of a string.
inline std::string option_values_text(const OptionSpec& o) {
  switch (o.type) {
    case OptionType::integer:
      if (o.max == std::numeric_limits<std::int64_t>::max()) return std::to_string(o.min) + " or more";
      return std::to_string(o.min) + ".." + std::to_string(o.max);
    case OptionType::boolean: return "true|false";
    case OptionType::duration:
      return detail::duration_text(std::chrono::nanoseconds(o.min)) + ".." +
             detail::duration_text(std::chrono::nanoseconds(o.max));
    case OptionType::choice:
    case OptionType::string:
    case OptionType::string_map: break;
  }
  return std::string(o.values);
}

// Its default as the user would write it ("10", "packets", "false", "30s"),
// or "none" for an empty string or string map.
inline std::string option_default_text(const OptionSpec& o) {
  switch (o.type) {
    case OptionType::integer: return std::to_string(o.def);
    case OptionType::boolean: return o.def ? "true" : "false";
    case OptionType::duration: return detail::duration_text(std::chrono::nanoseconds(o.def));
    case OptionType::choice: return std::string(o.def_text);
    case OptionType::string: return o.def_text.empty() ? "none" : std::string(o.def_text);
    case OptionType::string_map: break;
  }
  return "none";
}

// The text --list-plugins shows for these options (the descriptor's
// options_help): a header line, then one line per option, in columns
// separated by at least two spaces:
//
//   option  values              default  meaning
//   top     1..1000             10       flows published per interval
//   sort    packets|bytes|rate  packets  ranking
//
// "" when there are none.
inline std::string options_help(std::span<const OptionSpec> options) {
  if (options.empty()) return "";
  struct Row {
    std::string key, values, def, help;
  };
  std::vector<Row> rows{{"option", "values", "default", "meaning"}};
  for (const auto& o : options)
    rows.push_back({std::string(o.key), option_values_text(o), option_default_text(o), std::string(o.help)});
  std::size_t w_key = 0, w_values = 0, w_def = 0;
  for (const auto& r : rows) {
    w_key = std::max(w_key, r.key.size());
    w_values = std::max(w_values, r.values.size());
    w_def = std::max(w_def, r.def.size());
  }
  const auto pad = [](const std::string& s, std::size_t width) { return s + std::string(width - s.size() + 2, ' '); };
  std::string out;
  for (const auto& r : rows) {
    if (!out.empty()) out += '\n';
    out += pad(r.key, w_key) + pad(r.values, w_values) + pad(r.def, w_def) + r.help;
  }
  return out;
}

// ---- reading ------------------------------------------------------------------

class Options {
 public:
  Options(const nlohmann::json& object, std::string owner) : json_(object), owner_(std::move(owner)) {
    if (!json_.is_object()) throw UsageError("options of " + owner_ + " must be a JSON object, got " + type_of(json_));
  }

  // With the declarations: get() reads declared options only (another is a
  // bug in the plugin: std::logic_error), and finish() names the declared
  // keys as the valid ones.
  Options(const nlohmann::json& object, std::string owner, std::span<const OptionSpec> declared)
      : Options(object, std::move(owner)) {
    declared_.assign(declared.begin(), declared.end());
    has_declared_ = true;
  }

  // ---- by declaration ----

  std::int64_t get(const option::Integer& o) {
    return get(o, [](std::int64_t) {});
  }

  // check(n) runs on an integer the user gave before the range is checked:
  // it may throw netmon::UsageError with a message more telling than "out
  // of range", or refuse a value that another option rules out.
  template <class Check>
  std::int64_t get(const option::Integer& o, Check&& check) {
    return integer_checked(declared(o.key), o.def, o.min, o.max, check);
  }

  std::string get(const option::Choice& o) {
    const std::vector<std::string> words = detail::split_choices(o.values);
    std::vector<const char*> allowed;
    for (const auto& w : words) allowed.push_back(w.c_str());
    return choice(declared(o.key), allowed.data(), allowed.size(), std::string(o.def));
  }

  bool get(const option::Boolean& o) { return boolean(declared(o.key), o.def); }

  std::chrono::nanoseconds get(const option::Duration& o) { return duration(declared(o.key), o.def, o.min, o.max); }

  std::string get(const option::String& o) { return string(declared(o.key), std::string(o.def)); }

  std::map<std::string, std::string> get(const option::StringMap& o) { return string_map(declared(o.key)); }

  // ---- by key ----

  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
    return integer_checked(key, def, min, max, [](std::int64_t) {});
  }

  // A duration: "30s", "500ms", "2m", or a number of seconds; within [min, max].
  std::chrono::nanoseconds duration(const std::string& key, std::chrono::nanoseconds def, std::chrono::nanoseconds min,
                                    std::chrono::nanoseconds max) {
    const nlohmann::json* v = take(key);
    if (!v) return def;
    std::chrono::nanoseconds d{};
    if (v->is_string()) {
      try {
        d = parse_duration(v->get<std::string>(), "option " + owner_ + "." + key);
      } catch (const UsageError&) {
        throw;
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
    } else if (v->is_number() && v->get<double>() > 0 && v->get<double>() < 1e9) {
      d = std::chrono::nanoseconds(static_cast<std::int64_t>(v->get<double>() * 1e9));
    } else {
      throw UsageError(name(key) + ": expected a duration such as 30s or 500ms, got " + describe(*v));
    }
    if (d < min || d > max)
      throw UsageError(name(key) + ": " + v->dump() + " is out of range (" + detail::duration_text(min) + " to " +
                       detail::duration_text(max) + ")");
    return d;
  }

  bool boolean(const std::string& key, bool def) {
    const nlohmann::json* v = take(key);
    if (!v) return def;
    if (!v->is_boolean()) throw UsageError(name(key) + ": expected true or false, got " + describe(*v));
    return v->get<bool>();
  }

  std::string string(const std::string& key, const std::string& def) {
    const nlohmann::json* v = take(key);
    if (!v) return def;
    if (!v->is_string()) throw UsageError(name(key) + ": expected a string, got " + describe(*v));
    return v->get<std::string>();
  }

  std::string choice(const std::string& key, std::initializer_list<const char*> allowed, const std::string& def) {
    return choice(key, allowed.begin(), allowed.size(), def);
  }

  // The same over an array of n strings (the C API's form).
  std::string choice(const std::string& key, const char* const* allowed, std::size_t n, const std::string& def) {
    std::string list;
    for (std::size_t i = 0; i < n; ++i) list += (list.empty() ? "" : ", ") + std::string(allowed[i]);
    const nlohmann::json* v = take(key);
    if (!v) return def;
    if (v->is_string()) {
      const auto s = v->get<std::string>();
      for (std::size_t i = 0; i < n; ++i)
        if (s == allowed[i]) return s;
    }
    throw UsageError(name(key) + ": expected one of " + list + ", got " + describe(*v));
  }

  // An object whose values are all strings, e.g. {"alice": "$2y$10$..."}; an
  // empty map when absent.
  std::map<std::string, std::string> string_map(const std::string& key) {
    const nlohmann::json* v = take(key);
    if (!v) return {};
    if (!v->is_object())
      throw UsageError(name(key) + ": expected an object of strings such as {\"name\": \"value\"}, got " +
                       describe(*v));
    std::map<std::string, std::string> out;
    for (const auto& [k, value] : v->items()) {
      if (!value.is_string())
        throw UsageError(name(key) + ": the value of \"" + k + "\" must be a string, got " + describe(value));
      out[k] = value.get<std::string>();
    }
    return out;
  }

  // Throws if the object holds a key that was not read: an unknown option,
  // named with the valid ones (the declared keys, when given; else those read).
  void finish() const {
    for (const auto& [key, value] : json_.items()) {
      if (read_.count(key)) continue;
      std::vector<std::string> keys = known_;
      if (has_declared_) {
        keys.clear();
        for (const auto& d : declared_) keys.emplace_back(d.key);
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
          throw std::logic_error(name(key) + " is declared but was not read (a bug in " + owner_ + ")");
      }
      std::string valid;
      for (const auto& k : keys) valid += (valid.empty() ? "" : ", ") + owner_ + "." + k;
      throw UsageError("unknown option " + owner_ + "." + key +
                       (valid.empty() ? " (it takes no options)" : " (valid: " + valid + ")"));
    }
  }

  // The keys read so far, in order.
  [[nodiscard]] const std::vector<std::string>& keys() const { return known_; }

 private:
  // The key of a declaration read by get(): one of the declared, when given.
  std::string declared(std::string_view key) const {
    if (has_declared_ &&
        std::none_of(declared_.begin(), declared_.end(), [&](const OptionSpec& d) { return d.key == key; }))
      throw std::logic_error("option " + owner_ + "." + std::string(key) +
                             " is read but not in the declarations given to netmon::Options (a bug in " + owner_ + ")");
    return std::string(key);
  }

  template <class Check>
  std::int64_t integer_checked(const std::string& key, std::int64_t def, std::int64_t min, std::int64_t max,
                               Check&& check) {
    const nlohmann::json* v = take(key);
    if (!v) return def;
    std::int64_t n = 0;
    if (v->is_number_unsigned()) {
      const auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        out_of_range(key, v->dump(), min, max);
      n = static_cast<std::int64_t>(u);
    } else if (v->is_number_integer()) {
      n = v->get<std::int64_t>();
    } else {
      throw UsageError(name(key) + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                       ", got " + describe(*v));
    }
    check(n);
    if (n < min || n > max) out_of_range(key, std::to_string(n), min, max);
    return n;
  }

  const nlohmann::json* take(const std::string& key) {
    known_.push_back(key);
    read_.insert(key);
    auto it = json_.find(key);
    if (it == json_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  [[noreturn]] void out_of_range(const std::string& key, const std::string& got, std::int64_t min,
                                 std::int64_t max) const {
    throw UsageError(name(key) + ": " + got + " is out of range (" + std::to_string(min) + " to " +
                     std::to_string(max) + ")");
  }
  [[nodiscard]] std::string name(const std::string& key) const { return "option " + owner_ + "." + key; }
  static std::string type_of(const nlohmann::json& v) { return v.type_name(); }
  static std::string describe(const nlohmann::json& v) {
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return std::string(v.type_name()) + " " + text;
  }

  nlohmann::json json_;  // a copy: an Options may outlive the object it was given
  std::string owner_;
  std::vector<std::string> known_;
  std::set<std::string> read_;
  std::vector<OptionSpec> declared_;
  bool has_declared_ = false;
};

}  // namespace netmon
