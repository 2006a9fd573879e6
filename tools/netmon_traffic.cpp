// SPDX-License-Identifier: MIT
// netmon-traffic: sends an exact number of UDP datagrams, for netmon's tests
// and demo. Run it inside a network namespace the caller created; it sends
// only to the address it is given.
//
//   netmon-traffic --dst 10.199.0.1 --port 9000 --count 10000 --size 64 [--flows 3] [--rate 5000]
//   netmon-traffic --dst 10.199.0.1 --port 53 --count 100 --dns netmon.test   (real DNS queries, type A)
//
// With --flows K, datagrams go round-robin from K source ports (base
// --sport, default 40000), making K distinct flows; with --dports N as well,
// each source port also cycles through N destination ports (--port, --port+1,
// ...): K x N flows, the datagram i going from port i mod K to port
// (i / K) mod N. Prints one JSON line with what was sent. Exit 1 if any
// datagram could not be sent.
//
// TCP, a real connection both ways:
//   netmon-traffic --tcp-server --dst 10.199.0.1 --port 9100 [--connections 1]
//       listens on dst:port, echoes every byte back, exits after N connections
//   netmon-traffic --tcp --dst 10.199.0.1 --port 9100 --count 500
//       connects, then `count` times sends one byte and waits for its echo
#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "netmon-traffic: %s: %s\n", what, std::strerror(errno));
  return 1;
}

bool read_exact(int fd, char* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

int tcp_client(const sockaddr_storage& to, socklen_t to_len, int family, std::uint64_t exchanges, double rate) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), to_len) != 0) return fail("connect");
  char c = 'n';
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < exchanges; ++i) {
    if (rate > 0)
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                std::chrono::duration<double>(static_cast<double>(i) / rate)));
    if (::send(fd, &c, 1, 0) != 1) return fail("send");
    if (!read_exact(fd, &c, 1)) return fail("recv (echo)");
  }
  ::shutdown(fd, SHUT_WR);
  while (::recv(fd, &c, 1, 0) > 0) {
  }
  ::close(fd);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"tcp_exchanges\":%llu,\"seconds\":%.3f}\n", static_cast<unsigned long long>(exchanges), secs);
  return 0;
}

int tcp_server(const sockaddr_storage& at, socklen_t at_len, int family, int connections) {
  const int lfd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) return fail("socket");
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(lfd, reinterpret_cast<const sockaddr*>(&at), at_len) != 0) return fail("bind");
  if (::listen(lfd, 16) != 0) return fail("listen");
  std::printf("{\"listening\":true}\n");
  std::fflush(stdout);
  for (int n = 0; n < connections; ++n) {
    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return fail("accept");
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buf[4096];
    for (;;) {
      const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      if (::send(fd, buf, static_cast<std::size_t>(r), 0) != r) break;
    }
    ::close(fd);
  }
  ::close(lfd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dst;
  int port = 9000;
  std::uint64_t count = 1000;
  std::size_t size = 64;
  int flows = 1;
  int dports = 1;
  int sport = 40000;
  double rate = 0;
  double seconds = 0;
  std::string dns_name;
  bool tcp = false;
  bool tcp_server_mode = false;
  int connections = 1;
  CLI::App app{"Send an exact number of UDP datagrams (netmon tests and demo)", "netmon-traffic"};
  app.add_option("--dst", dst, "Destination IPv4 or IPv6 address")->required();
  app.add_option("--port", port, "Destination UDP port (the first, with --dports)")->check(CLI::Range(1, 65535));
  app.add_option("--count", count, "Datagrams to send in all");
  app.add_option("--size", size, "UDP payload bytes")->check(CLI::Range(0, 8192));
  app.add_option("--flows", flows, "Distinct source ports to cycle through")->check(CLI::Range(1, 1000));
  app.add_option("--dports", dports, "Distinct destination ports to cycle through (from --port)")
      ->check(CLI::Range(1, 20000));
  app.add_option("--sport", sport, "First source port")->check(CLI::Range(1024, 64000));
  app.add_option("--rate", rate, "Datagrams per second (0: as fast as possible)")->check(CLI::NonNegativeNumber);
  app.add_option("--seconds", seconds, "Stop after this long, even before --count (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--dns", dns_name, "Send DNS queries (type A, class IN) for this name instead of --size bytes");
  app.add_flag("--tcp", tcp, "TCP client: --count one-byte exchanges with an echo server (at --rate per second)");
  app.add_flag("--tcp-server", tcp_server_mode, "TCP echo server on --dst:--port");
  app.add_option("--connections", connections, "With --tcp-server: connections to serve before exiting")
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  if (port + dports - 1 > 65535) {
    std::fprintf(stderr, "netmon-traffic: --port %d with --dports %d goes past port 65535; lower one of them\n", port,
                 dports);
    return 2;
  }

  sockaddr_storage to{};
  socklen_t to_len = 0;
  int family = AF_INET;
  if (auto* in4 = reinterpret_cast<sockaddr_in*>(&to); inet_pton(AF_INET, dst.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<std::uint16_t>(port));
    to_len = sizeof(sockaddr_in);
  } else if (auto* in6 = reinterpret_cast<sockaddr_in6*>(&to); inet_pton(AF_INET6, dst.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    to_len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    std::fprintf(stderr, "netmon-traffic: '%s' is not an IP address\n", dst.c_str());
    return 2;
  }

  if (tcp_server_mode) return tcp_server(to, to_len, family, connections);
  if (tcp) return tcp_client(to, to_len, family, count, rate);

  std::vector<int> socks;
  for (int f = 0; f < flows; ++f) {
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      std::perror("netmon-traffic: socket");
      return 1;
    }
    int buf = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    sockaddr_storage from{};
    socklen_t from_len;
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&from);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<std::uint16_t>(sport + f));
      from_len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&from);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<std::uint16_t>(sport + f));
      from_len = sizeof *a;
    }
    // Unconnected on purpose: an ICMP port-unreachable reply then never turns
    // into an error on a later send, so every send is exactly one datagram.
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), from_len) != 0) {
      std::fprintf(stderr, "netmon-traffic: cannot bind port %d: %s\n", sport + f, std::strerror(errno));
      return 1;
    }
    socks.push_back(fd);
  }

  std::vector<char> payload(size, 'n');
  if (!dns_name.empty()) {
    // Header: id 0x4e4d, flags 0x0100 (a standard query, recursion desired), one question.
    payload = {0x4e, 0x4d, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    std::size_t start = 0;
    while (start <= dns_name.size()) {
      const std::size_t dot = std::min(dns_name.find('.', start), dns_name.size());
      const std::size_t len = dot - start;
      if (len == 0 || len > 63) {
        std::fprintf(stderr, "netmon-traffic: '%s' is not a DNS name\n", dns_name.c_str());
        return 2;
      }
      payload.push_back(static_cast<char>(len));
      payload.insert(payload.end(), dns_name.begin() + static_cast<long>(start),
                     dns_name.begin() + static_cast<long>(dot));
      start = dot + 1;
    }
    for (char c : {'\0', '\0', '\1', '\0', '\1'}) payload.push_back(c);  // root, QTYPE A, QCLASS IN
  }
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = 0;
  const auto stop_at = seconds > 0 ? start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                 std::chrono::duration<double>(seconds))
                                   : std::chrono::steady_clock::time_point::max();
  while (sent < count) {
    if (rate > 0) {
      // Paced: the next datagram is due at a known time; none is sent past --seconds.
      const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(sent) / rate));
      if (due >= stop_at) break;
      std::this_thread::sleep_until(due);
    } else if ((sent & 63) == 0 && std::chrono::steady_clock::now() >= stop_at) {
      break;  // as fast as possible: the clock read every 64 datagrams, a few microseconds apart
    }
    const int fd = socks[sent % socks.size()];
    if (dports > 1) {
      const auto p = static_cast<std::uint16_t>(
          port + static_cast<int>((sent / socks.size()) % static_cast<std::uint64_t>(dports)));
      if (family == AF_INET) reinterpret_cast<sockaddr_in*>(&to)->sin_port = htons(p);
      else reinterpret_cast<sockaddr_in6*>(&to)->sin6_port = htons(p);
    }
    const ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), to_len);
    if (n < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;  // retry the same datagram: the count stays exact
      }
      std::fprintf(stderr, "netmon-traffic: send: %s\n", std::strerror(errno));
      return 1;
    }
    ++sent;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size = payload.size();
  std::printf("{\"sent\":%llu,\"payload_bytes\":%zu,\"flows\":%d,\"seconds\":%.3f,\"pps\":%.0f}\n",
              static_cast<unsigned long long>(sent), size, flows, secs,
              secs > 0 ? static_cast<double>(sent) / secs : 0.0);
  for (int fd : socks) ::close(fd);
  return 0;
}
