#!/usr/bin/env bash
# Integration: slow and abusive clients against the real `privagg serve` (leader
# and helper over HTTPS on 127.0.0.1, default limits).  1,000 TLS sockets from
# 40 loopback addresses each send one header byte every 3 s (tests/integration/
# slow_clients.c, built beside privagg); while they are open, legitimate uploads
# (`privagg submit`) must each succeed within 5 s, /health must answer, and the
# leader must say in /metrics and in one log line what it dropped.  The
# attacker's addresses, evicted again and again, come under the reconnect
# penalty (refused at accept, one log line per address, not per connection).
# Then the reports of the run are collected (nothing lost under attack).  With
# PA_TEST_PG_URL (ctest -L pg) both stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
SLOW=$(dirname "$PRIVAGG")/pa_slow_clients
[ -x "$SLOW" ] || { echo "SKIP: $SLOW not built"; exit 77; }
ulimit -n 8192 2>/dev/null

setup_demo "$T/d" --agencies-in-task --agencies 20
LPORT=$(port leader)
L=https://127.0.0.1:$LPORT
CURL="curl -s --max-time 10 --cacert $D/tls/cert.pem"
start helper
start leader

# the attack: 1,000 sockets, 40 source addresses, a byte every 3 s, 40 s
"$SLOW" 127.0.0.1 "$LPORT" 1000 40 3 40 >"$T/slow.out" 2>"$T/slow.err" &
SLOW_PID=$!
# wait until the 1,000 are open (handshakes done), or the budget's 448 are
# held and the leader refuses the rest (the reconnect penalty: its addresses
# were evicted in bursts): either way the attack is on
for i in $(seq 1 30); do
  sleep 1
  n=$(tail -1 "$T/slow.out" 2>/dev/null | awk '{print $4}')
  nFailed=$(tail -1 "$T/slow.out" 2>/dev/null | awk '{print $10}')
  [ "${n:-0}" -ge 950 ] && break
  [ "${n:-0}" -ge 400 ] && [ "${nFailed:-0}" -gt 0 ] && break
done
echo "attack: $(tail -1 "$T/slow.out")"
{ [ "${n:-0}" -ge 950 ] || { [ "${n:-0}" -ge 400 ] && [ "${nFailed:-0}" -gt 0 ]; }; } && ok \
  || bad "the attacker could not hold 950 sockets, nor 400 with the rest refused: $(tail -1 "$T/slow.out")"

# legitimate uploads under attack: each within 5 s
agencies=$(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//' | head -10)
# (the task's structural zeros, odd cells from 200 on, stay 0)
counts_csv "$T/counts.csv" "i % 3"
worst=0 nOk=0
for id in $agencies; do
  t0=$(date +%s%N)
  if "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$id.key" --period 2026-03 \
       --counts "$T/counts.csv" --ca "$D/tls/cert.pem" >/dev/null 2>>"$T/submit.err"; then
    nOk=$((nOk+1))
  else bad "submit $id under attack: $(tail -1 "$T/submit.err")"; fi
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$ms" -gt "$worst" ] && worst=$ms
  [ "$ms" -le 5000 ] && ok || bad "submit $id took $ms ms under attack (limit 5000)"
  echo "upload $id: $ms ms, attacker: $(tail -1 "$T/slow.out")"
  sleep 1
done
echo "uploads under attack: $nOk of 10 stored, slowest $worst ms"
t0=$(date +%s%N)
out=$($CURL "$L/health"); case "$out" in *ok*) ok ;; *) bad "health under attack: $out" ;; esac
echo "health under attack: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
metrics=$($CURL "$L/metrics")
echo "$metrics" | grep '^privagg_http_connections_' | sed 's/^/  /'
echo "$metrics" | grep -q 'privagg_http_connections_dropped_total{reason="budget"}' && ok \
  || bad "the budget dropped nothing with 1000 sockets against 512"
echo "$metrics" | grep -q 'privagg_http_connections_refused_total{reason="reconnect-penalty"}' && ok \
  || bad "no connection refused under the reconnect penalty"
wait "$SLOW_PID"
echo "attack end: $(tail -1 "$T/slow.out")"
sleep 11 # one log period of the guard
grep -q "connection guard: dropped" "$T/leader.log" && ok || bad "no summary line of the connection guard"
grep "connection guard" "$T/leader.log" | tail -1
# the penalty: one line per address and episode (40 addresses), never per connection
nLines=$(grep -c "evicted before completing a request" "$T/leader.log")
[ "$nLines" -ge 1 ] && [ "$nLines" -le 40 ] && ok \
  || bad "$nLines reconnect-penalty log lines for 40 attacker addresses (want 1..40)"

# nothing lost: the uploads made under attack are all released
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-03 \
  --partition state --ca "$D/tls/cert.pem" --out "$T/c.json" --timeout 120 2>"$T/collect.err" \
  && ok || { bad "collect"; cat "$T/collect.err"; }
n=$(grep -o '"agencies": [0-9]*' "$T/c.json" 2>/dev/null | grep -o '[0-9]*$')
[ "$n" = "$nOk" ] && ok || bad "collected $n agencies, $nOk uploads were acknowledged"
kill -0 "$LEADER_PID" && ok || bad "the leader died"
finish slow_clients
