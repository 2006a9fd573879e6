// SPDX-License-Identifier: MIT
// The prometheus sink scraped by a real Prometheus server (Debian's
// prometheus package): the test starts the server with its own
// configuration and storage on loopback ports, sends exactly N datagrams
// across a veth pair, and asks the server's HTTP API what it stored. Then
// promtool checks a real scrape, and the same again over TLS with basic
// authentication, where a wrong password leaves the target down.
#include <crypt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/subprocess.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using netmon::test::HostRun;
using netmon::test::sample_of;
using netmon::test::Subprocess;
using netmon::test::VethPair;

const char* const kPrometheus = "/usr/bin/prometheus";
const char* const kPromtool = "/usr/bin/promtool";

std::string temp_dir(const std::string& what) {
  std::string tmpl = (fs::temp_directory_path() / ("netmon-" + what + ".XXXXXX")).string();
  return ::mkdtemp(tmpl.data()) ? tmpl : "";
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

// curl, with its body on stdout; nullopt if curl fails.
std::optional<std::string> curl(const std::vector<std::string>& args) {
  std::vector<std::string> cmd{"/usr/bin/curl", "-sS", "--max-time", "10"};
  cmd.insert(cmd.end(), args.begin(), args.end());
  const auto r = netmon::test::run(cmd, 15s);
  if (r.status.code != 0) return std::nullopt;
  return r.out;
}

// A Prometheus server of the test's own, on a free loopback port, with a
// fresh storage directory, scraping every second; stopped and removed by
// the destructor.
class PrometheusServer {
 public:
  // scrape_configs: the YAML list under scrape_configs:, indented by two.
  explicit PrometheusServer(const std::string& scrape_configs)
      : dir_(temp_dir("prometheus")), port_(netmon::test::free_loopback_port()) {
    write_file(fs::path(dir_) / "prometheus.yml",
               "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n" +
                   scrape_configs);
    p_.emplace(std::vector<std::string>{kPrometheus, "--config.file=" + dir_ + "/prometheus.yml",
                                        "--storage.tsdb.path=" + dir_ + "/data",
                                        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"});
  }
  ~PrometheusServer() {
    if (p_) {
      p_->signal(SIGTERM);
      if (!p_->wait(15s)) {
        p_->signal(SIGKILL);
        (void)p_->wait(5s);
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] std::string stderr_text() { return p_->stderr_text(); }

  // GET /api/v1/<path> with the query arguments url-encoded; the "data" member.
  std::optional<nlohmann::json> api(const std::string& path, const std::vector<std::string>& args = {}) {
    std::vector<std::string> cmd{"-G", "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/" + path};
    for (const auto& a : args) cmd.insert(cmd.end(), {"--data-urlencode", a});
    const auto body = curl(cmd);
    if (!body) return std::nullopt;
    const auto j = nlohmann::json::parse(*body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
    return j["data"];
  }
  // The value of an instant query that returns exactly one series.
  std::optional<double> value(const std::string& expr) {
    const auto d = api("query", {"query=" + expr});
    if (!d || (*d)["result"].size() != 1) return std::nullopt;
    return std::stod((*d)["result"][0]["value"][1].get<std::string>());
  }
  // The active target of job `job`, once it has been scraped (health not "unknown").
  std::optional<nlohmann::json> target(const std::string& job, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (const auto d = api("targets"))
        for (const auto& t : (*d)["activeTargets"])
          if (t["labels"].value("job", "") == job && t.value("health", "unknown") != "unknown") return t;
      std::this_thread::sleep_for(250ms);
    }
    return std::nullopt;
  }
  // Polls expr until it equals want (true) or the timeout passes; *last holds the last value seen.
  bool wait_value(const std::string& expr, double want, std::chrono::milliseconds timeout, double* last) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (const auto v = value(expr)) {
        *last = *v;
        if (*v == want) return true;
      }
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }

 private:
  std::string dir_;
  int port_;
  std::optional<Subprocess> p_;
};

class PrometheusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETMON_REQUIRE_ROOT();
    for (const char* tool : {kPrometheus, kPromtool})
      if (!fs::exists(tool)) {
        if (netmon::test::in_ci()) FAIL() << tool << " is missing (scripts/install-deps.sh installs prometheus)";
        GTEST_SKIP() << tool << " is missing: apt-get install prometheus";
      }
  }

  // Sends exactly kDatagrams UDP datagrams of kPayload bytes from one source
  // port, and checks that Prometheus stored the exact increase of the
  // interface's UDP counters, a non-zero rate, and the flow among the top
  // flows with its identity as labels. job: the scrape job to query.
  void expect_exact_counts(PrometheusServer& prom, const VethPair& v, const std::string& job) {
    const std::string sel =
        "{job=\"" + job + "\",ifname=\"" + v.host_if() + "\",direction=\"ingress\",l3=\"ipv4\",l4=\"udp\"}";
    const std::string packets = "netmon_tc_packets_total" + sel, bytes = "netmon_tc_bytes_total" + sel;
    double p0 = -1, b0 = -1;
    ASSERT_TRUE(prom.wait_value(packets, 0, 20s, &p0)) << "no UDP yet, so 0 first; last seen " << p0;
    ASSERT_TRUE(prom.wait_value(bytes, 0, 5s, &b0)) << b0;

    netmon::test::send_udp(v, kDatagrams, kPayload, 1, 9000, 40123);
    double p1 = -1, b1 = -1;
    // At TC a datagram is its Ethernet, IPv4 and UDP headers and the payload.
    EXPECT_TRUE(prom.wait_value(packets, kDatagrams, 20s, &p1)) << "stored " << p1 << ", sent " << kDatagrams;
    EXPECT_TRUE(prom.wait_value(bytes, kDatagrams * (14.0 + 20 + 8 + kPayload), 10s, &b1)) << "stored " << b1;

    const auto rate = prom.value("rate(netmon_tc_packets_total" + sel + "[20s])");
    ASSERT_TRUE(rate);
    EXPECT_GT(*rate, 0.0);

    const std::string flow = "netmon_flow_packets_total{job=\"" + job + "\",ifname=\"" + v.host_if() +
                             "\",direction=\"ingress\",proto=\"udp\",src=\"" + v.peer_ip() + "\",dst=\"" + v.host_ip() +
                             "\",sport=\"40123\",dport=\"9000\"}";
    double f = -1;
    EXPECT_TRUE(prom.wait_value(flow, kDatagrams, 10s, &f)) << "the top flow: " << f;
    // No rank label: a flow's series keeps its identity as it moves in the ranking.
    const auto d = prom.api("series", {"match[]=netmon_flow_packets_total{job=\"" + job + "\"}"});
    ASSERT_TRUE(d);
    for (const auto& s : *d) EXPECT_FALSE(s.contains("rank")) << s.dump();
  }

  static constexpr std::uint64_t kDatagrams = 3000;
  static constexpr std::uint64_t kPayload = 100;
};

TEST_F(PrometheusServerTest, ARealServerStoresExactCountsAndPromtoolFindsNothingToSay) {
  VethPair v;
  const int port = netmon::test::free_loopback_port();
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--sink", "prometheus:" + addr, "--interval", "500ms"});
  ASSERT_TRUE(host.wait_for(sample_of("tc_stats", {}), 15s)) << host.stderr_text();

  PrometheusServer prom("  - job_name: netmon\n    static_configs:\n      - targets: ['" + addr + "']\n");
  const auto t = prom.target("netmon", 30s);
  ASSERT_TRUE(t) << prom.stderr_text();
  EXPECT_EQ((*t)["health"], "up") << t->dump();
  host.reading_while([&] {
    expect_exact_counts(prom, v, "netmon");
    return 0;
  });

  // promtool on what a scrape returns: no error, no lint warning.
  const std::string scrape = (fs::path(prom.dir()) / "scrape.txt").string();
  ASSERT_TRUE(curl({"-o", scrape, "http://" + addr + "/metrics"}));
  const auto check = netmon::test::run({"/bin/sh", "-c", std::string(kPromtool) + " check metrics < " + scrape}, 30s);
  EXPECT_EQ(check.status.code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "") << "promtool has something to say";

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  netmon::test::expect_nothing_left(v.host_if());
}

TEST_F(PrometheusServerTest, OverTlsWithBasicAuthAndAWrongPasswordLeavesTheTargetDown) {
  const std::string dir = temp_dir("prometheus-tls");
  ASSERT_FALSE(dir.empty());
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  auto r = netmon::test::run(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj",
       "/CN=localhost", "-days", "1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
      60s);
  ASSERT_EQ(r.status.code, 0) << r.err;
  // The bcrypt hash of the password, as htpasswd -B or mkpasswd -m bcrypt make it.
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  ASSERT_NE(crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  const char* hash = crypt_r("s3cret pass", salt, &data);
  ASSERT_TRUE(hash && hash[0] == '$') << "bcrypt is not available";

  VethPair v;
  const std::string addr = "127.0.0.1:" + std::to_string(netmon::test::free_loopback_port());
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--sink", "prometheus:" + addr, "--interval", "500ms", "-o",
                "prometheus.tls_cert_file=" + cert, "-o", "prometheus.tls_key_file=" + key, "-o",
                "prometheus.basic_auth_users={\"prom\":\"" + std::string(hash) + "\"}"});
  ASSERT_TRUE(host.wait_for(sample_of("tc_stats", {}), 15s)) << host.stderr_text();

  const std::string tls = "    scheme: https\n    tls_config:\n      ca_file: " + cert + "\n";
  PrometheusServer prom("  - job_name: netmon\n" + tls +
                        "    basic_auth:\n      username: prom\n      password: 's3cret pass'\n" +
                        "    static_configs:\n      - targets: ['" + addr + "']\n" + "  - job_name: wrong_password\n" +
                        tls + "    basic_auth:\n      username: prom\n      password: guess\n" +
                        "    static_configs:\n      - targets: ['" + addr + "']\n");
  const auto good = prom.target("netmon", 30s);
  ASSERT_TRUE(good) << prom.stderr_text();
  EXPECT_EQ((*good)["health"], "up") << good->dump();
  const auto bad = prom.target("wrong_password", 30s);
  ASSERT_TRUE(bad);
  EXPECT_EQ((*bad)["health"], "down") << bad->dump();
  EXPECT_NE((*bad).value("lastError", "").find("401"), std::string::npos) << bad->dump();
  host.reading_while([&] {
    expect_exact_counts(prom, v, "netmon");
    return 0;
  });

  // The same refusal seen by curl: 401 without the password, 200 with it.
  const auto code = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--cacert", cert, "-o", "/dev/null", "-w", "%{http_code}"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://" + addr + "/metrics");
    return curl(args).value_or("curl failed");
  };
  EXPECT_EQ(code({}), "401");
  EXPECT_EQ(code({"-u", "prom:guess"}), "401");
  EXPECT_EQ(code({"-u", "prom:s3cret pass"}), "200");

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  netmon::test::expect_nothing_left(v.host_if());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
