// SPDX-License-Identifier: MIT
// Reliability: faults inside netmon and around it. A plugin whose collect()
// throws, an interface deleted while monitored, someone else's TC programs
// on the same hooks, outputs that block or fill up, and the capabilities left
// once everything is attached. In every case nothing of ours stays behind.
#include <netmon/bpf.hpp>

#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "foreign_tc.skel.h"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS static_cast<bpf_attach_type>(46)
#endif
#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS static_cast<bpf_attach_type>(47)
#endif

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using netmon::test::field_u64;
using netmon::test::HostRun;
using netmon::test::json_lines;
using netmon::test::lines_of;
using netmon::test::sample_of;
using netmon::test::VethPair;

const std::string kFixtures = NETMON_TEST_FIXTURE_DIR;

// ---- a plugin that fails while running -------------------------------------

TEST(Reliability, APluginWhoseCollectThrowsIsStoppedAloneAndTheOthersGoOn) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const auto r = netmon::test::run(
      netmon::test::host_cmd({"--plugins", "xdp_stats,tc_stats," + kFixtures + "/libnetmon_collect_throws.so",
                              "--iface", v.host_if(), "--sink", "json", "--interval", "100ms", "--count", "8"}),
      30s);
  EXPECT_EQ(r.status.code, 0) << r.err;
  const auto samples = json_lines(r.out);
  int fixture = 0, xdp = 0, tc = 0;
  for (const auto& j : samples) {
    fixture += j["measurement"] == "collect_throws";
    xdp += j["measurement"] == "xdp_stats";
    tc += j["measurement"] == "tc_stats";
  }
  EXPECT_EQ(fixture, 2);  // it published twice, then threw
  EXPECT_EQ(xdp, 8);      // the others kept collecting, every interval
  EXPECT_EQ(tc, 16);
  // The host's self-metrics say so: the failed plugin is down with one
  // collect error, the others up with none.
  const auto self = [&](const std::string& plugin) {
    std::optional<nlohmann::json> last;
    for (const auto& j : samples)
      if (j["measurement"] == "netmon_host_plugin" && j["tags"]["plugin"] == plugin) last = j;
    return last;
  };
  const auto failed = self("collect_throws"), xdp_self = self("xdp_stats");
  ASSERT_TRUE(failed && xdp_self) << r.out;
  EXPECT_EQ((*failed)["fields"]["up"], 0);
  EXPECT_EQ((*failed)["fields"]["collect_errors"], 1);
  EXPECT_EQ((*xdp_self)["fields"]["up"], 1);
  EXPECT_EQ((*xdp_self)["fields"]["collect_errors"], 0);
  std::vector<std::string> errors;
  for (const auto& l : lines_of(r.err))
    if (l.find(": error:") != std::string::npos) errors.push_back(l);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("collect_throws: collect failed: fixture collect failed: the widget fell over"),
            std::string::npos)
      << errors[0];
  EXPECT_NE(errors[0].find("the others go on"), std::string::npos) << errors[0];
  netmon::test::expect_nothing_left(v.host_if());
}

// ---- an interface deleted while monitored -------------------------------------

TEST(Reliability, AnInterfaceDeletedWhileMonitoredIsDroppedAndTheRestGoesOn) {
  NETMON_REQUIRE_ROOT();
  VethPair keep;
  auto gone = std::make_unique<VethPair>();
  const std::string gone_if = gone->host_if();
  HostRun host({"--iface", keep.host_if(), "--iface", gone_if, "--sink", "json", "--interval", "200ms", "-o",
                "tc_stats.attach=netlink"});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 15s)) << host.stderr_text();
  gone.reset();  // deletes the pair and its namespace under netmon's feet
  // Samples for the remaining interface keep coming; the deleted one's stop.
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);  // read what the host wrote meanwhile
  const std::size_t before = host.samples().size();
  ASSERT_TRUE(host.wait_for(sample_of("xdp_stats", {{"ifname", keep.host_if()}}), 5s));
  ASSERT_TRUE(host.wait_for(sample_of("xdp_stats", {{"ifname", keep.host_if()}}), 5s));
  for (std::size_t i = before; i < host.samples().size(); ++i)
    EXPECT_NE(host.samples()[i]["tags"].value("ifname", ""), gone_if) << host.samples()[i].dump();
  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  for (const char* plugin : {"xdp_stats", "tc_stats", "flow_top"})
    EXPECT_NE(host.stderr_text().find(std::string(plugin) + ": " + gone_if), std::string::npos)
        << plugin << " did not say " << gone_if << " is gone:\n"
        << host.stderr_text();
  for (const auto& l : lines_of(host.stderr_text())) EXPECT_EQ(l.find(": error:"), std::string::npos) << l;
  netmon::test::expect_nothing_left(keep.host_if());
}

TEST(Reliability, AnInterfaceRenamedWhileMonitoredStaysMonitoredAndIsCleanedUp) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const std::string renamed = "nmtren" + std::to_string(getpid() % 100000);
  // The netlink fallback: its filters, unlike links, must be removed by name-independent means.
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--interval", "200ms", "-o", "tc_stats.attach=netlink"});
  const auto in = sample_of("tc_stats", {{"direction", "ingress"}});
  ASSERT_TRUE(host.wait_for(in, 15s)) << host.stderr_text();
  ASSERT_EQ(netmon::test::sh("ip link set " + v.host_if() + " down && ip link set " + v.host_if() + " name " + renamed +
                             " && ip link set " + renamed + " up"),
            0);
  host.wait_for([](const nlohmann::json&) { return false; }, 1s);
  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  EXPECT_EQ(host.stderr_text().find("is gone"), std::string::npos) << "a rename is not a deletion:\n"
                                                                   << host.stderr_text();
  netmon::test::expect_nothing_left(renamed);
  EXPECT_FALSE(netmon::test::tc_has_clsact(renamed)) << "the clsact netmon made is left on the renamed interface";
}

// ---- --ready-file: when a script may start its traffic -------------------------

// Programs attached at a tcx hook of ifindex (BPF_PROG_QUERY).
std::uint32_t tcx_programs(int ifindex, bpf_attach_type hook) {
  LIBBPF_OPTS(bpf_prog_query_opts, q);
  if (bpf_prog_query_opts(ifindex, hook, &q) != 0) return 0;
  return q.prog_cnt;
}

TEST(Reliability, TheReadyFileAppearsOnceEveryPluginIsAttachedAndGoesAtExit) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  struct Dir {
    fs::path path = fs::temp_directory_path() / ("netmon-ready-" + std::to_string(getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() { fs::remove_all(path); }
  } tmp;
  const fs::path& dir = tmp.path;
  const fs::path ready = dir / "ready";
  std::ofstream(ready) << "1\n";  // left by a run that was killed
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--ready-file", ready.string()});
  const int ifindex = static_cast<int>(if_nametoindex(v.host_if().c_str()));
  const auto read_pid = [&ready]() -> std::string {
    std::ifstream in(ready);
    std::string text;
    std::getline(in, text);
    return text;
  };
  // Poll as a script would; the moment it shows this run's PID, every
  // program is on its hook.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (read_pid() != std::to_string(host.process().pid()) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  ASSERT_EQ(read_pid(), std::to_string(host.process().pid())) << host.stderr_text();
  EXPECT_NE(netmon::test::xdp_prog_id(v.host_if()), 0u) << "xdp_stats is not attached yet";
  EXPECT_EQ(tcx_programs(ifindex, BPF_TCX_INGRESS), 2u) << "tc_stats and flow_top at ingress";
  EXPECT_EQ(tcx_programs(ifindex, BPF_TCX_EGRESS), 2u) << "... and at egress";
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "a temporary file is left beside the ready file";
  // A second netmon-host given the same file is refused, and leaves it be.
  const auto second =
      netmon::test::run(netmon::test::host_cmd({"--iface", v.host_if(), "--ready-file", ready.string()}), 20s);
  EXPECT_EQ(second.status.code, 1) << second.err;
  EXPECT_NE(second.err.find("running netmon-host (PID " + std::to_string(host.process().pid()) + ")"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(read_pid(), std::to_string(host.process().pid()));

  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  EXPECT_FALSE(fs::exists(ready)) << "the ready file outlives its run";
  EXPECT_TRUE(fs::is_empty(dir));
  netmon::test::expect_nothing_left(v.host_if());
}

TEST(Reliability, WhenEveryInterfaceIsGoneTheHostStops) {
  NETMON_REQUIRE_ROOT();
  auto v = std::make_unique<VethPair>();
  HostRun host({"--iface", v->host_if(), "--sink", "json", "--interval", "100ms"});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 15s)) << host.stderr_text();
  v.reset();
  const auto st = host.process().wait(10s);
  ASSERT_TRUE(st) << "netmon-host did not stop";
  EXPECT_EQ(st->code, 1);
  EXPECT_NE(host.stderr_text().find("every monitored interface is gone"), std::string::npos) << host.stderr_text();
  for (const char* name : {"xdp_stats_rx", "tc_stats_ingres", "flow_top_ingres"})
    EXPECT_TRUE(netmon::test::wait_no_programs_named(name)) << name;
}

// ---- someone else's TC programs on the same hooks ---------------------------

std::uint64_t seen_by(const netmon::bpf::Skeleton<foreign_tc>& f) {
  const std::uint32_t zero = 0;
  std::uint64_t n = 0;
  EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(f->maps.seen), &zero, &n), 0);
  return n;
}

class Coexistence : public ::testing::TestWithParam<std::string> {};

TEST_P(Coexistence, ForeignTcProgramsKeepSeeingEveryPacket) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const int ifindex = static_cast<int>(if_nametoindex(v.host_if().c_str()));
  // One foreign filter the old way (netlink, clsact, priority 1) before netmon starts...
  auto before = netmon::bpf::Skeleton<foreign_tc>::open_and_load("foreign_tc");
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = BPF_TC_INGRESS;
  ASSERT_EQ(bpf_tc_hook_create(&hook), 0);
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = 1;
  opts.priority = 1;
  opts.prog_fd = bpf_program__fd(before->progs.foreign_tc);
  ASSERT_EQ(bpf_tc_attach(&hook, &opts), 0);

  HostRun host(
      {"--iface", v.host_if(), "--sink", "json", "--interval", "200ms", "-o", "tc_stats.attach=" + GetParam()});
  const auto in = sample_of("tc_stats", {{"ifname", v.host_if()}, {"direction", "ingress"}});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 15s)) << host.stderr_text();
  // ...and one with a tcx link after it started.
  auto after = netmon::bpf::Skeleton<foreign_tc>::open_and_load("foreign_tc");
  bpf_link_create_opts lopts{};
  lopts.sz = sizeof lopts;
  netmon::bpf::UniqueFd link(
      bpf_link_create(bpf_program__fd(after->progs.foreign_tc), ifindex, BPF_TCX_INGRESS, &lopts));
  ASSERT_TRUE(link) << "tcx link: " << std::strerror(errno);
  ASSERT_TRUE(host.wait_for(in, 5s));
  const auto base = *host.last(in);
  const auto k0 = netmon::test::if_counters(v);
  const std::uint64_t b0 = seen_by(before), a0 = seen_by(after);

  constexpr std::uint64_t kPackets = 3000;
  netmon::test::send_udp(v, kPackets, 60);
  std::this_thread::sleep_for(300ms);
  const auto k1 = netmon::test::if_counters(v);
  const std::uint64_t b1 = seen_by(before), a1 = seen_by(after);
  const auto st = host.stop(SIGINT);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();

  // Every packet went through both foreign programs and through netmon.
  const std::uint64_t kernel = k1.rx_packets - k0.rx_packets;
  EXPECT_GE(kernel, kPackets);
  EXPECT_EQ(b1 - b0, kernel);
  EXPECT_EQ(a1 - a0, kernel);
  EXPECT_EQ(field_u64(*host.last(in), "packets") - field_u64(base, "packets"), kernel);

  // netmon is gone; the foreign programs and their clsact stay, and still count.
  netmon::test::expect_nothing_left(v.host_if(), /*clsact_expected=*/true);
  const auto filters = netmon::test::tc_filters(v.host_if(), "ingress");
  ASSERT_FALSE(filters.empty());
  EXPECT_NE(filters.back().find("foreign_tc"), std::string::npos) << filters.back();
  EXPECT_TRUE(netmon::test::tc_has_clsact(v.host_if()));
  netmon::test::send_udp(v, 100, 60);
  std::this_thread::sleep_for(100ms);
  EXPECT_GE(seen_by(before) - b1, 100u);
  EXPECT_GE(seen_by(after) - a1, 100u);
  link.reset();
  bpf_tc_detach(&hook, &opts);
}

INSTANTIATE_TEST_SUITE_P(NetmonAttach, Coexistence, ::testing::Values("tcx", "netlink"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// ---- outputs under pressure ---------------------------------------------------

TEST(Reliability, StdoutClosedAfterOneLineEndsCleanly) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const std::string cmd = std::string(NETMON_TEST_HOST_BIN) + " --iface " + v.host_if() +
                          " --sink json --interval 100ms | head -n 1 > /dev/null; exit ${PIPESTATUS[0]}";
  const auto r = netmon::test::run({"/bin/bash", "-c", cmd}, 30s);
  EXPECT_EQ(r.status.code, 0) << r.err;
  for (const auto& l : lines_of(r.err)) {
    EXPECT_EQ(l.find(": error:"), std::string::npos) << l;
    EXPECT_EQ(l.find(": warning:"), std::string::npos) << l;
  }
  netmon::test::expect_nothing_left(v.host_if());
}

TEST(Reliability, ABlockedSinkLosesBatchesCountedWhileCollectionAndOtherSinksGoOn) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const std::string csv = "/tmp/netmon-blocked-" + std::to_string(getpid()) + ".csv";
  // stdout is a pipe nobody reads (its reader sleeps, and outlives the
  // host): the json sink blocks once the pipe is full, and stays blocked.
  const std::string fifo = csv + ".fifo";
  const std::string cmd = "mkfifo " + fifo + " || exit 99; sleep 60 < " + fifo + " >/dev/null 2>&1 & reader=$!; " +
                          std::string(NETMON_TEST_HOST_BIN) + " --iface " + v.host_if() +
                          " --sink json --sink csv:" + csv + " --interval 50ms --count 60 > " + fifo +
                          "; rc=$?; kill $reader; rm -f " + fifo + "; exit $rc";
  const auto r = netmon::test::run({"/bin/bash", "-c", cmd}, 60s);
  EXPECT_EQ(r.status.code, 0) << r.err;
  // The csv sink got every interval.
  std::ifstream in(csv);
  std::set<std::string> intervals;
  std::string line, last_drops;
  while (std::getline(in, line)) {
    intervals.insert(line.substr(0, line.find(',')));
    if (line.find(",netmon_host_sink,sink=json,dropped_batches,") != std::string::npos) last_drops = line;
  }
  fs::remove(csv);
  EXPECT_EQ(intervals.size(), 61u);  // 60 intervals and the header
  // The drops are counted in the samples and reported in the log.
  ASSERT_FALSE(last_drops.empty());
  const std::uint64_t dropped = std::stoull(last_drops.substr(last_drops.rfind(',') + 1));
  EXPECT_GT(dropped, 0u);
  EXPECT_NE(r.err.find("sink json dropped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sink json is blocked writing"), std::string::npos) << r.err;
  netmon::test::expect_nothing_left(v.host_if());
}

TEST(Reliability, AReaderThatStallsThenCatchesUpGetsTheFinalTotalsExactly) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  HostRun host({"--iface", v.host_if(), "--plugins", "xdp_stats", "--sink", "json", "--interval", "20ms"});
  const auto xdp = sample_of("xdp_stats", {{"ifname", v.host_if()}});
  ASSERT_TRUE(host.wait_for(xdp, 15s)) << host.stderr_text();
  const auto base = *host.last(xdp);
  const auto k0 = netmon::test::if_counters(v);
  // Nobody reads stdout for 5 s (250 intervals): within the first 2 s the
  // pipe fills, the json sink blocks and its queue overflows; only then is
  // the traffic sent, so no batch queued before it holds it.
  std::this_thread::sleep_for(3s);
  constexpr std::uint64_t kPackets = 5000;
  netmon::test::send_udp(v, kPackets, 60);
  std::this_thread::sleep_for(2s);
  const auto k1 = netmon::test::if_counters(v);
  // Stop, and go on not reading for 1 s: the final collection is queued
  // while the sink is still blocked. Then read everything left (the host
  // gives a blocked sink 2 s to finish).
  host.process().signal(SIGINT);
  std::this_thread::sleep_for(1s);
  const auto st = host.stop(SIGINT, 30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  EXPECT_NE(host.stderr_text().find("sink json dropped"), std::string::npos) << "the stall did not overflow the queue";
  // What was dropped was old: the last sample the reader gets holds every packet.
  EXPECT_GE(k1.rx_packets - k0.rx_packets, kPackets);
  EXPECT_EQ(host.delta(xdp, base, "packets"), k1.rx_packets - k0.rx_packets);
  EXPECT_EQ(host.delta(xdp, base, "bytes"), k1.rx_bytes - k0.rx_bytes);
  netmon::test::expect_nothing_left(v.host_if());
}

TEST(Reliability, ACsvFileOnAFullFilesystemFailsClearlyAndTheOtherSinksGoOn) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const std::string dir = "/tmp/netmon-full-" + std::to_string(getpid());
  fs::create_directories(dir);
  ASSERT_EQ(netmon::test::sh("mount -t tmpfs -o size=16k netmon-test " + dir), 0);
  const auto r =
      netmon::test::run(netmon::test::host_cmd({"--iface", v.host_if(), "--sink", "json", "--sink",
                                                "csv:" + dir + "/out.csv", "--interval", "50ms", "--count", "30"}),
                        60s);
  netmon::test::sh("umount " + dir);
  fs::remove_all(dir);
  EXPECT_EQ(r.status.code, 1) << "a sink failed: the exit says so";
  std::set<std::int64_t> intervals;
  for (const auto& j : json_lines(r.out)) intervals.insert(j["timestamp_ns"].get<std::int64_t>());
  EXPECT_EQ(intervals.size(), 30u) << "the json sink must get every interval";
  std::vector<std::string> errors;
  for (const auto& l : lines_of(r.err))
    if (l.find(": error:") != std::string::npos) errors.push_back(l);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("No space left on device"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find(dir + "/out.csv"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("the others go on"), std::string::npos) << errors[0];
  netmon::test::expect_nothing_left(v.host_if());
}

// ---- privileges ---------------------------------------------------------------------

TEST(Reliability, OnceAttachedOnlyCapNetAdminIsLeftAndNotEffective) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  // netlink attach: the one path whose stop needs a capability (CAP_NET_ADMIN).
  HostRun host({"--iface", v.host_if(), "--sink", "json", "--interval", "100ms", "-o", "tc_stats.attach=netlink"});
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 15s)) << host.stderr_text();
  // The main thread and the sink's.
  EXPECT_GE(netmon::test::expect_every_thread_dropped(host.process().pid()).size(), 2u);
  // Collection still works without capabilities (maps are read through fds)...
  ASSERT_TRUE(host.wait_for(sample_of("flow_top_table", {}), 5s));
  // ...and stopping removes the netlink filters (CAP_NET_ADMIN raised for it).
  const auto st = host.stop(SIGTERM);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  netmon::test::expect_nothing_left(v.host_if());
}

// Threads a sink starts in open() and a plugin in start() exist before the
// capability drop and were made with every capability netmon-host had: the
// drop covers them too.
TEST(Reliability, ThreadsStartedBeforeTheDropKeepNoCapabilityEither) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  HostRun host({"--plugin-dir", kFixtures, "--plugins", "xdp_stats,thread_plugin", "--iface", v.host_if(), "--sink",
                "json", "--sink", "thread_sink", "--interval", "100ms"});
  ASSERT_TRUE(host.wait_for(sample_of("thread_plugin", {}), 15s)) << host.stderr_text();
  // main, the two sinks' bus threads, and the fixtures' own two
  EXPECT_GE(netmon::test::expect_every_thread_dropped(host.process().pid()).size(), 5u);
  const auto st = host.stop(SIGTERM);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 0) << host.stderr_text();
  netmon::test::expect_nothing_left(v.host_if());
}

// A thread that blocks every signal cannot be made to drop: netmon-host
// refuses to run with it, in one line, and leaves nothing attached.
TEST(Reliability, AThreadThatCannotDropIsRefused) {
  NETMON_REQUIRE_ROOT();
  VethPair v;
  const auto r = netmon::test::run(netmon::test::host_cmd({"--plugin-dir", kFixtures, "--iface", v.host_if(), "--sink",
                                                           "blocking_sink", "--interval", "100ms", "--count", "3"}),
                                   30s);
  EXPECT_EQ(r.status.code, 1) << r.err;
  std::vector<std::string> errors;
  for (const auto& l : lines_of(r.err))
    if (l.find(": error:") != std::string::npos) errors.push_back(l);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  EXPECT_NE(errors[0].find("still holds capabilities after they were dropped"), std::string::npos) << errors[0];
  netmon::test::expect_nothing_left(v.host_if());
}

}  // namespace
