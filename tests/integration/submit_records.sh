#!/usr/bin/env bash
# Integration: `privagg submit --records` against real `privagg serve` processes
# (leader, helper) over HTTPS on 127.0.0.1.  Ten agencies send an incident export
# each; a re-run sends nothing new; other counts without --correct are refused
# (65); the leader down during an upload leaves the report in the spool (75) and
# `--retry` sends it once the leader is back; a second --retry sends nothing; a
# correction is refused locally when the task does not allow it; every agency
# has exactly one counted report at the leader, and the released statewide
# totals are within the noise of the exact sums of the exports.  Then: `privagg
# synth` exports read by `submit --records --dry-run --json` give exactly
# truth.json's vectors; and a second deployment whose task is made by `privagg
# task init --allow-corrections` (with almost no noise) shows a correction
# replacing the older report through the real servers, and a correction after
# the release was asked for refused (65) with the leader's message.  With
# PA_TEST_PG_URL (ctest -L pg) the stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

setup_demo "$T/d" --agencies-in-task --agencies 10
counted() { # agency, period -> reports of the agency that still count at the leader
  store_sql "$D" leader "SELECT count(*) FROM reports WHERE agency_id = '$1' AND period = '$2'
                          AND state IN ('pending','aggregating','accepted')"
}

# export of agency number a (1..10): incident i has a victim of 13A (cell 41)
# and an offender of 120 (cell 80) when i % 3 = 0, plus noise the bounds remove:
# a repeated victim row, a 09C row, a Group B victim, a row of the month before
records() { # a, file
  local a=$1
  {
    echo "incident_id,offense_code,role,immigration_status,incident_date,narrative"
    for i in $(seq 1 $((a + 4))); do
      echo "A$a-$i,13A,Victim,citizen,2026-10-$(printf %02d $((i % 28 + 1))),\"said \"\"no\"\", left\""
      echo "A$a-$i,13A,victim,C,2026-10-$(printf %02d $((i % 28 + 1))),repeat"
      [ $((i % 3)) = 0 ] && echo "A$a-$i,120,offender,unknown,2026-10-$(printf %02d $((i % 28 + 1))),"
    done
    echo "A$a-x,09C,offender,citizen,2026-10-02,"
    echo "A$a-y,90D,victim,citizen,2026-10-02,"
    echo "A$a-z,13A,victim,citizen,2026-09-30,late"
  } >"$2"
}
ids=$(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//')
submit() { # id, file, extra args...
  local id=$1 f=$2; shift 2
  "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$id.key" --records "$f" --period 2026-10 \
     --data "$DATA" --ca "$D/tls/cert.pem" --backoff-ms 100 "$@"
}

start helper
start leader

# 1. a dry run: the exact vector, nothing sent, nothing spooled
id1=$(echo "$ids" | head -1)
records 1 "$T/1.csv"
out=$(submit "$id1" "$T/1.csv" --dry-run --json); rc=$?
[ $rc = 0 ] && ok || bad "dry run exit $rc"
echo "$out" | tr -d ' \n' | grep -q '"counts":\[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,5,' \
  && ok || bad "dry run: cell 41 is not 5: $(echo "$out" | head -c 300)"
echo "$out" | tr -d ' \n' | grep -q '"repeat_in_incident":{"rows":5' && ok || bad "dry run: repeats not counted"
[ ! -e "$D/keys/agencies/$id1.key.spool" ] && ok || bad "a dry run wrote a spool"
[ "$(counted "$id1" 2026-10)" = 0 ] && ok || bad "a dry run reached the leader"

# 2. nine agencies submit; a re-run sends the same report, never a second one
a=0
for id in $(echo "$ids" | head -9); do
  a=$((a+1)); records $a "$T/$a.csv"
  submit "$id" "$T/$a.csv" >"$T/out.$a" 2>&1; rc=$?
  [ $rc = 0 ] && ok || { bad "submit $id: exit $rc"; cat "$T/out.$a"; }
done
grep -q "^acknowledged: report [0-9a-f]\{32\}, agency $id1, period 2026-10, by the leader at 20" "$T/out.1" \
  && ok || bad "no receipt: $(cat "$T/out.1")"
submit "$id1" "$T/1.csv" >"$T/rerun" 2>&1; rc=$?
[ $rc = 0 ] && ok || bad "re-run exit $rc"
grep -q "already acknowledged" "$T/rerun" && ok || bad "re-run: $(cat "$T/rerun")"
[ "$(counted "$id1" 2026-10)" = 1 ] && ok || bad "re-run: $id1 has $(counted "$id1" 2026-10) counted reports"
# other counts for the same month without --correct: refused, nothing sent
records 7 "$T/other.csv"
submit "$id1" "$T/other.csv" >"$T/diff" 2>&1; rc=$?
[ $rc = 65 ] && ok || bad "other counts without --correct: exit $rc"
grep -q "with other counts; nothing sent" "$T/diff" && ok || bad "other counts: $(cat "$T/diff")"
submit "$id1" "$T/other.csv" --correct >"$T/corr" 2>&1; rc=$?
[ $rc = 65 ] && ok || bad "--correct on a task without corrections: exit $rc"
grep -q "does not allow corrections" "$T/corr" && ok || bad "--correct: $(cat "$T/corr")"
[ "$(counted "$id1" 2026-10)" = 1 ] && ok || bad "$id1 has $(counted "$id1" 2026-10) counted reports"
# the open month, an empty export and too many bad rows are refused (65)
now=$(date +%Y-%m)
"$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$id1.key" --records "$T/1.csv" --period "$now" \
   --data "$DATA" >/dev/null 2>"$T/open"; rc=$?
[ $rc = 65 ] && grep -q "not over yet" "$T/open" && ok || bad "open period: exit $rc $(cat "$T/open")"
head -1 "$T/1.csv" >"$T/empty.csv"
submit "$id1" "$T/empty.csv" >/dev/null 2>"$T/empty"; rc=$?
[ $rc = 65 ] && grep -q "allow-empty" "$T/empty" && ok || bad "empty export: exit $rc $(cat "$T/empty")"
{ cat "$T/1.csv"; for i in 1 2 3; do echo "B$i,ZZZ,victim,citizen,2026-10-01,"; done; } >"$T/bad.csv"
submit "$id1" "$T/bad.csv" >"$T/badout" 2>&1; rc=$?
[ $rc = 65 ] && grep -q "rows are bad" "$T/badout" && grep -q "unknown_offense" "$T/badout" && ok \
  || bad "bad rows: exit $rc $(cat "$T/badout")"

# 3. the leader down: the report stays in the spool (75); --retry sends it later
id10=$(echo "$ids" | sed -n 10p)
records 10 "$T/10.csv"
stop leader
submit "$id10" "$T/10.csv" --attempts 2 >"$T/down" 2>&1; rc=$?
[ $rc = 75 ] && ok || { bad "leader down: exit $rc, expected 75"; cat "$T/down"; }
cp "$D/keys/agencies/$id10.key.spool" "$T/spool-before-retry"
grep -q "sent: report .*connect" "$T/down" && ok || bad "leader down: $(cat "$T/down")"
"$PRIVAGG" submit --status --key "$D/keys/agencies/$id10.key" >"$T/status" 2>&1
grep -q "2026-10 *sent .* 2 " "$T/status" && ok || bad "status: $(cat "$T/status")"
start leader
[ "$(counted "$id10" 2026-10)" = 0 ] && ok || bad "the report arrived while the leader was down?"
"$PRIVAGG" submit --retry --task "$D/task.json" --key "$D/keys/agencies/$id10.key" --ca "$D/tls/cert.pem" \
   >"$T/retry" 2>&1; rc=$?
[ $rc = 0 ] && ok || { bad "--retry: exit $rc"; cat "$T/retry"; }
grep -q "^acknowledged: " "$T/retry" && ok || bad "--retry: $(cat "$T/retry")"
[ "$(counted "$id10" 2026-10)" = 1 ] && ok || bad "after --retry: $(counted "$id10" 2026-10) reports"
"$PRIVAGG" submit --retry --task "$D/task.json" --key "$D/keys/agencies/$id10.key" --ca "$D/tls/cert.pem" \
   >"$T/retry2" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "nothing to send" "$T/retry2" && ok || bad "second --retry: exit $rc $(cat "$T/retry2")"
"$PRIVAGG" submit --status --key "$D/keys/agencies/$id10.key" --json | grep -q '"state": "acknowledged"' \
  && ok || bad "status --json"
# an acknowledgement lost after the leader stored the report (the spool as it was
# before --retry): the same bytes again are a replay to the leader, read here as
# acknowledged; nothing is counted twice
cp "$T/spool-before-retry" "$D/keys/agencies/$id10.key.spool"
"$PRIVAGG" submit --retry --task "$D/task.json" --key "$D/keys/agencies/$id10.key" --ca "$D/tls/cert.pem" \
   >"$T/retry3" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "already held this report" "$T/retry3" && ok || bad "lost ack: exit $rc $(cat "$T/retry3")"
[ "$(counted "$id10" 2026-10)" = 1 ] && ok || bad "after a lost ack: $(counted "$id10" 2026-10) reports"
for id in $ids; do
  [ "$(counted "$id" 2026-10)" = 1 ] && ok || bad "$id has $(counted "$id" 2026-10) counted reports"
done

# 4. the statewide release is within the noise of the exact sums
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-10 --partition state \
   --ca "$D/tls/cert.pem" --out "$T/2026-10.json" --timeout 120 2>"$T/collect.err" && ok \
   || { bad "collect"; cat "$T/collect.err"; }
# exact: cell 41 = sum over a of (a + 4); cell 80 = sum of floor((a + 4) / 3)
totals=$(grep -o '"total": -\?[0-9]*' "$T/2026-10.json" | grep -o '\-\?[0-9]*$')
t41=$(echo "$totals" | sed -n 42p); t80=$(echo "$totals" | sed -n 81p)
w41=0; w80=0; for a in $(seq 1 10); do w41=$((w41 + a + 4)); w80=$((w80 + (a + 4) / 3)); done
d41=$((t41 - w41)); d80=$((t80 - w80))
[ ${d41#-} -le 60 ] && [ ${d80#-} -le 60 ] && ok || bad "released $t41/$t80, exact $w41/$w80"

# 5. synth exports: what `submit --records --dry-run --json` counts is truth.json
"$PRIVAGG" synth --month 2026-10 --out "$T/syn" --seed 3 --agencies 10 --data "$DATA" >/dev/null 2>"$T/synth.err" \
  && ok || { bad "synth"; cat "$T/synth.err"; }
[ "$(ls "$T/syn" | grep -c '\.csv$')" = 10 ] && ok || bad "synth wrote $(ls "$T/syn" | wc -l) files"
for id in $ids; do
  want=$(grep -o "\"$id\":\[[0-9,]*\]" "$T/syn/truth.json" | sed 's/^[^[]*//')
  got=$(submit "$id" "$T/syn/$id.csv" --dry-run --json --allow-empty | tr -d ' \n' | grep -o '"counts":\[[0-9,]*\]' \
        | sed 's/^[^[]*//')
  [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "synth $id: dry run $got, truth $want"
done
# the same with the demo's registry form: each agency's own key in agencies/<ORI>/,
# the task naming registry.json, synth taking the registry's agencies
"$PRIVAGG" demo --setup-only --agencies 5 --min-agencies 3 --out "$T/r" --data "$DATA" >/dev/null && ok || bad "setup (registry)"
[ -f "$T/r/registry.json" ] && [ ! -e "$T/r/keys/agencies" ] && ok || bad "the demo's registry form: $(ls "$T/r" "$T/r/keys")"
grep -q '"registry"' "$T/r/task.json" && ! grep -q '"agencies"' "$T/r/task.json" && ok || bad "the task lists agencies"
"$PRIVAGG" synth --task "$T/r/task.json" --month 2026-10 --out "$T/rsyn" --data "$DATA" >/dev/null 2>"$T/synth.err"
[ $? = 1 ] && grep -q -- "--registry: required" "$T/synth.err" && ok || bad "synth of a registry task without it: $(cat "$T/synth.err")"
"$PRIVAGG" synth --task "$T/r/task.json" --registry "$T/r/registry.json" --month 2026-10 --seed 3 --out "$T/rsyn" \
  --data "$DATA" >/dev/null 2>"$T/synth.err" && ok || bad "synth --registry: $(cat "$T/synth.err")"
for id in $(ls "$T/r/agencies"); do
  want=$(grep -o "\"$id\":\[[0-9,]*\]" "$T/rsyn/truth.json" | sed 's/^[^[]*//')
  got=$("$PRIVAGG" submit --task "$T/r/task.json" --registry "$T/r/registry.json" --key "$T/r/agencies/$id/$id.key" \
          --records "$T/rsyn/$id.csv" --period 2026-10 --dry-run --json --allow-empty | tr -d ' \n' \
        | grep -o '"counts":\[[0-9,]*\]' | sed 's/^[^[]*//')
  [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "synth (registry) $id: dry run $got, truth $want"
done

stop leader
stop helper

# 6. corrections through real servers: a task made by task init --allow-corrections
setup_demo "$T/c" --agencies-in-task --agencies 10
lep=$(grep -o '"endpoint": *"[^"]*"' "$D/task.json" | sed -n 1p | grep -o 'https://[^"]*')
hep=$(grep -o '"endpoint": *"[^"]*"' "$D/task.json" | sed -n 2p | grep -o 'https://[^"]*')
"$PRIVAGG" task init --state MO --keys "$D/keys" --agencies 10 --min-agencies 10 --leader-endpoint "$lep" \
   --helper-endpoint "$hep" --budget-rho 1000 --rho-state 100 --rho-partition 100 --allow-corrections --force \
   --data "$DATA" --out "$D/task.json" >/dev/null 2>"$T/init.err" && ok || { bad "task init"; cat "$T/init.err"; }
grep -q '"allow_corrections": true' "$D/task.json" && ok || bad "task init --allow-corrections: not in the task"
grep -q '"structural_zeros"' "$D/task.json" && ok || bad "task init: no structural_zeros"
"$PRIVAGG" task show --task "$D/task.json" | grep -q "corrections allowed" && ok || bad "task show: corrections"
start helper
start leader
ids=$(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//')
id1=$(echo "$ids" | head -1)
a=0
for id in $ids; do
  a=$((a+1)); records $a "$T/c$a.csv"
  submit "$id" "$T/c$a.csv" >"$T/cout.$a" 2>&1; rc=$?
  [ $rc = 0 ] && ok || { bad "submit $id: exit $rc"; cat "$T/cout.$a"; }
done
# the correction of agency 1: 30 incidents instead of 5 in cell 41
records 26 "$T/corr.csv"
submit "$id1" "$T/corr.csv" >"$T/corrout" 2>&1; rc=$?
[ $rc = 65 ] && ok || bad "other counts without --correct: exit $rc"
submit "$id1" "$T/corr.csv" --correct >"$T/corrout" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "(a correction)" "$T/corrout" && ok || { bad "--correct: exit $rc"; cat "$T/corrout"; }
[ "$(counted "$id1" 2026-10)" = 1 ] && ok || bad "after the correction: $(counted "$id1" 2026-10) counted reports"
[ "$(store_sql "$D" leader "SELECT count(*) FROM reports WHERE agency_id = '$id1' AND state = 'replaced'")" = 1 ] \
  && ok || bad "the older report is not marked replaced at the leader"
"$PRIVAGG" submit --status --key "$D/keys/agencies/$id1.key" | grep -q "superseded" && ok || bad "spool: not superseded"
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-10 --partition state \
   --ca "$D/tls/cert.pem" --out "$T/c-2026-10.json" --timeout 120 2>"$T/collect2.err" && ok \
   || { bad "collect 2"; cat "$T/collect2.err"; }
grep -q '"reports": 10,' "$T/c-2026-10.json" && ok || bad "collection 2: $(grep '"reports"' "$T/c-2026-10.json")"
# exact (noise sd ~0.2): cell 41 = 30 + sum over a = 2..10 of (a + 4); the older 5 is not in it
totals=$(grep -o '"total": -\?[0-9]*' "$T/c-2026-10.json" | grep -o '\-\?[0-9]*$')
t41=$(echo "$totals" | sed -n 42p); w41=30; for a in $(seq 2 10); do w41=$((w41 + a + 4)); done
d41=$((t41 - w41))
[ ${d41#-} -le 2 ] && ok || bad "released cell 41 = $t41, expected $w41 (the correction only; with both: $((w41 + 5)))"
grep -B1 -A8 '"cell": 269' "$T/c-2026-10.json" | grep -q '"structural_zero": true' && ok \
  || bad "collection JSON: cell 269 (Group B victim) not marked structural_zero"
# once the release was asked for, a correction is refused by the leader: 65 and its message
records 3 "$T/late.csv"
submit "$id1" "$T/late.csv" --correct --attempts 1 >"$T/lateout" 2>&1; rc=$?
[ $rc = 65 ] && ok || { bad "correction after the release: exit $rc"; cat "$T/lateout"; }
# (the leader's words: the batch was collected, or, while the release is under way, aggregated)
grep -q "refused: report .*HTTP 409: .*\(was already collected; late reports are refused\|can no longer be corrected\)" \
  "$T/lateout" \
  && ok || bad "correction after the release: $(cat "$T/lateout")"
[ "$(counted "$id1" 2026-10)" = 1 ] && ok || bad "after the refused correction: $(counted "$id1" 2026-10) reports"

stop leader
stop helper
finish submit_records "$T"/out.* "$T"/down "$T"/retry* "$T"/diff "$T"/corr* "$T"/cout.* "$T"/lateout
