// SPDX-License-Identifier: MIT
// The error model, on both sides of the boundary.
//
// C++ code in netmon (host, plugins, sinks) reports failure by throwing
// netmon::Error, whose message is written for the user: it names the object,
// the operation, the reason and, where there is one, the fix:
//   "eth0: cannot attach XDP program: Device or resource busy (program 'foo',
//    id 42, is already attached; detach it with: ip link set dev eth0 xdp off)"
// The SDK catches every exception at the plugin boundary and turns it into a
// NETMON_ERROR status plus that message (last_error()); the host prefixes the
// plugin's name and logs it or exits with it. Nothing else is thrown across.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace netmon {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user's input is wrong: an option (or a sink's target) is refused as
// given. netmon::Options throws it; the SDK turns it into NETMON_USAGE from
// configure() and open(), and netmon-host then exits 2, as for a bad flag.
class UsageError : public Error {
 public:
  using Error::Error;
};

// "<what>: <strerror(err)>" for a positive or negative errno value.
inline std::string errno_message(const std::string& what, int err) {
  if (err < 0) err = -err;
  return what + ": " + std::strerror(err);
}

}  // namespace netmon
