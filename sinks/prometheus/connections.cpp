// SPDX-License-Identifier: MIT
// Kept apart from serve.cpp: <linux/tcp.h> (whose tcp_info has the byte
// counts) cannot be included with <netinet/tcp.h>, which httplib.h includes.
#include "connections.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdlib>

namespace netmon::prometheus {

std::vector<Connection> connections_on_port(int port) {
  std::vector<Connection> out;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long n = std::strtol(e->d_name, &end, 10);
    if (!end || *end || n < 0 || n == ::dirfd(d)) continue;
    const int fd = static_cast<int>(n);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int local = -1;
    if (addr.ss_family == AF_INET) local = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) local = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (local != port) continue;
    Connection c;
    c.fd = fd;
    c.inode = st.st_ino;
    tcp_info info{};
    socklen_t ilen = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &ilen) == 0) {
      if (ilen >= offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        c.received = info.tcpi_bytes_received;
      if (ilen >= offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) c.sent = info.tcpi_bytes_acked;
    }
    out.push_back(c);
  }
  ::closedir(d);
  return out;
}

}  // namespace netmon::prometheus
