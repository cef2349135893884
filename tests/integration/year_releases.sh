#!/usr/bin/env bash
# Integration: a year of releases over the real servers (HTTPS on 127.0.0.1).
# 120 agencies, regions of at least 3 agencies, 12 months, every month the
# statewide batch and every partition released (more than 300 collections in one
# leader process); then:
#   - every lattice cell (period x partition) within the budget in both ledgers,
#     both ledgers verified and equal cell by cell;
#   - the leader killed with SIGKILL after the releases and restarted: `privagg
#     collect` of a released batch gives the same answer again (and exit 0);
#   - a task whose budget cannot take a partition release after the statewide
#     one: the refusal reaches the collector with the budget message within 5 s,
#     exit 1, nothing recorded; an unknown partition and a partition named like
#     the state are refused at once;
#   - a task with dp.mechanism none is refused by `privagg serve` unless
#     --insecure-no-privacy, and then every answer says "no privacy protection".
# With PA_TEST_PG_URL (ctest -L pg) the stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

# 1. the year, from the demo (its own servers, left running with --keep)
D=$T/year
demo_store_args "$D" || { bad "PostgreSQL stores"; exit 1; }
"$PRIVAGG" demo "${DEMO_STORES[@]}" --agencies 120 --min-agencies 3 --months 12 --release all --keep --out "$D" \
  --data "$DATA" >"$T/demo.out" 2>"$T/demo.err" && ok || { bad "demo year: $(tail -3 "$T/demo.err")"; exit 1; }
read -r LPID HPID < <(sed -n 's/.*leader pid \([0-9]*\), helper pid \([0-9]*\).*/\1 \2/p' "$T/demo.err")
track "$LPID" "$HPID"   # the demo's servers: not this shell's jobs
grep -q "Year summary: 3[0-9][0-9] releases (12 months x (statewide + 2[0-9] partitions))" "$T/demo.out" \
  && ok || bad "year summary: $(grep -A1 'Year summary' "$T/demo.out")"
grep -q "the two ledgers agree cell by cell" "$T/demo.out" && ok || bad "ledgers: $(grep -A2 'Privacy spent' "$T/demo.out")"
nrel=$(grep -c ": released$" "$D/leader.log")
[ "$nrel" -gt 300 ] && ok || bad "$nrel collections released by one leader process, expected > 300"

# every cell within the budget, in both ledgers; the ledgers agree
for role in leader helper; do
  "$PRIVAGG" ledger verify --db "$(store_arg "$D" "$role")" >/dev/null && ok || bad "$role ledger does not verify"
  "$PRIVAGG" ledger export --db "$(store_arg "$D" "$role")" --out "$T/$role-ledger.json" && ok || bad "$role ledger export"
  sed -n '/"cells"/,$p' "$T/$role-ledger.json" | grep -o '"spent": [0-9.e+-]*' | grep -o '[0-9.e+-]*$' >"$T/$role.spent"
  ncell=$(wc -l <"$T/$role.spent")
  [ "$ncell" -gt 300 ] && ok || bad "$role: $ncell lattice cells, expected > 300"
  over=$(awk '$1 > 1.000000000001' "$T/$role.spent" | wc -l)
  [ "$over" = 0 ] && ok || bad "$role: $over cells above the budget of 1"
  max=$(sort -g "$T/$role.spent" | tail -1)
  [ "$max" = 1 ] || [ "$max" = 1.0 ] && ok || bad "$role: most-charged cell $max, expected 1"
done
sed -n '/"cells"/,$p' "$T/leader-ledger.json" >"$T/l.cells"
sed -n '/"cells"/,$p' "$T/helper-ledger.json" >"$T/h.cells"
cmp -s "$T/l.cells" "$T/h.cells" && ok || bad "the leader's and the helper's lattice cells differ"

# 2. the leader killed after the releases and restarted: the same answers again
TASK=$D/task.json KEY=$D/keys/collector.key CA=$D/tls/cert.pem
PERIOD=$(ls "$D" | sed -n 's/^collection-\([0-9-]*\)-state\.json$/\1/p' | sort | tail -1)
PART=$(ls "$D" | sed -n "s/^collection-$PERIOD-\\(region-[0-9]*\\)\\.json\$/\\1/p" | head -1)
[ -n "$PART" ] || PART=$(ls "$D" | sed -n "s/^collection-$PERIOD-\\([^s][^.]*\\)\\.json\$/\\1/p" | head -1)
kill -KILL "$LPID"
# the demo started it (not this shell's child): wait until it is gone
for _ in $(seq 1 200); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.05; done
"$PRIVAGG" serve --config "$D/leader.json" >"$T/leader.out" 2>>"$T/leader2.log" &
LPID=$!
for _ in $(seq 1 100); do grep -q listening "$T/leader.out" && break; sleep 0.1; done
grep -q listening "$T/leader.out" && ok || { bad "the leader did not restart: $(cat "$T/leader2.log")"; exit 1; }
for p in state "$PART"; do
  "$PRIVAGG" collect --task "$TASK" --key "$KEY" --period "$PERIOD" --partition "$p" --ca "$CA" \
    --out "$T/again-$p.json" --timeout 20 2>"$T/again.err"
  rc=$?
  [ "$rc" = 0 ] && ok || bad "collect $PERIOD/$p after the restart: exit $rc: $(cat "$T/again.err")"
  # the same released totals as the demo's file
  diff <(grep -o '"total": -\?[0-9]*' "$D/collection-$PERIOD-$p.json") \
       <(grep -o '"total": -\?[0-9]*' "$T/again-$p.json") >/dev/null \
    && ok || bad "$PERIOD/$p: the answer after the restart differs from the first"
done
n0=$(store_sql "$D" leader "SELECT count(*) FROM dp_ledger")
"$PRIVAGG" collect --task "$TASK" --key "$KEY" --period "$PERIOD" --partition 99999 --ca "$CA" \
  --timeout 20 >/dev/null 2>"$T/unknown.err"
rc=$?
[ "$rc" = 1 ] && grep -q 'is not one of the task.s [0-9]* partitions' "$T/unknown.err" && ok \
  || bad "unknown partition: exit $rc: $(cat "$T/unknown.err")"
"$PRIVAGG" collect --task "$TASK" --key "$KEY" --period "$PERIOD" --partition statewide --ca "$CA" \
  --timeout 20 >/dev/null 2>"$T/statewide.err"
[ $? = 1 ] && ok || bad "a partition named statewide was not refused: $(cat "$T/statewide.err")"
[ "$(store_sql "$D" leader "SELECT count(*) FROM dp_ledger")" = "$n0" ] && ok || bad "a refusal was charged"
# no noise and no exact sum of a released batch stays on disk
for role in leader helper; do
  left=$(store_sql "$D" "$role" "SELECT (SELECT count(*) FROM batch_noise) + (SELECT count(*) FROM batches)")
  [ "$left" = 0 ] && ok || bad "$role: $left noise or exact-sum rows left after every batch was released"
done
kill -TERM "$LPID" "$HPID"; wait 2>/dev/null; NODES_PIDS=()

# 3. the budget refusal: after the statewide release a partition's cell has
#    0.5 of 0.75 spent and cannot take another 0.5
B=$T/budget
demo_store_args "$B" || { bad "PostgreSQL stores"; exit 1; }
"$PRIVAGG" demo "${DEMO_STORES[@]}" --agencies 20 --min-agencies 3 --budget-rho 0.75 --months 1 --keep --out "$B" \
  --data "$DATA" >"$T/b.out" 2>"$T/b.err" && ok || { bad "demo budget: $(tail -3 "$T/b.err")"; exit 1; }
read -r LPID HPID < <(sed -n 's/.*leader pid \([0-9]*\), helper pid \([0-9]*\).*/\1 \2/p' "$T/b.err")
track "$LPID" "$HPID"
BPERIOD=$(ls "$B" | sed -n 's/^collection-\([0-9-]*\)-state\.json$/\1/p')
# the partition of the registry's first agency
BPART=$("$PRIVAGG" registry show --registry "$B/registry.json" --task "$B/task.json" --json |
  grep -o '"partition": "[^"]*"' | head -1 | sed 's/.*: "//; s/"$//')
t0=$(date +%s%N)
"$PRIVAGG" collect --task "$B/task.json" --key "$B/keys/collector.key" --period "$BPERIOD" \
  --partition "$BPART" --ca "$B/tls/cert.pem" --timeout 60 >/dev/null 2>"$T/budget.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 1 ] && ok || bad "over budget: exit $rc, expected 1: $(cat "$T/budget.err")"
grep -q "privacy budget: partition $BPART, period $BPERIOD has spent 0.5 of 0.75 rho; this release asks 0.5" \
  "$T/budget.err" && ok || bad "budget message: $(cat "$T/budget.err")"
[ "$ms" -lt 5000 ] && ok || bad "the budget refusal took $ms ms, expected < 5000"
grep -q "collection $BPERIOD/$BPART: refused" "$B/leader.log" && ok || bad "the leader did not log the refusal"
[ "$(store_sql "$B" helper "SELECT count(*) FROM collections")" = 1 ] && ok || bad "the helper released the refused batch"
kill -TERM "$LPID" "$HPID"; wait 2>/dev/null; NODES_PIDS=()

# 4. dp.mechanism none: refused by serve unless --insecure-no-privacy
setup_demo "$T/none" --agencies 10 --min-agencies 3
N=$D
sed -i 's/"mechanism": "discrete_gaussian"/"mechanism": "none"/' "$N/task.json"
"$PRIVAGG" serve --config "$N/helper.json" >/dev/null 2>"$T/none.err" && bad "a task without noise was served"
grep -q 'no privacy protection' "$T/none.err" && grep -q -- '--insecure-no-privacy' "$T/none.err" && ok \
  || bad "mechanism none: $(cat "$T/none.err")"
"$PRIVAGG" serve --config "$N/helper.json" --insecure-no-privacy >"$T/none.out" 2>"$T/none2.err" &
NPID=$!
for _ in $(seq 1 100); do grep -q listening "$T/none.out" && break; sleep 0.1; done
grep -q listening "$T/none.out" && ok || bad "serve --insecure-no-privacy did not start: $(cat "$T/none2.err")"
grep -q 'WARNING: no privacy protection' "$T/none2.err" && ok || bad "no start-up warning without noise"
HPORT=$(port helper)
curl -s -D "$T/none.hdr" -o /dev/null --max-time 10 --cacert "$N/tls/cert.pem" -X POST \
  --data-binary x "https://127.0.0.1:$HPORT/internal/collect" >/dev/null
grep -qi '^Privagg-Warning: no privacy protection' "$T/none.hdr" && ok || bad "no warning header: $(cat "$T/none.hdr")"
kill -TERM "$NPID"; wait 2>/dev/null

finish year_releases "$T"/*.err "$T/year"/*.log "$B"/*.log
