// SPDX-License-Identifier: MIT
// The ipfix sink's exporting process (sinks/ipfix/exporter.hpp) against
// collectors played by this test on loopback: UDP to a bound socket, to a
// port nobody listens on (every record counted lost, exactly), a collector
// that goes and comes back; TCP with a listener that reads, resets and
// accepts again (templates first on every connection), one that never
// reads, and none at all. Every record is delivered or counted as lost, and
// no call waits on the network.
#include "exporter.hpp"

#include <netmon/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace netmon::ipfix;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

using Clock = std::chrono::steady_clock;

FlowRecord record(std::uint32_t i, Family f = Family::ipv4) {
  FlowRecord r;
  r.family = f;
  r.src[0] = 10;
  r.src[3] = static_cast<std::uint8_t>(i);
  r.dst[0] = 10;
  r.dst[3] = 1;
  r.src_port = static_cast<std::uint16_t>(1024 + i);
  r.dst_port = 4739;
  r.protocol = 17;
  r.packets = i + 1;
  r.octets = 100 * (i + 1);
  r.start_ms = 1'795'536'678'000;
  r.end_ms = 1'795'536'679'000;
  r.end_reason = EndReason::idle_timeout;
  r.ingress_interface = 2;
  return r;
}

std::vector<FlowRecord> records(std::size_t n, std::uint32_t from = 0) {
  std::vector<FlowRecord> v;
  for (std::size_t i = 0; i < n; ++i)
    v.push_back(record(from + static_cast<std::uint32_t>(i), i % 4 ? Family::ipv4 : Family::ipv6));
  return v;
}

// What a collector makes of one message.
struct Decoded {
  std::uint32_t sequence = 0;
  std::uint32_t domain = 0;
  std::uint32_t records = 0;
  bool templates = false;
  bool templates_first = false;
  std::size_t size = 0;
};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

Decoded decode(const std::uint8_t* p, std::size_t n) {
  Decoded d;
  EXPECT_GE(n, kHeaderSize);
  EXPECT_EQ(be16(p), 10);
  EXPECT_EQ(be16(p + 2), n);
  d.size = n;
  d.sequence = be32(p + 8);
  d.domain = be32(p + 12);
  for (std::size_t at = kHeaderSize; at < n;) {
    const std::uint16_t id = be16(p + at), len = be16(p + at + 2);
    EXPECT_GE(len, kSetHeaderSize);
    if (len < kSetHeaderSize) break;
    if (id == kTemplateSetId) {
      d.templates = true;
      d.templates_first = at == kHeaderSize;
    } else if (id == kTemplateIpv4) {
      EXPECT_EQ((len - kSetHeaderSize) % kIpv4RecordSize, 0u);
      d.records += static_cast<std::uint32_t>((len - kSetHeaderSize) / kIpv4RecordSize);
    } else if (id == kTemplateIpv6) {
      EXPECT_EQ((len - kSetHeaderSize) % kIpv6RecordSize, 0u);
      d.records += static_cast<std::uint32_t>((len - kSetHeaderSize) / kIpv6RecordSize);
    } else {
      ADD_FAILURE() << "unknown set " << id;
    }
    at += len;
  }
  return d;
}

// Log lines, to check what the exporter said.
struct LogCapture {
  std::mutex mu;
  std::vector<std::string> lines;
  static void fn(void* ctx, int level, const char* msg) {
    auto* self = static_cast<LogCapture*>(ctx);
    std::lock_guard<std::mutex> lock(self->mu);
    self->lines.push_back(std::to_string(level) + " " + msg);
  }
  netmon::Logger logger() { return netmon::Logger(&LogCapture::fn, this); }
  std::string all() {
    std::lock_guard<std::mutex> lock(mu);
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd_ = o.fd_;
    o.fd_ = -1;
    return *this;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

std::uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

Fd bound(int type, std::uint16_t port = 0, int rcvbuf = 0) {
  Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (rcvbuf) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ADD_FAILURE() << std::strerror(errno);
  if (type == SOCK_STREAM) ::listen(fd.get(), 4);
  return fd;
}

// Every datagram waiting on a UDP socket.
std::vector<Decoded> receive_all(int fd) {
  std::vector<Decoded> out;
  std::vector<std::uint8_t> buf(70000);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    out.push_back(decode(buf.data(), static_cast<std::size_t>(n)));
  }
  return out;
}

// Reads whole messages from a TCP stream until `records` came or nothing more does.
std::vector<Decoded> read_stream(int fd, std::uint64_t records, std::vector<std::uint8_t>& pending) {
  std::vector<Decoded> out;
  std::uint64_t got = 0;
  std::vector<std::uint8_t> buf(65536);
  for (;;) {
    while (pending.size() >= kHeaderSize && pending.size() >= be16(pending.data() + 2)) {
      const std::size_t len = be16(pending.data() + 2);
      out.push_back(decode(pending.data(), len));
      got += out.back().records;
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(len));
    }
    if (got >= records) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    pending.insert(pending.end(), buf.begin(), buf.begin() + n);
  }
  return out;
}

std::uint64_t total_records(const std::vector<Decoded>& v) {
  std::uint64_t n = 0;
  for (const auto& d : v) n += d.records;
  return n;
}

// Sequence numbers: each message's is the records of those before it.
void expect_sequenced(const std::vector<Decoded>& v, std::uint32_t from = 0) {
  std::uint32_t seq = from;
  for (const auto& d : v) {
    EXPECT_EQ(d.sequence, seq);
    seq += d.records;
  }
}

ExporterConfig config(std::uint16_t port, Transport t, std::size_t mtu = 1400) {
  ExporterConfig c;
  c.target = parse_target("127.0.0.1:" + std::to_string(port));
  c.transport = t;
  c.mtu = mtu;
  c.domain = 7;
  c.backoff_min = 50ms;
  c.backoff_max = 200ms;
  return c;
}

// A port nothing listens on, for UDP or TCP.
std::uint16_t closed_port(int type) {
  Fd fd = bound(type);
  return port_of(fd.get());
}

template <class F>
std::chrono::milliseconds timed(F&& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
}

}  // namespace

// ---- the target ---------------------------------------------------------------------

TEST(IpfixTarget, Parses) {
  auto t = parse_target("collector.example:4739");
  EXPECT_EQ(t.host, "collector.example");
  EXPECT_EQ(t.port, 4739);
  t = parse_target("[::1]:2055");
  EXPECT_EQ(t.host, "::1");
  EXPECT_TRUE(t.bracketed);
  EXPECT_EQ(t.text(), "[::1]:2055");
}

TEST(IpfixTarget, RefusesWithTheFix) {
  const auto msg = [](std::optional<std::string> t) {
    try {
      parse_target(t);
    } catch (const netmon::UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(msg(std::nullopt), HasSubstr("no collector given; give the collector as HOST:PORT"));
  EXPECT_THAT(msg("127.0.0.1"), HasSubstr("no port"));
  EXPECT_THAT(msg("127.0.0.1:"), HasSubstr("no port"));
  EXPECT_THAT(msg("127.0.0.1:0"), HasSubstr("port '0' is not a number from 1 to 65535"));
  EXPECT_THAT(msg("127.0.0.1:65536"), HasSubstr("port '65536'"));
  EXPECT_THAT(msg("127.0.0.1:http"), HasSubstr("port 'http'"));
  EXPECT_THAT(msg("::1:4739"), HasSubstr("an IPv6 address goes in brackets"));
  EXPECT_THAT(msg("[::1]"), HasSubstr("no port after the address"));
  EXPECT_THAT(msg("[::1:4739"), HasSubstr("no closing ']'"));
  EXPECT_THAT(msg("[localhost]:4739"), HasSubstr("'localhost' is not an IPv6 address"));
  EXPECT_THAT(msg(":4739"), HasSubstr("no host"));
}

TEST(IpfixTarget, AHostThatDoesNotResolveIsRefusedAtOpen) {
  ExporterConfig c = config(4739, Transport::udp);
  c.target = parse_target("no-such-collector.invalid:4739");
  try {
    Exporter e(c, {});
    FAIL() << "resolved";
  } catch (const netmon::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot resolve the collector's host 'no-such-collector.invalid'"));
    EXPECT_THAT(e.what(), HasSubstr("--sink ipfix:192.0.2.10:4739"));
  }
}

// ---- UDP ----------------------------------------------------------------------------

TEST(IpfixUdp, DeliversEveryRecordWithTemplatesFirstAndSequenceNumbers) {
  Fd collector = bound(SOCK_DGRAM);
  Exporter e(config(port_of(collector.get()), Transport::udp), {});
  for (int i = 0; i < 3; ++i) e.send(records(100, static_cast<std::uint32_t>(i * 100)));
  const auto got = receive_all(collector.get());
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(got[0].templates_first);
  for (std::size_t i = 1; i < got.size(); ++i) EXPECT_FALSE(got[i].templates) << i;  // refresh is 60 s
  for (const auto& d : got) {
    EXPECT_LE(d.size, 1400u);
    EXPECT_EQ(d.domain, 7u);
  }
  EXPECT_EQ(total_records(got), 300u);
  expect_sequenced(got);
  e.finish(100ms);
  EXPECT_EQ(e.counts().sent, 300u);
  EXPECT_EQ(e.counts().lost, 0u);
}

TEST(IpfixUdp, TemplatesAreResentAfterTheRefreshInterval) {
  Fd collector = bound(SOCK_DGRAM);
  ExporterConfig c = config(port_of(collector.get()), Transport::udp);
  c.template_refresh = 300ms;
  Exporter e(c, {});
  e.send(records(1));
  e.send(records(1));
  std::this_thread::sleep_for(350ms);
  e.send(records(1));
  const auto got = receive_all(collector.get());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].templates_first);
  EXPECT_FALSE(got[1].templates);
  EXPECT_TRUE(got[2].templates_first);
}

// The measurement: every message to a port nobody listens on draws an ICMP
// port unreachable, and every record in it is counted lost, none as sent.
TEST(IpfixUdp, NoCollectorCountsEveryRecordLostExactly) {
  LogCapture log;
  Exporter e(config(closed_port(SOCK_DGRAM), Transport::udp, kMinMtu), log.logger());
  std::uint64_t total = 0;
  for (int i = 0; i < 200; ++i) {
    const auto batch = records(1 + i % 9);
    e.send(batch);
    total += batch.size();
  }
  e.finish(100ms);
  EXPECT_EQ(e.counts().sent, 0u);
  EXPECT_EQ(e.counts().lost, total);
  EXPECT_EQ(e.counts().by_reason[static_cast<int>(Loss::refused)], total);
  // One warning, not one per message.
  const std::string text = log.all();
  EXPECT_THAT(text, HasSubstr("are being lost: refused by the collector's host"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

TEST(IpfixUdp, ACollectorThatGoesAndComesBackLosesOnlyWhatWasSentMeanwhile) {
  LogCapture log;
  Fd collector = bound(SOCK_DGRAM);
  const std::uint16_t port = port_of(collector.get());
  Exporter e(config(port, Transport::udp, 512), log.logger());
  e.send(records(40));
  auto got = receive_all(collector.get());
  collector.reset();  // gone
  for (int i = 0; i < 10; ++i) e.send(records(7));
  collector = bound(SOCK_DGRAM, port);  // back
  e.send(records(40));
  EXPECT_THAT(log.all(), Not(HasSubstr("records reach"))) << "a refusal comes a round trip late: no all-clear at once";
  // Quiet for longer than a round trip could take: the next send ends the losses.
  std::this_thread::sleep_for(2100ms);
  e.send(records(1));
  e.finish(100ms);
  const auto after = receive_all(collector.get());
  got.insert(got.end(), after.begin(), after.end());
  EXPECT_EQ(total_records(got), 81u);
  EXPECT_EQ(e.counts().sent, 81u);
  EXPECT_EQ(e.counts().lost, 70u);
  // The collector sees the gap in the sequence numbers.
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.front().sequence, 40u + 70u);
  EXPECT_TRUE(after.front().templates_first) << "the first message after the gap: templates only if due";
  const std::string text = log.all();
  EXPECT_THAT(text, HasSubstr("are being lost"));
  EXPECT_THAT(text, HasSubstr("again; 70 lost meanwhile"));
}

// ---- TCP ----------------------------------------------------------------------------

namespace {

Fd accept_within(int listener, std::chrono::milliseconds timeout) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return Fd();
  return Fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

void reset_connection(Fd& fd) {
  const linger l{1, 0};  // close with RST
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

// Calls poll() until the exporter is connected or `timeout` passed.
bool reconnects(Exporter& e, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    e.poll();
    if (e.wait_connected(20ms)) return true;
  }
  return false;
}

}  // namespace

TEST(IpfixTcp, DeliversResetsReconnectsAndResendsTemplates) {
  LogCapture log;
  Fd listener = bound(SOCK_STREAM);
  Exporter e(config(port_of(listener.get()), Transport::tcp), log.logger());
  ASSERT_TRUE(e.wait_connected(1000ms));
  Fd conn = accept_within(listener.get(), 1000ms);
  ASSERT_GE(conn.get(), 0);

  e.send(records(100));
  std::vector<std::uint8_t> pending;
  const auto first = read_stream(conn.get(), 100, pending);
  ASSERT_FALSE(first.empty());
  EXPECT_TRUE(first[0].templates_first);
  EXPECT_EQ(total_records(first), 100u);
  expect_sequenced(first);
  std::this_thread::sleep_for(20ms);
  e.poll();  // takes the acknowledgements
  EXPECT_EQ(e.counts().sent, 100u);
  EXPECT_EQ(e.counts().pending, 0u);

  // The collector resets: the next records have no connection to go on.
  reset_connection(conn);
  std::this_thread::sleep_for(20ms);
  const auto took = timed([&] { e.send(records(50)); });
  EXPECT_LT(took, 100ms);
  EXPECT_FALSE(e.connected());
  EXPECT_EQ(e.counts().lost, 50u);
  EXPECT_EQ(e.counts().by_reason[static_cast<int>(Loss::disconnected)], 50u);

  // It reconnects after the back-off, and the new connection starts with the templates.
  ASSERT_TRUE(reconnects(e, 2000ms));
  conn = accept_within(listener.get(), 1000ms);
  ASSERT_GE(conn.get(), 0);
  e.send(records(20));
  pending.clear();
  const auto second = read_stream(conn.get(), 20, pending);
  ASSERT_FALSE(second.empty());
  EXPECT_TRUE(second[0].templates_first);
  EXPECT_EQ(total_records(second), 20u);
  // The sequence goes on from the records sent in this domain; the 50 made
  // while there was no connection were never sent, so they are not in it.
  EXPECT_EQ(second[0].sequence, 100u);
  e.finish(1000ms);
  EXPECT_EQ(e.counts().sent, 120u);
  EXPECT_EQ(e.counts().lost, 50u);
  EXPECT_EQ(e.counts().connections, 2u);
  const std::string text = log.all();
  EXPECT_THAT(text, HasSubstr("connection to 127.0.0.1:"));
  EXPECT_THAT(text, HasSubstr("connected to 127.0.0.1:"));
}

// A collector that never reads: its TCP acknowledges what fits in its
// receive buffer, then the window closes; the exporter queues up to its
// bound, never blocks, and on the reset counts what was not acknowledged.
TEST(IpfixTcp, ACollectorThatStallsThenResetsCostsOnlyUnacknowledgedRecords) {
  Fd listener = bound(SOCK_STREAM, 0, 4096);
  ExporterConfig c = config(port_of(listener.get()), Transport::tcp);
  c.max_queued_bytes = 256 * 1024;
  Exporter e(c, {});
  ASSERT_TRUE(e.wait_connected(1000ms));
  Fd conn = accept_within(listener.get(), 1000ms);
  ASSERT_GE(conn.get(), 0);
  std::uint64_t total = 0;
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < 100; ++i) {
    const auto batch = records(1000);
    slowest = std::max(slowest, timed([&] { e.send(batch); }));
    total += batch.size();
  }
  EXPECT_LT(slowest, 100ms);
  EXPECT_GT(e.counts().by_reason[static_cast<int>(Loss::queue_full)], 0u);
  EXPECT_GT(e.counts().pending, 0u);
  // Everything the collector's TCP acknowledged waits unread in its receive
  // queue (the window is shut, so nothing more comes): peek at it.
  std::this_thread::sleep_for(50ms);
  std::vector<std::uint8_t> queued(1 << 20);
  const ssize_t n = ::recv(conn.get(), queued.data(), queued.size(), MSG_PEEK | MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  std::uint64_t acked_records = 0;
  for (std::size_t at = 0; at + kHeaderSize <= static_cast<std::size_t>(n);) {
    const std::size_t len = be16(queued.data() + at + 2);
    if (at + len > static_cast<std::size_t>(n)) break;  // cut short: the collector could not read it
    acked_records += decode(queued.data() + at, len).records;
    at += len;
  }
  reset_connection(conn);
  std::this_thread::sleep_for(20ms);
  e.poll();
  EXPECT_FALSE(e.connected());
  EXPECT_EQ(e.counts().pending, 0u);
  EXPECT_GT(e.counts().by_reason[static_cast<int>(Loss::unacked)], 0u);
  EXPECT_EQ(e.counts().sent + e.counts().lost, total);
  // What the collector's TCP acknowledged, in whole messages, counts as
  // sent, exactly, though this collector never read it (the limit README.md
  // states).
  EXPECT_GT(acked_records, 0u);
  EXPECT_EQ(e.counts().sent, acked_records);
  e.finish(100ms);
}

TEST(IpfixTcp, NoCollectorNeverBlocksAndCountsEveryRecord) {
  LogCapture log;
  Exporter e(config(closed_port(SOCK_STREAM), Transport::tcp), log.logger());
  std::uint64_t total = 0;
  for (int i = 0; i < 20; ++i) {
    const auto took = timed([&] { e.send(records(10)); });
    EXPECT_LT(took, 100ms);
    total += 10;
    std::this_thread::sleep_for(10ms);
  }
  e.finish(1000ms);
  EXPECT_EQ(e.counts().sent, 0u);
  EXPECT_EQ(e.counts().lost, total);
  EXPECT_EQ(e.counts().by_reason[static_cast<int>(Loss::disconnected)], total);
  const std::string text = log.all();
  EXPECT_THAT(text, HasSubstr("cannot connect to 127.0.0.1:"));
  EXPECT_THAT(text, HasSubstr("Connection refused"));
}

TEST(IpfixTcp, AtExitWhatIsAcknowledgedIsSent) {
  Fd listener = bound(SOCK_STREAM);
  Exporter e(config(port_of(listener.get()), Transport::tcp, 9000), {});
  ASSERT_TRUE(e.wait_connected(1000ms));
  Fd conn = accept_within(listener.get(), 1000ms);
  e.send(records(5000));
  std::thread reader([&] {
    std::vector<std::uint8_t> pending;
    EXPECT_EQ(total_records(read_stream(conn.get(), 5000, pending)), 5000u);
  });
  e.finish(2000ms);
  reader.join();
  EXPECT_EQ(e.counts().sent, 5000u);
  EXPECT_EQ(e.counts().lost, 0u);
}
