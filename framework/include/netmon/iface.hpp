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

// True while the interface of this index exists. A renamed interface is
// still there (its programs too); a deleted one is gone, with its programs,
// and one made again gets a new index.
bool interface_present(std::uint32_t ifindex);

// Removes from `items` the ones whose interface is gone, logging each once
// ("<name> is gone: no longer monitored"); iface_of(item) gives its
// netmon::Interface. Destroying an item detaches what it held.
template <class Items, class IfaceOf, class Log>
void drop_vanished(Items& items, IfaceOf&& iface_of, const Log& log) {
  std::uint32_t logged = 0;  // several items of one interface: one line
  for (auto it = items.begin(); it != items.end();) {
    const auto iface = iface_of(*it);
    if (interface_present(iface.ifindex)) {
      ++it;
      continue;
    }
    if (iface.ifindex != logged)
      log.warn(iface.name + " (ifindex " + std::to_string(iface.ifindex) + ") is gone: no longer monitored");
    logged = iface.ifindex;
    it = items.erase(it);
  }
}

}  // namespace netmon
