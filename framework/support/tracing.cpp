// SPDX-License-Identifier: MIT
#include <netmon/error.hpp>
#include <netmon/tracing.hpp>

#include <bpf/btf.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace netmon::bpf {

std::string kernel_btf_error(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return path + " does not exist";
  if (::access(path.c_str(), R_OK) != 0) return path + " is not readable";
  return {};
}

void require_kernel_btf(const std::string& what, const std::string& or_else) {
  if (const std::string err = kernel_btf_error(); !err.empty())
    throw Error(what + " needs the kernel's BTF, and " + err + ": run a kernel built with CONFIG_DEBUG_INFO_BTF=y" +
                (or_else.empty() ? "" : ", or " + or_else));
}

std::map<std::int64_t, std::string> kernel_enum(const std::string& name, const std::string& strip_prefix) {
  require_kernel_btf("reading enum " + name);
  std::unique_ptr<btf, decltype(&btf__free)> kernel(btf__parse(kKernelBtfPath, nullptr), &btf__free);
  if (!kernel) {
    const int err = errno;
    throw Error(errno_message(std::string("cannot read the kernel's BTF at ") + kKernelBtfPath, err));
  }
  const std::int32_t id = btf__find_by_name_kind(kernel.get(), name.c_str(), BTF_KIND_ENUM);
  if (id < 0) throw Error("the running kernel's BTF has no enum " + name);
  const btf_type* t = btf__type_by_id(kernel.get(), static_cast<std::uint32_t>(id));
  std::map<std::int64_t, std::string> out;
  const struct btf_enum* e = ::btf_enum(t);
  const bool is_signed = btf_kflag(t);
  for (std::uint16_t i = 0; i < btf_vlen(t); ++i, ++e) {
    std::string n = btf__name_by_offset(kernel.get(), e->name_off);
    if (!strip_prefix.empty() && n.starts_with(strip_prefix)) n.erase(0, strip_prefix.size());
    const std::int64_t v = is_signed ? static_cast<std::int64_t>(e->val) : static_cast<std::uint32_t>(e->val);
    out.emplace(v, std::move(n));
  }
  return out;
}

int kernel_tracepoint_args(const std::string& name) {
  require_kernel_btf("reading tracepoint " + name);
  std::unique_ptr<btf, decltype(&btf__free)> kernel(btf__parse(kKernelBtfPath, nullptr), &btf__free);
  if (!kernel) {
    const int err = errno;
    throw Error(errno_message(std::string("cannot read the kernel's BTF at ") + kKernelBtfPath, err));
  }
  // typedef void (*btf_trace_<name>)(void *__data, args...);
  const std::int32_t id = btf__find_by_name_kind(kernel.get(), ("btf_trace_" + name).c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  const btf_type* t = btf__type_by_id(kernel.get(), static_cast<std::uint32_t>(id));
  while (t && (btf_is_typedef(t) || btf_is_ptr(t))) t = btf__type_by_id(kernel.get(), t->type);
  if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1) return -1;
  return btf_vlen(t) - 1;
}

std::string attach_error_message(const std::string& what, const std::string& target, int err) {
  std::string hint;
  switch (err) {
    case EPERM:
    case EACCES: hint = "tracing needs CAP_BPF and CAP_PERFMON (or root), and a kernel in lockdown refuses it"; break;
    case ENOENT:
    case ESRCH: hint = "this kernel has no such hook"; break;
    case EOPNOTSUPP:
    case 524:  // ENOTSUPP, the kernel's own
      hint = "this kernel cannot attach this kind of program there";
      break;
    default: break;
  }
  std::string msg = errno_message(what + ": cannot attach " + target, err);
  if (!hint.empty()) msg += " (" + hint + ")";
  return msg;
}

Link attach_program(bpf_program* prog, const std::string& what) {
  const std::string section = bpf_program__section_name(prog);
  bpf_link* link = bpf_program__attach(prog);
  const int err = errno;
  if (!link) throw Error(attach_error_message(what, section, err));
  return Link(link);
}

Link attach_tracepoint(bpf_program* prog, const std::string& category, const std::string& name,
                       const std::string& what) {
  bpf_link* link = bpf_program__attach_tracepoint(prog, category.c_str(), name.c_str());
  const int err = errno;
  if (!link) throw Error(attach_error_message(what, "tracepoint " + category + ":" + name, err));
  return Link(link);
}

Link attach_raw_tracepoint(bpf_program* prog, const std::string& name, const std::string& what) {
  bpf_link* link = bpf_program__attach_raw_tracepoint(prog, name.c_str());
  const int err = errno;
  if (!link) throw Error(attach_error_message(what, "raw tracepoint " + name, err));
  return Link(link);
}

}  // namespace netmon::bpf
