#!/usr/bin/env bash
# The bash completion of netmon-host (framework/host/netmon-host.bash-completion),
# run the way bash runs it: COMP_WORDS split as readline splits the line,
# COMP_CWORD, COMP_LINE and COMP_POINT set, the function `complete -p
# netmon-host` names called, and COMPREPLY compared exactly. Two passes: the
# file alone (its fallbacks), then with bash-completion loaded and the file
# loaded on demand, as installed. What is expected comes from --help, the
# tree's plugins/ and sinks/ folders and the READMEs' option tables, not from
# the completion, so a drift between them fails here.
# Needs no root. Usage: tests/completion/test_completion.sh path/to/netmon-host
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 path/to/netmon-host" >&2
  exit 2
fi
host=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tree=$(cd "$here/../.." && pwd)
completion=$tree/framework/host/netmon-host.bash-completion
bash_completion=/usr/share/bash-completion/bash_completion
export LC_ALL=C
# The plugin path must be what each case sets, nothing inherited.
unset NETMON_PLUGIN_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- what is expected, found independently -------------------------------

# Every option of --help: lines "  -p,--plugins TEXT", "  --interval TEXT".
mapfile -t all_options < <("$host" --help | grep -oE '^  (-[A-Za-z],)?--[a-z-]+' | tr -d ' ' | tr ',' '\n')
pl_options=()
for o in "${all_options[@]}"; do
  [[ $o == --pl* ]] && pl_options+=("$o")
done
# Every folder of plugins/ and sinks/ is built (netmon_add_subdirectories).
folders() {
  local d
  for d in "$tree/$1"/*/; do
    [[ -f $d/CMakeLists.txt ]] && basename "$d"
  done
  return 0
}
mapfile -t all_plugins < <(folders plugins)
mapfile -t all_sinks < <(folders sinks)
# xdp_stats' options table: "| `xdp_stats.mode` | `auto`, `native`, `generic` | ...".
xdp_readme=$tree/plugins/xdp_stats/README.md
xdp_rows=$(awk '/^## /{in_options = ($0 == "## Options")} in_options && /^\| `xdp_stats\./' "$xdp_readme")
# shellcheck disable=SC2016  # the backquotes are Markdown's, not expansions
mapfile -t xdp_keys < <(sed -E 's/^\| `([^`]*)`.*/\1=/' <<<"$xdp_rows")
# shellcheck disable=SC2016
mapfile -t xdp_mode_values < <(grep -F '`xdp_stats.mode`' <<<"$xdp_rows" | cut -d'|' -f3 | grep -oE '`[^`]+`' | tr -d '`')
# Interfaces whose names start with lo.
lo_ifaces=()
for d in /sys/class/net/lo*; do
  [[ -d $d ]] && lo_ifaces+=("${d##*/}")
done
# The directory netmon-host looks in when given none (the line
# "Plugin path (first match wins): DIR").
plugin_dir=$("$host" --list-plugins | sed -n 's/^Plugin path (first match wins): //p')

precondition() {
  if [[ -z $2 ]]; then
    echo "test_completion.sh: cannot run: $1" >&2
    exit 1
  fi
}
precondition "no option found in $host --help" "${pl_options[*]}"
precondition "no plugins/ or sinks/ folder in $tree" "${all_plugins[*]}${all_sinks[*]}"
precondition "no xdp_stats.mode row in the options table of $xdp_readme" "${xdp_mode_values[*]}"
precondition "no lo interface in /sys/class/net" "${lo_ifaces[*]}"
precondition "no plugin directory in $host --list-plugins" "$plugin_dir"
precondition "no $bash_completion (Debian: apt-get install bash-completion)" "$(ls "$bash_completion" 2>/dev/null)"

# ---- fixtures -------------------------------------------------------------

# A --plugin-dir only comes first: netmon-host always looks in its own
# <prefix>/lib/netmon/plugins too. A copy with nothing beside it finds only
# what it is pointed at.
mkdir -p "$tmp/bin" "$tmp/empty" "$tmp/files/d1" "$tmp/fake" "$tmp/failing"
cp "$host" "$tmp/bin/netmon-host"
bare=$tmp/bin/netmon-host
touch "$tmp/files/out.csv" "$tmp/files/conf.json"
# Fails loudly: the completion must stay silent and offer no names.
printf '#!/bin/sh\necho "netmon-host: broken" >&2\nexit 3\n' >"$tmp/failing/netmon-host"
# Canned --list-plugins output (the format of list_plugins() in
# framework/src/host.cpp) with the rarer cases: a shadowed library, a
# Not loadable section, values with single spaces. Logs each run.
cat >"$tmp/fake/netmon-host" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/fake/runs"
cat <<'LIST'
Plugin path (first match wins): /a:/b

Plugins:
  alpha        0.1.0    First
      attaches to: xdp, per interface
      option  values     default  meaning
      speed   slow|fast  slow     how fast
      limit   1..10      5        a limit
  beta         0.1.0    Second
  beta         0.2.0    Second [not used: /b/libnetmon_beta.so; /a/libnetmon_beta.so comes first]
      option  values  default  meaning
      hidden  a|b     a        of the library not used

Sinks:
  gamma        0.1.0    Lines (stdout, or gamma:PATH)
  delta        0.1.0    Network
      option  values                default  meaning
      users   {"U": "HASH", ...}   none     values with single spaces
      mode    x|y                   x        a choice

Not loadable:
  /a/libnetmon_bad.so: not a netmon plugin or sink
LIST
EOF
chmod +x "$tmp/failing/netmon-host" "$tmp/fake/netmon-host"

# ---- driving the completion ------------------------------------------------

fails=0
checks=0
pass=""
bin=$host

# compopt works only inside a real completion: record what it is asked.
compopt() {
  compopt_args+=" $*"
  return 0
}

# Completes "$bin LINE" at its end as bash does: COMP_WORDS split at blanks,
# and each run of the COMP_WORDBREAKS characters = and : a word of its own
# (where the cursor follows one, that run is the current word and $2 is "").
complete_end() {
  local line=$1 w rest re='^([^=:]*)([=:]+)(.*)$' func
  local -a blanks words=("$bin")
  read -ra blanks <<<"$line"
  for w in "${blanks[@]}"; do
    rest=$w
    while [[ $rest =~ $re ]]; do
      [[ -n ${BASH_REMATCH[1]} ]] && words+=("${BASH_REMATCH[1]}")
      words+=("${BASH_REMATCH[2]}")
      rest=${BASH_REMATCH[3]}
    done
    [[ -n $rest ]] && words+=("$rest")
  done
  if [[ -z $line || $line == *' ' ]]; then
    words+=("")
  fi
  func=$(complete -p netmon-host | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
  COMP_WORDS=("${words[@]}")
  COMP_CWORD=$((${#words[@]} - 1))
  COMP_LINE="$bin $line"
  COMP_POINT=${#COMP_LINE}
  COMP_TYPE=9
  COMP_KEY=9
  COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
  local word=${words[COMP_CWORD]}
  [[ $word =~ ^[=:]+$ ]] && word=""
  COMPREPLY=()
  compopt_args=""
  # As in an interactive shell: neither -e nor -u nor pipefail.
  set +euo pipefail
  "$func" netmon-host "$word" "${words[COMP_CWORD - 1]}" 2>"$tmp/stderr"
  set -euo pipefail
}

sorted() {
  local -a s=()
  (($# == 0)) || mapfile -t s < <(printf '%s\n' "$@" | sort)
  local IFS=' '
  echo "[${s[*]}]"
}

fail() {
  echo "FAIL ($pass): $*"
  fails=$((fails + 1))
}

# expect LINE [WORD...]: completing LINE gives exactly these words, in any
# order, and prints nothing on stderr.
expect() {
  local line=$1 want got
  shift
  complete_end "$line"
  checks=$((checks + 1))
  want=$(sorted "$@")
  got=$(sorted "${COMPREPLY[@]}")
  [[ $got == "$want" ]] || fail "'${bin##*/} $line': expected $want, got $got"
  [[ ! -s $tmp/stderr ]] || fail "'${bin##*/} $line': printed on stderr: $(head -c 200 "$tmp/stderr")"
  return 0
}

# expect_nospace LINE: the completion asks for no space after the word.
expect_nospace() {
  complete_end "$1"
  checks=$((checks + 1))
  [[ $compopt_args == *'-o nospace'* ]] || fail "'${bin##*/} $1': expected compopt -o nospace, got '$compopt_args'"
  return 0
}

cases() {
  unset _netmon_host_key
  checks=$((checks + 1))
  complete -p netmon-host >/dev/null 2>&1 || fail "complete -p netmon-host: none registered"

  bin=$host
  # Options, from --help.
  expect "--pl" "${pl_options[@]}"
  expect "-" "${all_options[@]}"
  expect "" "${all_options[@]}"
  expect "--list-plugins --v" --version
  # Plugin lists: the last item completed, those already named left out.
  expect "--plugins xdp_" xdp_stats
  expect "--plugins xdp_stats,fl" xdp_stats,flow_top
  expect "-p " "${all_plugins[@]}"
  local -a rest=()
  for p in "${all_plugins[@]}"; do
    [[ $p == xdp_stats ]] || rest+=("xdp_stats,$p")
  done
  expect "--plugins xdp_stats," "${rest[@]}"
  expect_nospace "--plugins xdp_"
  expect "--plugins=xdp_" xdp_stats
  expect "--plugins $plugin_dir/libnetmon_xdp_st" "$plugin_dir/libnetmon_xdp_stats.so"
  # Sinks, and a file after NAME: for those that write one.
  expect "--sink pro" prometheus
  expect "-s " "${all_sinks[@]}"
  expect "--sink=pro" prometheus
  expect "--sink csv:$tmp/files/o" "$tmp/files/out.csv"
  expect "--sink prometheus:" # ADDR:PORT, not a file
  # Options NAME.KEY=, with no space after, and their values.
  expect "-o flow_top.so" flow_top.sort=
  expect_nospace "-o flow_top.so"
  expect "-o xdp_stats." "${xdp_keys[@]}"
  expect "--option=xdp_stats.m" xdp_stats.mode=
  expect "-o xdp_stats.mode=" "${xdp_mode_values[@]}"
  expect "-o xdp_stats.mode=ge" generic
  expect "-o flow_top.top=" # a number
  expect "-o ipfix#2.tr" "ipfix#2.transport="
  # The settings that take no name.
  expect "--log-level w" warn
  expect "--log-level=w" warn
  expect "--iface lo" "${lo_ifaces[@]}"
  expect "-i lo" "${lo_ifaces[@]}"
  expect "--interval "
  expect "--duration 1"
  expect "--count "
  expect "--config $tmp/files/c" "$tmp/files/conf.json"
  expect "--ready-file $tmp/files/o" "$tmp/files/out.csv"
  expect "--plugin-dir $tmp/files/" "$tmp/files/d1"

  # The plugin path: --plugin-dir and NETMON_PLUGIN_DIR as netmon-host
  # takes them. An empty directory adds nothing to the real one...
  expect "--plugin-dir $tmp/empty --plugins xdp_" xdp_stats
  # ...and gives the copy with nothing beside it nothing.
  bin=$bare
  expect "--plugins "
  expect "--plugin-dir $tmp/empty --plugins "
  expect "--plugin-dir=$tmp/empty --sink "
  expect "--plugin-dir $plugin_dir --plugins xdp_" xdp_stats
  expect "--plugin-dir=$plugin_dir -o xdp_stats.mo" xdp_stats.mode=
  NETMON_PLUGIN_DIR=$tmp/empty:$plugin_dir expect "--sink pro" prometheus
  bin=$host
  expect "--plugin-dir $tmp/missing --plugins "

  # No netmon-host, or one that fails: the options still, names none, and
  # nothing on stderr.
  bin=$tmp/missing/netmon-host
  expect "--pl" "${pl_options[@]}"
  expect "--plugins "
  bin=$tmp/failing/netmon-host
  expect "--plugins "
  expect "-o "

  # Parsing: a shadowed library counts once, with the options of the one
  # used; Not loadable lines are no sink.
  bin=$tmp/fake/netmon-host
  rm -f "$tmp/fake/runs"
  expect "--plugins " alpha beta
  expect "--sink " gamma delta
  expect "-o " alpha.speed= alpha.limit= delta.users= delta.mode=
  expect "-o alpha.speed=" slow fast
  expect "-o delta.users="
  expect "-o delta.mode=y" y
  expect "--sink gamma:$tmp/files/o" "$tmp/files/out.csv"
  expect "--sink delta:"
  # Once per command line: the same line again runs nothing new.
  rm -f "$tmp/fake/runs"
  expect "--iface lo --plugins a" alpha
  expect "--iface lo --plugins b" beta
  checks=$((checks + 1))
  local runs
  runs=$(wc -l <"$tmp/fake/runs")
  [[ $runs -eq 1 ]] || fail "two completions of one command line: expected 1 run of netmon-host, got $runs"
  # The directories given, in order, both spellings.
  rm -f "$tmp/fake/runs"
  expect "--plugin-dir $tmp/empty --plugin-dir=$tmp/files -p " alpha beta
  checks=$((checks + 1))
  local args
  args=$(cat "$tmp/fake/runs")
  [[ $args == "--plugin-dir $tmp/empty --plugin-dir $tmp/files --list-plugins" ]] ||
    fail "the arguments given to netmon-host: expected '--plugin-dir $tmp/empty --plugin-dir $tmp/files --list-plugins', got '$args'"
  bin=$host
}

# Pass 1: the file alone, without bash-completion's helpers.
pass="without bash-completion"
unset -f _init_completion _filedir 2>/dev/null || true
# shellcheck source=SCRIPTDIR/../../framework/host/netmon-host.bash-completion
source "$completion"
cases

# Pass 2: bash-completion, and the file loaded on demand from a
# completions/ directory, as when installed.
pass="with bash-completion"
complete -r netmon-host
set +euo pipefail
# shellcheck source=/dev/null
source "$bash_completion"
set -euo pipefail
mkdir -p "$tmp/user/completions"
ln -s "$completion" "$tmp/user/completions/netmon-host"
BASH_COMPLETION_USER_DIR=$tmp/user __load_completion netmon-host || fail "bash-completion did not load $completion"
if ! declare -F _init_completion >/dev/null; then
  fail "$bash_completion defines no _init_completion"
fi
cases

if ((fails > 0)); then
  echo "test_completion.sh: $fails of $checks checks failed"
  exit 1
fi
echo "test_completion.sh: all $checks checks passed (the completion alone, and with bash-completion)"
