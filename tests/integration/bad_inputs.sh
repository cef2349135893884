#!/usr/bin/env bash
# Integration: bad inputs to the real `privagg` command (the CLI and file rows of
# the catalogue in tests/README.md).  Each case: the exit status is not 0, the
# message names the problem, and no sanitizer fires (under the ASan build).
# Not run on PostgreSQL: its store cases are about SQLite files (an empty or
# garbage file, modes, a symbolic link, a -wal file), and its demo runs only
# make the inputs of publish and audit.
set -u
unset PA_TEST_PG_URL   # SQLite only (see above)
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
# expect STATUS-NOT-0 PATTERN command... : fails with a message matching PATTERN
expect() {
  local pat=$1; shift
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ $rc -eq 0 ]; then bad "$* succeeded"; return; fi
  if grep -q "Sanitizer\|runtime error" "$T/out"; then bad "$*: sanitizer: $(head -3 "$T/out")"; return; fi
  grep -q -- "$pat" "$T/out" && ok || bad "$*: exit $rc, message: $(head -2 "$T/out")"
}

"$PRIVAGG" demo --setup-only --agencies-in-task --agencies 12 --out "$T/d" --data "$DATA" >/dev/null || { echo "FAIL: setup"; exit 1; }
D=$T/d
KEY=$D/keys/agencies/$(ls "$D/keys/agencies" | grep '\.key$' | head -1)
{ echo "cell,count"; echo "0,1"; } >"$T/ok.csv"
SUBMIT=("$PRIVAGG" submit --task "$D/task.json" --key "$KEY" --ca "$D/tls/cert.pem")
SUBMIT_NOKEY=("$PRIVAGG" submit --task "$D/task.json" --ca "$D/tls/cert.pem")

# conformance: an empty folder (was UBSan: qsort(NULL, 0))
mkdir "$T/empty"
expect "no vector files" "$PRIVAGG" conformance vdaf "$T/empty"
expect "no such file" "$PRIVAGG" conformance vdaf "$T/missing"
# submit: counts that are not a file (was "9223372036854775807 bytes")
expect "is a folder" "${SUBMIT[@]}" --period 2026-01 --counts "$T"
expect "not a regular file" "${SUBMIT[@]}" --period 2026-01 --counts /dev/null
expect "No such file" "${SUBMIT[@]}" --period 2026-01 --counts "$T/none.csv"
# periods before 2020-01 (were accepted; the message names the bound)
expect '"2000-01" is not a month YYYY-MM from 2020-01 on' "${SUBMIT[@]}" --period 2000-01 --counts "$T/ok.csv"
expect '"2019-12" is not a month YYYY-MM from 2020-01 on' "${SUBMIT[@]}" --period 2019-12 --counts "$T/ok.csv"
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

# ---- rows C23.. of tests/README.md --------------------------------------------
P=$PRIVAGG
DRY=("$PRIVAGG" submit --task "$D/task.json" --key "$KEY" --ca "$D/tls/cert.pem" --period 2026-01 --dry-run)
# the same without --task, or without --key (an option given twice is refused)
DRYK=("$PRIVAGG" submit --key "$KEY" --ca "$D/tls/cert.pem" --period 2026-01 --dry-run)
DRYT=("$PRIVAGG" submit --task "$D/task.json" --ca "$D/tls/cert.pem" --period 2026-01 --dry-run)
# commands and their flags
expect "unknown command 'nosuch'" "$P" nosuch
expect "unknown option '--bogus'" "$P" submit --bogus
expect "'abc' is not a finite number" "$P" dp eps --rho abc --delta 1e-6
expect "rho: -1 must be finite and >= 0" "$P" dp eps --rho -1 --delta 1e-6
expect "delta: 2 outside (0, 1)" "$P" dp eps --rho 0.1 --delta 2
expect "missing required option: --delta" "$P" dp eps --rho 0.1
expect "unknown option .--n." "$P" dp sample --sigma2 1 --n 3
expect 'role: "king" is not one of' "$P" keygen --role king --out "$T/king"
expect "needs --id ORI or --state ST" "$P" keygen --role agency --out "$T/a1"
expect "--role and --out are required" "$P" keygen --role leader
expect "already exists" "$P" tls --cert "$T/ok.csv" --key "$T/new-key.pem"
expect "No such file" "$P" task show --task "$T/none.json"
expect "'\[' or '{' expected" "$P" task show --task "$T/ok.csv"
expect "zz_le_agencies.csv: No such file" "$P" task init --state ZZ --keys "$D/keys" --out "$T/zz.json" --data "$DATA"
expect '"2026-1" is not a month YYYY-MM' "${SUBMIT[@]}" --period 2026-1 --counts "$T/ok.csv"
expect "one of --records or --counts" "${SUBMIT[@]}" --period 2026-01 --counts "$T/ok.csv" --records "$T/ok.csv"
expect '"0" is not a whole number in 1..100' "${DRY[@]}" --counts "$T/ok.csv" --attempts 0
expect '"abc" is not a whole number in 1..100' "${DRY[@]}" --counts "$T/ok.csv" --attempts abc
expect '"-5" is not a whole number in 1..600000' "${DRY[@]}" --counts "$T/ok.csv" --backoff-ms -5
expect '"2" is not a number in \[0, 1\]' "${DRY[@]}" --records "$T/ok.csv" --max-bad-share 2
expect "role leader, expected agency" "${DRYT[@]}" --counts "$T/ok.csv" --key "$D/keys/leader.key"
COLLECT=("$P" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-01 --ca "$D/tls/cert.pem")
expect '"99999" is not one of the task' "${COLLECT[@]}" --partition 99999 --timeout 2
expect '"-1" is not a whole number in 1..86400' "${COLLECT[@]}" --timeout -1
expect "role agency, expected collector" "$P" collect --task "$D/task.json" --key "$KEY" --period 2026-01 --timeout 2
expect "--task, --key and --period are required" "$P" collect --task "$D/task.json" --key "$D/keys/collector.key"
expect "no such store file" "$P" store stats --db "$T/none.db"
expect "not a database" "$P" store stats --db "$T/ok.csv"
expect "--anchor must be INDEX:HASH" "$P" ledger verify --db "$T/garbage.db" --anchor xyz
expect "'\[' or '{' expected" "$P" ledger verify --file "$T/ok.csv"
expect "cannot read" "$P" ledger verify --file "$T/none.json"
expect "missing required option: --db" "$P" ledger export
expect "no collection-\*.json in" "$P" publish --task "$D/task.json" --collections "$T/empty" --out "$T/pub"
expect "cannot open folder" "$P" publish --task "$D/task.json" --collections "$T/none" --out "$T/pub"
expect "option --ledgers needs two values" "$P" audit --task "$D/task.json" --manifests "$T" --ledgers "$T/a.json"
expect '"2026-13" is not a month YYYY-MM' "$P" synth --month 2026-13 --out "$T/s"
expect '"-3" is not a whole number in 1..100000' "$P" synth --month 2026-01 --out "$T/s" --agencies -3
expect '"x" is not a whole number' "$P" synth --month 2026-01 --out "$T/s" --seed x
expect "cannot open" "$P" conformance hpke "$T/none.json"
expect "not valid JSON" "$P" conformance hpke "$T/ok.csv"
expect "unknown suite 'nosuch'" "$P" conformance nosuch x
expect "--config FILE is required" "$P" serve
expect '"0" is not a whole number in 2..100000' "$P" demo --agencies 0 --setup-only --out "$T/dd"

# the task file (read by every command; here through submit --dry-run)
python3 - "$D/task.json" "$T" <<'EOF'
import json, sys
t, out = open(sys.argv[1]).read(), sys.argv[2] + "/task-"
def put(name, text): open(out + name + ".json", "w").write(text)
put("dup", t.replace('{\n  "format"', '{\n  "name": "x",\n  "format"', 1))
j = json.loads(t); j["name"] = "A" * 2000000; put("huge", json.dumps(j))
j = json.loads(t); j["vdaf"]["length"] = "270"; put("type", json.dumps(j))
j = json.loads(t); j["batching"]["min_agencies"] = -1; put("neg", json.dumps(j))
j = json.loads(t); j["vdaf"]["max_measurement"] = 2 ** 70; put("big", json.dumps(j))
j = json.loads(t); j["dp"]["budget_per_record"]["rho"] = float("nan"); put("nan", json.dumps(j))
put("trunc", t[:len(t) // 2])
put("bom", "\ufeff" + t)
j = json.loads(t); j["parties"]["agencies"] = []; put("noag", json.dumps(j))
put("array", "[]")
put("deep", "[" * 100000 + "]" * 100000)
EOF
expect "duplicate object key" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-dup.json"
expect "name: length 2000000 is outside 1..256" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-huge.json"
expect "vdaf.length: must be an integer" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-type.json"
expect "batching.min_agencies: -1 is below 1" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-neg.json"
expect "too big integer" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-big.json"
expect "invalid token near 'NaN'" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-nan.json"
expect "task: line [0-9]* column [0-9]*: .*end of" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-trunc.json"
expect "line 1 column 1: '\[' or '{' expected" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-bom.json"
expect "parties.agencies: 0 agencies" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-noag.json"
expect "must be a JSON object" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-array.json"
expect "maximum parsing depth" "${DRYK[@]}" --counts "$T/ok.csv" --task "$T/task-deep.json"

# private key files
cp "$KEY" "$T/k644.key"; chmod 644 "$T/k644.key"
expect "mode 644 lets others read a private key" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/k644.key"
cp "$KEY" "$T/k.key"; chmod 600 "$T/k.key"; ln -s "$T/k.key" "$T/ksym.key"
expect "is a symbolic link" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/ksym.key"
head -c 100 "$KEY" >"$T/kt.key"; chmod 600 "$T/kt.key"
expect "premature end of input" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/kt.key"
: >"$T/ke.key"; chmod 600 "$T/ke.key"
expect "expected near end of file" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/ke.key"
mkdir "$T/kdir.key"
expect "not a regular file" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/kdir.key"
python3 - "$KEY" "$T" <<'EOF'
import json, os, sys
j, out = json.load(open(sys.argv[1])), sys.argv[2] + "/k-"
def put(name, o):
    open(out + name + ".key", "w").write(json.dumps(o)); os.chmod(out + name + ".key", 0o600)
k = dict(j); k["secret_key"] = k["secret_key"][:-2]; put("short", k)
k = dict(j); k["role"] = "emperor"; put("role", k)
k = dict(j); k["secret_kye"] = k["secret_key"]; put("extra", k)
k = dict(j); k["secret_key"] = "zz" * 64; put("hex", k)
EOF
expect "secret_key: expected 128 hex digits" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/k-short.key"
expect "role: missing or not a role" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/k-role.key"
expect '"secret_kye": unknown field' "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/k-extra.key"
expect "secret_key: expected 128 hex digits" "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/k-hex.key"
"$P" keygen --role agency --id MOXXXX --out "$T/stranger" >/dev/null 2>&1
expect 'agency "MOXXXX" is not in the task' "${DRYT[@]}" --counts "$T/ok.csv" --key "$T/stranger.key"
expect "the public key of the helper, not of the leader" "${DRY[@]}" --counts "$T/ok.csv" --leader-pub "$D/keys/helper.pub"

# the records mapping file and the NIBRS table
printf 'incident_id,offense_code,role,immigration_status,incident_date\n1,13A,victim,citizen,2026-01-03\n' >"$T/r.csv"
echo '{"format": 1, "columns": {"incident_id": "a"}}' >"$T/m1.json"
expect "mapping.columns.offense_code: missing" "${DRY[@]}" --records "$T/r.csv" --mapping "$T/m1.json"
echo '{"format": 7}' >"$T/m2.json"
expect "mapping.format: 1 is required" "${DRY[@]}" --records "$T/r.csv" --mapping "$T/m2.json"
echo 'not json' >"$T/m3.json"
expect "mapping: not a JSON object" "${DRY[@]}" --records "$T/r.csv" --mapping "$T/m3.json"
"$P" submit --print-mapping | sed '0,/{/s//{"zzz": 1, /' >"$T/m4.json"
expect "mapping.zzz: unknown key" "${DRY[@]}" --records "$T/r.csv" --mapping "$T/m4.json"
expect "mapping: cannot open" "${DRY[@]}" --records "$T/r.csv" --mapping "$T/none.json"
expect "none.csv: No such file" "${DRY[@]}" --records "$T/r.csv" --offenses "$T/none.csv"

# incident exports (submit --records)
printf 'a,b\n1,2\n' >"$T/r2.csv"
expect 'no column "incident_id"' "${DRY[@]}" --records "$T/r2.csv"
printf 'incident_id,offense_code,role,immigration_status,incident_date\n1,"13A,victim,citizen,2026-01-03\n' >"$T/r3.csv"
expect "never closed" "${DRY[@]}" --records "$T/r3.csv"
printf 'incident_id,offense_code,role,immigration_status,incident_date\n1,13A,victim,\xff\xfe,2026-01-03\n' >"$T/r4.csv"
expect "not UTF-8 (byte 0xFF)" "${DRY[@]}" --records "$T/r4.csv"
printf 'incident_id,offense_code,role,immigration_status,incident_date\n' >"$T/r5.csv"
expect "no data rows" "${DRY[@]}" --records "$T/r5.csv"
python3 -c "print('incident_id,offense_code,role,immigration_status,incident_date'); [print(f'{i},999,victim,citizen,2026-01-03') for i in range(100)]" >"$T/r6.csv"
expect "100 of 100 rows are bad" "${DRY[@]}" --records "$T/r6.csv"
expect "is a folder; give the export file" "${DRY[@]}" --records "$T"
expect "cannot open .*none.csv: No such file" "${DRY[@]}" --records "$T/none.csv"
printf 'incident_id,offense_code,role,immigration_status,incident_date\n1,13A,victim,citizen,2026-01-03\n2,13A,victim,citizen,2026-01-03\n1,13A,victim,citizen,2026-01-03\n' >"$T/r8.csv"
expect "1 of 3 rows are bad" "${DRY[@]}" --records "$T/r8.csv"
printf 'incident_id,offense_code,role,immigration_status,incident_date\n1,13A,victim,citizen,2026-13-45\n' >"$T/r9.csv"
expect "1 of 1 rows are bad" "${DRY[@]}" --records "$T/r9.csv"
python3 -c "
h = ['incident_id', 'offense_code', 'role', 'immigration_status', 'incident_date'] + ['x%d' % i for i in range(300)]
print(','.join(h)); print(','.join(['1', '13A', 'victim', 'citizen', '2026-01-03'] + [''] * 300))" >"$T/r257.csv"
expect "more than 256 fields" "${DRY[@]}" --records "$T/r257.csv"
python3 -c "print('incident_id,offense_code,role,immigration_status,incident_date'); print('1,13A,victim,citizen,' + 'x' * (2 << 20))" >"$T/r10.csv"
expect "longer than 1048576 bytes" "${DRY[@]}" --records "$T/r10.csv"
expect '"abc" is not a number in \[0, 1\]' "${DRY[@]}" --records "$T/r.csv" --max-bad-share abc

# counts files (submit --counts)
printf 'cell,count\n0,abc\n' >"$T/c1.csv"
expect 'count "abc" is not a whole number' "${DRY[@]}" --counts "$T/c1.csv"
printf 'cell,count\n0,99999999\n' >"$T/c2.csv"
expect "above the task's maximum 65535" "${DRY[@]}" --counts "$T/c2.csv"
printf 'x,y\n0,1\n' >"$T/c3.csv"
expect 'no "count" column' "${DRY[@]}" --counts "$T/c3.csv"
printf 'cell,count\n0,1,2\n' >"$T/c4.csv"
expect "3 fields, the header has 2" "${DRY[@]}" --counts "$T/c4.csv"
printf 'offense,status,role,count\nNoSuch,x,y,1\n' >"$T/c5.csv"
expect 'offense "NoSuch" is not a category' "${DRY[@]}" --counts "$T/c5.csv"
printf 'cell,count\n201,1\n' >"$T/c6.csv"
expect "cell 201 is a structural zero" "${DRY[@]}" --counts "$T/c6.csv"
: >"$T/c7.csv"
expect "no header row" "${DRY[@]}" --counts "$T/c7.csv"
printf 'cell,count\n0,18446744073709551616\n' >"$T/c8.csv"
expect 'count "18446744073709551616" is not a whole number' "${DRY[@]}" --counts "$T/c8.csv"
printf 'cell,count\n-1,1\n' >"$T/c9.csv"
expect 'cell "-1" is not in 0..269' "${DRY[@]}" --counts "$T/c9.csv"
printf 'cell,count\n1e2,1\n' >"$T/c10.csv"
expect 'cell "1e2" is not in 0..269' "${DRY[@]}" --counts "$T/c10.csv"

# aggregator configs (serve --config; each beside the original so paths resolve)
cfg() { # python edit, name, pattern
  python3 - "$D/leader.json" "$D/bad-$2.json" "$1" <<'EOF'
import json, os, sys
j = json.load(open(sys.argv[1])); exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(j)); os.chmod(sys.argv[2], 0o600)
EOF
  expect "$3" "$P" serve --config "$D/bad-$2.json"
  rm -f "$D/bad-$2.json"
}
cfg "j['zzz'] = 1" unknown "zzz: unknown key"
cfg "j['role'] = 'collector'" role "role: must be leader or helper"
cfg "j['listen']['port'] = 70000" port "listen.port: 70000 is above 65535"
cfg "j['listen']['address'] = '10.0.0.1'; j['insecure_http'] = True; j.pop('tls', None)" insecure "would serve plain HTTP beyond this machine"
cfg "j.pop('tls', None)" notls "tls: required"
cfg "j['collector_token'] = 'abcd'" token "collector_token: expected 64 hex digits"
cfg "j['limits'] = {'max_connections': 0}" lim0 "limits.max_connections: 0 is below 16"
cfg "j['limits'] = {'max_connections': 100000}" limbig "limits.max_connections: 100000 is above 16384"
cfg "j['retention'] = {'reports_days': -5}" ret "retention.reports_days: -5 is below 0"
cfg "j['task'] = '/nonexistent/task.json'" task "task file /nonexistent/task.json: No such file"
cfg "j['private_key'] = 'keys/helper.key'" hkey "keys of role helper, the config says leader"
cfg "j['tls']['cert'] = '/nonexistent/cert.pem'" cert "tls file /nonexistent/cert.pem: No such file"
cfg "j['listen']['address'] = 'not-an-ip'" addr '"not-an-ip" is not an IP literal'
cfg "j['metrics_token'] = 'zz'" mtoken "metrics_token: expected 64 hex digits"

# collection results, ledgers and manifests (publish, audit) of a whole demo run
"$P" demo --agencies 12 --months 1 --out "$T/full" --data "$DATA" >/dev/null 2>&1 || bad "demo run"
F=$T/full
COLL=$(ls "$F"/collection-*.json | head -1)
coll() { # python edit, name, pattern
  rm -rf "$T/cd"; mkdir "$T/cd"
  python3 - "$COLL" "$T/cd/collection-x.json" "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1])); exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(j))
EOF
  expect "$3" "$P" publish --task "$F/task.json" --registry "$F/registry.json" --collections "$T/cd" --out "$T/pub" --data "$DATA"
}
coll "j['task_id'] = '00' * 32" other "is not the task's"
coll "j['period'] = '1999-01'" period '"1999-01" is not a month YYYY-MM from 2020-01 on'
coll "j['agencies'] = -5" neg "agencies -5, reports 12: a count below 0"
coll "j['cells'] = j['cells'][:10]" cells "cells: 10, the task has 270"
coll "j['cells'][3]['cell'] = 7" order "cells\[3\]: cell or total missing or out of order"
coll "j['cells'][3]['total'] = 'x'" total "cells\[3\]: cell or total missing"
coll "j['partition'] = 'nowhere'" part 'partition "nowhere" is not one of the task'
coll "j['format'] = 'v2'" format "format is not privagg-collection-v1"
coll "j['collection_id'] = 'zz'" cid 'collection_id: "zz" is not 32 lowercase hex digits'
coll "del j['ledger_entries']" ledger "leader: missing"
coll "j['noise']['sigma2_per_aggregator'] = -1" sigma "sigma2_per_aggregator: missing or not positive"
coll "j['cells'][201]['structural_zero'] = False" szero "cells\[201\]: not marked a structural zero"
rm -rf "$T/cd"; mkdir "$T/cd"; cp "$COLL" "$T/cd/collection-a.json"; cp "$COLL" "$T/cd/collection-b.json"
expect "is there twice" "$P" publish --task "$F/task.json" --registry "$F/registry.json" --collections "$T/cd" --out "$T/pub" --data "$DATA"
rm -f "$T/cd/collection-b.json"; head -c 1000 "$COLL" >"$T/cd/collection-a.json"
expect "near end of file" "$P" publish --task "$F/task.json" --registry "$F/registry.json" --collections "$T/cd" --out "$T/pub" --data "$DATA"
cp "$COLL" "$T/cd/collection-a.json"
PUB=("$P" publish --task "$F/task.json" --registry "$F/registry.json" --collections "$T/cd" --out "$T/pub" --data "$DATA")
expect "a public key file (no hpke_secret_key)" "${PUB[@]}" --collector-key "$F/keys/collector.pub"
expect "a leader key; give the collector's private key" "${PUB[@]}" --collector-key "$F/keys/leader.key"
echo '{}' >"$T/empty-ledger.json"
expect "--ledgers needs --collector-key" "${PUB[@]}" --ledgers "$T/empty-ledger.json" "$T/empty-ledger.json"
expect 'format is not "privagg-dp-ledger-v2"' "${PUB[@]}" --collector-key "$F/keys/collector.key" \
  --ledgers "$T/empty-ledger.json" "$T/empty-ledger.json"
"$P" demo --agencies 12 --months 1 --out "$T/full2" --data "$DATA" >/dev/null 2>&1 || bad "second demo run"
expect "holds no entry" "${PUB[@]}" --collector-key "$F/keys/collector.key" \
  --ledgers "$T/full2/leader-ledger.json" "$F/helper-ledger.json"
expect "cannot write .*Not a directory" "$P" publish --task "$F/task.json" --registry "$F/registry.json" --collections "$T/cd" --out "$T/ok.csv" --data "$DATA"
# audit: a manifest altered after signing, a ledger entry edited
mkdir "$T/man"
python3 - "$F/report/manifest.json" "$T/man/manifest.json" "$F/leader-ledger.json" "$T/edited-ledger.json" <<'EOF'
import json, sys
t = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(t.replace('"min_agencies": 10', '"min_agencies": 11', 1))
j = json.load(open(sys.argv[3])); j["entries"][0]["charge"] = 0.25
open(sys.argv[4], "w").write(json.dumps(j, indent=2))
EOF
expect "manifest signature.*does not verify\|signature.*FAIL\|FAIL" "$P" audit --task "$F/task.json" --manifests "$T/man" \
  --ledgers "$F/leader-ledger.json" "$F/helper-ledger.json"
grep -q "manifest signature" "$T/out" && ok || bad "audit of an altered manifest does not name the signature: $(head -3 "$T/out")"
expect "FAIL" "$P" audit --task "$F/task.json" --manifests "$F/report" --ledgers "$T/edited-ledger.json" "$F/helper-ledger.json"
grep -q "ledger chain" "$T/out" && ok || bad "audit of an edited ledger does not name the chain: $(head -3 "$T/out")"
expect "" "$P" ledger verify --file "$T/edited-ledger.json"

finish bad_inputs
