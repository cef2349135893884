#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests (tests labelled "pg").
#   scripts/pg-cluster.sh start DIR [PORT]   initdb in DIR/data, start on 127.0.0.1:PORT (a free port
#                                             when omitted), create database privagg_test, write its
#                                             URL to DIR/url
#   scripts/pg-cluster.sh stop DIR           stop the cluster and delete DIR
# initdb and postgres refuse to run as root: as root they run as the unprivileged
# user "postgres" (created by Debian's postgresql package) and DIR is given to it;
# as anyone else they run as that user.  The cluster trusts connections from
# 127.0.0.1 only (a test cluster in a temporary folder: no password to leak) and
# listens on no other address; its socket lives in DIR.
# The tests' cluster runs with fsync=off (a throw-away cluster: commits still wait
# for the server, nothing waits for the disk); PA_PG_FSYNC=on keeps fsync for
# measurements (docs/benchmarks.md).
# PostgreSQL missing: with PA_REQUIRE_PG=1 (scripts/test.sh, hence CI) this fails;
# otherwise it prints SKIP, writes no URL, and the pg tests report skipped.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }

# PA_PG_BINDIR: the folder of initdb, pg_ctl and psql (default: the newest
# /usr/lib/postgresql/*/bin, else PATH)
bindir=
for d in ${PA_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)}; do
  [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { bindir=$d; break; }
done
if [ -z "$bindir" ] && [ -z "${PA_PG_BINDIR:-}" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
  bindir=$(dirname "$(command -v initdb)")
fi

as_owner() { # run a PostgreSQL program as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else setpriv --reuid=postgres --regid=postgres --init-groups "$@"; fi
  else
    "$@"
  fi
}

case "$cmd" in
start)
  if [ -z "$bindir" ]; then
    if [ "${PA_REQUIRE_PG:-0}" = 1 ]; then
      echo "pg-cluster: PostgreSQL is not installed (initdb, pg_ctl) and PA_REQUIRE_PG=1: run scripts/install-deps.sh" >&2
      exit 1
    fi
    echo "pg-cluster: SKIP: PostgreSQL is not installed; the pg tests will report skipped"
    exit 0
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "pg-cluster: running as root needs the user 'postgres' (Debian's postgresql package creates it)" >&2
    exit 1
  fi
  # a cluster left by an interrupted run: stop it first
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$bindir/initdb" -D "$dir/data" -U privagg -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=${3:-}
  for try in $(seq 1 20); do
    if [ -z "${3:-}" ]; then
      port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
    fi
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
         -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=${PA_PG_FSYNC:-off} -c full_page_writes=${PA_PG_FSYNC:-off}" start >/dev/null; then
      break
    fi
    [ -n "${3:-}" ] && { cat "$dir/server.log" >&2; exit 1; }
    port=
  done
  [ -n "$port" ] || { echo "pg-cluster: could not start on a free port" >&2; cat "$dir/server.log" >&2; exit 1; }
  # a linguistic default collation (ICU's root locale: "a" < "B" < "b"), as a
  # production database may have: the store must not depend on the collation
  # (agency lists are in byte order); plain C if this server has no ICU
  as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U privagg -d postgres -qAt -c \
    "CREATE DATABASE privagg_test TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C'" >/dev/null 2>&1 \
    || as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U privagg -d postgres -qAt -c "CREATE DATABASE privagg_test" >/dev/null
  echo "postgresql://privagg@127.0.0.1:$port/privagg_test" >"$dir/url"
  echo "pg-cluster: started $(cat "$dir/url") in $dir"
  ;;
stop)
  if [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" stop -m fast -w >/dev/null 2>&1 \
      || as_owner "$bindir/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  echo "pg-cluster: stopped, $dir removed"
  ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
