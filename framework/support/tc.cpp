// SPDX-License-Identifier: MIT
#include <netmon/enum_names.hpp>
#include <netmon/iface.hpp>
#include <netmon/tc.hpp>

#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

// The installed uapi headers may predate tcx (kernel 6.6).
#ifndef BPF_TCX_INGRESS
#define NETMON_BPF_TCX_INGRESS 46
#define NETMON_BPF_TCX_EGRESS 47
#else
#define NETMON_BPF_TCX_INGRESS BPF_TCX_INGRESS
#define NETMON_BPF_TCX_EGRESS BPF_TCX_EGRESS
#endif
// A tcx attach's placement flags, with no relative program: first or last.
#ifndef BPF_F_BEFORE
#define NETMON_BPF_F_BEFORE (1U << 3)
#define NETMON_BPF_F_AFTER (1U << 4)
#else
#define NETMON_BPF_F_BEFORE BPF_F_BEFORE
#define NETMON_BPF_F_AFTER BPF_F_AFTER
#endif

namespace netmon::bpf {

namespace {
constexpr auto kTcModeNames = enum_names<TcMode>({
    {TcMode::automatic, "auto"},
    {TcMode::tcx, "tcx"},
    {TcMode::netlink, "netlink"},
});
constexpr auto kTcDirectionNames = enum_names<TcDirection>({
    {TcDirection::ingress, "ingress"},
    {TcDirection::egress, "egress"},
});
constexpr auto kTcPlacementNames = enum_names<TcPlacement>({
    {TcPlacement::first, "first"},
    {TcPlacement::last, "last"},
});
}  // namespace

TcMode parse_tc_mode(const std::string& s) {
  if (const auto m = kTcModeNames.parse(s)) return *m;
  throw Error("unknown TC attach mode '" + s + "' (use " + kTcModeNames.choices() + ")");
}

const char* to_string(TcMode m) { return kTcModeNames.name_of(m); }

TcPlacement parse_tc_placement(const std::string& s) {
  if (const auto p = kTcPlacementNames.parse(s)) return *p;
  throw Error("unknown TC placement '" + s + "' (use " + kTcPlacementNames.choices() + ")");
}

const char* to_string(TcDirection d) { return kTcDirectionNames.name_of(d); }

const char* to_string(TcPlacement p) { return kTcPlacementNames.name_of(p); }

void check_tc_attach(const TcAttach& how, const std::string& owner) {
  if (how.mode == TcMode::netlink && how.placement == TcPlacement::first)
    throw UsageError("option " + owner + ".placement: first needs a tcx link, and " + owner +
                     ".attach=netlink makes a netlink filter, which runs after every tcx program, in the order of " +
                     owner + ".priority (use " + owner + ".attach=auto or tcx, or " + owner + ".placement=last)");
}

namespace {

std::uint32_t clsact_parent(TcDirection dir) {
  return TC_H_MAKE(TC_H_CLSACT, dir == TcDirection::ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

// Sends one netlink dump request and calls on_msg for every reply message.
// Returns 0, or -errno (the kernel's error for the request).
template <class OnMsg>
int netlink_dump(void* req, std::size_t len, OnMsg&& on_msg) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return -errno;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), req, len, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return -errno;
  std::vector<char> buf(65536);
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    // NLMSG_OK and NLMSG_NEXT, without their mix of signed and unsigned.
    std::size_t remaining = static_cast<std::size_t>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
         remaining >= sizeof(nlmsghdr) && h->nlmsg_len >= sizeof(nlmsghdr) && h->nlmsg_len <= remaining;) {
      const std::size_t step = std::min<std::size_t>(NLMSG_ALIGN(h->nlmsg_len), remaining);
      const nlmsghdr* msg = h;
      remaining -= step;
      h = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(h) + step);
      if (msg->nlmsg_type == NLMSG_DONE) return 0;
      if (msg->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(msg));
        return e->error;
      }
      on_msg(msg);
    }
  }
}

}  // namespace

namespace {
// A dump request for the traffic-control objects (filters, qdiscs) of an interface.
struct TcDumpRequest {
  nlmsghdr h;
  tcmsg t;
  TcDumpRequest(std::uint16_t type, std::uint32_t ifindex, std::uint32_t parent) : h{}, t{} {
    h.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
    h.nlmsg_type = type;
    h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    t.tcm_family = AF_UNSPEC;
    t.tcm_ifindex = static_cast<int>(ifindex);
    t.tcm_parent = parent;
  }
};
}  // namespace

int count_tc_filters(std::uint32_t ifindex, TcDirection dir) {
  TcDumpRequest req(RTM_GETTFILTER, ifindex, clsact_parent(dir));
  int filters = 0;
  const int rc = netlink_dump(&req, req.h.nlmsg_len, [&filters](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWTFILTER) return;
    const auto* t = static_cast<const tcmsg*>(NLMSG_DATA(h));
    if (t->tcm_handle != 0) ++filters;  // handle 0 is the per-priority head, not a filter
  });
  return rc < 0 ? -1 : filters;
}

bool kernel_has_tcx() {
  static const bool has = [] {
    // An invalid program fd on a valid ifindex (lo): a kernel that knows tcx
    // checks the program (EBADF); one that does not rejects the attach type (EINVAL).
    bpf_link_create_opts opts{};
    opts.sz = sizeof opts;
    const int fd = bpf_link_create(-1, 1, static_cast<bpf_attach_type>(NETMON_BPF_TCX_INGRESS), &opts);
    if (fd >= 0) ::close(fd);
    return fd < 0 && errno == EBADF;
  }();
  return has;
}

struct TcLink::State {
  Interface iface;
  TcDirection dir = TcDirection::ingress;
  TcMode mode = TcMode::tcx;
  Logger log;
  UniqueFd link;  // tcx
  // netlink
  std::uint16_t priority = 0;
  bool owns_qdisc = false;
  bool attached = false;
};

TcLink::TcLink() = default;
TcLink::TcLink(std::unique_ptr<State> s) : s_(std::move(s)) {}
TcLink::TcLink(TcLink&&) noexcept = default;
TcLink& TcLink::operator=(TcLink&& o) noexcept {
  if (this != &o) {
    detach();
    s_ = std::move(o.s_);
  }
  return *this;
}
TcLink::~TcLink() { detach(); }

TcMode TcLink::mode() const { return s_->mode; }
TcDirection TcLink::direction() const { return s_->dir; }
const Interface& TcLink::iface() const { return s_->iface; }

namespace {

bpf_tc_hook make_hook(std::uint32_t ifindex, TcDirection dir) {
  bpf_tc_hook h{};
  h.sz = sizeof h;
  h.ifindex = static_cast<int>(ifindex);
  h.attach_point = dir == TcDirection::ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return h;
}

bpf_tc_opts make_opts(std::uint16_t priority, int prog_fd = 0) {
  bpf_tc_opts o{};
  o.sz = sizeof o;
  o.handle = 1;
  o.priority = priority;
  o.prog_fd = prog_fd;
  return o;
}

std::string prog_name_of_id(std::uint32_t id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(id));
  if (!fd) return {};
  bpf_prog_info info{};
  std::uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return {};
  return info.name;
}

// Deletes the clsact qdisc if no filter is left on either of its hooks.
void destroy_clsact_if_empty(const Interface& iface, const Logger& log) {
  if (!interface_present(iface.ifindex)) return;  // it went with its interface
  const int in = count_tc_filters(iface.ifindex, TcDirection::ingress);
  const int out = count_tc_filters(iface.ifindex, TcDirection::egress);
  if (in > 0 || out > 0) {
    log.debug(iface.name + ": leaving the clsact qdisc for now: filters remain on it");
    return;
  }
  bpf_tc_hook h = make_hook(iface.ifindex, TcDirection::ingress);
  h.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
  if (const int rc = bpf_tc_hook_destroy(&h); rc != 0 && rc != -ENOENT && rc != -EINVAL) {
    log.warn(errno_message(iface.name + ": cannot remove the clsact qdisc netmon created", rc));
  } else {
    log.debug(iface.name + ": removed the clsact qdisc netmon created");
  }
}

TcLink attach_netlink(int prog_fd, const std::string& prog_name, const Interface& iface, TcDirection dir,
                      std::uint16_t priority, const Logger& log, std::unique_ptr<TcLink::State> s);

}  // namespace

void TcLink::detach() noexcept {
  if (!s_) return;
  if (s_->mode == TcMode::tcx) {
    s_->link.reset();
  } else if (s_->attached && !interface_present(s_->iface.ifindex)) {
    s_->attached = false;  // the filter and its qdisc went with the interface
  } else if (s_->attached) {
    bpf_tc_hook h = make_hook(s_->iface.ifindex, s_->dir);
    bpf_tc_opts o = make_opts(s_->priority);
    const int rc = bpf_tc_detach(&h, &o);
    // ENOENT/ENODEV: the interface or the filter is already gone.
    if (rc != 0 && rc != -ENOENT && rc != -ENODEV && rc != -EINVAL)
      s_->log.warn(errno_message(s_->iface.name + ": cannot remove netmon's TC " + to_string(s_->dir) + " filter", rc));
    s_->attached = false;
    if (s_->owns_qdisc) destroy_clsact_if_empty(s_->iface, s_->log);
  }
  s_.reset();
}

namespace {

TcLink attach_netlink(int prog_fd, const std::string& prog_name, const Interface& iface, TcDirection dir,
                      std::uint16_t priority, const Logger& log, std::unique_ptr<TcLink::State> s) {
  bpf_tc_hook hook = make_hook(iface.ifindex, dir);
  const int created = bpf_tc_hook_create(&hook);
  if (created != 0 && created != -EEXIST)
    throw Error(
        errno_message(iface.name + ": cannot create the clsact qdisc for TC " + std::string(to_string(dir)), created));
  s->owns_qdisc = created == 0;
  if (created == 0) log.debug(iface.name + ": created a clsact qdisc");

  // A filter at our priority and handle: ours from a killed run, or someone else's.
  bpf_tc_opts q = make_opts(priority);
  if (bpf_tc_query(&hook, &q) == 0) {
    const std::string name = prog_name_of_id(q.prog_id);
    // The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a program's name.
    if (name != prog_name.substr(0, BPF_OBJ_NAME_LEN - 1))
      throw Error(iface.name + ": TC " + to_string(dir) + " priority " + std::to_string(priority) +
                  " is taken by another program ('" + name + "', id " + std::to_string(q.prog_id) +
                  "); choose another priority for this plugin");
    bpf_tc_opts d = make_opts(priority);
    if (const int rc = bpf_tc_detach(&hook, &d); rc != 0)
      throw Error(errno_message(iface.name + ": cannot remove a stale netmon TC filter", rc));
    log.info(iface.name + ": removed a stale TC " + to_string(dir) + " filter '" + prog_name +
             "' left by a netmon-host that did not stop cleanly");
    // The killed netmon-host most likely made this clsact: remove it at the end
    // if it is empty then (an empty clsact does nothing for anyone).
    s->owns_qdisc = true;
  }

  bpf_tc_opts opts = make_opts(priority, prog_fd);
  if (const int rc = bpf_tc_attach(&hook, &opts); rc != 0) {
    if (s->owns_qdisc) destroy_clsact_if_empty(iface, log);
    throw Error(errno_message(iface.name + ": cannot attach the TC " + std::string(to_string(dir)) + " filter", rc));
  }
  s->priority = priority;
  s->attached = true;
  s->mode = TcMode::netlink;
  return TcLink(std::move(s));
}

}  // namespace

TcLink attach_tc(const bpf_program* prog, const Interface& iface, TcDirection dir, const TcAttach& how,
                 const Logger& log) {
  auto s = std::make_unique<TcLink::State>();
  s->iface = iface;
  s->dir = dir;
  s->log = log;
  const int prog_fd = bpf_program__fd(prog);
  TcMode mode = how.mode;
  if (mode == TcMode::automatic) {
    mode = kernel_has_tcx() ? TcMode::tcx : TcMode::netlink;
    if (mode == TcMode::netlink)
      log.info(iface.name + ": the kernel has no tcx links; attaching through netlink (clsact)");
  }
  if (mode == TcMode::netlink && how.placement == TcPlacement::first)
    throw Error(iface.name + ": cannot place the TC " + std::string(to_string(dir)) +
                " program first: placement needs a tcx link (kernel 6.6 or later), and a netlink filter runs after "
                "every tcx program, in the order of its priority (use attach auto or tcx on a kernel with tcx, or "
                "placement last)");
  if (mode == TcMode::netlink)
    return attach_netlink(prog_fd, bpf_program__name(prog), iface, dir, how.priority, log, std::move(s));

  // What libbpf 1.3's bpf_program__attach_tcx() does, but for a program of
  // SEC("tc") (that function takes the link's type from the program's
  // expected attach type, which is fixed at load), and with libbpf 1.1,
  // which passes the flags through to the kernel.
  bpf_link_create_opts opts{};
  opts.sz = sizeof opts;
  opts.flags = how.placement == TcPlacement::first ? NETMON_BPF_F_BEFORE : NETMON_BPF_F_AFTER;
  const auto type =
      static_cast<bpf_attach_type>(dir == TcDirection::ingress ? NETMON_BPF_TCX_INGRESS : NETMON_BPF_TCX_EGRESS);
  const int fd = bpf_link_create(prog_fd, static_cast<int>(iface.ifindex), type, &opts);
  if (fd < 0) {
    const int err = errno;
    throw Error(errno_message(iface.name + ": cannot attach a tcx " + std::string(to_string(dir)) + " link", err) +
                (err == EINVAL ? " (kernel without tcx? use the netlink attach mode)" : ""));
  }
  s->link = UniqueFd(fd);
  s->mode = TcMode::tcx;
  return TcLink(std::move(s));
}

TcLink attach_tc(const bpf_program* prog, const Interface& iface, TcDirection dir, TcMode mode, std::uint16_t priority,
                 const Logger& log) {
  return attach_tc(prog, iface, dir, TcAttach{mode, TcPlacement::last, priority}, log);
}

TcPair attach_tc_pair(const bpf_program* ingress_prog, const bpf_program* egress_prog, const Interface& iface,
                      const TcAttach& how, const Logger& log) {
  TcLink in = attach_tc(ingress_prog, iface, TcDirection::ingress, how, log);
  return TcPair(std::move(in), attach_tc(egress_prog, iface, TcDirection::egress, how, log));
}

}  // namespace netmon::bpf
