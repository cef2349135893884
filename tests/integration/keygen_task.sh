#!/usr/bin/env bash
# Integration: keygen for every role, the default Missouri task from the shipped
# data, task show; and the refusals (existing key, bad role, unknown state).
set -u
PRIVAGG=$1
DATA="$(cd "$(dirname "$0")/../../data" && pwd)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { # name, expected exit, command...
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL $name: exit $got, expected $want"; cat "$T/err"; fi
}
check keygen-leader 0 "$PRIVAGG" keygen --role leader --out "$T/leader"
check keygen-helper 0 "$PRIVAGG" keygen --role helper --out "$T/helper" --pair-with "$T/leader.key"
check keygen-collector 0 "$PRIVAGG" keygen --role collector --out "$T/collector"
check keygen-agencies 0 "$PRIVAGG" keygen --role agency --state MO --data "$DATA" --out "$T/agencies"
[ "$(ls "$T/agencies" | grep -c '\.pub$')" = 646 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: 646 agency keys expected"; }
[ "$(stat -c %a "$T/leader.key")" = 600 ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: leader.key not 0600"; }
check task-init 0 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/task.json"
check task-show 0 "$PRIVAGG" task show --task "$T/task.json"
grep -q '270 cells = 27 offense x 5 status x 2 role' "$T/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: task show lacks the schema line"; }
grep -q 'agencies  646 in 47 partitions' "$T/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: task show lacks 646 agencies"; }
grep -q 'partitions 47: 14 counties of their own, 32 regions of neighbouring counties, 1 without a county' "$T/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: task show lacks the partitions"; }
grep -Eq 'state +0.5 +4 +2.828 +6$' "$T/out" && grep -Eq 'partition +0.5 +4 +2.828 +6$' "$T/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: task show lacks the noise per level"; }
grep -q 'rho 1 per record = epsilon 7.766 at delta 1e-6' "$T/out" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: task show lacks epsilon per record"; }
check keygen-no-overwrite 1 "$PRIVAGG" keygen --role leader --out "$T/leader"
check keygen-bad-role 2 "$PRIVAGG" keygen --role boss --out "$T/x"
check keygen-help 0 "$PRIVAGG" keygen --help
check task-unknown-state 1 "$PRIVAGG" task init --state ZZ --data "$DATA" --keys "$T" --out "$T/t2.json"
[ ! -e "$T/t2.json" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: a failed task init wrote a file"; }
check task-bad-number 2 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/t3.json" --rho-state abc
check task-old-rho 2 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/t3.json" --rho 0.05
grep -q -- '--rho-state R1' "$T/err" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: --rho is not refused naming the new flags"; }
check task-over-budget 1 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/t3.json" --budget-rho 0.4
check task-show-missing 1 "$PRIVAGG" task show --task "$T/none.json"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
