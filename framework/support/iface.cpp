// SPDX-License-Identifier: MIT
#include <netmon/error.hpp>
#include <netmon/iface.hpp>

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace netmon {

std::uint32_t ifindex_of(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find_first_of("/ \t\n:") != std::string::npos)
    throw Error("'" + name + "' is not a valid interface name (at most " + std::to_string(IFNAMSIZ - 1) +
                " characters, no '/', ':' or spaces)");
  const unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0)
    throw Error("interface '" + name + "' does not exist (ip -br link lists the interfaces; choose one with --iface)");
  return idx;
}

std::string ifname_of(std::uint32_t ifindex) {
  char buf[IF_NAMESIZE] = {};
  if (if_indextoname(ifindex, buf)) return buf;
  return "if" + std::to_string(ifindex);
}

std::optional<std::string> default_route_interface() {
  std::optional<std::string> best;
  unsigned long best_metric = std::numeric_limits<unsigned long>::max();
  std::ifstream v4("/proc/net/route");
  std::string line;
  std::getline(v4, line);  // header
  while (std::getline(v4, line)) {
    std::istringstream in(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    if (!(in >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    const unsigned long fl = std::stoul(flags, nullptr, 16);
    if (dest != "00000000" || mask != "00000000" || !(fl & 0x1 /* RTF_UP */)) continue;
    const unsigned long m = std::stoul(metric);
    if (m < best_metric) {
      best_metric = m;
      best = iface;
    }
  }
  if (best) return best;
  std::ifstream v6("/proc/net/ipv6_route");
  while (std::getline(v6, line)) {
    std::istringstream in(line);
    std::string dest, dlen, src, slen, next, metric, refcnt, use, flags, iface;
    if (!(in >> dest >> dlen >> src >> slen >> next >> metric >> refcnt >> use >> flags >> iface)) continue;
    if (dest != std::string(32, '0') || dlen != "00" || iface == "lo") continue;
    const unsigned long m = std::stoul(metric, nullptr, 16);
    if (m < best_metric) {
      best_metric = m;
      best = iface;
    }
  }
  return best;
}

bool interface_present(std::uint32_t ifindex) {
  char buf[IF_NAMESIZE] = {};
  return if_indextoname(ifindex, buf) != nullptr;
}

std::string driver_of(const std::string& ifname) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  const int rc = ::ioctl(fd, SIOCETHTOOL, &ifr);
  ::close(fd);
  if (rc != 0) return {};
  return std::string(info.driver, strnlen(info.driver, sizeof info.driver));
}

}  // namespace netmon
