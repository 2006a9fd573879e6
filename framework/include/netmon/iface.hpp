// SPDX-License-Identifier: MIT
// Network interface lookup: names, indexes, the default route's interface,
// and the driver behind an interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace netmon {

// Index of the named interface; throws netmon::Error naming it if it does not
// exist (or the name is not a valid interface name).
std::uint32_t ifindex_of(const std::string& name);
// Name of an interface index, or "if<N>" if it has none (anymore).
std::string ifname_of(std::uint32_t ifindex);
// The interface of the IPv4 (else IPv6) default route with the lowest metric.
std::optional<std::string> default_route_interface();
// The kernel driver's name ("veth", "virtio_net", ...), or "" if unknown.
std::string driver_of(const std::string& ifname);

}  // namespace netmon
