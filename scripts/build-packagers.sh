#!/usr/bin/env bash
# Builds netmon the ways a distribution packager does, each once, in its own
# build directory, without the tests and benchmarks (a package build with
# DEB_BUILD_OPTIONS=nocheck): CMAKE_BUILD_TYPE=Release (-O3), Debian's
# hardening flags from dpkg-buildflags (CMAKE_BUILD_TYPE=None, as debhelper
# configures), and clang++ instead of g++. Warnings stay errors here, so CI
# learns of a new warning before a packager does. Each build ends by asking
# the built netmon-host for its plugins. The clang build compiles the CO-RE
# programs against netmon's vendored vmlinux.h (as on a build machine whose
# kernel has no BTF) and, as root, runs drops and tcp_health from it: built against that
# header, it must load on the running kernel. Usage: scripts/build-packagers.sh
# [release|dpkg|clang]... (default: all three).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
common=(-DNETMON_BUILD_TESTS=OFF -DNETMON_WERROR=ON)

build_one() {
  local name=$1
  shift
  local dir=build-pkg-$name start=$SECONDS
  echo "build-packagers: $name build in $dir" >&2
  rm -rf "$dir"
  if ! cmake -S . -B "$dir" "${generator[@]}" "${common[@]}" "$@" >"$dir.log" 2>&1 ||
     ! cmake --build "$dir" -j "$(nproc)" >>"$dir.log" 2>&1; then
    tail -n 40 "$dir.log" >&2
    echo "build-packagers: the $name build failed; the whole log is $dir.log" >&2
    return 1
  fi
  if ! "$dir/bin/netmon-host" --list-plugins >/dev/null; then
    echo "build-packagers: the $name build's netmon-host cannot list its plugins" >&2
    return 1
  fi
  if [ "$name" = clang ] && [ "$(id -u)" -eq 0 ] &&
     ! "$dir/bin/netmon-host" --plugins drops,tcp_health --sink json --interval 100ms --count 2 >/dev/null 2>>"$dir.log"; then
    tail -n 5 "$dir.log" >&2
    echo "build-packagers: drops or tcp_health, built against the vendored vmlinux.h, does not run on this kernel" >&2
    return 1
  fi
  rm -f "$dir.log"
  echo "build-packagers: $name build passed in $((SECONDS - start)) s" >&2
}

builds=("$@")
[ ${#builds[@]} -eq 0 ] && builds=(release dpkg clang)
for b in "${builds[@]}"; do
  case $b in
    release) build_one release -DCMAKE_BUILD_TYPE=Release ;;
    dpkg)
      # As dh_auto_configure does: CPPFLAGS go with the compiler flags.
      cppflags=$(dpkg-buildflags --get CPPFLAGS)
      CFLAGS="$(dpkg-buildflags --get CFLAGS) $cppflags" \
      CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $cppflags" \
      LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
        build_one dpkg -DCMAKE_BUILD_TYPE=None ;;
    clang)
      CC=clang CXX=clang++ build_one clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETMON_BPF_VMLINUX=vendored ;;
    *) echo "build-packagers: unknown build '$b'; choose release, dpkg or clang" >&2; exit 2 ;;
  esac
done
