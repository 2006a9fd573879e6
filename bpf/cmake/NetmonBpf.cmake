# netmon_bpf_skeleton(<target> SOURCE <file.bpf.c> [NAME <skel name>] [INCLUDES <dir>...]
#                     [FLAGS <clang flag>...] [CORE])
#
# CORE: the program is compiled against a vmlinux.h (#include "vmlinux.h")
# for CO-RE (BPF_CORE_READ, preserve_access_index): built on one kernel, it
# runs on any other that has BTF. Which vmlinux.h, NETMON_BPF_VMLINUX says:
#   auto      (default) generate when the build machine has its kernel's BTF
#             (/sys/kernel/btf/vmlinux), else vendored
#   generate  `bpftool btf dump file /sys/kernel/btf/vmlinux format c`, at
#             build time: every type of the build machine's kernel
#   vendored  netmon's own <netmon/bpf/vmlinux_min.h>: the uapi headers plus
#             the few kernel structures netmon's plugins read, marked
#             preserve_access_index; the same for x86_64 and arm64 (CO-RE
#             relocates every field at load time, no layout is assumed)
#   <path>    a vmlinux.h of your own (for cross builds)
# A CORE program includes no <linux/...> uapi header of its own (vmlinux.h
# defines those types) and must build with both generate and vendored if it
# is to build everywhere.
#
# Compiles a BPF C source with clang (-target bpf -O2 -g -Wall -Werror) and
# generates its skeleton header <name>.skel.h with `bpftool gen skeleton`.
# FLAGS are added to clang's command line (for example -mcpu=v3 for atomic
# OR and compare-and-swap, kernel 5.12 and later).
# <target> is an INTERFACE library: link it to get the header's directory on
# the include path and the generation ordered before your sources. The build
# fails if the BPF program does not compile; the object is embedded in the
# skeleton, so nothing is installed or looked up at run time.
include_guard(GLOBAL)

find_program(NETMON_BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(NETMON_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin REQUIRED)

# netmon_bpf_target_arch(<out var>): the kernel's name of the target
# architecture (x86, arm64, ...), for -D__TARGET_ARCH_<arch>.
function(netmon_bpf_target_arch out)
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" arch)
  if(arch MATCHES "x86_64|amd64")
    set(arch x86)
  elseif(arch MATCHES "aarch64|arm64")
    set(arch arm64)
  endif()
  set(${out} "${arch}" PARENT_SCOPE)
endfunction()

set(NETMON_BPF_VMLINUX "auto" CACHE STRING
  "vmlinux.h for CO-RE BPF programs: auto, generate (from /sys/kernel/btf/vmlinux), vendored, or a path")

# netmon_bpf_vmlinux_dir(<out var>): the directory holding the vmlinux.h
# NETMON_BPF_VMLINUX chooses, with the target netmon_vmlinux_h that makes it.
function(netmon_bpf_vmlinux_dir out)
  set(dir "${CMAKE_BINARY_DIR}/netmon-vmlinux")
  set(${out} "${dir}" PARENT_SCOPE)
  if(TARGET netmon_vmlinux_h)
    return()
  endif()
  set(mode "${NETMON_BPF_VMLINUX}")
  if(mode STREQUAL "auto")
    if(EXISTS /sys/kernel/btf/vmlinux)
      set(mode generate)
    else()
      set(mode vendored)
    endif()
  endif()
  file(MAKE_DIRECTORY "${dir}")
  if(mode STREQUAL "generate")
    if(NOT EXISTS /sys/kernel/btf/vmlinux)
      message(FATAL_ERROR "NETMON_BPF_VMLINUX=generate: this machine's kernel has no BTF "
                          "(/sys/kernel/btf/vmlinux); use -DNETMON_BPF_VMLINUX=vendored or a path")
    endif()
    add_custom_command(
      OUTPUT "${dir}/vmlinux.h"
      COMMAND sh -c "\"$0\" btf dump file /sys/kernel/btf/vmlinux format c > \"$1.tmp\" && mv \"$1.tmp\" \"$1\""
              "${NETMON_BPFTOOL}" "${dir}/vmlinux.h"
      COMMENT "BPF: generating vmlinux.h from this machine's kernel BTF"
      VERBATIM)
    message(STATUS "netmon: CO-RE BPF programs use a vmlinux.h generated from /sys/kernel/btf/vmlinux")
  elseif(mode STREQUAL "vendored")
    file(WRITE "${dir}/vmlinux.h.in" "/* NETMON_BPF_VMLINUX=vendored */\n#include <netmon/bpf/vmlinux_min.h>\n")
    configure_file("${dir}/vmlinux.h.in" "${dir}/vmlinux.h" COPYONLY)
    message(STATUS "netmon: CO-RE BPF programs use the vendored <netmon/bpf/vmlinux_min.h>")
  else()
    if(NOT EXISTS "${mode}")
      message(FATAL_ERROR "NETMON_BPF_VMLINUX=${mode}: no such file (auto, generate, vendored, or a vmlinux.h)")
    endif()
    configure_file("${mode}" "${dir}/vmlinux.h" COPYONLY)
    message(STATUS "netmon: CO-RE BPF programs use ${mode}")
  endif()
  add_custom_target(netmon_vmlinux_h DEPENDS "${dir}/vmlinux.h")
endfunction()

function(netmon_bpf_skeleton target)
  cmake_parse_arguments(ARG "CORE" "SOURCE;NAME" "INCLUDES;FLAGS" ${ARGN})
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "netmon_bpf_skeleton(${target}): SOURCE is required")
  endif()
  if(NOT TARGET netmon::bpf_headers)
    message(FATAL_ERROR "netmon_bpf_skeleton(${target}): netmon::bpf_headers is not known here: "
                        "call find_package(netmon) in this directory or a parent")
  endif()
  get_filename_component(src "${ARG_SOURCE}" ABSOLUTE)
  if(NOT ARG_NAME)
    get_filename_component(ARG_NAME "${src}" NAME)
    string(REGEX REPLACE "\\.bpf\\.c$" "" ARG_NAME "${ARG_NAME}")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  set(obj "${out}/${ARG_NAME}.bpf.o")
  set(skel "${out}/${ARG_NAME}.skel.h")

  netmon_bpf_target_arch(target_arch)

  # netmon's BPF-side headers are those of the netmon::bpf_headers target:
  # its source tree's or its installed ones, as the target says where it is
  # defined (empty entries, such as the install path in the build tree,
  # filtered out).
  set(netmon_incs
    "$<FILTER:$<TARGET_PROPERTY:netmon::bpf_headers,INTERFACE_INCLUDE_DIRECTORIES>,INCLUDE,.>")
  set(incs "$<$<BOOL:${netmon_incs}>:-I$<JOIN:${netmon_incs},$<SEMICOLON>-I>>")
  foreach(dir ${ARG_INCLUDES})
    get_filename_component(dir "${dir}" ABSOLUTE)
    list(APPEND incs "-I${dir}")
  endforeach()
  get_filename_component(src_dir "${src}" DIRECTORY)
  list(APPEND incs "-I${src_dir}")
  if(ARG_CORE)
    netmon_bpf_vmlinux_dir(vmlinux_dir)
    list(APPEND incs "-I${vmlinux_dir}")
  endif()
  # <asm/types.h> lives in the multiarch directory on Debian.
  if(CMAKE_LIBRARY_ARCHITECTURE)
    list(APPEND incs "-idirafter" "/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}")
  endif()

  add_custom_command(
    OUTPUT "${obj}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${out}"
    COMMAND ${NETMON_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${target_arch}
            -Wall -Werror ${ARG_FLAGS} ${incs} -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
    DEPENDS "${src}"
    DEPFILE "${obj}.d"
    COMMENT "BPF ${ARG_NAME}: compiling ${ARG_SOURCE}"
    COMMAND_EXPAND_LISTS
    VERBATIM)
  add_custom_command(
    OUTPUT "${skel}"
    COMMAND sh -c "\"$0\" gen skeleton \"$1\" name \"$2\" > \"$3.tmp\" && mv \"$3.tmp\" \"$3\""
            "${NETMON_BPFTOOL}" "${obj}" "${ARG_NAME}" "${skel}"
    DEPENDS "${obj}"
    COMMENT "BPF ${ARG_NAME}: generating ${ARG_NAME}.skel.h"
    VERBATIM)
  # One intermediate target owns the generated files, so several consumers do
  # not race to regenerate them.
  add_custom_target(${target}_gen DEPENDS "${skel}")
  if(ARG_CORE)
    # vmlinux.h first; the compiler's depfile then rebuilds on its changes.
    add_dependencies(${target}_gen netmon_vmlinux_h)
  endif()
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} SYSTEM INTERFACE "${out}" "${src_dir}")
endfunction()
