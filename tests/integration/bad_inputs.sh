#!/usr/bin/env bash
# Integration: bad inputs to the real `privagg` command (the CLI and file rows of
# the catalogue in tests/README.md).  Each case: the exit status is not 0, the
# message names the problem, and no sanitizer fires (under the ASan build).
set -u
PRIVAGG=$1
DATA="$(cd "$(dirname "$0")/../../data" && pwd)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
# expect STATUS-NOT-0 PATTERN command... : fails with a message matching PATTERN
expect() {
  local pat=$1; shift
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ $rc -eq 0 ]; then bad "$* succeeded"; return; fi
  if grep -q "Sanitizer\|runtime error" "$T/out"; then bad "$*: sanitizer: $(head -3 "$T/out")"; return; fi
  grep -q -- "$pat" "$T/out" && ok || bad "$*: exit $rc, message: $(head -2 "$T/out")"
}

"$PRIVAGG" demo --setup-only --agencies 12 --out "$T/d" --data "$DATA" >/dev/null || { echo "FAIL: setup"; exit 1; }
D=$T/d
KEY=$D/keys/agencies/$(ls "$D/keys/agencies" | grep '\.key$' | head -1)
{ echo "cell,count"; echo "0,1"; } >"$T/ok.csv"
SUBMIT=("$PRIVAGG" submit --task "$D/task.json" --key "$KEY" --ca "$D/tls/cert.pem")

# conformance: an empty folder (was UBSan: qsort(NULL, 0))
mkdir "$T/empty"
expect "no vector files" "$PRIVAGG" conformance vdaf "$T/empty"
expect "no such file" "$PRIVAGG" conformance vdaf "$T/missing"
# submit: counts that are not a file (was "9223372036854775807 bytes")
expect "is a folder" "${SUBMIT[@]}" --period 2026-01 --counts "$T"
expect "not a regular file" "${SUBMIT[@]}" --period 2026-01 --counts /dev/null
expect "No such file" "${SUBMIT[@]}" --period 2026-01 --counts "$T/none.csv"
# periods before 2020-01 (was accepted; submit's own message still says only
# "is not YYYY-MM": engine/submit is another session's, to align)
expect '"2000-01"' "${SUBMIT[@]}" --period 2000-01 --counts "$T/ok.csv"
expect '"2019-12"' "${SUBMIT[@]}" --period 2019-12 --counts "$T/ok.csv"
expect "2026-13" "${SUBMIT[@]}" --period 2026-13 --counts "$T/ok.csv"
expect "from 2020-01 on" "$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" \
  --period 2000-01 --partition state --ca "$D/tls/cert.pem" --out "$T/c.json" --timeout 5
# a public key given where the private one is needed
expect "not a private one" "$PRIVAGG" submit --task "$D/task.json" --ca "$D/tls/cert.pem" --key "${KEY%.key}.pub" \
  --period 2026-01 --counts "$T/ok.csv"
# counts: a cell out of range, twice the same cell, a negative count
printf 'cell,count\n99999,1\n' >"$T/range.csv"
expect "99999" "${SUBMIT[@]}" --period 2026-01 --counts "$T/range.csv"
printf 'cell,count\n0,1\n0,2\n' >"$T/twice.csv"
expect "line 3" "${SUBMIT[@]}" --period 2026-01 --counts "$T/twice.csv"
printf 'cell,count\n0,-1\n' >"$T/neg.csv"
expect "line 2" "${SUBMIT[@]}" --period 2026-01 --counts "$T/neg.csv"
# ledger export/verify on what is not a store (was "readonly database")
: >"$T/empty.db"
expect "an empty file" "$PRIVAGG" ledger export --db "$T/empty.db"
expect "No such file" "$PRIVAGG" ledger export --db "$T/none.db"
expect "not a file" "$PRIVAGG" ledger verify --db "$T"
echo garbage >"$T/garbage.db"
expect "not an aggregator's store" "$PRIVAGG" ledger export --db "$T/garbage.db"
sqlite3 "$T/other.db" "CREATE TABLE t(x)" 2>/dev/null && \
  expect "without a privacy ledger" "$PRIVAGG" ledger verify --db "$T/other.db"
# serve: a store others can read, a store that is a symbolic link
C=$D/leader-bad.json   # beside the original: its relative paths still resolve
cp "$D/leader.json" "$C"; chmod 600 "$C"
sed -i "s#\"store\": *\"[^\"]*\"#\"store\": \"$T/open.db\"#" "$C"
: >"$T/open.db"; chmod 644 "$T/open.db"
expect "mode 644 lets others read report shares" "$PRIVAGG" serve --config "$C"
rm -f "$T/open.db"; : >"$T/real.db"; chmod 600 "$T/real.db"; ln -s "$T/real.db" "$T/open.db"
expect "not a regular file" "$PRIVAGG" serve --config "$C"
rm -f "$T/open.db"; : >"$T/open.db-wal"; chmod 640 "$T/open.db-wal"
expect "open.db-wal: mode 640" "$PRIVAGG" serve --config "$C"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
