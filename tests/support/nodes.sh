# Sourced by the integration tests (tests/integration/*.sh) that run real
# `privagg serve` processes: the scaffolding they all had a copy of (a scratch
# folder, the pass/fail count, starting and stopping a leader and a helper,
# reading a config's port, the exit trap), so that each script holds only its
# own steps.  It sources pg_stores.sh: with PA_TEST_PG_URL set (ctest -L pg,
# tests/support/with-pg.sh) the stores of every deployment made by setup_demo
# are fresh PostgreSQL schemas, SQLite files beside the configs otherwise, and
# a script reaches a store only through store_sql and store_arg, so that the
# same steps run on both backends.  Usage, after `set -u`:
#     . "$(dirname "$0")/../support/nodes.sh"
#     nodes_init "$1"
#   nodes_init PRIVAGG       PRIVAGG (made absolute), SRC (the source tree), DATA (its data/),
#                            T (a scratch folder: removed at exit, kept and
#                            named with KEEP=1), the counters; the exit trap
#                            kills this shell's background jobs still running
#                            and the processes of `track` (SIGCONT first: a
#                            test may have stopped one), waits for them,
#                            calls the script's nodes_at_exit if it has one
#                            and drops the PostgreSQL schemas
#   ok / bad MESSAGE         count a check; bad prints "FAIL: MESSAGE"
#   setup_demo DIR [OPT...]  `privagg demo --setup-only --out DIR` (OPT: its
#                            options, e.g. --agencies 20), the stores on the
#                            backend under test; D=DIR
#   start ROLE [OPT...]      `privagg serve --config D/ROLE.json SERVE_OPTS...
#                            OPT...` (SERVE_OPTS: an array, e.g.
#                            (--insecure-no-privacy), empty by default) run in
#                            D (relative paths of the config resolve there),
#                            stderr appended to T/ROLE.log; waits up to 20 s
#                            for "listening" (or fails the test); its pid in
#                            LEADER_PID or HELPER_PID
#   stop ROLE                SIGTERM and wait (a graceful stop)
#   port ROLE                the port of D/ROLE.json
#   hpke_config              the leader's GET /hpke_config in T/config.json,
#                            once it serves the helper's part too (its noise
#                            thread fetches that after its first refill of the
#                            noise pool, seconds after "listening" on a slow
#                            store); status 1 if not within 10 s
#   task_id                  the task id of D/task.json
#   counts_csv FILE EXPR     a counts file: cell i holds the shell arithmetic
#                            EXPR of i, the task's structural zeros (odd cells
#                            from 200 on: victims of Group B offenses) 0
#   jget FILE EXPR           the Python expression EXPR of d, FILE's JSON
#   wait_line FILE PATTERN [SECONDS]  until FILE has a line matching the grep
#                            PATTERN (default 10 s); status 1 if it never does
#   track PID...             processes to kill at exit that are not this
#                            shell's jobs (e.g. the servers `privagg demo
#                            --keep` leaves); NODES_PIDS=() forgets them
#   finish [NAME] [FILE...]  fails the test when a sanitizer reported in
#                            T/*.log or FILE..., prints "NAME: P passed, F
#                            failed", returns 0 only without failures (the
#                            script's last command)
. "$(dirname "${BASH_SOURCE[0]}")/pg_stores.sh"

LEADER_PID= HELPER_PID= NODES_PIDS=() SERVE_OPTS=()
pass=0 fail=0

nodes_init() {
  PRIVAGG=$(readlink -f "$1")   # absolute: servers start in their deployment's folder
  SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  DATA=$SRC/data
  T=$(mktemp -d)
  trap nodes_cleanup EXIT
}

nodes_cleanup() {
  local p
  for p in $(jobs -pr) "${NODES_PIDS[@]}"; do
    kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null
  done
  wait 2>/dev/null
  declare -F nodes_at_exit >/dev/null && nodes_at_exit
  pg_drop_stores
  if [ -n "${KEEP:-}" ]; then echo "kept $T"; else chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; fi
}

ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
track() { NODES_PIDS+=("$@"); }

setup_demo() {
  D=$1; shift
  "$PRIVAGG" demo --setup-only --out "$D" --data "$DATA" "$@" >/dev/null 2>"$T/setup.err" \
    || { echo "FAIL: privagg demo --setup-only --out $D $*: $(tail -3 "$T/setup.err")"; exit 1; }
  pg_use_stores "$D" leader helper || { echo "FAIL: PostgreSQL stores for $D"; exit 1; }
}

start() {
  local role=$1 fifo=$T/$1.out pid; shift
  rm -f "$fifo"; mkfifo "$fifo"
  (cd "$D" && exec "$PRIVAGG" serve --config "$D/$role.json" "${SERVE_OPTS[@]}" "$@") >"$fifo" 2>>"$T/$role.log" &
  pid=$!
  if ! timeout 20 head -n1 "$fifo" | grep -q listening; then bad "$role did not start"; cat "$T/$role.log"; exit 1; fi
  if [ "$role" = leader ]; then LEADER_PID=$pid; else HELPER_PID=$pid; fi
}

stop() {
  local pid; [ "$1" = leader ] && pid=$LEADER_PID || pid=$HELPER_PID
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
  if [ "$1" = leader ]; then LEADER_PID=; else HELPER_PID=; fi
}

port() { grep -o '"port": [0-9]*' "$D/$1.json" | grep -o '[0-9]*$'; }
hpke_config() {
  local _
  for _ in $(seq 1 100); do
    curl -sf --cacert "$D/tls/cert.pem" "https://127.0.0.1:$(port leader)/hpke_config" >"$T/config.json" &&
      ! grep -q '"helper":null' "$T/config.json" && return 0
    sleep 0.1
  done
  return 1
}
task_id() { "$PRIVAGG" task show --task "$D/task.json" | awk '/^task id/ {print $3}'; }

counts_csv() {
  local i
  { echo "cell,count"; for i in $(seq 0 269); do echo "$i,$(( i >= 200 && i % 2 ? 0 : ($2) ))"; done; } >"$1"
}

jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

wait_line() {
  local _
  for _ in $(seq 1 $(( ${3:-10} * 10 ))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

finish() {
  local name=${1:-}; [ $# -gt 0 ] && shift
  if grep -l "Sanitizer\|runtime error:" "$T"/*.log "$@" 2>/dev/null; then
    bad "a sanitizer reported an error (in the files above)"
    grep -h -A20 "Sanitizer\|runtime error:" "$T"/*.log "$@" 2>/dev/null | head -60
  fi
  echo "${name:+$name: }$pass passed, $fail failed"
  [ "$fail" = 0 ]
}
