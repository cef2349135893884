#!/usr/bin/env bash
# Integration: `cmake --install` into a temporary prefix, then the installed
# tree used as an operator would, from a folder that has no data/: bin/privagg
# finds share/privagg/data by itself (keygen --state, task init, demo), --data
# still overrides; one man page per command, each from its --help; the example
# configs and the service units (ExecStart naming the install prefix, Type=notify,
# the sandboxing), checked by systemd-analyze verify where it exists.
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
BUILD=$(cd "$(dirname "$PRIVAGG")" && pwd)

P="$T/prefix with space"
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 || { bad "cmake --install: $(tail -5 "$T/install.log")"; exit 1; }
for f in bin/privagg share/privagg/data/mo_le_agencies.csv share/privagg/data/nibrs_offense_buckets.csv \
         share/privagg/data/mo_county_population.csv share/privagg/examples/leader.json \
         share/privagg/examples/helper.json share/privagg/systemd/privagg-leader.service \
         share/privagg/systemd/privagg-helper.service share/privagg/systemd/privagg.sysusers \
         share/man/man1/privagg.1; do
  [ -e "$P/$f" ] && ok || bad "$f not installed"
done
X="$P/bin/privagg"
# one man page per command that privagg --help lists, each from its --help
cmds=$("$X" --help | awk '/^commands:$/ {on = 1; next} on && /^$/ {exit} on {print $1}')
[ "$(echo "$cmds" | wc -w)" -ge 9 ] && ok || bad "privagg --help lists $(echo "$cmds" | wc -w) commands"
for c in $cmds; do
  m="$P/share/man/man1/privagg-$c.1"
  if [ ! -s "$m" ]; then bad "no man page for $c"; continue; fi
  # the page's first usage line is the command's first --help line
  first=$("$X" "$c" --help | head -1 | sed 's/-/\\-/g')
  grep -qF -- "$first" "$m" && grep -q '^\.TH PRIVAGG\\-' "$m" && grep -q '^\.SH EXIT STATUS' "$m" && ok ||
    bad "privagg-$c.1 is not its --help text"
done
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$P/share/man/man1/privagg-serve.1" 2>/dev/null | grep -q "listening <url>" && ok ||
    bad "man -l privagg-serve.1 does not render"
fi
# the units name the installed binary and carry the sandboxing
U="$P/share/privagg/systemd/privagg-leader.service"
grep -qF "ExecStart=\"$P/bin/privagg\" serve --role leader" "$U" && ok || bad "leader unit ExecStart: $(grep ExecStart "$U")"
grep -qF "ExecStart=\"$P/bin/privagg\" serve --role helper" "$P/share/privagg/systemd/privagg-helper.service" && ok ||
  bad "helper unit ExecStart"
for k in Type=notify User=privagg StateDirectory=privagg/leader ProtectSystem=strict NoNewPrivileges=yes \
         'ExecReload=/bin/kill -HUP $MAINPID' PrivateTmp=yes CapabilityBoundingSet= SystemCallFilter=@system-service; do
  grep -qxF -- "$k" "$U" && ok || bad "leader unit lacks $k"
done
if command -v systemd-analyze >/dev/null; then
  # verify needs the binary at ExecStart (it is) and says nothing for a sound unit
  # with man installed it also checks that Documentation=man:privagg-serve(1) is there
  man=--man=yes; command -v man >/dev/null || man=--man=no
  out=$(MANPATH="$P/share/man:" systemd-analyze verify $man "$U" "$P/share/privagg/systemd/privagg-helper.service" 2>&1)
  echo "$out" | grep -v -e "network-online.target" -e "^$" >"$T/verify" || true
  if [ -s "$T/verify" ]; then bad "systemd-analyze verify: $(cat "$T/verify")"; else ok; fi
else
  echo "skip: systemd-analyze not found"
fi

# from a folder without data/, nothing but the installed tree
mkdir -p "$T/elsewhere/data" "$T/elsewhere/keys" && cd "$T/elsewhere"   # an empty ./data must not mislead it
"$X" keygen --role agency --state MO --out keys/agencies >"$T/out" 2>"$T/err" && ok || bad "keygen --state: $(cat "$T/err")"
[ "$(ls keys/agencies | grep -c '\.pub$')" = 646 ] && ok || bad "keygen --state MO: $(ls keys/agencies | wc -l) files"
"$X" keygen --role leader --out keys/leader --pairing-out pair.json >/dev/null 2>&1 &&
  "$X" keygen --role helper --out keys/helper --pairing pair.json >/dev/null 2>&1 &&
  "$X" keygen --role collector --out keys/collector >/dev/null 2>&1 && ok || bad "keygen leader/helper/collector"
"$X" task init --state MO --keys keys --out task.json >"$T/out" 2>"$T/err" && ok || bad "task init: $(cat "$T/err")"
grep -q "646 agencies in 47 partitions" "$T/err" && ok || bad "task init: $(cat "$T/err")"
"$X" task init --state MO --keys keys --out task2.json --data "$T/nowhere" >"$T/out" 2>"$T/err"
[ $? = 1 ] && grep -q "$T/nowhere" "$T/err" && ok || bad "--data does not override: $(cat "$T/err")"
# the demo, small, from this folder
"$X" demo --agencies 20 --min-agencies 3 --out "$T/demo" >"$T/demo.out" 2>"$T/demo.err" && ok ||
  bad "installed demo failed: $(tail -5 "$T/demo.err")"
grep -qi "statewide" "$T/demo.out" && ok || bad "demo printed no table: $(head -20 "$T/demo.out")"
grep -q "listening https://127.0.0.1:" "$T/demo/leader.log" && ok || bad "the demo's leader log lacks its URL"

finish install_tree
