// SPDX-License-Identifier: MIT
// The exporting process: flow records to IPFIX messages to a collector over
// UDP or TCP, never blocking, with every record either delivered or counted
// as lost (README.md in this folder: "Loss accounting").
#pragma once

#include "encoder.hpp"
#include "record.hpp"

#include <netmon/logger.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace netmon::ipfix {

enum class Transport { udp, tcp };

// --sink ipfix:TARGET: HOST:PORT, or [IPV6]:PORT.
struct Target {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  bool bracketed = false;
  [[nodiscard]] std::string text() const;
};

// Throws netmon::UsageError naming what is wrong and the fix.
Target parse_target(const std::optional<std::string>& target);

struct ExporterConfig {
  Target target;
  Transport transport = Transport::udp;
  std::size_t mtu = 1400;
  std::uint32_t domain = 0;
  std::chrono::nanoseconds template_refresh = std::chrono::seconds(60);   // UDP only
  std::chrono::nanoseconds backoff_min = std::chrono::milliseconds(500);  // TCP reconnection
  std::chrono::nanoseconds backoff_max = std::chrono::seconds(10);
  std::size_t max_queued_bytes = 4u << 20;  // TCP: bytes waiting for the socket; more are lost
};

// Why records were lost.
enum class Loss : std::uint8_t {
  refused,       // UDP: the collector's host answered ICMP unreachable
  send_failed,   // a send failed (full socket buffer, no route, ...)
  disconnected,  // TCP: made while there was no connection
  unacked,       // TCP: not acknowledged by the collector's TCP when the connection broke or at exit
  queue_full,    // TCP: more than max_queued_bytes waiting for the socket
};
inline constexpr std::size_t kLossKinds = 5;

struct ExportCounts {
  std::uint64_t sent = 0;     // UDP: sent and not refused; TCP: acknowledged by the peer's TCP
  std::uint64_t lost = 0;     // the sum of by_reason
  std::uint64_t pending = 0;  // TCP: queued or unacknowledged yet
  std::array<std::uint64_t, kLossKinds> by_reason{};
  std::uint64_t messages = 0;     // messages handed to the socket
  std::uint64_t connections = 0;  // TCP connections established
};

class Exporter {
 public:
  using Clock = std::chrono::steady_clock;

  // Resolves the host (getaddrinfo) and makes the socket; over TCP a
  // non-blocking connect starts. Throws netmon::Error if the host does not
  // resolve or the socket cannot be made.
  Exporter(ExporterConfig cfg, Logger log);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Encodes and sends; never waits on the network.
  void send(std::span<const FlowRecord> records);
  // TCP: advances the connection (connect, reconnect, flush, acknowledgements).
  void poll();
  // TCP, for tests and the first write: waits up to `timeout` for a connection.
  bool wait_connected(std::chrono::milliseconds timeout);
  // Sends what is queued and waits up to `linger` for it to be acknowledged
  // (TCP); what is still unacknowledged then is counted lost. Closes the socket.
  void finish(std::chrono::milliseconds linger);

  [[nodiscard]] const ExportCounts& counts() const { return counts_; }
  [[nodiscard]] const std::string& peer() const { return peer_; }  // the resolved address, as ADDR:PORT
  [[nodiscard]] bool connected() const { return state_ == State::connected; }

 private:
  enum class State { idle, connecting, connected, closed };
  struct Queued {
    std::vector<std::uint8_t> bytes;
    std::size_t done = 0;
    std::uint32_t records = 0;
  };
  struct InFlight {
    std::uint64_t end = 0;  // stream offset just past the message
    std::uint32_t records = 0;
  };

  void udp_send(const Messages& m);
  void udp_take_error();
  void tcp_progress(int wait_ms);
  void tcp_start_connect();
  void tcp_connect_failed(int err);
  void tcp_check_peer();
  void tcp_flush();
  void tcp_update_acks();
  void tcp_broken(const std::string& why);
  std::optional<std::uint64_t> tcp_bytes_acked() const;
  void close_fd();

  void lose(std::uint64_t n, Loss why, const std::string& detail);
  void delivered(std::uint64_t n);

  ExporterConfig cfg_;
  Logger log_;
  Encoder encoder_;
  TemplateSchedule templates_;
  Messages messages_;
  ExportCounts counts_;
  std::string peer_;
  std::vector<std::uint8_t> addr_;  // sockaddr_storage bytes
  int family_ = 0;
  int fd_ = -1;
  State state_ = State::idle;

  // UDP: the records of the last message sent, until a refusal is learnt or
  // the next message confirms nothing came back.
  std::uint32_t udp_unconfirmed_ = 0;

  // TCP
  Clock::time_point next_attempt_{};
  std::chrono::nanoseconds backoff_{};
  std::uint64_t offset_ = 0;      // bytes handed to this connection
  std::uint64_t acked_base_ = 0;  // tcpi_bytes_acked when it was established
  std::size_t queued_bytes_ = 0;
  std::deque<Queued> queue_;
  std::deque<InFlight> in_flight_;
  std::uint32_t failed_attempts_ = 0;
  std::string last_failure_;

  // Loss periods, for one warning when they start and one line when they end.
  bool losing_ = false;
  Clock::time_point last_loss_{};
  std::uint64_t lost_at_start_ = 0;
};

std::string loss_text(Loss l);

}  // namespace netmon::ipfix
