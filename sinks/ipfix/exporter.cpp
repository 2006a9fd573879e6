// SPDX-License-Identifier: MIT
#include "exporter.hpp"

#include <netmon/error.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_acked (glibc's lacks it)
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <thread>

namespace netmon::ipfix {

// ---- the target ------------------------------------------------------------------------

std::string Target::text() const { return (bracketed ? "[" + host + "]" : host) + ":" + std::to_string(port); }

namespace {

const char* const kTargetFix =
    "; give the collector as HOST:PORT, e.g. --sink ipfix:192.0.2.10:4739, --sink ipfix:collector.example:4739 or "
    "--sink ipfix:[2001:db8::10]:4739";

[[noreturn]] void bad_target(const std::string& why) { throw UsageError(why + kTargetFix); }

}  // namespace

Target parse_target(const std::optional<std::string>& target) {
  if (!target || target->empty()) bad_target("no collector given");
  const std::string& t = *target;
  Target out;
  std::string port;
  if (t.front() == '[') {
    const auto close = t.find(']');
    if (close == std::string::npos) bad_target("no closing ']' after the IPv6 address");
    if (close + 1 >= t.size() || t[close + 1] != ':') bad_target("no port after the address (4739 is IPFIX's)");
    out.host = t.substr(1, close - 1);
    port = t.substr(close + 2);
    out.bracketed = true;
    in6_addr a{};
    if (::inet_pton(AF_INET6, out.host.c_str(), &a) != 1) bad_target("'" + out.host + "' is not an IPv6 address");
  } else {
    const auto colon = t.rfind(':');
    if (colon == std::string::npos) bad_target("no port (4739 is IPFIX's)");
    out.host = t.substr(0, colon);
    port = t.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) bad_target("an IPv6 address goes in brackets, as in [::1]:4739");
  }
  if (out.host.empty()) bad_target("no host before the port");
  if (port.empty()) bad_target("no port (4739 is IPFIX's)");
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
      std::stoi(port) > 65535)
    bad_target("port '" + port + "' is not a number from 1 to 65535");
  out.port = static_cast<std::uint16_t>(std::stoi(port));
  return out;
}

std::string loss_text(Loss l) {
  switch (l) {
    case Loss::refused: return "refused by the collector's host (ICMP unreachable)";
    case Loss::send_failed: return "not sent (socket error)";
    case Loss::disconnected: return "made while not connected";
    case Loss::unacked: return "not acknowledged by the collector's TCP";
    case Loss::queue_full: return "dropped with the send queue full";
  }
  return "lost";
}

// ---- the exporter ----------------------------------------------------------------------

namespace {

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(s6->sin6_port));
  }
  const auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
  ::inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(s4->sin_port));
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

// An ICMP error a connected UDP socket reports for an earlier datagram.
bool is_icmp_error(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN || err == ENONET ||
         err == EPROTO;
}

std::uint32_t export_time() {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string seconds_text(std::chrono::nanoseconds d) {
  const double s = std::chrono::duration<double>(d).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

Exporter::Exporter(ExporterConfig cfg, Logger log)
    : cfg_(std::move(cfg)),
      log_(log),
      encoder_(cfg_.domain, cfg_.mtu),
      templates_(cfg_.transport == Transport::udp ? cfg_.template_refresh : std::chrono::nanoseconds(0)),
      backoff_(cfg_.backoff_min) {
  addrinfo hints{};
  hints.ai_family = cfg_.target.bracketed ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = cfg_.transport == Transport::udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (cfg_.target.bracketed ? AI_NUMERICHOST : 0);
  addrinfo* res = nullptr;
  const std::string port = std::to_string(cfg_.target.port);
  const int rc = ::getaddrinfo(cfg_.target.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    const std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    throw Error("cannot resolve the collector's host '" + cfg_.target.host + "': " + why +
                "; give a name that resolves here or a numeric address, e.g. --sink ipfix:192.0.2.10:4739");
  }
  addr_.assign(reinterpret_cast<const std::uint8_t*>(res->ai_addr),
               reinterpret_cast<const std::uint8_t*>(res->ai_addr) + res->ai_addrlen);
  family_ = res->ai_family;
  peer_ = address_text(res->ai_addr);
  ::freeaddrinfo(res);

  if (cfg_.transport == Transport::udp) {
    fd_ = ::socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      const int err = errno;
      throw Error(errno_message("cannot make a UDP socket", err));
    }
    // Room for a burst: a batch of 100,000 records is some 4,000 datagrams.
    // SO_SNDBUFFORCE while the host still has its capabilities (sinks open
    // before anything is attached), else what net.core.wmem_max allows.
    const int sndbuf = 8 << 20;
    if (::setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(addr_.data()), static_cast<socklen_t>(addr_.size())) != 0) {
      const int err = errno;
      close_fd();
      throw Error(errno_message("cannot send to " + peer_, err) + "; check the address and the routes to it");
    }
    state_ = State::connected;
  } else {
    tcp_start_connect();
  }
}

Exporter::~Exporter() { close_fd(); }

void Exporter::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Exporter::lose(std::uint64_t n, Loss why, const std::string& detail) {
  if (n == 0) return;
  counts_.lost += n;
  counts_.by_reason[static_cast<std::size_t>(why)] += n;
  last_loss_ = Clock::now();
  // A collector that refused was not running: when it is back it knows no
  // templates, so the next message carries them.
  if (why == Loss::refused) templates_.reset();
  if (!losing_) {
    losing_ = true;
    lost_at_start_ = counts_.lost - n;
    log_.warn("records to " + peer_ + " are being lost: " + loss_text(why) +
              (detail.empty() ? "" : " (" + detail + ")") + "; counting them until the collector takes records again");
  }
}

void Exporter::delivered(std::uint64_t n) {
  if (n == 0) return;
  counts_.sent += n;
  // Over UDP a refusal comes back a round trip after the datagram: a period
  // of losses ends only after a quiet while, not at the first send that
  // returns without an error.
  if (losing_ && cfg_.transport == Transport::udp && Clock::now() - last_loss_ < std::chrono::seconds(2)) return;
  if (losing_) {
    losing_ = false;
    log_.info("records reach " + peer_ + " again; " + std::to_string(counts_.lost - lost_at_start_) +
              " lost meanwhile (" + std::to_string(counts_.lost) + " in all)");
  }
}

void Exporter::send(std::span<const FlowRecord> records) {
  if (state_ == State::closed) return;
  const auto now = Clock::now();
  if (cfg_.transport == Transport::udp) {
    if (records.empty()) return;
    udp_take_error();  // a refusal learnt now makes these messages carry the templates
    const bool with_templates = templates_.due(now);
    messages_.clear();
    encoder_.encode(records, export_time(), with_templates, messages_);
    if (with_templates) templates_.sent(now);
    udp_send(messages_);
    return;
  }
  tcp_progress(0);
  if (state_ != State::connected) {
    lose(records.size(), Loss::disconnected, last_failure_);
    return;
  }
  const bool with_templates = templates_.due(now);
  if (records.empty() && !with_templates) return;
  messages_.clear();
  encoder_.encode(records, export_time(), with_templates, messages_);
  if (with_templates) templates_.sent(now);
  for (std::size_t i = 0; i < messages_.list.size(); ++i) {
    const auto m = messages_.message(i);
    const std::uint32_t n = messages_.list[i].records;
    if (queued_bytes_ + m.size() > cfg_.max_queued_bytes) {
      lose(n, Loss::queue_full, std::to_string(queued_bytes_) + " bytes wait for the socket");
      continue;
    }
    queue_.push_back({std::vector<std::uint8_t>(m.begin(), m.end()), 0, n});
    queued_bytes_ += m.size();
  }
  tcp_flush();
  tcp_update_acks();
}

void Exporter::poll() {
  if (cfg_.transport == Transport::udp) {
    udp_take_error();
    return;
  }
  tcp_progress(0);
}

// ---- UDP ---------------------------------------------------------------------------------

// A connected UDP socket learns of an ICMP error (port unreachable: no
// collector listens) after the datagram that drew it left: the error waits in
// SO_ERROR, and the next send() fails with it instead of sending. Checking
// SO_ERROR right after each send() charges the error to that datagram when
// the ICMP came back before the check (always so on loopback, where the
// answer is made during the send); an error found later is charged to the
// last datagram sent. One ICMP per datagram refused, so the count is exact
// unless the collector's host limits its ICMP rate or sends none (a firewall
// that drops), in which case refused datagrams count as sent.
void Exporter::udp_take_error() {
  if (fd_ < 0) return;
  const int err = socket_error(fd_);
  if (err == 0) return;
  if (udp_unconfirmed_) {
    counts_.sent -= udp_unconfirmed_;
    lose(udp_unconfirmed_, is_icmp_error(err) ? Loss::refused : Loss::send_failed, std::strerror(err));
    udp_unconfirmed_ = 0;
  }
}

void Exporter::udp_send(const Messages& m) {
  udp_take_error();
  for (std::size_t i = 0; i < m.list.size(); ++i) {
    const auto msg = m.message(i);
    const std::uint32_t n = m.list[i].records;
    ssize_t sent = ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0 && is_icmp_error(errno)) {
      // The error is an earlier datagram's, and this one did not leave.
      const int err = errno;
      if (udp_unconfirmed_) {
        counts_.sent -= udp_unconfirmed_;
        lose(udp_unconfirmed_, Loss::refused, std::strerror(err));
        udp_unconfirmed_ = 0;
      }
      sent = ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    if (sent < 0) {
      const int err = errno;
      udp_unconfirmed_ = 0;
      lose(n, is_icmp_error(err) ? Loss::refused : Loss::send_failed, std::strerror(err));
      continue;
    }
    ++counts_.messages;
    const int err = socket_error(fd_);
    if (err != 0) {
      udp_unconfirmed_ = 0;
      lose(n, is_icmp_error(err) ? Loss::refused : Loss::send_failed, std::strerror(err));
      continue;
    }
    delivered(n);
    udp_unconfirmed_ = n;
  }
}

// ---- TCP ---------------------------------------------------------------------------------

void Exporter::tcp_start_connect() {
  offset_ = 0;
  fd_ = ::socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    tcp_connect_failed(errno);
    return;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(addr_.data()), static_cast<socklen_t>(addr_.size())) == 0) {
    state_ = State::connecting;  // completed at once; tcp_progress sees it writable
    return;
  }
  if (errno == EINPROGRESS || errno == EINTR) {
    state_ = State::connecting;
    return;
  }
  tcp_connect_failed(errno);
}

void Exporter::tcp_connect_failed(int err) {
  close_fd();
  state_ = State::idle;
  last_failure_ = std::strerror(err);
  ++failed_attempts_;
  if (failed_attempts_ == 1)
    log_.warn("cannot connect to " + peer_ + ": " + last_failure_ + "; retrying every " +
              seconds_text(cfg_.backoff_min) + " to " + seconds_text(cfg_.backoff_max) +
              ", records made meanwhile are lost and counted");
  else
    log_.debug("cannot connect to " + peer_ + ": " + last_failure_ + " (attempt " + std::to_string(failed_attempts_) +
               ")");
  next_attempt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, cfg_.backoff_max);
}

void Exporter::tcp_progress(int wait_ms) {
  if (state_ == State::closed) return;
  if (state_ == State::idle && Clock::now() >= next_attempt_) tcp_start_connect();
  if (state_ == State::connecting) {
    pollfd p{fd_, POLLOUT, 0};
    const int rc = ::poll(&p, 1, wait_ms);
    if (rc <= 0) return;  // still connecting
    const int err = socket_error(fd_);
    if (err != 0) {
      tcp_connect_failed(err);
      return;
    }
    state_ = State::connected;
    // tcpi_bytes_acked counts the SYN too (1 when connected): offsets in the
    // stream are measured from here.
    acked_base_ = tcp_bytes_acked().value_or(0);
    ++counts_.connections;
    templates_.reset();  // every new connection starts with the templates
    backoff_ = cfg_.backoff_min;
    if (failed_attempts_ > 0 || counts_.connections > 1) {
      log_.info(
          "connected to " + peer_ +
          (failed_attempts_ ? " after " + std::to_string(failed_attempts_) + " failed attempt(s)" : std::string()));
    } else {
      log_.debug("connected to " + peer_);
    }
    failed_attempts_ = 0;
    last_failure_.clear();
  }
  if (state_ == State::connected) {
    tcp_check_peer();
    if (state_ != State::connected) return;
    tcp_flush();
    tcp_update_acks();
  }
}

bool Exporter::wait_connected(std::chrono::milliseconds timeout) {
  if (cfg_.transport == Transport::udp) return true;
  const auto deadline = Clock::now() + timeout;
  while (state_ != State::connected && state_ != State::closed) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    if (state_ == State::idle) std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(left, 10)));
    tcp_progress(static_cast<int>(std::min<long>(left, 100)));
  }
  return state_ == State::connected;
}

// The collector never sends: readable means it closed (EOF) or reset.
void Exporter::tcp_check_peer() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return;
  if (p.revents & POLLIN) {
    char buf[512];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) continue;  // ignore what a collector may say
      if (n == 0) return tcp_broken("the collector closed the connection");
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return tcp_broken(std::strerror(errno));
    }
  }
  if (p.revents & (POLLERR | POLLHUP)) {
    const int err = socket_error(fd_);
    tcp_broken(err ? std::strerror(err) : "the connection was closed");
  }
}

void Exporter::tcp_flush() {
  while (state_ == State::connected && !queue_.empty()) {
    Queued& q = queue_.front();
    const ssize_t n = ::send(fd_, q.bytes.data() + q.done, q.bytes.size() - q.done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      return tcp_broken(std::strerror(errno));
    }
    q.done += static_cast<std::size_t>(n);
    offset_ += static_cast<std::uint64_t>(n);
    if (q.done == q.bytes.size()) {
      ++counts_.messages;
      in_flight_.push_back({offset_, q.records});
      queued_bytes_ -= q.bytes.size();
      queue_.pop_front();
    }
  }
}

std::optional<std::uint64_t> Exporter::tcp_bytes_acked() const {
  if (fd_ < 0) return std::nullopt;
  struct tcp_info info {};
  socklen_t len = sizeof info;
  if (::getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
  if (len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) return std::nullopt;
  return info.tcpi_bytes_acked;
}

void Exporter::tcp_update_acks() {
  const auto acked_total = tcp_bytes_acked();
  if (!acked_total) return;
  const std::uint64_t acked = *acked_total - std::min(*acked_total, acked_base_);
  while (!in_flight_.empty() && in_flight_.front().end <= acked) {
    delivered(in_flight_.front().records);
    in_flight_.pop_front();
  }
  counts_.pending = 0;
  for (const auto& f : in_flight_) counts_.pending += f.records;
  for (const auto& q : queue_) counts_.pending += q.records;
}

// What the peer's TCP acknowledged was delivered (tcpi_bytes_acked survives a
// reset); the rest of each message sent, and every message still queued, is
// lost: a collector cannot read a message cut short.
void Exporter::tcp_broken(const std::string& why) {
  tcp_update_acks();
  std::uint64_t n = 0;
  for (const auto& f : in_flight_) n += f.records;
  for (const auto& q : queue_) n += q.records;
  in_flight_.clear();
  queue_.clear();
  queued_bytes_ = 0;
  counts_.pending = 0;
  close_fd();
  state_ = State::idle;
  last_failure_ = why;
  log_.warn("connection to " + peer_ + " lost: " + why + "; " + std::to_string(n) +
            " record(s) not acknowledged counted as lost; reconnecting in " + seconds_text(backoff_));
  lose(n, Loss::unacked, why);
  next_attempt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, cfg_.backoff_max);
}

void Exporter::finish(std::chrono::milliseconds linger) {
  if (state_ == State::closed) return;
  if (cfg_.transport == Transport::udp) {
    // An ICMP answer to the last datagram, if one is on its way.
    if (udp_unconfirmed_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    udp_take_error();
  } else if (state_ == State::connected) {
    const auto deadline = Clock::now() + linger;
    for (;;) {
      tcp_check_peer();
      if (state_ != State::connected) break;
      tcp_flush();
      tcp_update_acks();
      if (state_ != State::connected || (queue_.empty() && in_flight_.empty()) || Clock::now() >= deadline) break;
      pollfd p{fd_, static_cast<short>(queue_.empty() ? 0 : POLLOUT), 0};
      ::poll(&p, 1, 10);
    }
    if (state_ == State::connected) {
      std::uint64_t n = 0;
      for (const auto& f : in_flight_) n += f.records;
      for (const auto& q : queue_) n += q.records;
      in_flight_.clear();
      queue_.clear();
      counts_.pending = 0;
      lose(n, Loss::unacked, "at exit, after " + std::to_string(linger.count()) + " ms");
    }
  }
  close_fd();
  state_ = State::closed;
}

}  // namespace netmon::ipfix
