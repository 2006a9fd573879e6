// SPDX-License-Identifier: MIT
// Reading flow_top's BPF flow table from user space.
//
//   FlowTableReader reader(bpf_map__fd(skel->maps.flows), ReadMethod::automatic, log);
//   std::vector<FlowEntry> flows;
//   reader.read(flows);                       // every entry, per-CPU copies merged
//   auto last = reader.remove(flows[0].key);  // deleted, with its final counts
//
// A separate unit (no plugin, no skeleton) so tests and benchmarks can drive
// it on any map with flow_top's key and value layout. Errors throw
// netmon::Error naming the map, the operation, the reason and the fix. Not
// thread safe: one reader per thread.
#pragma once

#include <netmon/bpf.hpp>
#include <netmon/logger.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flow_top.h"

static_assert(sizeof(flow_top_key) == 44, "flow_top_key is hashed as raw bytes: no implicit padding");
static_assert(sizeof(flow_top_value) == 48, "flow_top_value: 8-byte multiple, as per-CPU copies are laid out");
static_assert(sizeof(flow_top_stats) == 16);
static_assert(sizeof(flow_top_clock) == 24);
static_assert(sizeof(flow_top_total) == 24);

namespace netmon::flow_top {

// Maps the program's timestamps (struct flow_top_clock) to CLOCK_MONOTONIC
// nanoseconds. Jiffies and CLOCK_MONOTONIC advance together, so one reference
// taken at start serves for the whole run (and the same stamp always maps to
// the same time, which the eviction check relies on). The default maps a
// stamp to itself (stamps already in ns).
struct StampClock {
  std::uint64_t ref_stamp = 0;  // a stamp, and
  std::int64_t ref_ns = 0;      // the CLOCK_MONOTONIC time it stands for
  std::uint32_t hz = 0;         // stamps per second; 0: stamps are nanoseconds

  static StampClock from(const flow_top_clock& c);
  // 0 stays 0 ("never").
  [[nodiscard]] std::uint64_t to_ns(std::uint64_t stamp) const {
    if (!stamp) return 0;
    const auto delta = static_cast<std::int64_t>(stamp - ref_stamp);  // a stamp may be newer than the reference
    // Exact for HZ=300 too (no rounded tick length); overflow needs a year of jiffies.
    const std::int64_t ns = hz ? delta * 1'000'000'000 / static_cast<std::int64_t>(hz) : delta;
    return static_cast<std::uint64_t>(ref_ns + ns);
  }
};

// One flow as read: the key and its per-CPU copies merged (merge_percpu),
// first_seen and last_seen in CLOCK_MONOTONIC ns (StampClock).
struct FlowEntry {
  flow_top_key key;
  flow_top_value value;
};

// How the table is read. automatic: batch, and iterate (with a debug log) if
// the kernel has no batch operations for this map.
enum class ReadMethod { automatic, batch, iterate };

// "auto", "batch", "iterate"; throws netmon::Error otherwise.
ReadMethod parse_read_method(const std::string& s);
const char* to_string(ReadMethod m);

// Merges n per-CPU copies laid out `stride` bytes apart: packets and bytes
// summed, the earliest non-zero first_seen, the latest last_seen, flags ORed.
flow_top_value merge_percpu(const void* per_cpu, std::size_t n, std::size_t stride);

using netmon::bpf::percpu_stride;  // the kernel's 8-byte stride between per-CPU copies

class FlowTableReader {
 public:
  // map_fd is not owned and must outlive the reader. `ncpus` 0 means
  // netmon::bpf::possible_cpus(). batch_entries: entries per batch call (it
  // grows by itself when the kernel asks for more room).
  FlowTableReader(int map_fd, ReadMethod method, Logger log = {}, std::size_t ncpus = 0,
                  std::size_t batch_entries = 4096);

  // Replaces `out` with every entry of the table (in the kernel's order).
  // Entries added or removed meanwhile may or may not appear; with `iterate`
  // an entry can appear twice if the entry the walk stood on was deleted
  // meanwhile (the kernel then restarts the walk), so callers that sum must
  // skip duplicates (FlowCollector does).
  void read(std::vector<FlowEntry>& out);

  // Deletes one flow and returns its final merged value (exact: packets
  // counted between read() and now are in it), or nullopt if it was gone
  // already. Uses BPF_MAP_LOOKUP_AND_DELETE_ELEM, or lookup then delete where
  // the kernel lacks it.
  std::optional<flow_top_value> remove(const flow_top_key& key);

  // How read() and remove() convert timestamps (default: not at all).
  void set_clock(const StampClock& c) { clock_ = c; }

  // The method the last read() used: batch or iterate (automatic before the first).
  [[nodiscard]] ReadMethod method() const { return method_; }
  [[nodiscard]] std::size_t ncpus() const { return ncpus_; }

 private:
  bool read_batch(std::vector<FlowEntry>& out);  // false: batch unsupported, nothing read
  [[nodiscard]] flow_top_value merged(const unsigned char* per_cpu) const;
  void read_iterate(std::vector<FlowEntry>& out);

  int fd_;
  ReadMethod method_;
  Logger log_;
  std::size_t ncpus_;
  std::size_t stride_;
  std::size_t batch_entries_;
  std::uint32_t max_entries_ = 0;
  StampClock clock_;
  bool lookup_and_delete_ = true;
  std::vector<flow_top_key> keys_;
  std::vector<unsigned char> values_;
};

}  // namespace netmon::flow_top
