#!/usr/bin/env bash
# Runs a test against the private PostgreSQL cluster of scripts/pg-cluster.sh:
#   with-pg.sh DIR COMMAND [ARG...]
# exports PA_TEST_PG_URL (the URL the cluster wrote to DIR/url) and runs COMMAND.
# No cluster (PostgreSQL not installed): exit 77, reported as skipped, unless
# PA_REQUIRE_PG=1 (scripts/test.sh, hence CI), where it fails.
set -u
dir=$1; shift
if [ ! -s "$dir/url" ]; then
  if [ "${PA_REQUIRE_PG:-0}" = 1 ]; then
    echo "FAIL: no PostgreSQL cluster in $dir (pg_cluster_start failed?) and PA_REQUIRE_PG=1" >&2
    exit 1
  fi
  echo "SKIP: no PostgreSQL cluster (install postgresql, or see scripts/pg-cluster.sh)"
  exit 77
fi
PA_TEST_PG_URL=$(cat "$dir/url")
export PA_TEST_PG_URL
exec "$@"
