// SPDX-License-Identifier: MIT
// A plugin publishing floating-point fields that are not finite (NaN, +inf,
// -inf) beside finite ones, for the sinks' tests: the line protocol of the
// influx example sink has no spelling for them. Every interval:
//   nonfinite {case=mixed} finite=1.5 nan=NaN inf=+inf minus_inf=-inf count=7 (u64)
//   nonfinite {case=none}  nan=NaN inf=+inf minus_inf=-inf
//   nonfinite {case=large} big=1e300 small=-2.5e-300
#include <netmon/plugin.hpp>

#include <limits>

namespace {

class NonFinite final : public netmon::Plugin {
 public:
  void start(const netmon::StartContext&) override {}
  void collect(std::int64_t, netmon::Emitter& out) override {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr double inf = std::numeric_limits<double>::infinity();
    out.publish(netmon::Sample("nonfinite")
                    .tag("case", "mixed")
                    .gauge_f("finite", 1.5)
                    .gauge_f("nan", nan)
                    .gauge_f("inf", inf)
                    .gauge_f("minus_inf", -inf)
                    .gauge("count", 7));
    out.publish(netmon::Sample("nonfinite")
                    .tag("case", "none")
                    .gauge_f("nan", nan)
                    .gauge_f("inf", inf)
                    .gauge_f("minus_inf", -inf));
    out.publish(netmon::Sample("nonfinite").tag("case", "large").gauge_f("big", 1e300).gauge_f("small", -2.5e-300));
  }
  void stop() noexcept override {}
};

}  // namespace

NETMON_PLUGIN(NonFinite, "nonfinite", "0.0.1", "SDK test fixture: NaN and infinite float fields")
