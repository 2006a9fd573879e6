// SPDX-License-Identifier: MIT
// Human units for counts, sizes and rates, as the console shows them:
// "1.2K packets, 85.4 KB". Decimal (SI) prefixes: 1 KB = 1000 bytes.
#pragma once

#include <cstdint>
#include <string>

namespace netmon {

// 999 -> "999", 1234 -> "1.2K", 2'100'000 -> "2.1M"
std::string human_count(std::uint64_t n);
// 512 -> "512 B", 85'400 -> "85.4 KB", 1.5e9 -> "1.5 GB"
std::string human_bytes(std::uint64_t n);
// rates: 1234.5 -> "1.2K", 0.4 -> "0.4"
std::string human_rate(double per_sec);
// bytes per second -> "85.4 KB/s"
std::string human_byte_rate(double bytes_per_sec);

}  // namespace netmon
