#!/usr/bin/env bash
# Publishing and audit over a real year (issue 13): privagg demo (120 agencies,
# 12 months, every partition) publishes and audits; then `privagg audit` must pass
# on the honest year and fail, naming the reason, on each tampering: a ledger
# entry removed, an entry edited, the ledgers disagreeing, a manifest release the
# ledgers lack, a lattice cell over budget, a batch below the minimum agencies, a
# wrong signature, policy none.  `ledger verify --file` with an earlier anchor
# passes.  Tampered manifests are re-signed with the collector's key (a dishonest
# collector), except for the wrong-signature case.  With PA_TEST_PG_URL (ctest
# -L pg) the demo's stores are PostgreSQL schemas (tests/support/pg_stores.sh)
# and its output goes to test-output/publish_audit_pg.
set -euo pipefail
PRIVAGG=$(readlink -f "$1")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${PA_TEST_OUT:-$(dirname "$PRIVAGG")/test-output/publish_audit${PA_TEST_PG_URL:+_pg}}
rm -rf "$OUT"; mkdir -p "$OUT"
D="$OUT/year"
cd "$SRC"
. tests/support/pg_stores.sh
trap pg_drop_stores EXIT
fail() { echo "FAIL: $*"; exit 1; }
demo_store_args "$D" || fail "PostgreSQL stores"
"$PRIVAGG" demo "${DEMO_STORES[@]}" --agencies 120 --min-agencies 3 --months 12 --release all --out "$D" >"$OUT/demo.txt" 2>"$OUT/demo.err" \
  || { tail -20 "$OUT/demo.err"; fail "demo"; }
grep -q "privagg audit: PASS" "$OUT/demo.txt" || fail "demo did not print a passing audit"
for f in report/report.html report/table.csv report/table.json report/manifest.json leader-ledger.json helper-ledger.json audit.txt audit.json; do
  [ -s "$D/$f" ] || fail "demo did not write $f"
done
audit() { "$PRIVAGG" audit --task "$1" --manifests "$2" --ledgers "$3" "$4" >"$OUT/audit.out" 2>&1; }
audit "$D/task.json" "$D/report" "$D/leader-ledger.json" "$D/helper-ledger.json" || { cat "$OUT/audit.out"; fail "honest year"; }
echo "ok: honest year passes"
"$PRIVAGG" audit --task "$D/task.json" --manifests "$D/report" --ledgers "$D/leader-ledger.json" "$D/helper-ledger.json" --json \
  >"$OUT/audit.json" || fail "--json exit"
grep -q '"result": "pass"' "$OUT/audit.json" || fail "--json"
# ledger verify on an exported file, anchored at an earlier entry
A=$(python3 -c "import json;e=json.load(open('$D/leader-ledger.json'))['entries'][9];print('%d:%s'%(e['seq'],e['hash']))")
"$PRIVAGG" ledger verify --file "$D/leader-ledger.json" --anchor "$A" >/dev/null || fail "ledger verify with an earlier anchor"
echo "ok: ledger verify --file with an earlier entry as anchor"

# each case: a python edit of copies, then audit must exit 1 naming the reason
tamper() {
  local name=$1 want=$2 code=$3
  local T="$OUT/t-$name"; rm -rf "$T"; mkdir -p "$T/m"
  cp "$D/task.json" "$D/leader-ledger.json" "$D/helper-ledger.json" "$T/"; cp "$D/report/manifest.json" "$T/m/"
  python3 - "$T" "$D/keys/collector.key" <<PY
import json, sys, subprocess, hashlib
T, KEY = sys.argv[1], sys.argv[2]
def load(p): return json.load(open(T + '/' + p))
def save(p, d): json.dump(d, open(T + '/' + p, 'w'), indent=1)
def resign(m):
    # re-sign as the collector would (a dishonest collector holds its key)
    import ctypes
    sodium = ctypes.CDLL('libsodium.so.23'); sodium.sodium_init()
    k = json.load(open(KEY)); sk = bytes.fromhex(k['signing_secret_key'])
    body = dict(m); body.pop('signature', None)
    def enc(v):  # the canonical encoding of docs/publish.md (jansson's, 17-digit reals)
        if isinstance(v, dict): return '{' + ','.join(json.dumps(k) + ':' + enc(v[k]) for k in sorted(v)) + '}'
        if isinstance(v, list): return '[' + ','.join(enc(x) for x in v) + ']'
        if isinstance(v, float):
            z = '%.17g' % v
            return z if any(c in z for c in '.en') else z + '.0'
        return json.dumps(v, ensure_ascii=True)
    msg = b'privagg-release-manifest-v1\0' + enc(body).encode()
    sig = ctypes.create_string_buffer(64)
    sodium.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), sk)
    m['signature']['value'] = sig.raw.hex()
    return m
$code
PY
  set +e; audit "$T/task.json" "$T/m" "$T/leader-ledger.json" "$T/helper-ledger.json"; st=$?; set -e
  [ $st -eq 1 ] || { cat "$OUT/audit.out"; fail "$name: exit $st, want 1"; }
  grep -q -- "$want" "$OUT/audit.out" || { cat "$OUT/audit.out"; fail "$name: no '$want' in the report"; }
  case $code in *resign*) grep -q "\[ok\] manifest signature" "$OUT/audit.out" || { cat "$OUT/audit.out"; fail "$name: the re-signed manifest does not verify"; };; esac
  echo "ok: $name -> $(grep -m1 -- "$want" "$OUT/audit.out" | sed 's/^ *//' | cut -c1-150)"
}
tamper entry-removed "leader ledger (.*expected sequence number" \
  "l = load('leader-ledger.json'); del l['entries'][4]; save('leader-ledger.json', l)"
tamper entry-edited "hash does not match its contents" \
  "l = load('helper-ledger.json'); l['entries'][7]['param'] = '8'; save('helper-ledger.json', l)"
# the helper's last release (a partition's: the demo releases the state first) dropped
# from a consistent export: its chain still verifies, but it no longer agrees
tamper ledgers-disagree "ledgers agree: the ledgers differ" \
  "l = load('helper-ledger.json'); e = l['entries'].pop(); assert e['partition'] != 'state'
l['count'] -= 1; l['head'] = l['entries'][-1]['hash']
l['cells'] = [c for c in l['cells'] if not (c['period'] == e['period'] and c['partition'] == e['partition'])]
save('helper-ledger.json', l)"
tamper release-missing "is not in the leader's ledger" \
  "m = load('m/manifest.json'); r = dict(m['releases'][0]); r['period'] = '2031-01'; r['ledger_entries'] = {'leader': '00'*32, 'helper': '00'*32}; m['releases'].append(r); save('m/manifest.json', resign(m))"
tamper below-min-agencies "below the minimum" \
  "m = load('m/manifest.json'); m['releases'][3]['agencies'] = 2; save('m/manifest.json', resign(m))"
tamper wrong-signature "signature does not verify" \
  "m = load('m/manifest.json'); s = m['signature']['value']; m['signature']['value'] = ('1' if s[0] != '1' else '2') + s[1:]; save('m/manifest.json', m)"
# both aggregators rewrite their chains consistently (the chain is unkeyed): one
# more statewide release of the last month, entered under a budget of 2
tamper over-budget "over the task's budget per record" \
  "import struct
def enc_str(z): z = z.encode(); return struct.pack('>I', len(z)) + z
def h(e):
    b = b'privagg-dp-ledger-v2' + struct.pack('>Q', e['seq'])
    for k in ('task_id', 'batch', 'level', 'period', 'partition', 'mechanism', 'param', 'unit'): b += enc_str(e[k])
    for k in ('charge', 'total', 'budget'): b += struct.pack('>d', e[k])
    return hashlib.sha256(b + struct.pack('>q', e['time']) + bytes.fromhex(e['prev_hash'])).hexdigest()
for who in ('leader', 'helper'):
    l = load(who + '-ledger.json')
    last = [e for e in l['entries'] if e['partition'] == 'state'][-1]
    e = dict(last); e['seq'] = l['entries'][-1]['seq'] + 1; e['prev_hash'] = l['entries'][-1]['hash']
    e['total'] = 1.5; e['budget'] = 2.0; e['hash'] = h(e)
    l['entries'].append(e); l['count'] += 1; l['head'] = e['hash']
    for c in l['cells']:
        if c['period'] == e['period']: c['spent'] += 0.5
    save(who + '-ledger.json', l)"
tamper policy-none "dp.mechanism is none" \
  "t = load('task.json'); t['dp']['mechanism'] = 'none'; t['dp'].pop('budget_per_record', None); t['dp'].pop('per_release', None); save('task.json', t)"
echo "PASS: publish and audit"
