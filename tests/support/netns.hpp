// SPDX-License-Identifier: MIT
// VethPair: a veth pair with one end in a network namespace the test creates
// and always removes (also stale ones left by a killed test run). Private
// 10.x addresses only; traffic never leaves the pair.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <future>
#include <stdexcept>
#include <string>

namespace netmon::test {

class VethPair {
 public:
  // ipv6: keep IPv6 enabled (with addresses fd00:nm::1/2); otherwise it is
  // disabled on both ends so that only the test's own traffic crosses.
  explicit VethPair(bool ipv6 = false);
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  [[nodiscard]] const std::string& ns() const { return ns_; }
  [[nodiscard]] const std::string& host_if() const { return host_if_; }  // in the test's namespace
  [[nodiscard]] const std::string& peer_if() const { return peer_if_; }  // in ns()
  [[nodiscard]] const std::string& host_ip() const { return host_ip_; }
  [[nodiscard]] const std::string& peer_ip() const { return peer_ip_; }
  [[nodiscard]] const std::string& host_ip6() const { return host_ip6_; }
  [[nodiscard]] const std::string& peer_ip6() const { return peer_ip6_; }

  // "ip netns exec <ns> <command>"
  [[nodiscard]] std::string in_ns(const std::string& command) const;
  // /sys/class/net/<host_if>/statistics/<name>
  [[nodiscard]] std::uint64_t host_stat(const std::string& name) const;
  // Removes the pair and the namespace now (the destructor does it otherwise).
  void remove();
  [[nodiscard]] bool ns_exists() const;

  // Removes namespaces of earlier test runs whose process is gone.
  static void cleanup_stale();

 private:
  std::string ns_, host_if_, peer_if_, host_ip_, peer_ip_, host_ip6_, peer_ip6_;
  bool removed_ = false;
};

// Runs fn on a thread of its own that has entered the network namespace ns
// (/run/netns/ns), and returns what it returns: sockets it opens stay in
// that namespace after the thread is gone.
template <class F>
auto in_netns(const std::string& ns, F fn) {
  return std::async(std::launch::async,
                    [&ns, &fn] {
                      const int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
                      const bool entered = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
                      if (fd >= 0) ::close(fd);
                      if (!entered) throw std::runtime_error("cannot enter network namespace " + ns);
                      return fn();
                    })
      .get();
}

// The cookie of the calling thread's network namespace (SO_NETNS_COOKIE),
// as BPF programs see it (net->net_cookie); in_netns(ns, netns_cookie) for
// another's.
std::uint64_t netns_cookie();

// A TCP (or, with SOCK_DGRAM, UDP) port on 127.0.0.1 that was free a
// moment ago (bound to port 0 and released), for a server a test starts; -1
// if none could be had.
int free_loopback_port(int type = SOCK_STREAM);

}  // namespace netmon::test
