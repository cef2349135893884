#!/usr/bin/env bash
# The national benchmark on PostgreSQL (issue 16): a private cluster on a loopback
# port (scripts/pg-cluster.sh), one database per aggregator, then
# `privagg_bench --filter national` with 1 and with 2 workers per role (every
# worker a `privagg serve` process; the workers of a role share its port with
# listen.reuse_port and its database).  Each run writes BUILD/national-pg-<w>.json
# (the runner's rows) and this script adds to it the rows the runner cannot
# measure on PostgreSQL: each database's size per 1,000 reports
# (pg_database_size after the run minus before it).  Not run in CI (minutes);
# `privagg_bench --quick` covers the national benchmark's code on SQLite.
#   benchmarks/national-pg.sh [BUILD_DIR] [WORKERS...]    (default: build/ 1 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
workers=${*:-1 2}
pgdir=$(mktemp -u -d /tmp/privagg_pgbench_XXXXXX) # pg-cluster.sh creates it, for the user postgres
trap 'bash "$root/scripts/pg-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true' EXIT
PA_REQUIRE_PG=1 bash "$root/scripts/pg-cluster.sh" start "$pgdir"
url=$(cat "$pgdir/url")
base=${url%/*}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r | head -1)
sql() { "$bindir/psql" "$base/postgres" -qAt -c "$1"; }
for w in $workers; do
  for db in leader helper; do
    sql "DROP DATABASE IF EXISTS privagg_$db" >/dev/null 2>&1
    sql "CREATE DATABASE privagg_$db" >/dev/null
  done
  l0=$(sql "SELECT pg_database_size('privagg_leader')")
  h0=$(sql "SELECT pg_database_size('privagg_helper')")
  json=$build/national-pg-$w.json
  PA_BENCH_WORKERS=$w PA_BENCH_LEADER_STORE=$base/privagg_leader PA_BENCH_HELPER_STORE=$base/privagg_helper \
    "$build/privagg_bench" --filter national --json "$json"
  l1=$(sql "SELECT pg_database_size('privagg_leader')")
  h1=$(sql "SELECT pg_database_size('privagg_helper')")
  python3 - "$json" "$l1" "$l0" "$h1" "$h0" <<'EOF'
import json, re, sys
path, l1, l0, h1, h0 = sys.argv[1], *map(int, sys.argv[2:])
rows = json.load(open(path))
n = int(re.match(r"(\d+) agencies", next(r for r in rows if r["name"] == "upload")["params"]).group(1))
backend = next(r for r in rows if r["name"] == "upload")["params"].split(", ", 2)[2]
for who, size in (("leader", l1 - l0), ("helper", h1 - h0)):
    row = {"group": "national", "name": f"{who} store per 1,000 reports",
           "params": f"pg_database_size growth, {backend}", "value": 1e3 * size / 1e6 / n, "unit": "MB"}
    rows.append(row)
    print(f"{row['group']:<8} {row['name']:<34} {row['params']:<42} {row['value']:14.3f} {row['unit']:<8}")
json.dump(rows, open(path, "w"), indent=2)
EOF
done
