#!/usr/bin/env bash
# Formats the C and C++ sources with clang-format, each in its style:
#   *.cpp, *.hpp  .clang-format       (Google style, 120 columns)
#   *.c, *.h      bpf/.clang-format   (kernel style: the BPF programs, the
#                                      headers they share with user space,
#                                      the C plugin API and plugins in C)
#
#   scripts/format.sh                 formats every tracked source in place
#   scripts/format.sh FILE...         formats these files only
#   scripts/format.sh --check [FILE...]
#                                     formats nothing; lists the files that
#                                     are not formatted and exits 1 (CI)
#   scripts/format.sh --diff [FILE...]
#                                     as --check, and shows what would change
#
# Every tracked *.c, *.h, *.cpp and *.hpp, except vendored or generated
# files (third_party/, vendor/, vmlinux.h, *.skel.h). The templates of
# netmon-new-plugin are formatted too: while clang-format runs, an identifier
# of the same length stands in for their @NAME@ placeholder.
#
# clang-format 14 is what Debian 12 ships and what the tree is formatted
# with; another major version can format differently, so it is warned about.
# CLANG_FORMAT=/path/to/clang-format picks another binary.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."
root=$PWD

# The comment above, without its '#'s.
help_text() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mode=format
files=()
for arg in "$@"; do
  case $arg in
    --check) mode=check ;;
    --diff) mode="diff" ;;
    -h | --help)
      help_text
      exit 0
      ;;
    -*)
      echo "format.sh: unknown option $arg" >&2
      help_text >&2
      exit 2
      ;;
    /*) files+=("$(realpath -m --relative-to="$root" "$arg")") ;; # FILE, from the tree's root
    *) files+=("$(realpath -m --relative-to="$root" "$here/$arg")") ;;
  esac
done

clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "format.sh: $clang_format not found. Install it (Debian/Ubuntu: apt-get install clang-format," \
    "or run scripts/install-deps.sh); the tree is formatted with clang-format 14, Debian 12's." >&2
  exit 2
fi
version=$("$clang_format" --version)
major=$(sed -n 's/.*clang-format version \([0-9][0-9]*\).*/\1/p' <<<"$version" | head -n 1)
if [ "$major" != 14 ]; then
  echo "format.sh: warning: this is ${version:-an unknown clang-format}; the tree is formatted with" \
    "clang-format 14 (Debian 12's), and another major version can format some lines differently" >&2
fi

excluded() {
  case /$1 in
    */third_party/* | */vendor/* | */vendored/* | */vmlinux.h | *.skel.h) return 0 ;;
  esac
  return 1
}

# The tracked files. safe.directory: under sudo (sudo scripts/test.sh) git
# would refuse a checkout its user owns; whoever runs this as root runs the
# tree's code as root anyway.
git_in_tree() { git -c safe.directory="$root" "$@"; }
if [ ${#files[@]} -eq 0 ]; then
  if ! git_in_tree rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "format.sh: not in a git checkout, so no list of tracked files; name the files to format" >&2
    exit 2
  fi
  while IFS= read -r f; do
    excluded "$f" || files+=("$f")
  done < <(git_in_tree ls-files -- '*.c' '*.h' '*.cpp' '*.hpp')
fi

# The template placeholder and the identifier that stands in for it: the
# same length, so the lines come out as they would with a real name.
placeholder=@NAME@
stand_in=NAME__

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Writes FILE, formatted in STYLE (a .clang-format file), to stdout.
formatted() {
  local f=$1 style=$2
  if grep -qF "$placeholder" "$f"; then
    if grep -qF "$stand_in" "$f"; then
      echo "format.sh: $f: has both $placeholder and $stand_in; cannot format it" >&2
      return 1
    fi
    sed "s/$placeholder/$stand_in/g" "$f" |
      "$clang_format" --style="file:$style" --assume-filename="$f" |
      sed "s/$stand_in/$placeholder/g"
  else
    "$clang_format" --style="file:$style" "$f"
  fi
}

differ=()
for f in "${files[@]}"; do
  case $f in
    *.c | *.h) style=$root/bpf/.clang-format ;;
    *.cpp | *.hpp) style=$root/.clang-format ;;
    *)
      echo "format.sh: $f: not a C or C++ source (.c, .h, .cpp, .hpp)" >&2
      exit 2
      ;;
  esac
  if [ ! -f "$f" ]; then
    echo "format.sh: $f: no such file" >&2
    exit 2
  fi
  formatted "$f" "$style" >"$tmp/out" || {
    echo "format.sh: $f: clang-format failed" >&2
    exit 2
  }
  cmp -s "$f" "$tmp/out" && continue
  differ+=("$f")
  case $mode in
    format) cat "$tmp/out" >"$f" ;; # in place: keeps the file's mode
    diff) diff -u --label "a/$f" --label "b/$f" "$f" "$tmp/out" || true ;;
  esac
done

if [ "$mode" = format ]; then
  [ ${#differ[@]} -eq 0 ] || printf 'format.sh: formatted %s\n' "${differ[@]}" >&2
  exit 0
fi
if [ ${#differ[@]} -ne 0 ]; then
  echo "format.sh: ${#differ[@]} file(s) not formatted (scripts/format.sh formats them):" >&2
  printf '  %s\n' "${differ[@]}" >&2
  exit 1
fi
echo "format.sh: ${#files[@]} files checked, all formatted" >&2
