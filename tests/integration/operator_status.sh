#!/usr/bin/env bash
# Integration: `privagg status` and the status gauges of /metrics over real
# `privagg serve` processes (docs/operations.md, "Status"; docs/http.md,
# "Metrics").  Reports of one month wait (batches open), are aggregated, and the
# statewide batch is released: status follows, in text and --json, with the
# budget of every lattice cell; a stopped peer is reported (exit 3).  Every
# metric name in engine/ and on both servers' /metrics is one docs/http.md lists,
# and every name listed there is one the code records.  With PA_TEST_PG_URL
# (ctest -L pg) both stores are PostgreSQL schemas (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

# 1. the names of docs/http.md's table against the code's pa_metrics_* calls
grep -oE '^\| `privagg_[a-z_]+`' "$SRC/docs/http.md" | grep -oE 'privagg_[a-z_]+' | sort -u >"$T/doc.names"
grep -rhoE 'pa_metrics_(inc|set|observe)\("privagg_[a-z_]+"' "$SRC/engine" | grep -oE 'privagg_[a-z_]+' | sort -u >"$T/code.names"
[ -s "$T/code.names" ] && ok || bad "no metric name found in engine/"
if diff "$T/doc.names" "$T/code.names" >"$T/names.diff"; then ok; else bad "docs/http.md and engine/ name different metrics (< docs, > code)"; cat "$T/names.diff"; fi

setup_demo "$T/d" --agencies-in-task --agencies 20
counts_csv "$T/counts.csv" "i % 2"
submit() {
  "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$1.key" --period 2026-09 \
    --counts "$T/counts.csv" --ca "$D/tls/cert.pem" >/dev/null 2>>"$T/submit.err"
}
nPart=$(jget "$D/task.json" 'len(d["partitions"])')

# 2. the helper alone: the store exists once the node ran; the leader is down (exit 3)
start helper
"$PRIVAGG" status --config "$D/helper.json" --ca "$D/tls/cert.pem" >"$T/s0.txt" 2>"$T/s0.err"
[ $? = 3 ] && ok || { bad "status with the leader down: not exit 3"; cat "$T/s0.txt" "$T/s0.err"; }
grep -q 'peer         leader .*UNREACHABLE' "$T/s0.txt" && ok || { bad "unreachable leader not shown"; cat "$T/s0.txt"; }
"$PRIVAGG" status --config "$D/helper.json" --no-peer >/dev/null 2>&1 && ok || bad "--no-peer did not exit 0"
"$PRIVAGG" status --config=$D/helper.json --worst=3 --no-peer >/dev/null 2>&1 && ok || bad "--config=FILE --worst=N"
"$PRIVAGG" status >/dev/null 2>&1; [ $? = 2 ] && ok || bad "status without --config: not exit 2"

# 3. reports wait: with the helper stopped, the leader cannot aggregate them
stop helper
start leader
for id in $(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//'); do submit "$id" || bad "submit $id"; done
"$PRIVAGG" status --config "$D/leader.json" --json >"$T/s1.json" 2>"$T/s1.err"
[ $? = 3 ] && ok || { bad "leader status with the helper down: not exit 3"; cat "$T/s1.err"; }
[ "$(jget "$T/s1.json" 'd["peer"]["reachable"]')" = False ] && ok || bad "peer reachable with the helper down"
[ "$(jget "$T/s1.json" 'd["reports"]["pending"] + d["reports"]["aggregating"]')" = 20 ] && ok || bad "20 reports not waiting"
open=$(jget "$T/s1.json" 'd["batches"]["partitions"]["open"]')
[ "$open" -ge 1 ] && [ "$(jget "$T/s1.json" 'd["batches"]["statewide"]["open"]')" = 1 ] && ok \
  || { bad "batches not open"; jget "$T/s1.json" 'd["batches"]'; }
[ "$(jget "$T/s1.json" 'd["budget"]["spent_total"]')" = 0.0 ] && ok || bad "budget spent before any release"

# 4. aggregated and released: status and the gauges follow
start helper
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-09 --partition state \
  --ca "$D/tls/cert.pem" --out "$T/09.json" --timeout 120 2>>"$T/collect.err" && ok || { bad "collect"; cat "$T/collect.err"; }
"$PRIVAGG" status --config "$D/leader.json" >"$T/s2.txt" 2>&1 && ok || { bad "leader status exit"; cat "$T/s2.txt"; }
grep -q 'peer         helper .*: reachable' "$T/s2.txt" && ok || bad "helper not reachable in text"
grep -q 'statewide:  open 0, aggregated 0, released 1' "$T/s2.txt" && ok || { bad "statewide not released"; cat "$T/s2.txt"; }
grep -q "partitions: open 0, aggregated $open, released 0" "$T/s2.txt" && ok || { bad "partition batches not aggregated"; cat "$T/s2.txt"; }
grep -q "$nPart cells (1 periods x $nPart partitions): $nPart with spending, 0 where" "$T/s2.txt" && ok \
  || { bad "budget cells"; cat "$T/s2.txt"; }
"$PRIVAGG" status --config "$D/leader.json" --json >"$T/s2.json" 2>/dev/null && ok || bad "status --json exit"
[ "$(jget "$T/s2.json" 'len(d["budget"]["cells_list"])')" = "$nPart" ] && ok || bad "--json does not list every cell"
[ "$(jget "$T/s2.json" 'd["budget"]["spent_max"]')" = 0.5 ] && [ "$(jget "$T/s2.json" 'd["budget"]["left_min"]')" = 0.5 ] && ok \
  || bad "spent/left after one statewide release of rho 0.5"
[ "$(jget "$T/s2.json" 'd["collections"]["pending"]')" = 0 ] && ok || bad "pending collections"
"$PRIVAGG" status --config "$D/helper.json" --ca "$D/tls/cert.pem" --json >"$T/h.json" 2>/dev/null && ok || bad "helper status exit"
[ "$(jget "$T/h.json" 'd["batches"]["statewide"]["released"]')" = 1 ] && ok || bad "helper: statewide not released"

# 5. the gauges: the status gauges are on both servers' /metrics, every name documented
for role in leader helper; do
  curl -sf --cacert "$D/tls/cert.pem" "https://127.0.0.1:$(port $role)/metrics" >"$T/$role.metrics" && ok || bad "$role /metrics"
  for g in privagg_batches privagg_budget_cells privagg_budget_spent_max privagg_budget_left_min privagg_peer_up privagg_store_bytes; do
    grep -q "^$g[ {]" "$T/$role.metrics" && ok || bad "$role /metrics has no $g"
  done
  grep -oE '^privagg_[a-z_]+' "$T/$role.metrics" | sed -E 's/_(bucket|sum|count)$//' | sort -u | while read -r m; do
    grep -qx "$m" "$T/doc.names" || grep -qx "${m}_seconds" "$T/doc.names" || echo "$m"
  done >"$T/$role.undoc"
  [ -s "$T/$role.undoc" ] && bad "$role /metrics shows names docs/http.md does not list: $(cat "$T/$role.undoc")" || ok
done
# the leader started with the helper down; the gauges are read again every 15 s
up=0
for i in $(seq 1 25); do
  curl -sf --cacert "$D/tls/cert.pem" "https://127.0.0.1:$(port leader)/metrics" | grep -q '^privagg_peer_up 1' && { up=1; break; }
  sleep 1
done
[ $up = 1 ] && ok || bad "leader's privagg_peer_up did not become 1"
stop leader
stop helper
finish operator_status
