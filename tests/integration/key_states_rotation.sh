#!/usr/bin/env bash
# Integration: a key rotation in two steps over real `privagg serve` processes, in
# the middle of a month, and no report lost (docs/keys.md, "Key states", "Rotating
# the tokens").  Both aggregators stage a new HPKE key (`keygen --stage`): the
# signed configuration publishes it as "new", and the next agencies still seal to
# the current keys; both promote it (`keygen --promote ID --old-expires`), and once
# the leader serves the new signed configurations the remaining agencies seal to
# the new keys; after aggregation the old keys are retired.  The collector's token
# rotates in the same month: the leader installs it with `keygen --role leader
# --config leader.json --add-token`, the old token collects before its expiry and
# is refused by name after it, the new one collects the month.  Exact totals
# (dp.mechanism none, --insecure-no-privacy): agency i counts 1 in cell i and 2^i
# in cell 30, so the totals say which reports were counted, and how often.  The
# command's refusals: a key id not held, a bundle of the wrong role (both ways),
# the leader's --add-token without --config; a refused command leaves the file.
# With PA_TEST_PG_URL (ctest -L pg) both stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

NAG=16   # cell 30 holds 2^i: at most 65535 per cell
setup_demo "$T/d" --agencies-in-task --agencies $NAG --min-agencies 3
sed -i 's/"mechanism": "discrete_gaussian"/"mechanism": "none"/' "$D/task.json"
grep -q '"mechanism": "none"' "$D/task.json" || { echo "FAIL: the task's dp.mechanism"; exit 1; }
SERVE_OPTS=(--insecure-no-privacy)
states() { # role -> "id:state ..." of its document as the leader serves it
  jget "$T/config.json" "' '.join('%d:%s' % (c['id'], c['state']) for c in d['$1']['configs']) if d['$1'] else 'none'"
}
mapfile -t AG < <(ls "$D/keys/agencies" | sed -n 's/\.key$//p' | head -$NAG)
for i in $(seq 0 $((NAG-1))); do printf 'cell,count\n%d,1\n30,%d\n' "$i" $((1 << i)) >"$T/c$i.csv"; done
submit() { # period, agency index; the JSON answer in $T/submit.json
  "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/${AG[$2]}.key" --period "$1" \
    --counts "$T/c$2.csv" --ca "$D/tls/cert.pem" --json --no-progress >"$T/submit.json" 2>>"$T/submit.err"
}
submit_range() { # period, from, to (exclusive), the config ids expected as "L/H"
  local i got
  for i in $(seq "$2" $(( $3 - 1 ))); do
    submit "$1" "$i" || { bad "submit $1 agency $i"; tail -1 "$T/submit.err"; continue; }
    got=$(jget "$T/submit.json" 'str(d["hpke_config_ids"]["leader"]) + "/" + str(d["hpke_config_ids"]["helper"]) + " " + d["hpke_config_ids"]["from"]')
    [ "$got" = "$4 signed configuration" ] && ok || bad "$1 agency $i sealed to $got, expected $4 from the signed configuration"
  done
}
keygen() { # role, options...: keygen on that aggregator's own key file, output in $T/keygen.out
  local role=$1; shift
  "$PRIVAGG" keygen --role "$role" --out "$D/keys/$role" "$@" >"$T/keygen.out" 2>&1
}
collect() { # key file, period -> $T/collect.json, exit status
  "$PRIVAGG" collect --task "$D/task.json" --key "$1" --period "$2" --partition state --ca "$D/tls/cert.pem" \
    --json --timeout 120 >"$T/collect.json" 2>"$T/collect.err"
}
check_totals() { # period, agency indexes counted once each (the released totals must say exactly that)
  local period=$1; shift
  python3 - "$T/collect.json" "$@" <<'PY' && ok || bad "$period: the released totals are not the submitted truth"
import json, sys
d = json.load(open(sys.argv[1])); want = [int(a) for a in sys.argv[2:]]
tot = [c["total"] for c in d["collection"]["cells"]]
expect = [0] * len(tot)
for i in want:
    expect[i] += 1
    expect[30] += 1 << i
bad = [(i, tot[i], expect[i]) for i in range(len(tot)) if tot[i] != expect[i]]
if bad or d["reports"] != len(want) or d["agencies"] != len(want) or d["rejected"] != 0:
    print("  reports %s agencies %s rejected %s; cells (index, total, expected): %s"
          % (d["reports"], d["agencies"], d["rejected"], bad[:8]))
    sys.exit(1)
PY
}

start helper
start leader
hpke_config && ok || bad "GET /hpke_config"
[ "$(jget "$T/config.json" 'd["leader"]["format"]')" = privagg-hpke-config-v2 ] && ok || bad "not format v2"
[ "$(states leader) | $(states helper)" = "1:current | 2:current" ] && ok || bad "configuration at start: $(states leader) | $(states helper)"

# 1. the month before (collected with the old collector token, below) and the
#    first agencies of this month: sealed to the current keys
submit_range 2026-08 0 6 1/2
submit_range 2026-09 0 5 1/2

# 2. mid-month: each aggregator stages a new key and restarts; the signed
#    configuration publishes it as new, and agencies keep sealing to the current one
stop helper
keygen helper --stage && ok || { bad "helper --stage"; cat "$T/keygen.out"; }
grep -q '^new hpke_config_id 3$' "$T/keygen.out" && grep -q '^hpke_config_id 2$' "$T/keygen.out" && ok \
  || { bad "helper --stage output"; cat "$T/keygen.out"; }
grep -q '^keys: current 2, new 3$' "$T/keygen.out" && ok || { bad "helper keys by state"; cat "$T/keygen.out"; }
start helper
stop leader
keygen leader --stage && ok || { bad "leader --stage"; cat "$T/keygen.out"; }
grep -q '^new hpke_config_id 2$' "$T/keygen.out" && ok || { bad "leader --stage output"; cat "$T/keygen.out"; }
[ "$(stat -c %a "$D/keys/leader.key")" = 600 ] && ok || bad "the leader's key file is not 0600 after --stage"
keygen leader --stage; rc=$?
[ $rc = 1 ] && grep -q "config id 2 is staged already" "$T/keygen.out" && ok || { bad "a second --stage: exit $rc"; cat "$T/keygen.out"; }
keygen leader --promote 9; rc=$?
[ $rc = 1 ] && grep -q "promote: no key has config id 9 (held: current 1, new 2)" "$T/keygen.out" && ok \
  || { bad "--promote of an id not held: exit $rc"; cat "$T/keygen.out"; }
start leader
hpke_config
[ "$(states leader) | $(states helper)" = "1:current 2:new | 2:current 3:new" ] && ok \
  || bad "configuration staged: $(states leader) | $(states helper)"
curl -sf --cacert "$D/tls/cert.pem" "https://127.0.0.1:$(port leader)/metrics" >"$T/metrics.txt"
grep -q '^privagg_hpke_key{config_id="2",state="new"} 1' "$T/metrics.txt" && ok || bad "no privagg_hpke_key gauge for the new key"
"$PRIVAGG" status --config "$D/leader.json" --no-peer >"$T/status.txt" 2>&1
grep -q '^  hpke keys    current 1, new 2$' "$T/status.txt" && ok || { bad "status: the keys by state"; cat "$T/status.txt"; }
"$PRIVAGG" status --config "$D/helper.json" --no-peer --json >"$T/status.json" 2>&1
[ "$(jget "$T/status.json" '[(k["config_id"], k["state"]) for k in d["hpke_keys"]]')" = "[(2, 'current'), (3, 'new')]" ] \
  && ok || { bad "status --json: the keys by state"; cat "$T/status.json"; }
submit_range 2026-09 5 10 1/2     # never the new keys

# 3. the collector's token rotates: the leader installs the new one from the
#    collector's bundle; the old one is accepted until it expires
cp "$D/keys/collector.key" "$T/old-collector.key"
"$PRIVAGG" keygen --role collector --out "$D/keys/collector" --rotate-token --token-out "$T/ctok.json" >"$T/ctok.out" 2>&1 \
  && ok || { bad "collector --rotate-token"; cat "$T/ctok.out"; }
# (a leader's peer-token bundle, from another leader's key file: this month's
# leader keeps its peer token)
mkdir -p "$T/other"
"$PRIVAGG" keygen --role leader --out "$T/other/leader" --pairing-out "$T/other/pair.json" >/dev/null &&
"$PRIVAGG" keygen --role leader --out "$T/other/leader" --rotate-token --token-out "$T/ptok.json" >/dev/null 2>&1 \
  && ok || bad "leader --rotate-token"
cp "$D/leader.json" "$T/leader.json.before"
"$PRIVAGG" keygen --role leader --config "$D/leader.json" --add-token "$T/ptok.json" >"$T/add.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "the leader's peer token, not the collector's bearer token" "$T/add.out" && ok \
  || { bad "the leader took its own peer token as the collector's: exit $rc"; cat "$T/add.out"; }
"$PRIVAGG" keygen --role helper --out "$D/keys/helper" --add-token "$T/ctok.json" >"$T/add.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "the collector's token, not the leader's peer token" "$T/add.out" && ok \
  || { bad "the helper took the collector's token: exit $rc"; cat "$T/add.out"; }
"$PRIVAGG" keygen --role leader --out "$D/keys/leader" --add-token "$T/ctok.json" >"$T/add.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q -- "--config LEADER.json" "$T/add.out" && ok || { bad "leader --add-token without --config: exit $rc"; cat "$T/add.out"; }
cmp -s "$D/leader.json" "$T/leader.json.before" && ok || bad "a refused --add-token changed leader.json"
expires=$(( $(date +%s) + 45 ))
"$PRIVAGG" keygen --role leader --config "$D/leader.json" --add-token "$T/ctok.json" --old-expires "@$expires" \
  >"$T/add.out" 2>"$T/add.err" && ok || { bad "leader --config --add-token"; cat "$T/add.out" "$T/add.err"; }
grep -q '^bearer token id 2$' "$T/add.out" && grep -q '^older token id 1 accepted until ' "$T/add.out" && ok \
  || { bad "leader --add-token output"; cat "$T/add.out"; }
grep -q "restart the leader" "$T/add.err" && ok || bad "no restart hint"
[ "$(stat -c %a "$D/leader.json")" = 600 ] && ok || bad "leader.json is not 0600 after --add-token"
[ "$(jget "$D/leader.json" '[(t["id"], t.get("not_after", 0)) for t in d["collector_tokens"]], "collector_token" in d')" \
  = "([(2, 0), (1, $expires)], False)" ] && ok || { bad "collector_tokens"; cat "$D/leader.json"; }
ls "$D" | grep -q tmp && bad "a temporary file is left beside leader.json" || ok
"$PRIVAGG" keygen --role leader --config "$D/leader.json" --add-token "$T/ctok.json" >"$T/add.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "collector token id 2 is held already" "$T/add.out" && ok || { bad "the same bundle twice: exit $rc"; cat "$T/add.out"; }
stop leader
start leader
# before the expiry the old token collects (last month)
collect "$T/old-collector.key" 2026-08 && ok || { bad "collect with the old token before its expiry"; cat "$T/collect.err"; }
check_totals 2026-08 0 1 2 3 4 5

# 4. both promote the new key; the old keys retire in a day
stop helper
keygen helper --promote 3 --old-expires "@$(( $(date +%s) + 86400 ))" && ok || { bad "helper --promote"; cat "$T/keygen.out"; }
grep -q '^keys: current 3, retiring 2$' "$T/keygen.out" && grep -q '^config id 2 expires ' "$T/keygen.out" && ok \
  || { bad "helper --promote output"; cat "$T/keygen.out"; }
start helper
stop leader
keygen leader --promote 1; rc=$?
[ $rc = 1 ] && grep -q "config id 1 is the current key, not a new one" "$T/keygen.out" && ok || { bad "--promote of the current key: exit $rc"; cat "$T/keygen.out"; }
keygen leader --promote 2 --old-expires "@$(( $(date +%s) + 86400 ))" && ok || { bad "leader --promote"; cat "$T/keygen.out"; }
start leader
# the leader serves the new signed configurations (the helper's as it fetched it)
for _ in $(seq 1 40); do
  hpke_config && [ "$(states leader) | $(states helper)" = "2:current 1:retiring | 3:current 2:retiring" ] && break
  sleep 1
done
[ "$(states leader) | $(states helper)" = "2:current 1:retiring | 3:current 2:retiring" ] && ok \
  || bad "configuration promoted: $(states leader) | $(states helper)"
[ "$(jget "$T/config.json" '"not_after" in d["helper"]["configs"][1]')" = True ] && ok || bad "the retiring key has no expiry"
"$PRIVAGG" status --config "$D/leader.json" --no-peer >"$T/status.txt" 2>&1
grep -q '^  hpke keys    current 2, retiring 1 (expires 20' "$T/status.txt" && ok || { bad "status after the promotion"; cat "$T/status.txt"; }
submit_range 2026-09 10 $NAG 2/3

# 5. after the old collector token's expiry: refused by name; the new one collects the month
while [ "$(date +%s)" -le "$expires" ]; do sleep 1; done
collect "$T/old-collector.key" 2026-09; rc=$?
[ $rc = 1 ] && grep -q "bearer token id 1 expired" "$T/collect.err" && ok || { bad "the expired collector token: exit $rc"; cat "$T/collect.err"; }
collect "$D/keys/collector.key" 2026-09 && ok || { bad "collect with the new token"; cat "$T/collect.err"; }
check_totals 2026-09 $(seq 0 $((NAG-1)))
[ "$(store_sql "$D" helper "SELECT count(*) FROM reports WHERE state = 'rejected'")" = 0 ] && ok || bad "the helper rejected reports"

# 6. aggregated: the old keys are retired, their secrets gone from the files
stop helper
keygen helper --retire 2 && grep -q '^keys: current 3$' "$T/keygen.out" && ok || { bad "helper --retire"; cat "$T/keygen.out"; }
start helper
stop leader
keygen leader --retire 1 && ok || { bad "leader --retire"; cat "$T/keygen.out"; }
[ "$(jget "$D/keys/leader.key" '"previous_hpke_keys" in d, "new_hpke_key" in d')" = "(False, False)" ] && ok || bad "the leader's file still holds an old key"
start leader
for _ in $(seq 1 40); do
  hpke_config && [ "$(states leader) | $(states helper)" = "2:current | 3:current" ] && break
  sleep 1
done
[ "$(states leader) | $(states helper)" = "2:current | 3:current" ] && ok || bad "configuration retired: $(states leader) | $(states helper)"
stop leader
stop helper
finish key_states_rotation
