// SPDX-License-Identifier: MIT
// The prometheus sink's serving half (sinks/prometheus/serve.hpp): the
// listen address, basic authentication with bcrypt, and the server over real
// HTTP on 127.0.0.1 (an ephemeral port): status codes, and that a scrape
// always returns one whole published collection while others are published.
#include "serve.hpp"

#include <crypt.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "support/unit_util.hpp"

namespace {

using netmon::prometheus::BasicAuth;
using netmon::prometheus::MetricsServer;
using netmon::prometheus::parse_listen_address;
using netmon::prometheus::ServerConfig;
using netmon::unit::error_of;
using ::testing::HasSubstr;

// ---- the address -----------------------------------------------------------------------

TEST(PrometheusAddress, DefaultIsLoopback9464) {
  for (const auto& t : {std::optional<std::string>{}, std::optional<std::string>{""}}) {
    const auto a = parse_listen_address(t);
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 9464);
    EXPECT_FALSE(a.ipv6);
    EXPECT_TRUE(a.loopback);
    EXPECT_EQ(a.text(), "127.0.0.1:9464");
  }
}

TEST(PrometheusAddress, AcceptsIpv4AndBracketedIpv6) {
  struct Case {
    const char* text;
    const char* host;
    int port;
    bool ipv6, loopback;
  };
  for (const Case& c : {
           Case{"127.0.0.2:9100", "127.0.0.2", 9100, false, true},
           Case{"0.0.0.0:9464", "0.0.0.0", 9464, false, false},
           Case{"10.1.2.3:1", "10.1.2.3", 1, false, false},
           Case{"[::1]:65535", "::1", 65535, true, true},
           Case{"[::]:9464", "::", 9464, true, false},
           Case{"[::ffff:127.0.0.1]:9464", "::ffff:127.0.0.1", 9464, true, true},
           Case{"[fd00::1]:80", "fd00::1", 80, true, false},
       }) {
    const auto a = parse_listen_address(std::string(c.text));
    EXPECT_EQ(a.host, c.host) << c.text;
    EXPECT_EQ(a.port, c.port) << c.text;
    EXPECT_EQ(a.ipv6, c.ipv6) << c.text;
    EXPECT_EQ(a.loopback, c.loopback) << c.text;
    EXPECT_EQ(a.text(), c.text);
  }
}

TEST(PrometheusAddress, RefusesGarbageWithOneLineNamingTheFix) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"localhost:9464", "'localhost' is not a numeric IPv4 address (host names are not looked up)"},
      {"127.0.0.1", "no port"},
      {"9464", "no port"},
      {":9464", "no address before the port"},
      {"127.0.0.1:0", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:65536", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:99999999999", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:http", "the port must be a number from 1 to 65535"},
      {"127.0.0.1:-1", "the port must be a number from 1 to 65535"},
      {"::1:9464", "an IPv6 address goes in brackets, as in [::1]:9464"},
      {"[::1]9464", "no port after the address"},
      {"[::1", "no closing ']'"},
      {"[zz]:9464", "'zz' is not an IPv6 address"},
      {"[127.0.0.1]:9464", "'127.0.0.1' is not an IPv6 address"},
      {"1.2.3:9464", "'1.2.3' is not a numeric IPv4 address"},
  };
  for (const auto& [text, why] : bad) {
    const std::string e = error_of([&] { parse_listen_address(text); });
    EXPECT_EQ(e.rfind(why, 0), 0u) << text << ": " << e;
    EXPECT_THAT(e, HasSubstr("e.g. --sink prometheus:127.0.0.1:9464")) << text;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

// ---- basic authentication ----------------------------------------------------------------

// A bcrypt hash made here, as the e2e test and a user (htpasswd -nbB) do.
std::string bcrypt(const std::string& password, const char* prefix = "$2b$", unsigned long cost = 4) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof setting)) return "";
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), setting, &data, sizeof data);
  return out ? out : "";
}

// "Basic base64(user:password)", as a client sends it.
std::string basic(const std::string& user_pass) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (const unsigned char c : user_pass) {
    v = (v << 8) | c;
    bits += 8;
    while (bits >= 6) out += t[(v >> (bits -= 6)) & 63];
  }
  if (bits) out += t[(v << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return "Basic " + out;
}

TEST(PrometheusAuth, Base64) {
  EXPECT_EQ(netmon::prometheus::base64_decode("YWxpY2U6c2VjcmV0"), "alice:secret");
  EXPECT_EQ(netmon::prometheus::base64_decode("YQ=="), "a");
  EXPECT_EQ(netmon::prometheus::base64_decode("YWI="), "ab");
  EXPECT_EQ(netmon::prometheus::base64_decode(""), "");
  EXPECT_FALSE(netmon::prometheus::base64_decode("YQ="));
  EXPECT_FALSE(netmon::prometheus::base64_decode("Y==="));
  EXPECT_FALSE(netmon::prometheus::base64_decode("YQ==YWI="));
  EXPECT_FALSE(netmon::prometheus::base64_decode("YW!j"));
}

TEST(PrometheusAuth, RightPasswordOnly) {
  const std::string h = bcrypt("s3cret:with colon");
  ASSERT_TRUE(netmon::prometheus::is_bcrypt_hash(h)) << h;
  const BasicAuth auth({{"alice", h}, {"bob", bcrypt("other", "$2y$")}});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.allows(basic("alice:s3cret:with colon")));
  EXPECT_TRUE(auth.allows("basic " + basic("bob:other").substr(6)));
  EXPECT_FALSE(auth.allows(basic("alice:s3cret")));
  EXPECT_FALSE(auth.allows(basic("alice:")));
  EXPECT_FALSE(auth.allows(basic("bob:s3cret:with colon")));
  EXPECT_FALSE(auth.allows(basic("carol:other")));
  EXPECT_FALSE(auth.allows(basic("alice")));
  EXPECT_FALSE(auth.allows(""));
  EXPECT_FALSE(auth.allows("Bearer abc"));
  EXPECT_FALSE(auth.allows("Basic !!!!"));
  EXPECT_FALSE(auth.allows(basic(std::string("alice:s3cret:with colon\0x", 26))));
}

TEST(PrometheusAuth, NoUsersAllowsEveryone) {
  const BasicAuth auth;
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.allows(""));
}

TEST(PrometheusAuth, MalformedHashesAreRefusedNamingUserAndFix) {
  const std::string good = bcrypt("x");
  for (const std::string& h : {std::string("plain"), std::string("$1$abc$def"), good.substr(0, 59), good + "x",
                               "$2y$03$" + good.substr(7), "$2y$32$" + good.substr(7), "$2x$10$" + good.substr(7),
                               good.substr(0, 20) + "!" + good.substr(21), std::string("")}) {
    const std::string e = error_of([&] { BasicAuth({{"alice", h}}); });
    EXPECT_THAT(e, HasSubstr("prometheus.basic_auth_users: the hash of user 'alice' is not a bcrypt hash")) << h;
    EXPECT_THAT(e, HasSubstr("htpasswd -nbB alice")) << h;
  }
  EXPECT_THAT(error_of([&] { BasicAuth({{"a:b", good}}); }), HasSubstr("'a:b' is not a valid user name"));
}

// ---- the server ---------------------------------------------------------------------------

ServerConfig local_config() {
  ServerConfig cfg;
  cfg.address = parse_listen_address(std::string("127.0.0.1:9464"));
  cfg.address.port = 0;  // ephemeral
  return cfg;
}

netmon::Batch batch_of(std::uint64_t sequence, std::size_t samples) {
  netmon::Batch b;
  b.sequence = sequence;
  // Distinct series (a label each), and values that differ from one
  // collection to the next, so that every collection renders differently.
  for (std::size_t i = 0; i < samples; ++i)
    b.samples.push_back(netmon::Sample("m" + std::to_string(i % 7))
                            .tag("series", "collection-test-series-" + std::to_string(i))
                            .counter("events", sequence * 1000 + i));
  return b;
}

TEST(PrometheusServer, StatusCodesAndContentTypes) {
  MetricsServer srv(local_config(), {});
  ASSERT_GT(srv.port(), 0);
  httplib::Client cli("127.0.0.1", srv.port());
  auto r = cli.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << "before the first collection";
  EXPECT_TRUE(r->has_header("Retry-After"));

  srv.publish(netmon::prometheus::render(batch_of(1, 3)));
  r = cli.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->body, netmon::prometheus::render(batch_of(1, 3))->text);

  r = cli.Get("/metrics", {{"Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(r->body, netmon::prometheus::render(batch_of(1, 3))->openmetrics);

  r = cli.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("href=\"/metrics\""));

  for (const char* path : {"/nope", "/metrics/", "/metricsx", "/favicon.ico"}) {
    r = cli.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  r = cli.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  r = cli.Delete("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = cli.Head("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  srv.stop();
  srv.stop();  // idempotent
  EXPECT_FALSE(httplib::Client("127.0.0.1", srv.port()).Get("/metrics")) << "still listening after stop()";
}

TEST(PrometheusServer, BasicAuthOnEveryPath) {
  ServerConfig cfg = local_config();
  cfg.basic_auth_users = {{"alice", bcrypt("pw")}};
  MetricsServer srv(cfg, {});
  srv.publish(netmon::prometheus::render(batch_of(1, 1)));
  httplib::Client cli("127.0.0.1", srv.port());
  for (const char* path : {"/metrics", "/", "/nope"}) {
    auto r = cli.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Basic realm=\"netmon\"");
  }
  cli.set_basic_auth("alice", "wrong");
  auto r = cli.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  cli.set_basic_auth("alice", "pw");
  r = cli.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// The reason comes from a bind of our own, not from errno after cpp-httplib's
// calls: an address of the documentation range (192.0.2.0/24, RFC 5737) that
// no interface has, so nothing is ever sent to it.
TEST(PrometheusServer, AnAddressNoInterfaceHasFailsWithItsReason) {
  ServerConfig cfg = local_config();
  cfg.address.host = "192.0.2.1";
  cfg.address.loopback = false;
  const std::string e = error_of([&] { MetricsServer server(cfg, {}); });
  EXPECT_THAT(e, HasSubstr("cannot listen on 192.0.2.1:" + std::to_string(cfg.address.port) +
                           ": Cannot assign requested address; no interface has that address"));
}

TEST(PrometheusServer, APortInUseFailsWithOneLine) {
  MetricsServer first(local_config(), {});
  ServerConfig cfg = local_config();
  cfg.address.port = first.port();
  const std::string e = error_of([&] { MetricsServer second(cfg, {}); });
  EXPECT_THAT(e, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                           ": Address already in use; another program listens there"));
}

TEST(PrometheusServer, MissingCertificateFailsWithOneLine) {
  ServerConfig cfg = local_config();
  cfg.tls_cert_file = "/nonexistent/cert.pem";
  cfg.tls_key_file = "/nonexistent/key.pem";
  EXPECT_THAT(
      error_of([&] { MetricsServer s(cfg, {}); }),
      HasSubstr("option prometheus.tls_cert_file: cannot read certificate /nonexistent/cert.pem: No such file"));
  cfg.tls_key_file.clear();
  EXPECT_THAT(error_of([&] { MetricsServer s(cfg, {}); }), HasSubstr("give both, or neither"));
}

// Many publishes of distinct collections from one thread, many scrapes over
// HTTP from others: every body is exactly one published body, never a mix.
TEST(PrometheusServer, EveryScrapeIsOneWholePublishedCollection) {
  constexpr int kPublishes = 400;
  std::vector<std::shared_ptr<const netmon::prometheus::Scrape>> published;
  std::unordered_map<std::string, int> text_of, openmetrics_of;
  for (int i = 0; i < kPublishes; ++i) {
    published.push_back(netmon::prometheus::render(batch_of(static_cast<std::uint64_t>(i), 300)));
    text_of.emplace(published.back()->text, i);
    openmetrics_of.emplace(published.back()->openmetrics, i);
  }
  ASSERT_EQ(text_of.size(), static_cast<std::size_t>(kPublishes)) << "the collections must differ";
  ASSERT_GT(published[0]->text.size(), 10000u) << "bodies large enough to be written in several pieces";

  MetricsServer srv(local_config(), {});
  srv.publish(published[0]);
  std::atomic<bool> done{false};
  std::thread publisher([&] {
    for (int round = 0; round < 5; ++round)
      for (int i = 0; i < kPublishes; ++i) {
        srv.publish(published[static_cast<std::size_t>(i)]);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    done = true;
  });
  constexpr int kScrapers = 6;
  std::vector<std::vector<std::string>> bodies(kScrapers);
  std::vector<int> failures(kScrapers, 0);
  std::vector<std::thread> scrapers;
  for (int t = 0; t < kScrapers; ++t)
    scrapers.emplace_back([&, t] {
      httplib::Client cli("127.0.0.1", srv.port());
      const bool om = t % 2 == 1;
      httplib::Headers h;
      if (om) h = {{"Accept", "application/openmetrics-text; version=1.0.0"}};
      while (!done) {
        auto r = cli.Get("/metrics", h);
        if (!r || r->status != 200) {
          ++failures[static_cast<std::size_t>(t)];
          continue;
        }
        bodies[static_cast<std::size_t>(t)].push_back((om ? "O" : "T") + r->body);
      }
    });
  publisher.join();
  for (auto& s : scrapers) s.join();

  std::size_t scrapes = 0;
  std::set<int> seen;
  for (int t = 0; t < kScrapers; ++t) {
    EXPECT_EQ(failures[static_cast<std::size_t>(t)], 0);
    for (const auto& b : bodies[static_cast<std::size_t>(t)]) {
      ++scrapes;
      const auto& index = b[0] == 'O' ? openmetrics_of : text_of;
      const auto it = index.find(b.substr(1));
      ASSERT_NE(it, index.end()) << "a scrape returned a body never published whole (" << b.size() << " bytes)";
      seen.insert(it->second);
    }
  }
  EXPECT_GE(scrapes, 100u);
  EXPECT_GE(seen.size(), 20u) << "the scrapes should have seen many of the collections";
}

// A client that connects and sends nothing holds one thread until its read
// times out; it never delays a scrape on another connection, nor stop().
TEST(PrometheusServer, AnIdleClientDelaysNeitherScrapesNorStop) {
  MetricsServer srv(local_config(), {});
  srv.publish(netmon::prometheus::render(batch_of(1, 1)));
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(srv.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::send(fd, "GET /metr", 9, 0), 9);
    fds.push_back(fd);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = httplib::Client("127.0.0.1", srv.port()).Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  const auto t1 = std::chrono::steady_clock::now();
  srv.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(2)) << "stop() waited for idle clients";
  for (const int fd : fds) ::close(fd);
}

// The limits the library lacks, enforced from outside it: a client that
// trickles a header is ended at the header deadline, one that sends too much
// at once, and none can hold a thread longer.
TEST(PrometheusServer, SlowAndGreedyClientsAreEnded) {
  ServerConfig cfg = local_config();
  cfg.header_deadline = std::chrono::seconds(1);
  cfg.max_received = 16 * 1024;
  MetricsServer srv(cfg, {});
  srv.publish(netmon::prometheus::render(batch_of(1, 1)));
  const auto open = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(srv.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  };
  // Slow: one byte every 200 ms, each well within the read timeout.
  const int slow = open();
  const auto t0 = std::chrono::steady_clock::now();
  bool ended = false;
  for (int i = 0; i < 40 && !ended; ++i) {
    ended = ::send(slow, "G", 1, MSG_NOSIGNAL) < 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    char c;
    if (!ended) ended = ::recv(slow, &c, 1, MSG_DONTWAIT) == 0;
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(ended) << "a trickling client was never ended";
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  ::close(slow);
  // Greedy: 1 MB of header without a line end.
  const int greedy = open();
  const std::string junk = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(1 << 20, 'a');
  std::size_t sent = 0;
  while (sent < junk.size()) {
    const ssize_t n = ::send(greedy, junk.data() + sent, junk.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  char buf[256];
  while (::recv(greedy, buf, sizeof buf, 0) > 0) {
  }
  ::close(greedy);
  EXPECT_GE(srv.connections_ended(), 2u);
  // A normal scrape is served meanwhile and after.
  auto r = httplib::Client("127.0.0.1", srv.port()).Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
