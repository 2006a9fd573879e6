// SPDX-License-Identifier: MIT
// libFuzzer target for netmon-host's option parsing: config file text, -o
// arguments, durations, --sink values, and options read the way plugins read
// them (netmon::Options). Any input may be refused with netmon::Error; any
// other exception, crash, leak or undefined behaviour is a finding.
//
//   scripts/fuzz.sh 60        # build with clang and run for 60 s
#include <netmon/error.hpp>
#include <netmon/options.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli.hpp"

namespace {

using namespace std::chrono_literals;

constexpr netmon::option::Integer kTop{.key = "top", .min = 1, .max = 1000, .def = 10, .help = "top"};
constexpr netmon::option::Integer kTableSize{
    .key = "table_size", .min = 16, .max = 1 << 24, .def = 65536, .help = "table size"};
constexpr netmon::option::Choice kSort{.key = "sort", .values = "packets|bytes|rate", .def = "packets", .help = "sort"};
constexpr netmon::option::Duration kIdle{.key = "idle_timeout", .min = 10ms, .max = 24h, .def = 30s, .help = "idle"};
constexpr netmon::option::Boolean kFinished{.key = "finished", .def = false, .help = "finished"};
constexpr netmon::option::String kLabel{.key = "label", .help = "label"};
constexpr netmon::option::StringMap kUsers{.key = "users", .help = "users"};
constexpr netmon::OptionList kOptions{kTop, kTableSize, kSort, kIdle, kFinished, kLabel, kUsers};

// Reads an options object as the standard plugins do: by their declarations.
void read_like_a_plugin(const nlohmann::json& object, const std::string& owner) {
  netmon::Options o(object, owner, kOptions);
  (void)o.get(kTop);
  (void)o.get(kTableSize);
  (void)o.get(kSort);
  (void)o.get(kIdle);
  (void)o.get(kFinished);
  (void)o.get(kLabel);
  (void)o.get(kUsers);
  o.finish();
}

template <class F>
void refusable(F&& f) {
  try {
    f();
  } catch (const netmon::Error&) {
    // A clear refusal: the expected answer to bad input.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // The whole input as a config file.
  refusable([&] {
    const auto all = netmon::host::parse_options_text(input, "--config fuzz.json");
    for (const auto& item : all.items()) refusable([&] { read_like_a_plugin(item.value(), item.key()); });
  });

  // Each line as -o NAME.KEY=VALUE, merged in turn, then as a duration and a --sink value.
  nlohmann::json all = nlohmann::json::object();
  std::size_t start = 0;
  while (start <= input.size()) {
    const std::size_t nl = std::min(input.find('\n', start), input.size());
    const std::string line = input.substr(start, nl - start);
    refusable([&] { all = netmon::host::parse_option_arg(all, line); });
    refusable([&] { (void)netmon::host::parse_duration(line, "--interval"); });
    refusable([&] { (void)netmon::host::parse_sink(line); });
    start = nl + 1;
  }
  for (const auto& item : all.items()) refusable([&] { read_like_a_plugin(item.value(), item.key()); });
  return 0;
}
