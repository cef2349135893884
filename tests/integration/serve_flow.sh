#!/usr/bin/env bash
# Integration: real `privagg serve` processes (leader, helper) over HTTPS on
# 127.0.0.1.  The full flow (submit -> aggregate -> collect); the helper down
# during aggregation and back later (nothing lost or counted twice); the leader
# restarted between upload and collection; and the refusals: malformed msgpack,
# an oversized body, wrong or missing auth, a wrong task id — each with the right
# HTTP status and problem type, and nothing stored.  With PA_TEST_PG_URL
# (ctest -L pg) both stores are PostgreSQL schemas (tests/support/nodes.sh);
# the store files' modes (0600) are checked on SQLite only.
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

setup_demo "$T/d" --agencies-in-task --agencies 20
LPORT=$(port leader)
HPORT=$(port helper)
TASK_ID=$(task_id)
L=https://127.0.0.1:$LPORT
H=https://127.0.0.1:$HPORT
CURL="curl -s --max-time 20 --cacert $D/tls/cert.pem"
reports_in() { store_sql "$D" "$1" "SELECT count(*) FROM reports"; }

# counts of agency number a: cell i gets (i + a) % 3, except the task's structural
# zeros (victims of buckets 21..27: odd cells from 200 on), which stay 0; truth per
# cell summed here
agencies=$(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//' | head -14)
declare -A truth
submit_month() { # period, agency list
  local period=$1; shift; local a=0
  for id in "$@"; do
    a=$((a+1))
    counts_csv "$T/counts.csv" "(i + a) % 3"
    if "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$id.key" --period "$period" \
         --counts "$T/counts.csv" --ca "$D/tls/cert.pem" >/dev/null 2>>"$T/submit.err"; then ok
    else bad "submit $id $period"; tail -1 "$T/submit.err"; fi
  done
}
collect() { # period -> $T/<period>.json
  "$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period "$1" \
    --partition state --ca "$D/tls/cert.pem" --out "$T/$1.json" --timeout 120 2>>"$T/collect.err"
}
check_collection() { # period, expected agencies
  local n; n=$(grep -o '"agencies": [0-9]*' "$T/$1.json" | grep -o '[0-9]*$')
  [ "$n" = "$2" ] && ok || bad "$1: $n agencies released, expected $2"
  # every cell within +-60 of its true total (the 99.99 % half-width is ~30)
  local worst
  worst=$(grep -o '"total": -\?[0-9]*' "$T/$1.json" | grep -o '\-\?[0-9]*$' | awk -v n="$2" '
    { cell = NR - 1; t = 0; for (a = 1; a <= n; a++) t += (cell >= 200 && cell % 2) ? 0 : (cell + a) % 3;
      e = $1 - t; if (e < 0) e = -e; if (e > w) w = e } END { print w + 0 }')
  [ "$worst" -le 60 ] && ok || bad "$1: a cell is $worst away from its true total"
}

# 0. configs are refused when readable by others, or without TLS
cp "$D/leader.json" "$T/open.json"; chmod 644 "$T/open.json"
"$PRIVAGG" serve --config "$T/open.json" >/dev/null 2>"$T/open.err" && bad "a world-readable config was accepted"
grep -q "mode 644" "$T/open.err" && ok || bad "open config: $(cat "$T/open.err")"
printf '{"role": "helper", "task": "%s", "private_key": "%s", "store": "%s", "listen": {"address": "127.0.0.1", "port": 0}}\n' \
  "$D/task.json" "$D/keys/helper.key" "$T/notls.db" >"$T/notls.json"; chmod 600 "$T/notls.json"
"$PRIVAGG" serve --config "$T/notls.json" >/dev/null 2>"$T/notls.err" && bad "a config without TLS was accepted"
grep -q "tls: required" "$T/notls.err" && ok || bad "no-TLS config: $(cat "$T/notls.err")"
# plain HTTP only on the loopback: insecure_http on every interface, in the config
# or by --insecure-http over a config that listens on 0.0.0.0, is refused at start
printf '{"role": "helper", "task": "%s", "private_key": "%s", "store": "%s", "insecure_http": true, "listen": {"address": "0.0.0.0", "port": 0}}\n' \
  "$D/task.json" "$D/keys/helper.key" "$T/plain.db" >"$T/plain.json"; chmod 600 "$T/plain.json"
timeout 10 "$PRIVAGG" serve --config "$T/plain.json" >/dev/null 2>"$T/plain.err" && bad "insecure_http on 0.0.0.0 was accepted"
grep -q 'listen.address: "0.0.0.0" with insecure_http' "$T/plain.err" && ok || bad "insecure_http on 0.0.0.0: $(cat "$T/plain.err")"
sed 's/"127.0.0.1"/"0.0.0.0"/' "$D/helper.json" >"$D/any.json"; chmod 600 "$D/any.json"
timeout 10 "$PRIVAGG" serve --config "$D/any.json" --insecure-http >/dev/null 2>"$T/any.err" && bad "--insecure-http on 0.0.0.0 was accepted"
grep -q -- '--insecure-http: listen.address: "0.0.0.0"' "$T/any.err" && ok || bad "--insecure-http on 0.0.0.0: $(cat "$T/any.err")"
# a key file reached through a symbolic link is refused; a public file for --key is named as one
ln -s "$D/keys/collector.key" "$T/link.key"
"$PRIVAGG" collect --task "$D/task.json" --key "$T/link.key" --period 2026-08 --partition state \
  --ca "$D/tls/cert.pem" --out "$T/x.json" >/dev/null 2>"$T/link.err" && bad "a linked key file was accepted"
grep -q "symbolic link" "$T/link.err" && ok || bad "linked key: $(cat "$T/link.err")"
first=$(echo $agencies | cut -d' ' -f1)
"$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$first.pub" --period 2026-08 \
  --counts /dev/null --ca "$D/tls/cert.pem" >/dev/null 2>"$T/pub.err" && bad "a public key file was accepted for --key"
grep -q "a public key file.*$first.key" "$T/pub.err" && ok || bad "--key X.pub: $(cat "$T/pub.err")"

start helper
start leader

# 1. the full flow
submit_month 2026-08 $agencies
collect 2026-08 && ok || { bad "collect 2026-08"; cat "$T/collect.err"; }
check_collection 2026-08 14

# 2. the helper down during aggregation, back later
stop helper
submit_month 2026-09 $agencies
sleep 2   # the leader tries, fails, backs off
grep -q "retrying" "$T/leader.log" && ok || bad "the leader did not report a failed aggregation attempt"
start helper
collect 2026-09 && ok || { bad "collect 2026-09"; cat "$T/collect.err"; }
check_collection 2026-09 14
[ "$(store_sql "$D" helper "SELECT count(*) FROM reports WHERE period = '2026-09' AND state = 'accepted'")" = 14 ] \
  && ok || bad "helper: 2026-09 reports not counted exactly once"

# 3. the leader restarted between upload and collection
submit_month 2026-07 $agencies
stop leader
start leader
collect 2026-07 && ok || { bad "collect 2026-07"; cat "$T/collect.err"; }
check_collection 2026-07 14

# 4. refusals: status, problem type, nothing stored
n0=$(reports_in leader)
problem() { # expected status, expected type, curl args...
  local want=$1 type=$2; shift 2
  local out; out=$($CURL -o "$T/body" -w '%{http_code} %{content_type}' "$@")
  case "$out" in
    "$want application/problem+json"*) grep -q "\"urn:privagg:error:$type\"" "$T/body" && ok \
        || bad "$*: type not $type: $(head -c 200 "$T/body")" ;;
    *) bad "$*: got '$out', expected $want problem+json ($(head -c 200 "$T/body"))" ;;
  esac
}
printf '\x93\x01\x02' >"$T/garbage"
OCT=(-H "Content-Type: application/octet-stream")
problem 400 invalid-message -X POST "${OCT[@]}" --data-binary @"$T/garbage" "$L/tasks/$TASK_ID/reports"
# HTTP strictness (RFC 9110/9112): media type, conflicting lengths, encodings
problem 415 unsupported-media-type -X POST -H "Content-Type: text/plain" --data-binary @"$T/garbage" "$L/tasks/$TASK_ID/reports"
CTOKEN=$(grep -o '"collector_token": "[0-9a-f]*"' "$D/leader.json" | grep -o '[0-9a-f]\{64\}')
problem 415 unsupported-media-type -X POST -H "Authorization: Bearer $CTOKEN" --data-binary @"$T/garbage" "$L/tasks/$TASK_ID/collections"
problem 400 malformed -X POST "${OCT[@]}" -H "Content-Length: 2" -H "Content-Length: 3" --data-binary @"$T/garbage" "$L/tasks/$TASK_ID/reports"
problem 501 not-implemented -X POST "${OCT[@]}" -H "Transfer-Encoding: gzip, chunked" --data-binary @"$T/garbage" "$L/tasks/$TASK_ID/reports"
grep -q "127.0.0.1 POST /tasks/$TASK_ID/reports: 415 unsupported-media-type" "$T/leader.log" && ok \
  || bad "no log line for the 415: $(grep 415 "$T/leader.log" | head -2)"
# ready: store writable, helper reachable; the store files are 0600
out=$($CURL "$L/health/ready"); case "$out" in *'"ready"'*) ok ;; *) bad "leader ready: $out" ;; esac
for f in "$D/leader.db" "$D/leader.db-wal" "$D/leader.db-shm"; do
  [ -e "$f" ] || continue
  [ "$(stat -c %a "$f")" = 600 ] && ok || bad "$f: mode $(stat -c %a "$f"), expected 600"
done
head -c 9000000 /dev/zero >"$T/big"
out=$($CURL -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/big" "$L/tasks/$TASK_ID/reports")
[ "$out" = 413 ] && ok || bad "oversized body: HTTP $out, expected 413"
problem 404 not-found -X POST "${OCT[@]}" --data-binary @"$T/garbage" "$L/tasks/$(printf '%064d' 0)/reports"
# a report of another task posted to this task's route
"$PRIVAGG" demo --setup-only --agencies-in-task --agencies 10 --out "$T/other" --data "$DATA" >/dev/null
{ echo "cell,count"; echo "0,1"; } >"$T/one.csv"
id=$(ls "$T/other/keys/agencies" | grep '\.key$' | head -1 | sed 's/\.key$//')
sed "s#https://127.0.0.1:[0-9]*\"#$L\"#" "$T/other/task.json" >"$T/other-task.json"
# (--offline-keys: the other task's signed configuration would be refused before sealing)
"$PRIVAGG" submit --task "$T/other-task.json" --key "$T/other/keys/agencies/$id.key" --period 2026-08 \
   --counts "$T/one.csv" --ca "$D/tls/cert.pem" --offline-keys >/dev/null 2>"$T/other.err" && bad "another task's report accepted"
grep -q "not-found" "$T/other.err" && ok || bad "wrong task id: $(cat "$T/other.err")"
problem 401 unauthorized -X POST --data-binary @"$T/garbage" "$H/internal/job/init"
problem 401 unauthorized -X POST -H "Authorization: Bearer $(printf '%064d' 7)" --data-binary @"$T/garbage" \
   "$L/tasks/$TASK_ID/collections"
[ "$(reports_in leader)" = "$n0" ] && ok || bad "a refused request stored a report"
out=$($CURL "$L/health"); case "$out" in *ok*) ok ;; *) bad "health: $out" ;; esac
$CURL "$L/metrics" | grep -q '^privagg_reports_total' && ok || bad "metrics lack privagg_reports_total"
# the helper down: the leader is up but not ready
stop helper
sleep 2.2 # the leader probes the helper at most every 2 s
out=$($CURL -w ' %{http_code}' "$L/health/ready"); case "$out" in *helper*unreachable*503) ok ;; *) bad "leader ready without helper: $out" ;; esac
out=$($CURL "$L/health"); case "$out" in *ok*) ok ;; *) bad "health without helper: $out" ;; esac
start helper

# the store as the operator's commands see it (a URL on PostgreSQL)
"$PRIVAGG" store stats --db "$(store_arg "$D" leader)" >"$T/stats.txt" 2>&1 \
  && grep -q "ledger           [1-9]" "$T/stats.txt" && ok || bad "store stats: $(head -3 "$T/stats.txt")"
"$PRIVAGG" ledger verify --db "$(store_arg "$D" helper)" >/dev/null 2>&1 && ok || bad "helper ledger does not verify"
"$PRIVAGG" status --config "$D/leader.json" --no-peer >"$T/status.txt" 2>&1 \
  && grep -q "store " "$T/status.txt" && ok || bad "status: $(head -3 "$T/status.txt")"

# 5. graceful stop
stop leader
stop helper
grep -qi "stopping" "$T/leader.log" && ok || bad "no graceful stop in the leader's log"
finish serve_flow "$T"/*.err
