// SPDX-License-Identifier: MIT
#include <netmon/units.hpp>

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace netmon {

namespace {
// Scales v to [1, 1000) with an SI prefix; one decimal above the base unit.
std::string scaled(double v, const char* const* prefixes, std::size_t n, const char* sep) {
  std::size_t i = 0;
  // Round as it will be printed (no decimals in the base unit, one above), so
  // 999.7 becomes "1.0K", never "1000".
  while (i + 1 < n && (i == 0 ? std::round(v) : std::round(v * 10) / 10) >= 1000.0) {
    v /= 1000.0;
    ++i;
  }
  if (i == 0) return fmt::format("{:.0f}{}{}", v, sep, prefixes[0]);
  return fmt::format("{:.1f}{}{}", v, sep, prefixes[i]);
}
}  // namespace

std::string human_count(std::uint64_t n) {
  static constexpr std::array<const char*, 7> p{"", "K", "M", "G", "T", "P", "E"};
  return scaled(static_cast<double>(n), p.data(), p.size(), "");
}

std::string human_bytes(std::uint64_t n) {
  static constexpr std::array<const char*, 7> p{"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  return scaled(static_cast<double>(n), p.data(), p.size(), " ");
}

std::string human_rate(double per_sec) {
  if (!(per_sec > 0)) return "0";
  if (per_sec < 10) return fmt::format("{:.1f}", per_sec);
  static constexpr std::array<const char*, 7> p{"", "K", "M", "G", "T", "P", "E"};
  return scaled(per_sec, p.data(), p.size(), "");
}

std::string human_byte_rate(double bytes_per_sec) {
  if (!(bytes_per_sec > 0)) return "0 B/s";
  static constexpr std::array<const char*, 7> p{"B/s", "KB/s", "MB/s", "GB/s", "TB/s", "PB/s", "EB/s"};
  return scaled(bytes_per_sec, p.data(), p.size(), " ");
}

}  // namespace netmon
