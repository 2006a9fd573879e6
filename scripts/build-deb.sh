#!/usr/bin/env bash
# Builds the Debian packages netmon and netmon-dev (debian/) the way Debian
# does: dpkg-buildpackage on a copy of the tracked sources, with
# dpkg-buildflags' hardening flags, running the unit tests (set
# DEB_BUILD_OPTIONS=nocheck to skip them, as a packager may). The packages
# and the build's log go to build-deb/ (DEB_OUT to change it). CI sets
# NETMON_WERROR=ON: a new warning fails the package build there first.
# Usage: scripts/build-deb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${DEB_OUT:-build-deb}")
version=$(dpkg-parsechangelog -S Version)
# The package's upstream version is the project's (CMakeLists.txt's
# project(VERSION)): debian/changelog gets a new entry with every release.
project_version=$(sed -n 's/^project(netmon VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [ -z "$project_version" ]; then
  echo "build-deb: no 'project(netmon VERSION x.y.z' line in CMakeLists.txt; restore it" >&2
  exit 1
fi
upstream=${version#*:}
upstream=${upstream%-*}
if [ "$upstream" != "$project_version" ]; then
  echo "build-deb: debian/changelog says $version but CMakeLists.txt says $project_version; add an entry for $project_version at the top of debian/changelog" >&2
  exit 1
fi
src=$out/netmon-$version
start=$SECONDS
# scripts/test-deb.sh mounts /proc, /sys and /dev in a chroot in here:
# never remove a tree with the host's inside.
if findmnt -rn -o TARGET | grep -q "^$out/"; then
  echo "build-deb: something is mounted under $out (a killed scripts/test-deb.sh?); unmount it first" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$src"
# The tracked files and new ones not ignored, as they are now: a build of
# the working tree, not of the last commit.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -cf - -T - | tar -xf - -C "$src"
jobs=$(nproc)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$jobs"
echo "build-deb: dpkg-buildpackage in $src (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS); log: $out/build.log" >&2
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
  tail -n 60 "$out/build.log" >&2
  echo "build-deb: the package build failed; the whole log is $out/build.log" >&2
  exit 1
fi
rm -rf "$src"
ls "$out"/*.deb >&2
echo "build-deb: built in $((SECONDS - start)) s" >&2
