#!/usr/bin/env bash
# Integration (label `load`): the short load test — `privagg_bench --filter load
# --quick` (benchmarks/bench_load.c): real leader and helper processes over HTTPS
# on 127.0.0.1, 64 concurrent agencies uploading 2,000 reports while 600
# slowloris sockets (pa_slow_clients) and posts of oversized bodies go on, the
# aggregation meanwhile, then every month's statewide release.  The bench exits 1
# (and so does this test) if the leader or the helper died, a report was lost or
# counted twice, a legitimate upload failed, an oversized body was accepted, or
# the leader's peak RSS passed the bound it states (256 MB; x8 under ASan).
# The full run (20,000 reports) is `privagg_bench --filter load`.  With
# PA_TEST_PG_URL (ctest -L pg) both stores are fresh PostgreSQL schemas
# (PA_BENCH_LEADER_STORE, PA_BENCH_HELPER_STORE; tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
BENCH=$(dirname "$PRIVAGG")/privagg_bench
[ -x "$BENCH" ] || { echo "SKIP: $BENCH not built"; exit 77; }
[ -x "$(dirname "$PRIVAGG")/pa_slow_clients" ] || { echo "SKIP: pa_slow_clients not built"; exit 77; }
ulimit -n 8192 2>/dev/null
if [ -n "${PA_TEST_PG_URL:-}" ]; then
  # (not in $(...): the schemas must be remembered here to be dropped at exit)
  pg_new_store "$T" leader >/dev/null && pg_new_store "$T" helper >/dev/null || { echo "FAIL: PostgreSQL stores"; exit 1; }
  export PA_BENCH_LEADER_STORE=$(store_arg "$T" leader) PA_BENCH_HELPER_STORE=$(store_arg "$T" helper)
fi
"$BENCH" --filter load --quick --json "$T/load.json"
status=$?
[ $status -eq 0 ] && echo "load: passed" || echo "load: FAILED (privagg_bench exit $status)"
exit $status
