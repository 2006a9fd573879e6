// SPDX-License-Identifier: MIT
// netmon::Options: strict, self-describing reading of a plugin's or sink's
// options object (the JSON text configure() receives).
//
//   netmon::Options opts(options, "flow_top");
//   top_  = opts.integer("top", 10, 1, 10000);
//   sort_ = opts.choice("sort", {"packets", "bytes", "rate"}, "packets");
//   opts.finish();  // throws on any key not read above, listing the valid ones
//
// Every failure throws netmon::UsageError (a netmon::Error) with a message
// that names the option as the user writes it (flow_top.top), what was wrong,
// and what is accepted. As the message names the owner, netmon-host shows it
// without adding "flow_top: " in front (see the message rule in plugin_abi.h).
#pragma once

#include <netmon/duration.hpp>
#include <netmon/error.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace netmon {

class Options {
 public:
  Options(const nlohmann::json& object, std::string owner) : json_(object), owner_(std::move(owner)) {
    if (!json_.is_object()) throw UsageError("options of " + owner_ + " must be a JSON object, got " + type_of(json_));
  }

  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
    const nlohmann::json* v = take(key, "an integer from " + std::to_string(min) + " to " + std::to_string(max));
    if (!v) return def;
    std::int64_t n = 0;
    if (v->is_number_unsigned()) {
      const auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) out_of_range(key, v->dump(), min, max);
      n = static_cast<std::int64_t>(u);
    } else if (v->is_number_integer()) {
      n = v->get<std::int64_t>();
    } else {
      throw UsageError(name(key) + ": expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                  ", got " + describe(*v));
    }
    if (n < min || n > max) out_of_range(key, std::to_string(n), min, max);
    return n;
  }

  // A duration: "30s", "500ms", "2m", or a number of seconds; within [min, max].
  std::chrono::nanoseconds duration(const std::string& key, std::chrono::nanoseconds def, std::chrono::nanoseconds min,
                                    std::chrono::nanoseconds max) {
    const nlohmann::json* v = take(key, "a duration");
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
      throw UsageError(name(key) + ": " + v->dump() + " is out of range (" + duration_text(min) + " to " +
                  duration_text(max) + ")");
    return d;
  }

  bool boolean(const std::string& key, bool def) {
    const nlohmann::json* v = take(key, "true or false");
    if (!v) return def;
    if (!v->is_boolean()) throw UsageError(name(key) + ": expected true or false, got " + describe(*v));
    return v->get<bool>();
  }

  std::string string(const std::string& key, const std::string& def) {
    const nlohmann::json* v = take(key, "a string");
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
    const nlohmann::json* v = take(key, "one of " + list);
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
    const nlohmann::json* v = take(key, "an object of strings");
    if (!v) return {};
    if (!v->is_object())
      throw Error(name(key) + ": expected an object of strings such as {\"name\": \"value\"}, got " + describe(*v));
    std::map<std::string, std::string> out;
    for (const auto& [k, value] : v->items()) {
      if (!value.is_string()) throw Error(name(key) + ": the value of \"" + k + "\" must be a string, got " + describe(value));
      out[k] = value.get<std::string>();
    }
    return out;
  }

  // Throws if the object holds a key that was not read.
  void finish() const {
    for (const auto& [key, value] : json_.items()) {
      if (read_.count(key)) continue;
      std::string valid;
      for (const auto& k : known_) valid += (valid.empty() ? "" : ", ") + owner_ + "." + k;
      throw UsageError("unknown option " + owner_ + "." + key + (valid.empty() ? " (it takes no options)" : " (valid: " + valid + ")"));
    }
  }

  // The keys read so far with what each accepts, for --help style listings.
  [[nodiscard]] const std::vector<std::string>& keys() const { return known_; }

 private:
  const nlohmann::json* take(const std::string& key, const std::string&) {
    known_.push_back(key);
    read_.insert(key);
    auto it = json_.find(key);
    if (it == json_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  [[noreturn]] void out_of_range(const std::string& key, const std::string& got, std::int64_t min,
                                 std::int64_t max) const {
    throw UsageError(name(key) + ": " + got + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) +
                ")");
  }
  [[nodiscard]] std::string name(const std::string& key) const { return "option " + owner_ + "." + key; }
  static std::string duration_text(std::chrono::nanoseconds d) {
    const auto n = d.count();
    if (n % 1'000'000'000 == 0) return std::to_string(n / 1'000'000'000) + "s";
    if (n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "ms";
    return std::to_string(n) + "ns";
  }
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
};

}  // namespace netmon
