// SPDX-License-Identifier: MIT
#include "serve.hpp"

#include "connections.hpp"

#include <netmon/error.hpp>

#include <arpa/inet.h>
#include <crypt.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <vector>

namespace netmon::prometheus {

// ---- the address -------------------------------------------------------------------

namespace {

// The errno of binding a socket of our own to the address (0 if that works),
// as httplib does it: SO_REUSEADDR, and IPV6_V6ONLY off for IPv6.
int bind_error(const ListenAddress& a) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (a.ipv6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<std::uint16_t>(a.port));
    if (::inet_pton(AF_INET6, a.host.c_str(), &sa->sin6_addr) != 1) return EINVAL;
    len = sizeof *sa;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<std::uint16_t>(a.port));
    if (::inet_pton(AF_INET, a.host.c_str(), &sa->sin_addr) != 1) return EINVAL;
    len = sizeof *sa;
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  const int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.ipv6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  const int err = ::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0 ? errno : 0;
  ::close(fd);
  return err;
}

const char* const kAddressFix =
    "; give a numeric ADDRESS:PORT, e.g. --sink prometheus:127.0.0.1:9464, --sink prometheus:[::1]:9464 or "
    "--sink prometheus:0.0.0.0:9464";

// The host prefixes the message with "sink prometheus:TARGET: ".
[[noreturn]] void bad_address(const std::string&, const std::string& why) { throw Error(why + kAddressFix); }

}  // namespace

ListenAddress parse_listen_address(const std::optional<std::string>& target) {
  const std::string t = target && !target->empty() ? *target : std::string(kDefaultAddress);
  ListenAddress a;
  std::string port;
  if (t.front() == '[') {
    const auto close = t.find(']');
    if (close == std::string::npos) bad_address(t, "no closing ']' after the IPv6 address");
    if (close + 1 >= t.size() || t[close + 1] != ':') bad_address(t, "no port after the address");
    a.host = t.substr(1, close - 1);
    port = t.substr(close + 2);
    a.ipv6 = true;
  } else {
    const auto colon = t.rfind(':');
    if (colon == std::string::npos) bad_address(t, "no port");
    a.host = t.substr(0, colon);
    port = t.substr(colon + 1);
    if (a.host.find(':') != std::string::npos) bad_address(t, "an IPv6 address goes in brackets, as in [::1]:9464");
  }
  if (a.host.empty()) bad_address(t, "no address before the port (0.0.0.0 listens on every interface)");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535)
    bad_address(t, "the port must be a number from 1 to 65535");
  a.port = std::stoi(port);
  if (a.ipv6) {
    in6_addr v6{};
    if (::inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) bad_address(t, "'" + a.host + "' is not an IPv6 address");
    a.loopback = IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  } else {
    in_addr v4{};
    if (::inet_pton(AF_INET, a.host.c_str(), &v4) != 1)
      bad_address(t, "'" + a.host + "' is not a numeric IPv4 address (host names are not looked up)");
    a.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  }
  return a;
}

// ---- basic authentication ----------------------------------------------------------------

bool is_bcrypt_hash(const std::string& h) {
  // $2y$10$ + 22 characters of salt + 31 of hash.
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$' ||
      h[6] != '$')
    return false;
  if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  static const char* const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (h.find_first_not_of(alphabet, 7) != std::string::npos) return false;
  // What libcrypt itself makes of it: "*0"/"*1" for a setting it refuses.
  auto data = std::make_unique<crypt_data>();
  const char* out = ::crypt_rn("", h.c_str(), data.get(), sizeof *data);
  return out && out[0] == '$';
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  if (password.find('\0') != std::string::npos) return false;
  auto data = std::make_unique<crypt_data>();  // about 32 kB: not on a pool thread's stack
  const char* out = ::crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof *data);
  if (!out || out[0] != '$') return false;
  const std::size_t n = std::strlen(out);
  if (n != hash.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
  return diff == 0;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return std::nullopt;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

BasicAuth::BasicAuth(const std::map<std::string, std::string>& users) {
  for (const auto& [user, hash] : users) {
    if (user.empty() || user.find(':') != std::string::npos)
      throw Error("option prometheus.basic_auth_users: '" + user +
                  "' is not a valid user name (non-empty, without ':')");
    if (!is_bcrypt_hash(hash))
      throw Error("option prometheus.basic_auth_users: the hash of user '" + user +
                  "' is not a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters); make one with htpasswd -nbB " + user +
                  " PASSWORD (apache2-utils) or mkpasswd -m bcrypt (whois)");
    users_[user] = hash;
    // "$2b$NN$...": the costliest hash is the one an unknown user is checked against.
    if (slowest_.empty() || hash.compare(4, 2, slowest_, 4, 2) > 0) slowest_ = hash;
  }
}

bool BasicAuth::allows(std::string_view authorization) const {
  if (users_.empty()) return true;
  constexpr std::string_view scheme = "basic ";
  if (authorization.size() <= scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  std::string_view b64 = authorization.substr(scheme.size());
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  const auto decoded = base64_decode(b64);
  if (!decoded) return false;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const std::string user = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);
  const auto it = users_.find(user);
  // An unknown user costs the costliest known user's bcrypt: no timing tells
  // which names exist (a known one costs its own hash's, at most as much).
  const bool known = it != users_.end();
  const bool match = bcrypt_matches(password, known ? it->second : slowest_);
  return known && match;
}

// ---- the server ----------------------------------------------------------------------

namespace {

constexpr const char* kTextType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kOpenMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8";
constexpr const char* kPlain = "text/plain; charset=utf-8";

// The connection queue shared by the pool and the server: a bounded number of
// accepted connections wait for a thread; when it is full the accepting
// thread waits too, and further connections wait in the kernel's listen
// backlog (and beyond it are refused or retried by the client), costing
// netmon nothing.
struct PoolState {
  std::mutex mu;
  std::condition_variable work;   // a job or shutdown
  std::condition_variable space;  // room in the queue, or closing
  std::deque<std::function<void()>> jobs;
  std::size_t max_pending = 32;
  bool closing = false;   // enqueue no longer waits
  bool shutdown = false;  // workers end once the queue is empty
};

class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::shared_ptr<PoolState> st, std::size_t threads) : st_(std::move(st)) {
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] {
        ::pthread_setname_np(::pthread_self(), "prom-http");
        run();
      });
  }
  ~BoundedPool() override {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(st_->mu);
    st_->space.wait(lock, [&] { return st_->jobs.size() < st_->max_pending || st_->closing; });
    st_->jobs.push_back(std::move(fn));
    st_->work.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(st_->mu);
      st_->shutdown = true;
    }
    st_->work.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(st_->mu);
        st_->work.wait(lock, [&] { return !st_->jobs.empty() || st_->shutdown; });
        if (st_->jobs.empty()) return;
        fn = std::move(st_->jobs.front());
        st_->jobs.pop_front();
      }
      st_->space.notify_one();
      fn();  // serves one connection, then closes it
    }
  }

  std::shared_ptr<PoolState> st_;
  std::vector<std::thread> threads_;
};

// Shuts c down (both ways) if its fd still holds the socket that was listed:
// between the listing and now a pool thread may have closed it and the
// listener accepted another connection onto the same number. A duplicate of
// the fd pins the socket while its inode is compared and it is shut down.
bool shutdown_if_same(const Connection& c) {
  const int d = ::fcntl(c.fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return false;
  struct stat st {};
  const bool same = ::fstat(d, &st) == 0 && static_cast<std::uint64_t>(st.st_ino) == c.inode;
  if (same) ::shutdown(d, SHUT_RDWR);
  ::close(d);
  return same;
}

// Shuts down (both ways) every connection the server accepted: a thread
// blocked reading one returns at once. Used when stopping, so that a client
// that trickles bytes cannot hold a thread, and the host's exit, for ever.
void shutdown_connections(int port) {
  for (const auto& c : connections_on_port(port)) shutdown_if_same(c);
}

std::string read_check(const std::string& path, const std::string& option, const std::string& what) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;  // open(2)'s, which the stream leaves
    const std::string msg = "option prometheus." + option + ": cannot read " + what + " " + path;
    throw Error((err ? errno_message(msg, err) : msg) + "; give a readable PEM file");
  }
  return path;
}

}  // namespace

struct MetricsServer::Impl {
  std::unique_ptr<httplib::Server> svr;
  std::shared_ptr<PoolState> pool = std::make_shared<PoolState>();
  std::thread listener;
  std::atomic<bool> listener_done{false};
  // The janitor: ends connections the library would keep (see SERVING.md).
  std::thread janitor;
  std::mutex janitor_mu;
  std::condition_variable janitor_cv;
  bool janitor_stop = false;
  BasicAuth auth;
  Logger log;
  std::string retry_after;
  bool stopped = false;
  std::atomic<std::uint64_t> cut{0};
};

MetricsServer::MetricsServer(const ServerConfig& cfg, Logger log) : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.log = log;
  // The library buffers a request header line whole (up to 8 kB once read,
  // but a client may send far more before a line end, within what the
  // janitor allows). glibc would serve such a buffer, once one of its size
  // has been freed, from the serving thread's arena and keep it there: a
  // burst of 1 MB headers left 3 MB in each of the 8 threads' arenas for
  // good. A fixed threshold keeps large buffers in mmap, returned on free
  // (glibc's default before its dynamic adjustment; process-wide).
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  im.auth = BasicAuth(cfg.basic_auth_users);
  im.pool->max_pending = cfg.max_pending;
  im.retry_after = std::to_string(std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(cfg.interval + std::chrono::milliseconds(999)).count()));

  const bool tls = !cfg.tls_cert_file.empty() || !cfg.tls_key_file.empty();
  if (tls) {
    if (cfg.tls_cert_file.empty())
      throw Error("option prometheus.tls_key_file is set but prometheus.tls_cert_file is not; give both, or neither");
    if (cfg.tls_key_file.empty())
      throw Error("option prometheus.tls_cert_file is set but prometheus.tls_key_file is not; give both, or neither");
    read_check(cfg.tls_cert_file, "tls_cert_file", "certificate");
    read_check(cfg.tls_key_file, "tls_key_file", "key");
    auto ssl = std::make_unique<httplib::SSLServer>(cfg.tls_cert_file.c_str(), cfg.tls_key_file.c_str());
    if (!ssl->is_valid())
      throw Error("option prometheus.tls_cert_file " + cfg.tls_cert_file + " and tls_key_file " + cfg.tls_key_file +
                  ": cannot load them as a PEM certificate and its private key; give a matching pair (e.g. made "
                  "with openssl req -x509 -newkey rsa:2048 -nodes)");
    im.svr = std::move(ssl);
  } else {
    im.svr = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *im.svr;

  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, with which a
  // second process of the same user could bind the same port and take half
  // of the scrapes instead of failing.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_read_timeout(cfg.read_timeout);
  svr.set_write_timeout(cfg.write_timeout);
  svr.set_keep_alive_timeout(static_cast<time_t>(cfg.keep_alive_timeout.count()));
  svr.set_keep_alive_max_count(cfg.keep_alive_max);
  svr.set_payload_max_length(cfg.payload_max);
  const std::size_t threads = cfg.threads;
  std::shared_ptr<PoolState> pool = im.pool;
  svr.new_task_queue = [pool, threads] { return new BoundedPool(pool, threads); };

  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    using R = httplib::Server::HandlerResponse;
    if (!impl_->auth.allows(req.get_header_value("Authorization"))) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"netmon\"");
      res.set_content("401 Unauthorized\n", kPlain);
      return R::Handled;
    }
    const bool metrics = req.path == "/metrics";
    if (!metrics && req.path != "/") {
      res.status = 404;
      res.set_content("404 Not Found: the metrics are at /metrics\n", kPlain);
      return R::Handled;
    }
    if (req.method != "GET") {
      res.status = 405;
      res.set_header("Allow", "GET");
      res.set_content("405 Method Not Allowed: use GET\n", kPlain);
      return R::Handled;
    }
    if (!metrics) {
      res.set_content(
          "<html><head><title>netmon</title></head><body><h1>netmon</h1>"
          "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n",
          "text/html; charset=utf-8");
      return R::Handled;
    }
    const std::shared_ptr<const Scrape> s = current_.load();
    if (!s) {
      res.status = 503;
      res.set_header("Retry-After", impl_->retry_after);
      res.set_content("503 Service Unavailable: no collection yet; the first comes after one interval\n", kPlain);
      return R::Handled;
    }
    if (wants_openmetrics(req.get_header_value("Accept"))) res.set_content(s->openmetrics, kOpenMetricsType);
    else res.set_content(s->text, kTextType);
    return R::Handled;
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("500 Internal Server Error\n", kPlain);
  });

  const ListenAddress& a = cfg.address;
  if (a.port == 0) {
    port_ = svr.bind_to_any_port(a.host);
  } else {
    port_ = svr.bind_to_port(a.host, a.port) ? a.port : -1;
  }
  if (port_ < 0) {
    // cpp-httplib says only that it failed, and errno after its calls may be
    // another call's: bind a socket of our own to learn the reason.
    const int err = bind_error(a);
    std::string why = err ? std::strerror(err) : "cannot bind";
    std::string fix = "choose another address or port";
    if (err == EADDRINUSE) fix = "another program listens there: stop it, or choose another port";
    if (err == EADDRNOTAVAIL) fix = "no interface has that address: choose one of this host's addresses";
    if (err == EACCES) fix = "choose a port from 1024 up";
    throw Error("cannot listen on " + a.text() + ": " + why + "; " + fix);
  }

  // The listener: started here, before the host drops its capabilities, and
  // made to drop them with every other thread (signal SIGRTMIN+4, which no
  // thread of ours blocks). Its pool threads are created by it.
  im.listener = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "prom-listen");
    impl_->svr->listen_after_bind();
    impl_->listener_done = true;
  });
  try {
    im.janitor = std::thread([this, cfg] {
      ::pthread_setname_np(::pthread_self(), "prom-janitor");
      janitor(cfg);
    });
  } catch (...) {
    // No janitor thread: stop the listener, or destroying it would terminate.
    im.svr->stop();
    im.listener.join();
    throw;
  }
}

// Every 100 ms: a connection whose response has not advanced for
// header_deadline (a slowloris before its first response, after a keep-alive
// response or after the TLS handshake, or a silent client), that is older
// than max_connection_age, or that sent more than max_received bytes is shut
// down; the thread serving it returns at once. Idle keep-alive connections
// are closed by the library itself after keep_alive_timeout, which is shorter.
void MetricsServer::janitor(const ServerConfig& cfg) {
  using Clock = std::chrono::steady_clock;
  struct Track {
    Clock::time_point since;     // first seen
    std::uint64_t sent = 0;      // bytes of response acknowledged, as last seen
    Clock::time_point progress;  // when that last grew (or was first seen)
  };
  std::map<std::uint64_t, Track> tracked;  // by socket inode
  std::unique_lock<std::mutex> lock(impl_->janitor_mu);
  while (!impl_->janitor_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return impl_->janitor_stop; })) {
    const auto now = Clock::now();
    std::map<std::uint64_t, Track> seen;
    for (const auto& c : connections_on_port(port_)) {
      const auto it = tracked.find(c.inode);
      Track t = it == tracked.end() ? Track{now, c.sent, now} : it->second;
      if (c.sent != t.sent) {
        t.sent = c.sent;
        t.progress = now;
      }
      seen.emplace(c.inode, t);
      const char* why = nullptr;
      if (c.received > cfg.max_received) why = "sent too much";
      else if (now - t.progress > cfg.header_deadline) why = "sent no whole request in time";
      else if (now - t.since > cfg.max_connection_age) why = "is too old";
      if (why) {
        ++impl_->cut;  // first: the client may look as soon as it is shut down
        if (shutdown_if_same(c)) impl_->log.debug(std::string("ended a connection that ") + why);
        else --impl_->cut;  // closed meanwhile: nothing was ended
      }
    }
    tracked = std::move(seen);
  }
}

void MetricsServer::stop() {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  {
    std::lock_guard<std::mutex> lock(im.pool->mu);
    im.pool->closing = true;  // the listener no longer waits for room
  }
  im.pool->space.notify_all();
  // stop() only acts once listen_after_bind runs: repeat until the listener
  // ends, ending the accepted connections meanwhile so that no client holds
  // a thread.
  bool told = false;
  while (!im.listener_done) {
    if (!told && im.svr->is_running()) {
      im.svr->stop();  // once: it closes the listening socket
      told = true;
    }
    shutdown_connections(port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (im.listener.joinable()) im.listener.join();
  {
    std::lock_guard<std::mutex> lock(im.janitor_mu);
    im.janitor_stop = true;
  }
  im.janitor_cv.notify_all();
  if (im.janitor.joinable()) im.janitor.join();
}

std::uint64_t MetricsServer::connections_ended() const { return impl_->cut; }

MetricsServer::~MetricsServer() { stop(); }

}  // namespace netmon::prometheus
