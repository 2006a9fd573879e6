// SPDX-License-Identifier: MIT
// The ipfix sink: flow records (docs/SAMPLES.md, "Flow records") exported to
// an IPFIX collector over UDP or TCP (RFC 7011).
//
// open() runs on the host's main thread before any plugin attaches: it reads
// the options, resolves the collector and makes the socket, so a bad target
// or option fails before anything is attached. write() runs on the sink's bus
// thread: it maps the batch's flow records, encodes and sends them without
// ever waiting on the network. close() gives TCP a second to deliver what is
// queued, then logs how many records were sent and how many were lost.
#include "encoder.hpp"
#include "exporter.hpp"
#include "record.hpp"

#include <netmon/options.hpp>
#include <netmon/sink.hpp>

#include <memory>
#include <vector>

namespace {

using namespace netmon::ipfix;

// The largest UDP payload over IPv4 (65535 - 20 - 8).
constexpr std::int64_t kMaxUdpMtu = 65507;

constexpr netmon::option::Choice kTransport{
    .key = "transport", .values = "udp|tcp", .def = "udp", .help = "how messages reach the collector"};
constexpr netmon::option::Integer kMtu{.key = "mtu",
                                       .min = static_cast<std::int64_t>(kMinMtu),
                                       .max = static_cast<std::int64_t>(kMaxMtu),
                                       .def = 1400,
                                       .help = "largest message in bytes, IPFIX header included (UDP: up to 65507)"};
constexpr netmon::option::Integer kDomain{.key = "domain",
                                          .min = 0,
                                          .max = 4294967295LL,
                                          .def = 0,
                                          .help = "the observation domain ID in every message header"};
constexpr netmon::option::Integer kTemplateRefresh{.key = "template_refresh",
                                                   .min = 1,
                                                   .max = 86400,
                                                   .def = 60,
                                                   .help = "UDP: seconds between resending the templates"};
constexpr netmon::OptionList kOptions{kTransport, kMtu, kDomain, kTemplateRefresh};
static_assert(kMaxUdpMtu < kMtu.max);

class IpfixSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    log_ = ctx.log;
    ExporterConfig cfg;
    cfg.target = parse_target(ctx.target);
    netmon::Options opts(ctx.options, "ipfix", kOptions);
    cfg.transport = opts.get(kTransport) == "tcp" ? Transport::tcp : Transport::udp;
    const std::int64_t max_mtu = cfg.transport == Transport::udp ? kMaxUdpMtu : kMtu.max;
    // Both ends of the range with their reason, rather than "out of range".
    cfg.mtu = static_cast<std::size_t>(opts.get(kMtu, [&](std::int64_t mtu) {
      if (mtu < kMtu.min)
        throw netmon::UsageError("option ipfix.mtu: " + std::to_string(mtu) + " is below " + std::to_string(kMtu.min) +
                                 ", the smallest message that carries the templates (16-byte header + 124-byte "
                                 "template set; one IPv6 record needs 101); give -o ipfix.mtu=" +
                                 std::to_string(kMtu.min) + " or more (default " + std::to_string(kMtu.def) + ")");
      if (mtu > max_mtu)
        throw netmon::UsageError("option ipfix.mtu: " + std::to_string(mtu) + " is above " + std::to_string(max_mtu) +
                                 ", the largest IPFIX message " +
                                 (cfg.transport == Transport::udp ? "a UDP datagram carries" : "can be") +
                                 "; give -o ipfix.mtu=" + std::to_string(kMtu.min) + " to " + std::to_string(max_mtu));
    }));
    cfg.domain = static_cast<std::uint32_t>(opts.get(kDomain));
    cfg.template_refresh = std::chrono::seconds(opts.get(kTemplateRefresh));
    opts.finish();
    exporter_ = std::make_unique<Exporter>(cfg, ctx.log);
    transport_ = cfg.transport == Transport::udp ? "udp" : "tcp";
    ctx.log.debug("exporting flow records to " + exporter_->peer() + " over " + transport_ + ", mtu " +
                  std::to_string(cfg.mtu) + ", observation domain " + std::to_string(cfg.domain));
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    records_.clear();
    std::string why;
    for (const auto& s : batch.samples) {
      if (!s.is_event()) continue;  // snapshots are never flow records
      if (auto r = to_flow_record(s, &why)) {
        records_.push_back(*r);
      } else {
        if (ignored_ == 0)
          log_.debug("ignoring event '" + s.measurement + "': not a flow record (" + why +
                     "); further ones are counted, not logged");
        ++ignored_;
      }
    }
    records_seen_ += records_.size();
    if (records_seen_ == 0 && ++empty_batches_ == kQuietBatches)
      log_.warn("ipfix: no flow record in " + std::to_string(kQuietBatches) +
                " intervals: no plugin publishes them; flow_top does with -o flow_top.finished=true");
    exporter_->send(records_);
    return netmon::WriteResult::ok;
  }

  void close() override {
    if (!exporter_) return;
    exporter_->finish(std::chrono::milliseconds(1000));
    const auto& c = exporter_->counts();
    std::string line = std::to_string(c.sent) + " records sent to " + exporter_->peer() + " over " + transport_ + ", " +
                       std::to_string(c.lost) + " lost";
    if (c.lost) {
      std::string reasons;
      for (std::size_t i = 0; i < kLossKinds; ++i)
        if (c.by_reason[i])
          reasons +=
              (reasons.empty() ? "" : ", ") + std::to_string(c.by_reason[i]) + " " + loss_text(static_cast<Loss>(i));
      line += " (" + reasons + ")";
    }
    if (ignored_) line += "; " + std::to_string(ignored_) + " events that are not flow records ignored";
    if (c.lost) log_.warn(line);
    else log_.info(line);
    exporter_.reset();
  }

 private:
  netmon::Logger log_;
  std::unique_ptr<Exporter> exporter_;
  std::vector<FlowRecord> records_;
  std::uint64_t ignored_ = 0;
  std::uint64_t records_seen_ = 0;
  std::uint64_t empty_batches_ = 0;
  static constexpr std::uint64_t kQuietBatches = 10;
  std::string transport_;
};

}  // namespace

NETMON_SINK_WITH_OPTIONS(IpfixSink, "ipfix", "0.1.0",
                         "Exports flow records (events following the flow-record convention) to an IPFIX collector",
                         kOptions)
