// SPDX-License-Identifier: MIT
// The serving half of the prometheus sink: the listen address, basic
// authentication with bcrypt hashes, and the HTTP(S) server that hands out
// the last published scrape.
#pragma once

#include "exposition.hpp"

#include <netmon/logger.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace netmon::prometheus {

inline constexpr const char* kDefaultAddress = "127.0.0.1:9464";

struct ListenAddress {
  std::string host;  // numeric: 127.0.0.1, ::1, 0.0.0.0, ::
  int port = 9464;
  bool ipv6 = false;
  bool loopback = true;
  [[nodiscard]] std::string text() const {  // as given back to the user: 127.0.0.1:9464, [::1]:9464
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

// What follows "prometheus:" in --sink prometheus:ADDR:PORT; nullopt or empty
// gives 127.0.0.1:9464. Accepts IPV4:PORT and [IPV6]:PORT with numeric
// addresses and ports 1 to 65535; throws netmon::Error naming the fix.
ListenAddress parse_listen_address(const std::optional<std::string>& target);

// HTTP basic authentication against bcrypt hashes ($2a$, $2b$, $2y$), the way
// Prometheus' web configuration's basic_auth_users does it.
class BasicAuth {
 public:
  BasicAuth() = default;
  // Throws netmon::Error on a malformed hash, naming the user and the fix.
  explicit BasicAuth(const std::map<std::string, std::string>& users);
  [[nodiscard]] bool enabled() const { return !users_.empty(); }
  // The value of an Authorization header: true if it carries a known user
  // and that user's password.
  [[nodiscard]] bool allows(std::string_view authorization) const;

 private:
  std::map<std::string, std::string> users_;  // user -> bcrypt hash
  std::string slowest_;                       // the hash of the highest cost, for unknown users
};

// True if `hash` is a well-formed bcrypt hash libcrypt can verify against.
bool is_bcrypt_hash(const std::string& hash);
// bcrypt(password) == hash, compared in constant time.
bool bcrypt_matches(const std::string& password, const std::string& hash);
// Base64 (RFC 4648, with padding) decoding; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view in);

struct ServerConfig {
  ListenAddress address;
  std::string tls_cert_file;  // both or neither
  std::string tls_key_file;
  std::map<std::string, std::string> basic_auth_users;
  // Limits (see SERVING.md).
  std::size_t threads = 8;       // connections served at once
  std::size_t max_pending = 32;  // accepted connections waiting for a thread
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t keep_alive_max = 5;  // requests per connection
  // Enforced from outside the library (it has no such limits of its own):
  std::chrono::seconds header_deadline{10};                    // no response byte acknowledged for this long: ended
  std::chrono::seconds max_connection_age{60};                 // ended at that age
  std::uint64_t max_received = 64 * 1024;                      // bytes from one client: ended beyond
  std::size_t payload_max = 4096;                              // request body bytes
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};  // for Retry-After before the first scrape
};

// The HTTP(S) server. Construct and bind on one thread (the host's main
// thread, with privileges: a port in use fails there), then serve from a
// thread of its own; publish() from any thread, never blocking a scrape.
class MetricsServer {
 public:
  // Checks the files and the hashes, binds the socket and starts serving.
  // Throws netmon::Error with one line naming the problem and the fix.
  MetricsServer(const ServerConfig& cfg, Logger log);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Replaces the scrape served, whole.
  void publish(std::shared_ptr<const Scrape> scrape) { current_.store(std::move(scrape)); }
  // The bound port (useful with port 0).
  [[nodiscard]] int port() const { return port_; }
  // Stops listening, ends every connection, joins every thread. Idempotent.
  void stop();
  // How many connections the limits ended so far.
  [[nodiscard]] std::uint64_t connections_ended() const;

 private:
  struct Impl;
  void janitor(const ServerConfig& cfg);
  std::unique_ptr<Impl> impl_;
  std::atomic<std::shared_ptr<const Scrape>> current_;
  int port_ = 0;
};

}  // namespace netmon::prometheus
