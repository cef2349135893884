#!/usr/bin/env bash
# Integration: the agency registry with real `privagg serve` processes
# (docs/registry.md).  A task names a registry of 12 agencies enrolled from
# 2026-01.  Mid-year the state enrolls a 13th agency (its key made "at the
# agency"), revokes agency 1 and re-keys agency 2, all from 2026-04, and sends
# SIGHUP: the task file and id do not change.  Then: the new agency reports for
# 2026-04 but not 2026-03; agency 1's report for 2026-04 is refused by the leader
# (sent with a stale registry copy, so that the client's own check passes) and
# its 2026-03 report is accepted; its 2026-06 report, accepted by a leader that
# still holds the old registry, is rejected by the helper (its own copy); its
# 2026-05 report, aggregated before the revocation, is not counted towards the
# minimum agencies; agency 2's old key is refused from 2026-04
# and its new key accepted; 2026-02 (before every change) is released with
# agency 1; publish counts the agencies enrolled for each month as "listed".  A registry file that does not verify is refused on SIGHUP (the old
# one kept) and at start (with the entry and the check named).  With
# PA_TEST_PG_URL (ctest -L pg) both stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

setup_demo "$T/d" --agencies-in-task --agencies 20
K=$D/keys
mapfile -t A < <(ls "$K/agencies" | grep '\.pub$' | sed 's/\.pub$//' | head -14)

# the registry: its own key, a genesis, 12 agencies from 2026-01
"$PRIVAGG" keygen --role registry --out "$K/registry" >/dev/null || bad "keygen --role registry"
grep -q '"role": "registry"' "$K/registry.pub" && ! grep -q secret "$K/registry.pub" && ok || bad "registry.pub"
"$PRIVAGG" registry init --key "$K/registry.key" --name "Missouri law enforcement agencies" --from 2026-01 \
  --out "$D/registry.json" >/dev/null || bad "registry init"
for i in $(seq 0 11); do
  "$PRIVAGG" registry enroll --registry "$D/registry.json" --key "$K/registry.key" \
    --agency-pub "$K/agencies/${A[$i]}.pub" --state MO --data "$DATA" --from 2026-01 >/dev/null 2>>"$T/reg.err" \
    || { bad "enroll ${A[$i]}"; cat "$T/reg.err"; }
done
"$PRIVAGG" registry enroll --registry "$D/registry.json" --key "$K/leader.key" \
  --agency-pub "$K/agencies/${A[12]}.pub" --state MO --data "$DATA" --from 2026-01 >/dev/null 2>"$T/reg.err"
[ $? = 1 ] && grep -q "role leader, not registry" "$T/reg.err" && ok || bad "another key signed an entry: $(cat "$T/reg.err")"
"$PRIVAGG" registry revoke --registry "$D/registry.json" --key "$K/registry.key" --agency MO9999999 \
  --from 2026-04 >/dev/null 2>"$T/reg.err"
[ $? = 1 ] && grep -q "is not enrolled" "$T/reg.err" && ok || bad "revoke before enroll: $(cat "$T/reg.err")"

# the task names the registry; each aggregator's config holds its own copy
LEP=$(grep -A1 '"leader"' "$D/task.json" | grep -o 'https://[^"]*')
HEP=$(grep -A1 '"helper"' "$D/task.json" | grep -o 'https://[^"]*')
"$PRIVAGG" task init --state MO --keys "$K" --registry "$D/registry.json" --out "$D/task.json" --force \
  --leader-endpoint "$LEP" --helper-endpoint "$HEP" --min-agencies 10 --data "$DATA" >/dev/null 2>"$T/task.err" \
  && ok || { bad "task init --registry"; cat "$T/task.err"; }
grep -q '"registry"' "$D/task.json" && ! grep -q '"agencies"' "$D/task.json" && ok || bad "task lists agencies"
TID=$("$PRIVAGG" task show --task "$D/task.json" | awk '/^task id/ {print $3}')
TSUM=$(sha256sum "$D/task.json" | cut -c1-64)
mkdir -p "$D/helper-side"
cp "$D/registry.json" "$D/helper-side/registry.json"
sed -i 's|^{|{\n  "registry": "registry.json",|' "$D/leader.json"
sed -i 's|^{|{\n  "registry": "helper-side/registry.json",|' "$D/helper.json"
"$PRIVAGG" registry verify --registry "$D/registry.json" --task "$D/task.json" --json >"$T/verify.json" \
  && grep -q '"ok": true' "$T/verify.json" && grep -q '"agencies_without_partition": \[\]' "$T/verify.json" \
  && ok || { bad "registry verify --task"; cat "$T/verify.json"; }

hup() { # role, log line expected
  local pid n; [ "$1" = leader ] && pid=$LEADER_PID || pid=$HELPER_PID
  n=$(grep -c "SIGHUP" "$T/$1.log")
  kill -HUP "$pid"
  for _ in $(seq 50); do [ "$(grep -c "SIGHUP" "$T/$1.log")" -gt "$n" ] && break; sleep 0.1; done
  sleep 0.2
  tail -n 3 "$T/$1.log" | grep -q "$2" && ok || { bad "$1 SIGHUP: expected '$2'"; tail -n 3 "$T/$1.log"; }
}
counts_csv "$T/counts.csv" "i % 2"
submit() { # period, key file, registry file, extra options; exit status
  local period=$1 key=$2 reg=$3; shift 3
  "$PRIVAGG" submit --task "$D/task.json" --key "$key" --registry "$reg" --period "$period" \
    --counts "$T/counts.csv" --ca "$D/tls/cert.pem" --spool "$T/spool-$(basename "$key")-$period" "$@" \
    >/dev/null 2>>"$T/submit.err"
}
collect() { # period -> agencies released (or "failed")
  "$PRIVAGG" collect --task "$D/task.json" --key "$K/collector.key" --period "$1" --partition state \
    --ca "$D/tls/cert.pem" --out "$T/coll/collection-$1.json" --timeout 120 2>>"$T/collect.err" || { echo failed; return; }
  grep -o '"agencies": [0-9]*' "$T/coll/collection-$1.json" | grep -o '[0-9]*$'
}

mkdir -p "$T/coll"
start helper
grep -q "agency registry.*13 entries verified" "$T/helper.log" && ok || bad "no 'entries verified' at start"
start leader

# 2026-02: agencies 1..11; 2026-05: agency 1, before its revocation reaches anyone
for i in $(seq 0 10); do submit 2026-02 "$K/agencies/${A[$i]}.key" "$D/registry.json" || bad "2026-02 ${A[$i]}"; done
submit 2026-05 "$K/agencies/${A[0]}.key" "$D/registry.json" && ok || bad "2026-05 ${A[0]} before the revocation"

# mid-year: enroll a 13th agency (its key made at the agency), revoke 1, re-key 2, from 2026-04
cp "$D/registry.json" "$T/stale.json"
mkdir -p "$T/at-agency"
"$PRIVAGG" keygen --role agency --id "${A[12]}" --out "$T/at-agency/${A[12]}" >/dev/null || bad "keygen at the agency"
"$PRIVAGG" keygen --role agency --id "${A[1]}" --out "$T/at-agency/${A[1]}-new" >/dev/null || bad "keygen new key"
"$PRIVAGG" registry enroll --registry "$D/registry.json" --key "$K/registry.key" --agency-pub "$T/at-agency/${A[12]}.pub" \
  --state MO --data "$DATA" --from 2026-04 --task "$D/task.json" >/dev/null 2>"$T/reg.err" && ok || { bad "enroll mid-year"; cat "$T/reg.err"; }
"$PRIVAGG" registry enroll --registry "$D/registry.json" --key "$K/registry.key" --agency-pub "$K/agencies/${A[13]}.pub" \
  --name "Out of state" --county 20001 --from 2026-04 --task "$D/task.json" >/dev/null 2>"$T/reg.err"
[ $? = 1 ] && grep -q 'county "20001" of agency .* lies in no partition' "$T/reg.err" && ok \
  || bad "an agency of a county in no partition was enrolled: $(cat "$T/reg.err")"
"$PRIVAGG" registry revoke --registry "$D/registry.json" --key "$K/registry.key" --agency "${A[0]}" --from 2026-04 \
  >/dev/null && ok || bad "revoke"
"$PRIVAGG" registry rekey --registry "$D/registry.json" --key "$K/registry.key" \
  --agency-pub "$T/at-agency/${A[1]}-new.pub" --from 2026-04 >/dev/null && ok || bad "rekey"
"$PRIVAGG" registry revoke --registry "$D/registry.json" --key "$K/registry.key" --agency "${A[0]}" --from 2026-06 \
  >/dev/null 2>"$T/reg.err"
[ $? = 1 ] && grep -q "revocation is final" "$T/reg.err" && ok || bad "a second revoke was accepted"
[ "$(sha256sum "$D/task.json" | cut -c1-64)" = "$TSUM" ] && ok || bad "the task file changed"
[ "$("$PRIVAGG" task show --task "$D/task.json" | awk '/^task id/ {print $3}')" = "$TID" ] && ok || bad "task id changed"
"$PRIVAGG" registry show --registry "$D/registry.json" --period 2026-04 --json >"$T/show.json" || bad "registry show"
grep -q '"active": 12' "$T/show.json" && ok || bad "show: active in 2026-04: $(grep active "$T/show.json")"
cp "$D/registry.json" "$D/helper-side/registry.json"
hup helper "agency registry reloaded, 16 entries verified"
# the helper checks on its own: a leader still holding the old registry accepts
# agency 1's 2026-06 report; the helper rejects it when it is aggregated
submit 2026-06 "$K/agencies/${A[0]}.key" "$T/stale.json" && ok || bad "the stale leader refused 2026-06: $(tail -n1 "$T/submit.err")"
for _ in $(seq 100); do
  rej=$(store_sql "$D" helper "SELECT count(*) FROM reports WHERE state = 'rejected' AND period = '2026-06' AND agency_id = '${A[0]}'")
  [ "$rej" = 1 ] && break; sleep 0.1
done
[ "$rej" = 1 ] && ok || bad "the helper did not reject the revoked agency's 2026-06 report"
hup leader "agency registry reloaded, 16 entries verified"

# the new agency: from its period on, not before
submit 2026-03 "$T/at-agency/${A[12]}.key" "$D/registry.json"
[ $? = 78 ] && tail -n1 "$T/submit.err" | grep -q "enrolled from 2026-04, not for 2026-03" && ok || bad "13th agency reported for 2026-03: $(tail -n1 "$T/submit.err")"
submit 2026-04 "$T/at-agency/${A[12]}.key" "$D/registry.json" && ok || bad "13th agency refused for 2026-04: $(tail -n1 "$T/submit.err")"
# the revoked agency: the leader refuses 2026-04 (its client used a stale registry), accepts 2026-03
submit 2026-04 "$K/agencies/${A[0]}.key" "$T/stale.json"
[ $? = 78 ] && tail -n1 "$T/submit.err" | grep -q "HTTP 403.*MO[0-9]*'s key is revoked from 2026-04" && ok || bad "revoked agency's 2026-04 report: $(tail -n3 "$T/submit.err")"
submit 2026-03 "$K/agencies/${A[0]}.key" "$D/registry.json" && ok || bad "revoked agency's 2026-03 report refused"
# the re-keyed agency: old key refused from 2026-04, new key accepted; old key still good for 2026-03
submit 2026-04 "$K/agencies/${A[1]}.key" "$T/stale.json"
[ $? = 78 ] && tail -n1 "$T/submit.err" | grep -q "HTTP 403.*does not verify with agency" && ok || bad "old key accepted for 2026-04: $(tail -n3 "$T/submit.err")"
submit 2026-04 "$T/at-agency/${A[1]}-new.key" "$D/registry.json" && ok || bad "new key refused: $(tail -n1 "$T/submit.err")"
submit 2026-03 "$K/agencies/${A[1]}.key" "$D/registry.json" && ok || bad "old key refused for 2026-03"
for i in $(seq 2 11); do submit 2026-04 "$K/agencies/${A[$i]}.key" "$D/registry.json" || bad "2026-04 ${A[$i]}"; done
for i in $(seq 2 10); do submit 2026-05 "$K/agencies/${A[$i]}.key" "$D/registry.json" || bad "2026-05 ${A[$i]}"; done

# releases: 2026-02 with agency 1; 2026-04 without it, with the new agency and the new key
[ "$(collect 2026-02)" = 11 ] && ok || bad "2026-02: $(tail -n2 "$T/collect.err")"
[ "$(collect 2026-04)" = 12 ] && ok || bad "2026-04: $(tail -n2 "$T/collect.err")"
# 2026-05: agency 1's report was accepted and aggregated before the revocation;
# the minimum-agencies check counts only agencies enrolled for the period: 9, too few
[ "$(collect 2026-05)" = failed ] && grep -q "has 9 agencies" "$T/collect.err" && ok \
  || bad "2026-05 was released or failed otherwise: $(tail -n2 "$T/collect.err")"

# publishing: the agencies "listed" of a month are those enrolled for it
"$PRIVAGG" publish --task "$D/task.json" --collections "$T/coll" --out "$T/pub" --data "$DATA" >/dev/null 2>"$T/pub.err"
[ $? = 1 ] && grep -q "give it (--registry FILE)" "$T/pub.err" && ok || bad "publish without the registry: $(cat "$T/pub.err")"
"$PRIVAGG" publish --task "$D/task.json" --collections "$T/coll" --out "$T/pub" --data "$DATA" \
  --registry "$D/registry.json" >/dev/null 2>"$T/pub.err" && ok || bad "publish --registry: $(cat "$T/pub.err")"
# 2026-02: the 12th agency (enrolled from 2026-01) did not report; 2026-04: all 12 did
[ "$(grep -o '"agencies_not_reported":\[[^]]*\]' "$T/pub/table.json" | tr '\n' ' ')" = \
  "\"agencies_not_reported\":[\"${A[11]}\"] \"agencies_not_reported\":[] " ] && ok \
  || bad "agencies_not_reported: $(grep -o '"agencies_not_reported":\[[^]]*\]' "$T/pub/table.json")"
# residents served, county by county from the counties of the enrollments (as for a
# task's own list): 2026-02 a range (the 12th agency did not report), 2026-04 one
# figure, both short of the whole state (12 agencies serve a few counties)
python3 - "$T/pub/table.json" <<'PY' && ok || bad "residents served: $(grep -o '"population_share_served[a-z_]*": *[^,]*' "$T/pub/table.json")"
import json, sys
c = [t['coverage'] for t in json.load(open(sys.argv[1]))['tables'] if t['partition'] == 'state']
lo = [x['population_share_served'] for x in c]; hi = [x['population_share_served_upper'] for x in c]
assert len(c) == 2 and None not in lo and None not in hi, (lo, hi)
assert 0 < lo[0] <= hi[0] < 1 and 0 < lo[1] == hi[1] < 1, (lo, hi)
PY
grep -q "The agency registry lists 12 agencies; in 2026-04, 12 reported" "$T/pub/report.html" && ok \
  || bad "report.html coverage: $(grep -o 'The [a-z ]* lists [^<]*' "$T/pub/report.html" | head -3)"

# a registry that does not verify: kept on SIGHUP, refused at start
sed -i "0,/\"from\": \"2026-04\"/s//\"from\": \"2026-07\"/" "$D/helper-side/registry.json"
hup helper "agency registry kept: tampering detected"
stop helper
(cd "$D" && timeout 20 "$PRIVAGG" serve --config "$D/helper.json") >/dev/null 2>"$T/broken.err"
[ $? = 1 ] && grep -q "registry entry 13 (enroll ${A[12]}): the signature does not verify" "$T/broken.err" && ok \
  || bad "a broken registry was not refused at start: $(cat "$T/broken.err")"
stop leader
finish agency_registry
