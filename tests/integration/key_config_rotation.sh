#!/usr/bin/env bash
# Integration: complete key rotation over real `privagg serve` processes
# (docs/keys.md, "The signed configuration", "Expiry", "Rotating the tokens").  Agencies fetch the
# aggregators' signed configurations from the leader (GET /hpke_config) and seal
# to each one's current key; both aggregators rotate mid-month (the old keys
# expiring later), the leader picks up the helper's new configuration, agencies
# follow without being handed any file, one agency still seals to the task's
# (old) keys with --offline-keys; the leader's peer token and the collector's
# token rotate mid-month too: the month's release has every agency.  An expired
# key and an expired token are refused by name, and a configuration signed for
# another task is refused by submit (exit 78) before anything is sealed.  With
# PA_TEST_PG_URL (ctest -L pg) both stores are PostgreSQL schemas
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"

setup_demo "$T/d" --agencies-in-task --agencies 20
agencies=$(ls "$D/keys/agencies" | grep '\.key$' | sed 's/\.key$//')
counts_csv "$T/counts.csv" "i % 2"
submit() { # agency id, extra options; the JSON answer in $T/submit.json
  "$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$1.key" --period 2026-09 \
    --counts "$T/counts.csv" --ca "$D/tls/cert.pem" --json "${@:2}" >"$T/submit.json" 2>>"$T/submit.err"
}
ids() { jget "$T/submit.json" 'str(d["hpke_config_ids"]["leader"]) + "/" + str(d["hpke_config_ids"]["helper"]) + " " + d["hpke_config_ids"]["from"]'; }

# the task names each aggregator's configuration-signing key
[ "$(jget "$D/task.json" 'len(d["parties"]["leader"]["signing_public_key"]) + len(d["parties"]["helper"]["signing_public_key"])')" = 128 ] \
  && ok || bad "the task has no signing_public_key for the aggregators"
start helper
start leader
hpke_config && ok || bad "GET /hpke_config"
[ "$(jget "$T/config.json" 'd["leader"]["configs"][0]["id"], d["helper"]["configs"][0]["id"]')" = "(1, 2)" ] && ok \
  || { bad "the leader does not serve both configurations"; cat "$T/config.json"; }

# 1. the first five agencies: the signed configuration names the task's keys
n=0
for id in $agencies; do
  n=$((n+1)); [ $n -gt 5 ] && break
  submit "$id" && ok || { bad "submit $id"; tail -1 "$T/submit.err"; }
done
[ "$(ids)" = "1/2 signed configuration" ] && ok || bad "sealed to $(ids), expected 1/2 from the configuration"

# 2. mid-month both rotate; the old keys expire in a day
stop helper
"$PRIVAGG" keygen --role helper --out "$D/keys/helper" --rotate --old-expires "@$(( $(date +%s) + 86400 ))" >"$T/rot.out" 2>&1 \
  && ok || { bad "helper rotate"; cat "$T/rot.out"; }
grep -q '^config id 2 expires ' "$T/rot.out" && ok || bad "the helper's old key has no expiry"
start helper
stop leader
"$PRIVAGG" keygen --role leader --out "$D/keys/leader" --rotate --old-expires "@$(( $(date +%s) + 86400 ))" >/dev/null 2>&1 \
  && ok || bad "leader rotate"
start leader
hpke_config
[ "$(jget "$T/config.json" '[c["id"] for c in d["leader"]["configs"] if c["state"] == "current"][0], [c["id"] for c in d["helper"]["configs"] if c["state"] == "current"][0]')" = "(2, 3)" ] \
  && ok || { bad "the configuration does not name the new keys"; cat "$T/config.json"; }
[ "$(jget "$T/config.json" 'len(d["leader"]["configs"]), "not_after" in d["helper"]["configs"][1]')" = "(2, True)" ] \
  && ok || bad "the retiring keys are not listed with their expiry"

# 3. the next five follow the configuration; one more seals to the task's old keys
n=0
for id in $agencies; do
  n=$((n+1)); [ $n -le 5 ] && continue; [ $n -gt 10 ] && break
  submit "$id" && ok || { bad "submit $id after the rotation"; tail -1 "$T/submit.err"; }
done
[ "$(ids)" = "2/3 signed configuration" ] && ok || bad "sealed to $(ids) after the rotation, expected 2/3"
eleventh=$(echo "$agencies" | sed -n 11p)
submit "$eleventh" --offline-keys && ok || { bad "submit --offline-keys"; tail -1 "$T/submit.err"; }
[ "$(ids)" = "1/2 task" ] && ok || bad "--offline-keys sealed to $(ids)"

# 3b. the leader's peer token rotates mid-month: the helper takes the new one and
# keeps the old until it expires; the running leader still presents the old one
"$PRIVAGG" keygen --role leader --out "$D/keys/leader" --rotate-token --token-out "$T/tok.json" >"$T/tok.out" 2>&1 \
  && ok || { bad "leader --rotate-token"; cat "$T/tok.out"; }
grep -q '^peer token id 2$' "$T/tok.out" && ok || { bad "peer token id"; cat "$T/tok.out"; }
[ "$(stat -c %a "$T/tok.json")" = 600 ] && ok || bad "the token bundle is not 0600"
stop helper
"$PRIVAGG" keygen --role helper --out "$D/keys/helper" --add-token "$T/tok.json" \
  --old-expires "@$(( $(date +%s) + 86400 ))" >"$T/add.out" 2>&1 && ok || { bad "helper --add-token"; cat "$T/add.out"; }
grep -q '^older token id 1 accepted until ' "$T/add.out" && ok || { bad "the helper does not keep the old token"; cat "$T/add.out"; }
start helper
twelfth=$(echo "$agencies" | sed -n 12p)
submit "$twelfth" && ok || bad "submit during the token rotation"
# the old token still works (the leader has not restarted) ...
"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-09 --partition 29001 \
  --ca "$D/tls/cert.pem" --timeout 5 >/dev/null 2>&1   # (any answer: it only makes the leader aggregate)
sleep 1
[ "$(store_sql "$D" leader "SELECT count(*) FROM reports WHERE state IN ('pending','aggregating')")" = 0 ] && ok \
  || bad "reports wait: the helper refused the leader's old token"
# ... and so does the new one, once the leader restarts
stop leader
start leader
# 3c. the collector's token rotates: the leader accepts the new one (id 2) and the old (id 1)
# until its expiry, here already passed
cp "$D/keys/collector.key" "$T/old-collector.key"
"$PRIVAGG" keygen --role collector --out "$D/keys/collector" --rotate-token --token-out "$T/ctok.json" >/dev/null 2>&1 \
  && ok || bad "collector --rotate-token"
python3 - "$D/leader.json" "$T/ctok.json" "$(date +%s)" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
old = c.pop("collector_token")
c["collector_tokens"] = [{"id": 1, "token": old, "not_after": int(sys.argv[3]) - 1},
                         {"id": t["token_id"], "token": t["token"]}]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
stop leader
start leader
"$PRIVAGG" collect --task "$D/task.json" --key "$T/old-collector.key" --period 2026-09 --partition state \
  --ca "$D/tls/cert.pem" --timeout 10 >/dev/null 2>"$T/oldtok.err"
rc=$?
[ $rc = 1 ] && grep -q "bearer token id 1 expired" "$T/oldtok.err" && ok || { bad "an expired collector token: exit $rc"; cat "$T/oldtok.err"; }

"$PRIVAGG" collect --task "$D/task.json" --key "$D/keys/collector.key" --period 2026-09 --partition state \
  --ca "$D/tls/cert.pem" --json --timeout 120 >"$T/09.json" 2>>"$T/collect.err" && ok || { bad "collect"; cat "$T/collect.err"; }
[ "$(jget "$T/09.json" 'd["agencies"]')" = 12 ] && ok || bad "released $(jget "$T/09.json" 'd.get("agencies")') agencies, expected 12: a report was lost"
[ "$(store_sql "$D" helper "SELECT count(*) FROM reports WHERE state = 'rejected'")" = 0 ] && ok || bad "the helper rejected reports"

# 4. expired: the leader's old key (config id 1) expires now; a report sealed to it is refused by name
stop leader
"$PRIVAGG" keygen --role leader --out "$D/keys/leader" --expire 1 --at "@$(( $(date +%s) - 1 ))" >/dev/null 2>&1 && ok || bad "keygen --expire"
start leader
hpke_config
[ "$(jget "$T/config.json" 'len(d["leader"]["configs"])')" = 1 ] && ok || bad "an expired key is still published"
thirteenth=$(echo "$agencies" | sed -n 13p)
"$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$thirteenth.key" --period 2026-10 --counts "$T/counts.csv" \
  --ca "$D/tls/cert.pem" --offline-keys --attempts 1 >/dev/null 2>"$T/expired.err"
rc=$?
[ $rc = 78 ] && ok || bad "a report sealed to an expired key: exit $rc, expected 78"
grep -q "config id 1, which expired at" "$T/expired.err" && ok || { bad "no expiry message"; cat "$T/expired.err"; }

# 5. a configuration signed by another key is refused before sealing
python3 - "$D/task.json" "$T/forged-task.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["parties"]["helper"]["signing_public_key"] = "11" * 32
json.dump(t, open(sys.argv[2], "w"))
PY
"$PRIVAGG" submit --task "$T/forged-task.json" --key "$D/keys/agencies/$thirteenth.key" --period 2026-10 \
  --counts "$T/counts.csv" --ca "$D/tls/cert.pem" --attempts 1 >/dev/null 2>"$T/forged.err"
rc=$?
# (any edit makes another task id, so the leader's document is refused first, as signed for
# another task; a signature under another key is refused in tests/unit/keys_hpke_config_test.c)
[ $rc = 78 ] && grep -q "GET /hpke_config: the leader's configuration: signed for another task" "$T/forged.err" && ok \
  || { bad "a helper configuration that does not verify: exit $rc"; cat "$T/forged.err"; }
stop leader
stop helper
finish key_config_rotation
