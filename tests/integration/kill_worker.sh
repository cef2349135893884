#!/usr/bin/env bash
# Integration: several `privagg serve` processes per role on one store (issue
# 16, horizontal workers).  Two leader processes share leader.db and two helper
# processes share helper.db, each pair on one port (listen.reuse_port), with
# 3-second leases.  Agencies upload while aggregation runs; the helpers are
# stopped (SIGSTOP) so that a leader worker is caught in the middle of a job,
# and the leader process holding a job's lease is killed with SIGKILL; the
# helpers continue, the agencies go on uploading (retrying what the kill cut
# off), and the surviving leader takes the dead worker's job over once its
# lease has expired.  Then:
#   1. (dp.mechanism none, --insecure-no-privacy, so totals are exact) every
#      acknowledged report is counted exactly once: the released totals equal
#      the true sums cell by cell, reports = agencies = acknowledged uploads,
#      on both sides every report accepted and the batches' counts add up;
#   2. (the task's discrete Gaussian) the leader process stepping a collection
#      job is killed while it waits for the helper; the survivor releases the
#      batch: each aggregator's ledger has exactly one entry per release, and
#      both ledgers verify.
# The stores are SQLite files (WAL, busy timeouts across processes), or
# PostgreSQL schemas when PA_TEST_PG_URL is set (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; PIDS=(); }
if [ -z "${PA_TEST_PG_URL:-}" ]; then
  command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 (the command-line shell) is not installed"; exit 77; }
  JOBHEX="hex(job_id)"
else
  JOBHEX="upper(encode(job_id, 'hex'))"
fi
PERIOD=2026-11

# deploy DIR MECHANISM AGENCIES LIST: the folder (D), both configs sharing their
# port and store between two processes, 3-second leases; two helper and two
# leader processes started (H1 H2 L1 L2); the agencies listed in LIST, a line
# "index id period scratch-folder" each (xargs passes them as $2..$5)
deploy() {
  local mech=$2 n=$3
  setup_demo "$1" --agencies-in-task --agencies "$n" --min-agencies 3
  [ "$mech" = none ] && sed -i 's/"mechanism": "discrete_gaussian"/"mechanism": "none"/' "$D/task.json"
  for role in leader helper; do
    sed -i 's/"port": \([0-9]*\)/"port": \1, "reuse_port": true/' "$D/$role.json"
    sed -i 's/^{/{\n  "lease_seconds": 3,/' "$D/$role.json"
    chmod 600 "$D/$role.json"
  done
  start_worker "$D" helper 1; H1=$STARTED
  start_worker "$D" helper 2; H2=$STARTED
  start_worker "$D" leader 1; L1=$STARTED
  start_worker "$D" leader 2; L2=$STARTED
  ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//' | awk -v p=$PERIOD '{print NR, $1, p}' | \
    sed "s|\$| $T|" >"$4"
}

# start_worker DIR ROLE N -> pid in STARTED (waits for "listening")
start_worker() {
  local d=$1 role=$2 n=$3
  local fifo=$T/$role-$n.fifo
  rm -f "$fifo"; mkfifo "$fifo"
  "$PRIVAGG" serve --config "$d/$role.json" $NOPRIV >"$fifo" 2>>"$d/$role-$n.log" &
  STARTED=$!
  PIDS+=("$STARTED")
  if ! timeout 20 head -n1 "$fifo" | grep -q listening; then
    bad "$role $n did not start: $(tail -3 "$d/$role-$n.log")"; exit 1
  fi
}

# counts of agency number a: cell i gets (i + a) % 3, the task's structural
# zeros (odd cells from 200 on) 0
for a in 0 1 2; do counts_csv "$T/counts-$a.csv" "(i + a) % 3"; done

# submit DIR FILE-OF-"index id"-LINES: in parallel (4 at a time), exit status
# per agency in $T/st/<id>
submit_wave() {
  local d=$1 list=$2
  mkdir -p "$T/st"
  xargs -P 4 -L 1 bash -c '"$0" submit --task "$1/task.json" --key "$1/keys/agencies/$3.key" --period "$4" \
      --counts "$5/counts-$(( $2 % 3 )).csv" --ca "$1/tls/cert.pem" >/dev/null 2>>"$5/submit.err"; echo $? >"$5/st/$3"' \
    "$PRIVAGG" "$d" <"$list"
}

# the first unfinished job or collection job leased to a live worker: its pid
leased_pid() { # DIR TABLE [STATE]
  store_sql "$1" leader "SELECT lease_owner FROM $2 WHERE lease_owner IS NOT NULL AND state = '${3:-started}' LIMIT 1" \
    2>>"$T/sql.err" | awk -F: '{print $2}'
}

has_lease() { [ -n "$(leased_pid "$@")" ]; }

wait_for() { # SECONDS CONDITION...
  local s=$1; shift
  for _ in $(seq 1 $((s * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}

# ------------------------------------------------------------------------------
# 1. a leader worker killed in the middle of an aggregation job
NOPRIV=--insecure-no-privacy
deploy "$T/exact" none 90 "$T/all"
sed -n '1,30p' "$T/all" >"$T/wave1"; sed -n '31,60p' "$T/all" >"$T/wave2"; sed -n '61,90p' "$T/all" >"$T/wave3"

submit_wave "$D" "$T/wave1"
# the helpers stop answering: the next jobs' workers wait in their calls to them
kill -STOP "$H1" "$H2"
submit_wave "$D" "$T/wave2"
victim=
wait_for 20 has_lease "$D" jobs && victim=$(leased_pid "$D" jobs)
if [ "$victim" = "$L1" ] || [ "$victim" = "$L2" ]; then ok; else bad "no leader worker holds a job (got '$victim')"; stop_all; exit 1; fi
JOB=$(store_sql "$D" leader "SELECT $JOBHEX FROM jobs WHERE lease_owner LIKE '%:$victim:%' AND state = 'started' LIMIT 1")
njob=$(store_sql "$D" leader "SELECT count(*) FROM reports WHERE $JOBHEX = '$JOB'")
[ -n "$JOB" ] && [ "$njob" -gt 0 ] && ok || bad "the victim's job has no reports ($JOB: $njob)"
# agencies keep uploading while the worker dies
submit_wave "$D" "$T/wave3" &
WAVE=$!
sleep 0.3
kill -KILL "$victim"; wait "$victim" 2>/dev/null
[ "$victim" = "$L1" ] && SURVIVOR=$L2 || SURVIVOR=$L1
# it died holding the lease: only its expiry lets the survivor take the job
store_sql "$D" leader "SELECT lease_owner FROM jobs WHERE $JOBHEX = '$JOB'" | grep -q ":$victim:" \
  && ok || bad "the victim no longer held its job's lease when it was killed"
kill -CONT "$H1" "$H2"
wait "$WAVE"
# what the kill cut off is retried from the agencies' spools (never twice)
for id in $(cut -d' ' -f2 "$T/all"); do
  st=$(cat "$T/st/$id" 2>/dev/null || echo missing)
  for _ in 1 2 3 4 5; do
    [ "$st" = 0 ] && break
    sleep 1
    "$PRIVAGG" submit --retry --task "$D/task.json" --key "$D/keys/agencies/$id.key" --ca "$D/tls/cert.pem" \
      >/dev/null 2>>"$T/submit.err"
    st=$?
  done
  [ "$st" = 0 ] || bad "agency $id: upload not acknowledged (exit $st): $(tail -1 "$T/submit.err")"
done

# the survivor finishes every job, the dead worker's one too
settled() { [ "$(store_sql "$D" leader "SELECT count(*) FROM reports WHERE state IN ('pending','aggregating')")" = 0 ]; }
wait_for 60 settled && ok || bad "reports still unsettled: $(store_sql "$D" leader "SELECT state, count(*) FROM reports GROUP BY state")"
[ "$(store_sql "$D" leader "SELECT state || ' ' || coalesce(lease_owner, '-') FROM jobs WHERE $JOBHEX = '$JOB'")" = "finished -" ] \
  && ok || bad "the killed worker's job: $(store_sql "$D" leader "SELECT state, lease_owner FROM jobs WHERE $JOBHEX = '$JOB'")"
[ "$(store_sql "$D" leader "SELECT count(*) FROM jobs WHERE state != 'finished'")" = 0 ] && ok || bad "jobs left open"
for role in leader helper; do
  got=$(store_sql "$D" "$role" "SELECT count(*) || ' ' || count(DISTINCT report_id) || ' ' || sum(CASE WHEN state = 'accepted' THEN 1 ELSE 0 END) FROM reports")
  [ "$got" = "90 90 90" ] && ok || bad "$role reports (count, distinct, accepted): $got, expected 90 90 90"
  got=$(store_sql "$D" "$role" "SELECT sum(report_count) FROM batches WHERE period = '$PERIOD'")
  [ "$got" = 90 ] && ok || bad "$role: the batches count $got reports, expected 90"
done
grep -q "another worker took over" "$D"/leader-*.log && echo "(a late worker's job was dropped)"

# the exact totals
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period $PERIOD --partition state \
  --ca "$D/tls/cert.pem" --out "$T/state.json" --timeout 60 2>"$T/collect.err" && ok \
  || bad "collect: $(cat "$T/collect.err")"
for k in agencies reports; do
  n=$(grep -o "\"$k\": [0-9]*" "$T/state.json" | head -1 | grep -o '[0-9]*$')
  [ "$n" = 90 ] && ok || bad "released $k: $n, expected 90"
done
wrong=$(grep -o '"total": -\?[0-9]*' "$T/state.json" | grep -o '\-\?[0-9]*$' | awk '
  { cell = NR - 1; t = 0; for (a = 1; a <= 90; a++) t += (cell >= 200 && cell % 2) ? 0 : (cell + a % 3) % 3;
    if ($1 != t) w++ } END { print w + 0 " " NR }')
[ "$wrong" = "0 270" ] && ok || bad "cells (wrong, all): $wrong, expected 0 270"
stop_all

# ------------------------------------------------------------------------------
# 2. a leader worker killed while it steps a collection job: one ledger entry
#    per release on each side
NOPRIV=
deploy "$T/ledger" discrete_gaussian 12 "$T/all2"
rm -rf "$T/st"
submit_wave "$D" "$T/all2"
for id in $(cut -d' ' -f2 "$T/all2"); do [ "$(cat "$T/st/$id")" = 0 ] || bad "upload $id"; done
settled2() { [ "$(store_sql "$D" leader "SELECT count(*) FROM reports WHERE state IN ('pending','aggregating')")" = 0 ]; }
wait_for 60 settled2 && ok || bad "ledger deployment: reports unsettled"
kill -STOP "$H1" "$H2"
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period $PERIOD --partition state \
  --ca "$D/tls/cert.pem" --out "$T/noised.json" --timeout 90 2>"$T/collect2.err" &
COLL=$!
victim=
wait_for 20 has_lease "$D" collection_jobs pending \
  && victim=$(leased_pid "$D" collection_jobs pending)
if [ "$victim" = "$L1" ] || [ "$victim" = "$L2" ]; then ok; else bad "no leader worker holds the collection job (got '$victim')"; stop_all; exit 1; fi
kill -KILL "$victim"; wait "$victim" 2>/dev/null
[ "$victim" = "$L1" ] && SURVIVOR=$L2 || SURVIVOR=$L1
kill -CONT "$H1" "$H2"
wait "$COLL" && ok || bad "collect after the kill: $(cat "$T/collect2.err")"
n=$(grep -o '"reports": [0-9]*' "$T/noised.json" | head -1 | grep -o '[0-9]*$')
[ "$n" = 12 ] && ok || bad "released reports: $n, expected 12"
for role in leader helper; do
  got=$(store_sql "$D" "$role" "SELECT (SELECT count(*) FROM collections) || ' ' || (SELECT count(*) FROM dp_ledger)")
  [ "$got" = "1 1" ] && ok || bad "$role (releases, ledger entries): $got, expected 1 1"
  "$PRIVAGG" ledger verify --db "$(store_arg "$D" "$role")" >/dev/null && ok || bad "$role ledger does not verify"
done
[ "$(store_sql "$D" leader "SELECT state || ' ' || coalesce(lease_owner, '-') FROM collection_jobs")" = "released -" ] \
  && ok || bad "collection job: $(store_sql "$D" leader "SELECT state, lease_owner FROM collection_jobs")"
stop_all

finish kill_worker "$T"/*/*.log
