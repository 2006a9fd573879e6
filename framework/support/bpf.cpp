// SPDX-License-Identifier: MIT
#include <netmon/bpf.hpp>
#include <netmon/enum_names.hpp>
#include <netmon/iface.hpp>

#include <linux/if_link.h>

#include <cstring>
#include <vector>

namespace netmon::bpf {

int possible_cpus() {
  static const int n = libbpf_num_possible_cpus();
  if (n <= 0) throw Error(errno_message("cannot count the possible CPUs", n));
  return n;
}

void read_percpu(int map_fd, const void* key, void* out, std::size_t value_size, std::size_t n_cpus) {
  const std::size_t cpus = static_cast<std::size_t>(possible_cpus());
  if (n_cpus != cpus)
    throw Error("cannot read a per-CPU BPF map entry into room for " + std::to_string(n_cpus) +
                " CPUs: this machine has " + std::to_string(cpus) + " possible CPUs (use possible_cpus())");
  // The kernel writes the map's own value size per CPU, whatever the caller
  // says: a smaller V would overrun the buffer.
  bpf_map_info info{};
  std::uint32_t len = sizeof info;
  if (const int err = bpf_obj_get_info_by_fd(map_fd, &info, &len))
    throw Error(errno_message("cannot query a per-CPU BPF map (fd " + std::to_string(map_fd) + ")", -err));
  if (info.value_size != value_size)
    throw Error("per-CPU BPF map '" + std::string(info.name) + "' has " + std::to_string(info.value_size) +
                "-byte values, read as " + std::to_string(value_size) +
                " bytes (a value type built from other sources? share one header between the BPF and C++ sides)");
  const std::size_t stride = percpu_stride(value_size);
  std::vector<unsigned char> raw(cpus * stride);
  if (bpf_map_lookup_elem(map_fd, key, raw.data()) != 0) {
    const int err = errno;
    throw Error(errno_message("cannot read a per-CPU BPF map entry", err));
  }
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t c = 0; c < cpus; ++c) std::memcpy(dst + c * value_size, raw.data() + c * stride, value_size);
}

namespace {
constexpr auto kXdpModeNames = enum_names<XdpMode>({
    {XdpMode::automatic, "auto"},
    {XdpMode::native, "native"},
    {XdpMode::generic, "generic"},
});
}  // namespace

XdpMode parse_xdp_mode(const std::string& s) {
  if (const auto m = kXdpModeNames.parse(s)) return *m;
  throw Error("unknown XDP mode '" + s + "' (use " + kXdpModeNames.choices() + ")");
}

const char* to_string(XdpMode m) { return kXdpModeNames.name_of(m); }

std::string describe_attached_xdp(std::uint32_t ifindex) {
  bpf_xdp_query_opts q{};
  q.sz = sizeof q;
  if (bpf_xdp_query(static_cast<int>(ifindex), 0, &q) != 0 || q.prog_id == 0) {
    // Several modes at once leave prog_id 0: look at each.
    if (q.drv_prog_id == 0 && q.skb_prog_id == 0 && q.hw_prog_id == 0) return {};
  }
  std::uint32_t id = q.prog_id;
  const char* mode = "native";
  if (q.attach_mode == XDP_ATTACHED_SKB) mode = "generic";
  else if (q.attach_mode == XDP_ATTACHED_HW) mode = "offloaded";
  if (!id) {
    id = q.skb_prog_id ? q.skb_prog_id : (q.drv_prog_id ? q.drv_prog_id : q.hw_prog_id);
    mode = q.skb_prog_id ? "generic" : (q.drv_prog_id ? "native" : "offloaded");
  }
  std::string name = "?";
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  if (fd) {
    bpf_prog_info info{};
    std::uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0) name = info.name;
  }
  return "'" + name + "' (id " + std::to_string(id) + ", " + mode + " mode)";
}

namespace {
int link_xdp(int prog_fd, std::uint32_t ifindex, XdpMode mode) {
  bpf_link_create_opts opts{};
  opts.sz = sizeof opts;
  opts.flags = mode == XdpMode::generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  const int fd = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
  return fd < 0 ? -errno : fd;
}
}  // namespace

XdpLink attach_xdp(const bpf_program* prog, const Interface& iface, XdpMode requested, const Logger& log) {
  const int prog_fd = bpf_program__fd(prog);
  XdpMode mode = requested;
  bool may_fall_back = false;
  if (mode == XdpMode::automatic) {
    const std::string driver = driver_of(iface.name);
    if (driver == "veth") {
      mode = XdpMode::generic;
      log.debug(iface.name + ": veth: using generic XDP (native XDP on veth copies every frame and costs more)");
    } else {
      mode = XdpMode::native;
      may_fall_back = true;
    }
  }
  int fd = link_xdp(prog_fd, iface.ifindex, mode);
  if (fd == -EOPNOTSUPP && may_fall_back) {
    log.info(iface.name + ": driver has no native XDP support; falling back to generic XDP");
    mode = XdpMode::generic;
    fd = link_xdp(prog_fd, iface.ifindex, mode);
  }
  if (fd == -EBUSY || fd == -EEXIST) {
    std::string who = describe_attached_xdp(iface.ifindex);
    throw Error(iface.name + ": another XDP program " + (who.empty() ? std::string("") : who + " ") +
                "is already attached, and netmon never replaces one: detach it first (ip link set dev " + iface.name +
                " xdp off) or monitor this interface without xdp_stats (tc_stats counts at TC)");
  }
  if (fd < 0)
    throw Error(errno_message(iface.name + ": cannot attach the XDP program in " + to_string(mode) + " mode", fd) +
                (mode == XdpMode::native ? " (the driver may not support native XDP: use generic mode)" : ""));
  return XdpLink(UniqueFd(fd), iface, mode);
}

}  // namespace netmon::bpf
