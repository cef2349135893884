#!/usr/bin/env bash
# Integration: one command-line parser for every subcommand (engine/cli/opts.c).
#  1. Every command that `privagg --help` lists, and every sub-subcommand, answers
#     --help with an "exit status:" section and an "example(s):" section whose
#     first line runs privagg (the man pages are made from this text:
#     scripts/man-from-help.sh).
#  2. On every subcommand an option given as --name=value does exactly what
#     --name value does (same exit status, same standard output and error), and
#     an unknown --name=value is a usage error (2) that names --name.
#  3. The commands a script reads take --json: task show, collect, submit
#     --status, status (their JSON is checked where a server is needed by
#     operator_status.sh and submit_records.sh; here that --json parses).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

# 1. --help of every command
cmds=$("$PRIVAGG" --help | awk '/^commands:$/ {on = 1; next} on && /^$/ {exit} on {print $1}')
[ "$(echo "$cmds" | wc -w)" -ge 15 ] && ok || bad "privagg --help lists too few commands: $cmds"
help_ok() { # words of the command line
  local out
  out=$("$PRIVAGG" "$@" --help 2>&1) || { bad "privagg $* --help exits $?"; return; }
  echo "$out" | grep -qx 'exit status:' && ok || bad "privagg $* --help: no 'exit status:' section"
  echo "$out" | awk '/^examples?:$/ {getline; print; exit}' | grep -q '^  privagg ' && ok \
    || bad "privagg $* --help: no 'example:' section starting with a privagg command"
}
help_ok   # privagg --help itself
for c in $cmds; do help_ok "$c"; done
for sub in "dp eps" "dp rho" "dp delta" "dp calibrate" "dp sample" "ledger export" "ledger verify" \
           "task init" "task show" "conformance vdaf" "conformance hpke" "store stats"; do
  help_ok $sub
done

# 2. --name=value is --name value, on every subcommand
same() { # the words before the option, then the option, then its value
  local n=$(($# - 2)) pre=("${@:1:$(($# - 2))}") opt=${@: -2:1} val=${@: -1}
  (cd "$T" && "$PRIVAGG" "${pre[@]}" "$opt" "$val" >"$T/a.out" 2>"$T/a.err"); local ra=$?
  (cd "$T" && "$PRIVAGG" "${pre[@]}" "$opt=$val" >"$T/b.out" 2>"$T/b.err"); local rb=$?
  if [ $ra = $rb ] && cmp -s "$T/a.out" "$T/b.out" && cmp -s "$T/a.err" "$T/b.err" \
     && ! grep -q "unknown option" "$T/b.err"; then ok
  else bad "privagg ${pre[*]} $opt=$val differs from $opt $val (exit $ra vs $rb)"; cat "$T/a.err" "$T/b.err"; fi
  local words=() w
  for w in "${pre[@]}"; do case $w in -*) break ;; *) words+=("$w") ;; esac; done
  "$PRIVAGG" "${words[@]}" --no-such-option=1 >/dev/null 2>"$T/c.err"; local rc=$?
  [ $rc = 2 ] && grep -q -- "--no-such-option" "$T/c.err" && ! grep -q -- "=1" "$T/c.err" && ok \
    || { bad "privagg ${words[*]} --no-such-option=1: exit $rc"; cat "$T/c.err"; }
}
N=/nonexistent/x
same dp eps --rho 0.05 --delta 1e-6
same dp calibrate --rho 0.05 --sensitivity 2
same dp sample --mechanism gaussian --sigma2 25 --count 3 --seed 00ff
same ledger verify --db $N
same ledger export --db $N
same store stats --db $N
same status --config $N
same keygen --role bogus --out k
same task show --task $N
same task init --state ZZ --keys $N --out t.json
same serve --config $N
same tls --cert $N/c.pem --key $N/k.pem --name localhost
same submit --task $N --key $N --counts $N --period 2026-09
same submit --status --key $N
same collect --task $N --key $N --period 2026-09 --partition state
same publish --task $N --collections $N --out $N
same audit --manifests $N --ledgers a b --task $N
same synth --out o --month 2026-13
same demo --setup-only --out $N --agencies 0
# a flag takes no value, a value option needs one, a two-value option takes no '='
"$PRIVAGG" store stats --json=1 --db x >/dev/null 2>"$T/e"; [ $? = 2 ] && grep -q "takes no value" "$T/e" && ok || bad "--json=1 accepted"
"$PRIVAGG" store stats --db >/dev/null 2>"$T/e"; [ $? = 2 ] && grep -q "needs a value" "$T/e" && ok || bad "--db without a value"
"$PRIVAGG" audit --ledgers=a b >/dev/null 2>"$T/e"; [ $? = 2 ] && grep -q "two values" "$T/e" && ok || bad "--ledgers=a accepted"
"$PRIVAGG" store stats --db a --db b >/dev/null 2>"$T/e"; [ $? = 2 ] && grep -q "given twice" "$T/e" && ok || bad "an option given twice"

# 3. --json where a script reads the answer
"$PRIVAGG" keygen --role leader --out "$T/leader" --pairing-out "$T/pair.json" >/dev/null 2>&1 &&
"$PRIVAGG" keygen --role helper --out "$T/helper" --pairing "$T/pair.json" >/dev/null 2>&1 &&
"$PRIVAGG" keygen --role collector --out "$T/collector" >/dev/null 2>&1 &&
"$PRIVAGG" keygen --role agency --state MO --out "$T/agencies" >/dev/null 2>&1 || bad "keygen"
mkdir -p "$T/keys" && cp "$T"/leader.pub "$T"/helper.pub "$T"/collector.pub "$T/keys/" && mv "$T/agencies" "$T/keys/agencies"
"$PRIVAGG" task init --state MO --keys "$T/keys" --out "$T/task.json" --agencies 40 >/dev/null 2>&1 || bad "task init"
"$PRIVAGG" task show --task "$T/task.json" --json >"$T/show.json" 2>/dev/null && ok || bad "task show --json exit"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['agencies'] == 40 and d['schema']['cells'] == 270 and len(d['partitions']) > 0 and d['dp']['unit'] == 'rho'" "$T/show.json" \
  && ok || { bad "task show --json"; head -20 "$T/show.json"; }
key=$(ls "$T/keys/agencies" | grep '\.key$' | head -1)
"$PRIVAGG" submit --status --key "$T/keys/agencies/$key" --json >"$T/st.json" 2>/dev/null
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/st.json" && ok || { bad "submit --status --json"; cat "$T/st.json"; }
# collect --json: one object even when the leader cannot be reached (exit 4)
"$PRIVAGG" collect --task "$T/task.json" --key "$T/collector.key" --period 2026-09 --timeout 5 --json >"$T/c.json" 2>/dev/null
rc=$?
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['status'] == 'unreachable' and d['exit'] == 4 and d['error']" "$T/c.json" \
  && [ $rc = 4 ] && ok || { bad "collect --json without a leader (exit $rc)"; cat "$T/c.json"; }

finish cli_options
