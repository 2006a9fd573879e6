// SPDX-License-Identifier: MIT
#include "support/netns.hpp"

#include "support/subprocess.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace netmon::test {

namespace {
std::atomic<int> g_counter{0};

void must(const std::string& cmd) {
  if (sh(cmd) != 0) throw std::runtime_error("test setup failed: " + cmd);
}
}  // namespace

void VethPair::cleanup_stale() {
  std::istringstream list(sh_out("ip netns list 2>/dev/null"));
  for (std::string line; std::getline(list, line);) {
    const std::string name = line.substr(0, line.find(' '));
    int pid = 0, k = 0;
    if (std::sscanf(name.c_str(), "nmt-%d-%d", &pid, &k) != 2) continue;
    if (pid == getpid() || ::kill(pid, 0) == 0) continue;
    sh("ip netns del " + name + " 2>/dev/null");
  }
}

VethPair::VethPair(bool ipv6) {
  cleanup_stale();
  const int k = g_counter++;
  const int pid = static_cast<int>(getpid());
  ns_ = fmt::format("nmt-{}-{}", pid, k);
  host_if_ = fmt::format("nmt{}h{}", pid % 100000, k % 100);
  peer_if_ = fmt::format("nmt{}p{}", pid % 100000, k % 100);
  const int a = 200 + (k % 50), b = pid % 250 + 1;
  host_ip_ = fmt::format("10.{}.{}.1", a, b);
  peer_ip_ = fmt::format("10.{}.{}.2", a, b);
  host_ip6_ = fmt::format("fd00:{:x}:{:x}::1", a, b);
  peer_ip6_ = fmt::format("fd00:{:x}:{:x}::2", a, b);
  must("ip netns add " + ns_);
  try {
    must(fmt::format("ip link add {} type veth peer name {} netns {}", host_if_, peer_if_, ns_));
    const std::string v6 = ipv6 ? "0" : "1";
    must(fmt::format("sysctl -qw net.ipv6.conf.{}.disable_ipv6={}", host_if_, v6));
    must(in_ns(fmt::format("sysctl -qw net.ipv6.conf.{}.disable_ipv6={}", peer_if_, v6)));
    must(fmt::format("ip addr add {}/24 dev {}", host_ip_, host_if_));
    must(in_ns(fmt::format("ip addr add {}/24 dev {}", peer_ip_, peer_if_)));
    if (ipv6) {
      must(fmt::format("ip addr add {}/64 dev {} nodad", host_ip6_, host_if_));
      must(in_ns(fmt::format("ip addr add {}/64 dev {} nodad", peer_ip6_, peer_if_)));
    }
    must(fmt::format("ip link set {} up", host_if_));
    must(in_ns(fmt::format("ip link set {} up", peer_if_)));
    must(in_ns("ip link set lo up"));
    // Resolve neighbours once, so the counted traffic carries no ARP surprise.
    must(in_ns(fmt::format("ping -c 1 -W 2 {} >/dev/null", host_ip_)));
  } catch (...) {
    remove();
    throw;
  }
}

VethPair::~VethPair() { remove(); }

void VethPair::remove() {
  if (removed_) return;
  removed_ = true;
  sh("ip link del " + host_if_ + " 2>/dev/null");
  sh("ip netns del " + ns_ + " 2>/dev/null");
}

bool VethPair::ns_exists() const {
  return sh_out("ip netns list").find(ns_ + " ") != std::string::npos || sh_out("ip netns list") == ns_ + "\n" ||
         sh("test -e /run/netns/" + ns_) == 0;
}

std::string VethPair::in_ns(const std::string& command) const { return "ip netns exec " + ns_ + " " + command; }

std::uint64_t VethPair::host_stat(const std::string& name) const {
  std::ifstream in("/sys/class/net/" + host_if_ + "/statistics/" + name);
  std::uint64_t v = 0;
  in >> v;
  return v;
}

int free_loopback_port(int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  return ok ? ntohs(a.sin_port) : -1;
}

std::uint64_t netns_cookie() {
#ifndef SO_NETNS_COOKIE
  constexpr int SO_NETNS_COOKIE = 71;
#endif
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  const bool ok = fd >= 0 && ::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("cannot read the network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14)");
  return cookie;
}

}  // namespace netmon::test
