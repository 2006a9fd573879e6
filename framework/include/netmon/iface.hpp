// SPDX-License-Identifier: MIT
// Network interface lookup: names, indexes, the default route's interface,
// and the driver behind an interface.
#pragma once

#include <netmon/logger.hpp>
#include <netmon/plugin.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// What a plugin holds per interface (a skeleton, its links: a T), in the
// order attached, found by ifindex. Destroying an entry detaches what its T
// holds; entries go newest first. An entry is never moved once made (a T
// whose members must go in the reverse order of their declaration, links
// before the skeleton, is only ever destroyed, never assigned over).
//
//   netmon::PerInterface<Attached> attached_;
//   // start(): every interface, or none if one throws
//   attached_.attach(ctx.interfaces, [&](const netmon::Interface& iface) { return Attached{...}; });
//   // collect(): let the deleted interfaces go, then read the others
//   attached_.drop_vanished(log_);
//   for (const auto& [iface, a] : attached_) ...
template <class T>
class PerInterface {
 public:
  struct Entry {
    Interface iface;
    T value;
  };

  PerInterface() = default;
  PerInterface(PerInterface&&) noexcept = default;
  PerInterface& operator=(PerInterface&& o) noexcept {
    if (this != &o) {
      clear();
      entries_ = std::move(o.entries_);
    }
    return *this;
  }
  ~PerInterface() { clear(); }

  // For every interface of `ifaces` not held yet, in order: make(iface)
  // returns its T. If make throws, the entries this call added are dropped
  // again and the exception propagates: all of them or none. Returns how
  // many were added.
  template <class Make>
  std::size_t attach(const std::vector<Interface>& ifaces, Make&& make) {
    const std::size_t before = entries_.size();
    try {
      for (const auto& iface : ifaces)
        if (!contains(iface.ifindex)) entries_.push_back(Entry{iface, make(iface)});
    } catch (...) {
      while (entries_.size() > before) entries_.pop_back();
      throw;
    }
    return entries_.size() - before;
  }

  // Drops the entries of the interfaces that are gone, with one warning each:
  // "<name> (ifindex N) is gone: no longer monitored". Returns how many.
  std::size_t drop_vanished(const Logger& log) {
    const std::size_t before = entries_.size();
    const auto iface_of = [](const Entry& e) -> const Interface& { return e.iface; };
    netmon::drop_vanished(entries_, iface_of, log);
    return before - entries_.size();
  }

  // Drops every entry, newest first.
  void clear() noexcept {
    while (!entries_.empty()) entries_.pop_back();
  }

  [[nodiscard]] T* find(std::uint32_t ifindex) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [ifindex](const Entry& e) { return e.iface.ifindex == ifindex; });
    return it == entries_.end() ? nullptr : &it->value;
  }
  [[nodiscard]] const T* find(std::uint32_t ifindex) const { return const_cast<PerInterface*>(this)->find(ifindex); }
  [[nodiscard]] bool contains(std::uint32_t ifindex) const { return find(ifindex) != nullptr; }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] bool empty() const { return entries_.empty(); }
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  std::list<Entry> entries_;
};

}  // namespace netmon
