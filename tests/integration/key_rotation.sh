#!/usr/bin/env bash
# Integration: rotating both aggregators' HPKE keys mid-month with real `privagg
# serve` processes (docs/keys.md, "Rotating an aggregator's HPKE key").  Half the
# agencies seal to the task's keys, then each aggregator runs `keygen --rotate` on
# its own key file and restarts; the other half seal to the new keys (`submit
# --leader-pub/--helper-pub`); the month's collection has every agency.  The key
# file stays 0600 with no temporary file left, the other party's file is not
# touched, the current key cannot be retired and an older one can.  With
# PA_TEST_PG_URL (ctest -L pg) both stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

setup_demo "$T/d" --agencies-in-task --agencies 20
counts_csv "$T/counts.csv" "i % 2"
agencies=$(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//' | head -10)
submit() { # period, agency id, extra options
  local period=$1 id=$2; shift 2
  "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$id.key" --period "$period" \
    --counts "$T/counts.csv" --ca "$D/tls/cert.pem" "$@" >/dev/null 2>>"$T/submit.err"
}

# 0. a key file holding another key under the task's config id is refused at start
mkdir -p "$T/other"
"$PRIVAGG" keygen --role leader --out "$T/other/leader" --pairing-out "$T/other/pair.json" >/dev/null &&
"$PRIVAGG" keygen --role helper --out "$T/other/helper" --pairing "$T/other/pair.json" >/dev/null || bad "other keys"
sed "s#\"keys/helper.key\"#\"$T/other/helper.key\"#" "$D/helper.json" >"$D/other.json"; chmod 600 "$D/other.json"
grep -q "$T/other/helper.key" "$D/other.json" || bad "other.json"
timeout 10 "$PRIVAGG" serve --config "$D/other.json" >/dev/null 2>"$T/other.err" && bad "another helper key was accepted"
grep -q "this helper key is not the one in the task" "$T/other.err" && ok || { bad "wrong key message"; cat "$T/other.err"; }

start helper
start leader
n=0
for id in $agencies; do
  n=$((n+1)); [ $n -gt 5 ] && break
  submit 2026-09 "$id" && ok || { bad "submit $id to the old keys"; tail -1 "$T/submit.err"; }
done

# 1. mid-month each operator rotates its own key and restarts its aggregator
leader_sum=$(sha256sum "$D/keys/leader.key" | cut -c1-64)
stop helper
"$PRIVAGG" keygen --role helper --out "$D/keys/helper" --rotate >"$T/rotate.out" 2>"$T/rotate.err" && ok \
  || { bad "keygen --rotate (helper)"; cat "$T/rotate.err"; }
grep -q '^hpke_config_id 3$' "$T/rotate.out" && ok || { bad "helper's new config id"; cat "$T/rotate.out"; }
grep -q '^older keys held: 2$' "$T/rotate.out" && ok || bad "helper's older keys"
[ "$(stat -c %a "$D/keys/helper.key")" = 600 ] && ok || bad "helper.key mode after rotation"
ls "$D/keys" | grep -q tmp && bad "a temporary file was left" || ok
[ "$(sha256sum "$D/keys/leader.key" | cut -c1-64)" = "$leader_sum" ] && ok || bad "the leader's file changed"
grep -q "$(awk '/hpke_public_key/ {print $2}' "$T/rotate.out")" "$D/keys/helper.pub" && ok \
  || bad "helper.pub does not name the new key"
start helper
stop leader
"$PRIVAGG" keygen --role leader --out "$D/keys/leader" --rotate >/dev/null 2>"$T/rotate.err" && ok \
  || { bad "keygen --rotate (leader)"; cat "$T/rotate.err"; }
start leader
# a wrong role for the key to seal to is a configuration error (78)
submit 2026-09 "$(echo "$agencies" | sed -n 6p)" --helper-pub "$D/keys/leader.pub"
[ $? = 78 ] && ok || bad "--helper-pub with the leader's key was not refused with 78"
grep -q "the public key of the leader, not of the helper" "$T/submit.err" && ok || bad "wrong-role message"

# 2. the other half seals to the new keys
n=0
for id in $agencies; do
  n=$((n+1)); [ $n -le 5 ] && continue
  submit 2026-09 "$id" --leader-pub "$D/keys/leader.pub" --helper-pub "$D/keys/helper.pub" && ok \
    || { bad "submit $id to the new keys"; tail -1 "$T/submit.err"; }
done
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-09 \
  --partition state --ca "$D/tls/cert.pem" --out "$T/09.json" --timeout 120 2>>"$T/collect.err" && ok \
  || { bad "collect 2026-09"; cat "$T/collect.err"; }
got=$(grep -o '"agencies": [0-9]*' "$T/09.json" | grep -o '[0-9]*$')
[ "$got" = 10 ] && ok || bad "2026-09: $got agencies released, expected 10"
rej=$(store_sql "$D" helper "SELECT count(*) FROM reports WHERE state = 'rejected'")
[ "$rej" = 0 ] && ok || bad "$rej reports rejected by the helper"

# 3. retiring: not the current key; the older one, once its reports are aggregated
stop helper
"$PRIVAGG" keygen --role helper --out "$D/keys/helper" --retire 3 >/dev/null 2>"$T/retire.err"
[ $? = 1 ] && ok || bad "retiring the current key was not refused"
grep -q "is the current key" "$T/retire.err" && ok || { bad "retire message"; cat "$T/retire.err"; }
"$PRIVAGG" keygen --role leader --out "$D/keys/helper" --retire 2 >/dev/null 2>"$T/retire.err"
[ $? = 1 ] && grep -q "role helper, not leader" "$T/retire.err" && ok || bad "a role mismatch was not refused"
"$PRIVAGG" keygen --role helper --out "$D/keys/helper" --retire 2 >"$T/retire.out" 2>"$T/retire.err" && ok \
  || { bad "retire 2"; cat "$T/retire.err"; }
grep -q '^older keys held: none$' "$T/retire.out" && ok || bad "older keys after retiring"
grep -q previous_hpke_keys "$D/keys/helper.key" && bad "the retired key is still in the file" || ok
start helper   # starts, and says that the task's key is retired
grep -q "the task's key (config id 2) is retired from" "$T/helper.log" && ok || { bad "no retirement warning"; cat "$T/helper.log"; }
stop leader
stop helper

finish key_rotation
