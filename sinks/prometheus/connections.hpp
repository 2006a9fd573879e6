// SPDX-License-Identifier: MIT
// The TCP connections this process accepted on a port, seen from outside the
// HTTP library: by their file descriptors and the kernel's TCP_INFO. Lets the
// server end connections the library itself would keep (see SERVING.md).
#pragma once

#include <cstdint>
#include <vector>

namespace netmon::prometheus {

struct Connection {
  int fd = -1;
  std::uint64_t inode = 0;     // identifies the socket across fd reuse
  std::uint64_t received = 0;  // bytes received from the client (TCP_INFO)
  std::uint64_t sent = 0;      // bytes sent to it
};

// Connected (not listening) TCP sockets of this process whose local port is `port`.
std::vector<Connection> connections_on_port(int port);

}  // namespace netmon::prometheus
