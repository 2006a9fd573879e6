// SPDX-License-Identifier: MIT
// Timestamps as sinks print them.
#pragma once

#include <cstdint>
#include <string>

namespace netmon {

// 2026-11-24T15:51:45.123Z (UTC, milliseconds)
std::string iso8601_utc(std::int64_t unix_ns);
// 15:51:45 in local time
std::string local_hms(std::int64_t unix_ns);

}  // namespace netmon
