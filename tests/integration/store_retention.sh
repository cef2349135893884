#!/usr/bin/env bash
# Integration: retention in the real server, and `privagg store stats`.
# A demo month (20 agencies) with the statewide batch and every partition
# released, then each aggregator restarted with retention.reports_days:
#   - 1 day: the releases are younger, nothing is deleted;
#   - 0 days: every report and job of the released batches is deleted (log
#     line, privagg_retention_deleted_total), and the collections, the ledger
#     (same count and head, still verifying) and the noise pool are kept;
#   - the store's gauges in /metrics (reports by state, noise pool, pending
#     collection jobs, unreleased batches and the oldest one's age, ledger
#     entries, store size);
#   - store stats: text and --json, read-only on a running server's store;
#     a missing store is exit 1, a bad option exit 2;
#   - a bad retention value is refused at start with the key named.
# With PA_TEST_PG_URL (ctest -L pg) the stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

D=$T/d
demo_store_args "$D" || { bad "PostgreSQL stores"; exit 1; }
"$PRIVAGG" demo "${DEMO_STORES[@]}" --agencies 20 --min-agencies 3 --release all --out "$D" >"$T/demo.out" 2>"$T/demo.err" ||
  { bad "demo: $(tail -3 "$T/demo.err")"; exit 1; }
cd "$T/d"
for role in leader helper; do
  "$PRIVAGG" store stats --db "$(store_arg "$D" $role)" --json >"$T/$role.before" || bad "store stats $role"
done
[ "$(jget "$T/leader.before" 'd["reports"]["accepted"]')" = 20 ] && ok || bad "before: $(cat "$T/leader.before")"
[ "$(jget "$T/leader.before" 'd["collections"]')" -ge 2 ] && ok || bad "no collections: $(cat "$T/leader.before")"
[ "$(jget "$T/leader.before" 'd["oldest_unreleased"]')" = None ] && ok || bad "an unreleased batch: $(cat "$T/leader.before")"
"$PRIVAGG" store stats --db "$(store_arg "$D" leader)" >"$T/text" && grep -q "^  ledger  *[0-9]* entries, head [0-9a-f]\{64\}$" "$T/text" && ok ||
  bad "text: $(cat "$T/text")"
"$PRIVAGG" ledger verify --db "$(store_arg "$D" leader)" --json >"$T/ledger.before" || bad "ledger verify before"

# serve ROLE DAYS: start with retention.reports_days DAYS, until its first pass
serve() {
  python3 - "$1.json" "$2" <<'EOF'
import json, sys
p, days = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["retention"] = {"reports_days": json.loads(days)}
open(p, "w").write(json.dumps(c, indent=2))
EOF
  chmod 600 "$1.json"
  : >"$T/$1.log"
  start "$1"
  sleep 1.5 # the noise thread's first tick runs the pass
}

for role in leader helper; do
  serve $role 1
  "$PRIVAGG" store stats --db "$(store_arg "$D" $role)" --json >"$T/$role.mid" || bad "store stats on a running $role"
  [ "$(jget "$T/$role.mid" 'd["reports"]["accepted"]')" = "$(jget "$T/$role.before" 'd["reports"]["accepted"]')" ] &&
    ok || bad "$role, 1 day: reports deleted: $(cat "$T/$role.mid")"
  grep -q "retention: deleted" "$T/$role.log" && bad "$role, 1 day: $(cat "$T/$role.log")" || ok
  stop $role
  serve $role 0
  wait_line "$T/$role.log" "retention: deleted [0-9]* reports and [0-9]* jobs of batches released more than 0 days ago" &&
    ok || bad "$role, 0 days: no retention line: $(cat "$T/$role.log")"
  PORT=$(port $role)
  curl -sf --cacert tls/cert.pem "https://127.0.0.1:$PORT/metrics" >"$T/$role.metrics"
  grep -q '^privagg_retention_deleted_total{table="reports"} [1-9]' "$T/$role.metrics" && ok ||
    bad "$role: metrics: $(grep retention "$T/$role.metrics")"
  # the store's gauges, read after the pass
  grep -q '^# TYPE privagg_store_reports gauge$' "$T/$role.metrics" &&
    grep -q '^privagg_store_reports{state="accepted"} 0$' "$T/$role.metrics" &&
    grep -q '^privagg_noise_pool_vectors [1-9][0-9]*$' "$T/$role.metrics" &&
    grep -q '^privagg_collection_jobs_pending 0$' "$T/$role.metrics" &&
    grep -q '^privagg_unreleased_batches 0$' "$T/$role.metrics" &&
    grep -q '^privagg_oldest_unreleased_batch_age_seconds 0$' "$T/$role.metrics" &&
    grep -q "^privagg_ledger_entries $(jget "$T/$role.before" 'd["ledger"]["count"]')$" "$T/$role.metrics" &&
    grep -q '^privagg_store_bytes [1-9][0-9]*$' "$T/$role.metrics" && ok ||
    bad "$role: gauges: $(grep -v '^#' "$T/$role.metrics" | grep -v http_)"
  stop $role
  "$PRIVAGG" store stats --db "$(store_arg "$D" $role)" --json >"$T/$role.after" || bad "store stats after"
  a=$T/$role.after b=$T/$role.before
  [ "$(jget "$a" 'sum(d["reports"].values())')" = 0 ] && ok || bad "$role: reports left: $(cat "$a")"
  [ "$(jget "$a" 'd["jobs"]["finished"]')" = 0 ] && ok || bad "$role: jobs left: $(cat "$a")"
  for k in '["collections"]' '["ledger"]["count"]' '["ledger"]["head"]' '["collection_jobs"]["released"]'; do
    [ "$(jget "$a" "d$k")" = "$(jget "$b" "d$k")" ] && ok || bad "$role: $k changed: $(cat "$b") -> $(cat "$a")"
  done
done
"$PRIVAGG" ledger verify --db "$(store_arg "$D" leader)" --json >"$T/ledger.after" && cmp -s "$T/ledger.before" "$T/ledger.after" && ok ||
  bad "ledger after retention: $(cat "$T/ledger.after")"

# usage and errors
"$PRIVAGG" store stats --db "$T/none.db" >/dev/null 2>&1; [ $? = 1 ] && ok || bad "a missing store is not exit 1"
[ ! -e "$T/none.db" ] && ok || bad "store stats created a store"
"$PRIVAGG" store stats --db "$(store_arg "$D" leader)" --bogus >/dev/null 2>&1; [ $? = 2 ] && ok || bad "a bad option is not exit 2"
"$PRIVAGG" store stats --help | grep -q "usage: privagg store stats" && ok || bad "store stats --help"
python3 - <<'EOF'
import json
c = json.load(open("leader.json")); c["retention"] = {"reports_days": -3}
open("leader.json", "w").write(json.dumps(c))
EOF
"$PRIVAGG" serve --config leader.json >/dev/null 2>"$T/bad.err" && bad "a negative retention was accepted" ||
  { grep -q "retention.reports_days" "$T/bad.err" && ok || bad "bad retention message: $(cat "$T/bad.err")"; }

finish store_retention
