// SPDX-License-Identifier: MIT
#include "flow_table.hpp"

#include <netmon/bpf.hpp>
#include <netmon/enum_names.hpp>
#include <netmon/error.hpp>

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace netmon::flow_top {

namespace {

// The kernel's internal "operation not supported" (not in <errno.h>); a map
// type without batch operations answers it.
constexpr int kENOTSUPP = 524;

bool unsupported(int err) { return err == EINVAL || err == kENOTSUPP || err == EOPNOTSUPP; }

std::string reason(int err) { return err == kENOTSUPP ? "Operation not supported" : std::strerror(err); }

}  // namespace

namespace {
constexpr auto kReadMethodNames = netmon::enum_names<ReadMethod>({
    {ReadMethod::automatic, "auto"},
    {ReadMethod::batch, "batch"},
    {ReadMethod::iterate, "iterate"},
});
}  // namespace

ReadMethod parse_read_method(const std::string& s) {
  if (const auto m = kReadMethodNames.parse(s)) return *m;
  throw Error("unknown flow table read method '" + s + "' (use " + kReadMethodNames.choices() + ")");
}

const char* to_string(ReadMethod m) { return kReadMethodNames.name_of(m); }

flow_top_value merge_percpu(const void* per_cpu, std::size_t n, std::size_t stride) {
  flow_top_value m{};
  const auto* p = static_cast<const unsigned char*>(per_cpu);
  for (std::size_t i = 0; i < n; ++i, p += stride) {
    flow_top_value v;
    std::memcpy(&v, p, sizeof v);  // the buffer is byte-addressed: no aliasing assumptions
    m.packets += v.packets;
    m.bytes += v.bytes;
    m.ip_bytes += v.ip_bytes;
    if (v.first_seen && (!m.first_seen || v.first_seen < m.first_seen)) m.first_seen = v.first_seen;
    m.last_seen = std::max(m.last_seen, v.last_seen);
    m.tcp_flags |= v.tcp_flags;
  }
  return m;
}

StampClock StampClock::from(const flow_top_clock& c) {
  StampClock s;
  s.ref_stamp = c.stamp;
  s.ref_ns = static_cast<std::int64_t>(c.coarse_ns);
  s.hz = c.hz;
  return s;
}

flow_top_value FlowTableReader::merged(const unsigned char* per_cpu) const {
  flow_top_value v = merge_percpu(per_cpu, ncpus_, stride_);
  v.first_seen = clock_.to_ns(v.first_seen);
  v.last_seen = clock_.to_ns(v.last_seen);
  return v;
}

FlowTableReader::FlowTableReader(int map_fd, ReadMethod method, Logger log, std::size_t ncpus,
                                 std::size_t batch_entries)
    : fd_(map_fd),
      method_(method),
      log_(std::move(log)),
      ncpus_(ncpus ? ncpus : static_cast<std::size_t>(netmon::bpf::possible_cpus())),
      stride_(percpu_stride(sizeof(flow_top_value))),
      batch_entries_(std::max<std::size_t>(batch_entries, 1)) {
  bpf_map_info info{};
  std::uint32_t len = sizeof info;
  if (const int err = bpf_obj_get_info_by_fd(fd_, &info, &len))
    throw Error(errno_message("flow_top: cannot query the flow table map (fd " + std::to_string(fd_) + ")", err));
  if (info.key_size != sizeof(flow_top_key) || info.value_size != sizeof(flow_top_value))
    throw Error("flow_top: map '" + std::string(info.name) + "' has key/value sizes " + std::to_string(info.key_size) +
                "/" + std::to_string(info.value_size) + ", expected " + std::to_string(sizeof(flow_top_key)) + "/" +
                std::to_string(sizeof(flow_top_value)) + " (a plugin built from other sources?)");
  max_entries_ = info.max_entries;
}

void FlowTableReader::read(std::vector<FlowEntry>& out) {
  out.clear();
  if (method_ != ReadMethod::iterate) {
    if (read_batch(out)) {
      method_ = ReadMethod::batch;
      return;
    }
    // Only reached when the very first batch call was refused as unsupported.
    if (method_ == ReadMethod::batch)
      throw Error("flow_top: the kernel has no batch lookup for the flow table (use -o flow_top.read=iterate or auto)");
    log_.debug("flow_top: batch lookup unsupported by this kernel; reading the flow table key by key");
    method_ = ReadMethod::iterate;
  }
  read_iterate(out);
}

bool FlowTableReader::read_batch(std::vector<FlowEntry>& out) {
  // The batch token is opaque to us (a bucket index for hash maps); leave it
  // room for any key size.
  alignas(8) unsigned char in_token[64] = {};
  alignas(8) unsigned char out_token[64] = {};
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    keys_.resize(batch_entries_);
    values_.resize(batch_entries_ * ncpus_ * stride_);
    auto count = static_cast<std::uint32_t>(batch_entries_);
    const int rc =
        bpf_map_lookup_batch(fd_, first ? nullptr : in_token, out_token, keys_.data(), values_.data(), &count, &opts);
    const int err = rc < 0 ? -rc : 0;
    if (err && err != ENOENT) {
      if (err == ENOSPC && count == 0) {
        // A hash bucket holds more entries than the buffer: grow and retry
        // the same position.
        batch_entries_ *= 2;
        continue;
      }
      if (first && unsupported(err) && out.empty()) return false;
      throw Error("flow_top: cannot read the flow table (BPF_MAP_LOOKUP_BATCH): " + reason(err) +
                  " (try -o flow_top.read=iterate)");
    }
    for (std::uint32_t i = 0; i < count; ++i) {
      out.push_back({keys_[i], merged(values_.data() + static_cast<std::size_t>(i) * ncpus_ * stride_)});
    }
    if (err == ENOENT) return true;  // the end of the table (count may still be > 0)
    std::memcpy(in_token, out_token, sizeof in_token);
    first = false;
  }
}

void FlowTableReader::read_iterate(std::vector<FlowEntry>& out) {
  values_.resize(ncpus_ * stride_);
  flow_top_key cur{};
  flow_top_key next{};
  bool have = false;
  // The kernel restarts the walk from the first key when the current one was
  // deleted meanwhile; the bound keeps a table under heavy churn from
  // holding the walk forever.
  const std::size_t limit = 2 * static_cast<std::size_t>(max_entries_) + 16;
  for (std::size_t steps = 0;; ++steps) {
    if (steps >= limit) {
      log_.debug("flow_top: the flow table changed too fast to walk; stopping this read after " +
                 std::to_string(steps) + " keys");
      return;
    }
    if (const int rc = bpf_map_get_next_key(fd_, have ? &cur : nullptr, &next); rc < 0) {
      if (-rc == ENOENT) return;
      throw Error(errno_message("flow_top: cannot walk the flow table (BPF_MAP_GET_NEXT_KEY)", -rc));
    }
    if (const int rc = bpf_map_lookup_elem(fd_, &next, values_.data()); rc == 0) {
      out.push_back({next, merged(values_.data())});
    } else if (-rc != ENOENT) {  // ENOENT: deleted between the two calls
      throw Error(errno_message("flow_top: cannot read a flow table entry", -rc));
    }
    cur = next;
    have = true;
  }
}

std::optional<flow_top_value> FlowTableReader::remove(const flow_top_key& key) {
  values_.resize(std::max(values_.size(), ncpus_ * stride_));
  if (lookup_and_delete_) {
    const int rc = bpf_map_lookup_and_delete_elem(fd_, &key, values_.data());
    if (rc == 0) return merged(values_.data());
    if (-rc == ENOENT) return std::nullopt;
    if (!unsupported(-rc))
      throw Error("flow_top: cannot remove an ended flow (BPF_MAP_LOOKUP_AND_DELETE_ELEM): " + reason(-rc));
    log_.debug("flow_top: lookup-and-delete unsupported by this kernel; removing ended flows with lookup, then delete");
    lookup_and_delete_ = false;
  }
  // Packets counted between the lookup and the delete are lost: the best
  // this kernel allows.
  std::optional<flow_top_value> last;
  if (bpf_map_lookup_elem(fd_, &key, values_.data()) == 0) last = merged(values_.data());
  if (const int rc = bpf_map_delete_elem(fd_, &key); rc < 0) {
    if (-rc == ENOENT) return std::nullopt;
    throw Error(errno_message("flow_top: cannot remove an ended flow (BPF_MAP_DELETE_ELEM)", -rc));
  }
  return last;
}

}  // namespace netmon::flow_top
