// SPDX-License-Identifier: MIT
// The prometheus sink: serves the last collection at GET /metrics.
//
// open() runs on the host's main thread, with privileges, before any plugin
// attaches: it checks the options, binds the socket (a port in use fails
// there, before anything is attached) and starts the listener thread. write()
// runs on the sink's own bus thread each interval: it renders the batch and
// swaps the result in whole. A scrape only loads the current snapshot, so
// neither ever waits for the other.
#include "exposition.hpp"
#include "serve.hpp"

#include <netmon/options.hpp>
#include <netmon/sink.hpp>

#include <memory>

namespace {

constexpr netmon::option::String kTlsCertFile{
    .key = "tls_cert_file", .values = "PATH", .help = "PEM certificate: serve HTTPS (with tls_key_file)"};
constexpr netmon::option::String kTlsKeyFile{
    .key = "tls_key_file", .values = "PATH", .help = "PEM private key of tls_cert_file"};
constexpr netmon::option::StringMap kBasicAuthUsers{
    .key = "basic_auth_users", .values = R"({"USER": "BCRYPT_HASH", ...})", .help = "require HTTP basic auth"};
constexpr netmon::OptionList kOptions{kTlsCertFile, kTlsKeyFile, kBasicAuthUsers};

class PrometheusSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::prometheus::ServerConfig cfg;
    cfg.address = netmon::prometheus::parse_listen_address(ctx.target);
    netmon::Options opts(ctx.options, "prometheus", kOptions);
    cfg.tls_cert_file = opts.get(kTlsCertFile);
    cfg.tls_key_file = opts.get(kTlsKeyFile);
    cfg.basic_auth_users = opts.get(kBasicAuthUsers);
    opts.finish();
    cfg.interval = ctx.interval;
    server_ = std::make_unique<netmon::prometheus::MetricsServer>(cfg, ctx.log);
    const std::string scheme = cfg.tls_cert_file.empty() ? "http" : "https";
    const std::string auth = cfg.basic_auth_users.empty() ? "" : ", basic auth";
    ctx.log.debug("serving " + scheme + "://" + cfg.address.text() + "/metrics" + auth);
    if (!cfg.address.loopback)
      ctx.log.warn("listening on " + cfg.address.text() + ", not a loopback address: other hosts can reach /metrics" +
                   (cfg.basic_auth_users.empty() ? " without authentication" : ""));
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    server_->publish(netmon::prometheus::render(batch, opts_));
    return netmon::WriteResult::ok;
  }

  void close() override {
    if (server_) server_->stop();
  }

 private:
  netmon::prometheus::RenderOptions opts_;
  std::unique_ptr<netmon::prometheus::MetricsServer> server_;
};

}  // namespace

NETMON_SINK_WITH_OPTIONS(PrometheusSink, "prometheus", "0.1.0",
                         "Serves the last collection at GET /metrics (Prometheus text and OpenMetrics)", kOptions)
