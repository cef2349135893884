#!/usr/bin/env bash
# Integration: keygen for every role, the pairing of the two aggregators through
# a bundle (the helper's keygen never opens the leader's key file), the default
# Missouri task from the shipped data, task show; and the refusals (existing key,
# bad role, unknown state, a key file given as a bundle, the old --pair-with).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
check() { # name, expected exit, command...
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$name: exit $got, expected $want"; cat "$T/err"; fi
}
field() { grep -o "\"$2\": \"[0-9a-f]*\"" "$1" | grep -o '[0-9a-f]*"$'; } # file, name -> hex
check keygen-leader-no-bundle 2 "$PRIVAGG" keygen --role leader --out "$T/leader"
[ ! -e "$T/leader.key" ] && ok || bad "a leader key without a bundle"
check keygen-leader 0 "$PRIVAGG" keygen --role leader --out "$T/leader" --pairing-out "$T/pair.json"
[ "$(stat -c %a "$T/pair.json")" = 600 ] && ok || bad "pair.json not 0600"
# the bundle: the verify key and the peer token, nothing else
[ "$(grep -c '": ' "$T/pair.json")" = 3 ] && grep -q '"format": "privagg-pairing-1"' "$T/pair.json" &&
  ! grep -q secret "$T/pair.json" && ! grep -q "$(field "$T/leader.key" hpke_secret_key)" "$T/pair.json" &&
  ok || { bad "the bundle holds more than two secrets:"; cat "$T/pair.json"; }
check keygen-helper-no-bundle 2 "$PRIVAGG" keygen --role helper --out "$T/helper"
check keygen-old-pair-with 2 "$PRIVAGG" keygen --role helper --out "$T/helper" --pair-with "$T/leader.key"
grep -q "is gone" "$T/err" && ok || bad "--pair-with not explained"
check keygen-helper-key-as-bundle 1 "$PRIVAGG" keygen --role helper --out "$T/helper" --pairing "$T/leader.key"
grep -q "a key file, not a pairing bundle" "$T/err" && ok || bad "key file as bundle: $(cat "$T/err")"
[ ! -e "$T/helper.key" ] && ok || bad "a refused pairing wrote a helper key"
chmod 644 "$T/pair.json"
check keygen-helper-open-bundle 1 "$PRIVAGG" keygen --role helper --out "$T/helper" --pairing "$T/pair.json"
chmod 600 "$T/pair.json"
# the helper pairs on a machine without the leader's key file
mkdir "$T/leader-machine" && mv "$T/leader.key" "$T/leader-machine/"
check keygen-helper 0 "$PRIVAGG" keygen --role helper --out "$T/helper" --pairing "$T/pair.json"
mv "$T/leader-machine/leader.key" "$T/"
for f in verify_key peer_token; do
  [ -n "$(field "$T/leader.key" $f)" ] && [ "$(field "$T/leader.key" $f)" = "$(field "$T/helper.key" $f)" ] &&
    ok || bad "leader and helper $f differ"
done
[ "$(field "$T/leader.key" hpke_secret_key)" != "$(field "$T/helper.key" hpke_secret_key)" ] &&
  ok || bad "the helper has the leader's HPKE key"
rm "$T/pair.json"
check keygen-collector 0 "$PRIVAGG" keygen --role collector --out "$T/collector"
check keygen-agencies 0 "$PRIVAGG" keygen --role agency --state MO --data "$DATA" --out "$T/agencies"
[ "$(ls "$T/agencies" | grep -c '\.pub$')" = 646 ] && ok || bad "646 agency keys expected"
[ "$(stat -c %a "$T/leader.key")" = 600 ] && ok || bad "leader.key not 0600"
check task-init 0 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/task.json"
# an existing task file is never replaced without --force (a new task id)
sum0=$(sha256sum <"$T/task.json")
check task-init-exists 1 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/task.json" --min-agencies 5
grep -q "exists.*--force" "$T/err" && [ "$(sha256sum <"$T/task.json")" = "$sum0" ] && ok ||
  bad "task init replaced an existing task or did not say why: $(cat "$T/err")"
ln -s "$T/task.json" "$T/task-link.json"
check task-init-symlink 1 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/task-link.json"
check task-init-force 0 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/task.json" --min-agencies 5 --force
[ "$(sha256sum <"$T/task.json")" != "$sum0" ] && [ -z "$(ls "$T" | grep tmp-)" ] && ok ||
  bad "--force did not write the new task (or left a temporary file)"
check task-init-force-back 0 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/task.json" --force
[ "$(sha256sum <"$T/task.json")" = "$sum0" ] && ok || bad "task init is not deterministic"
check task-show 0 "$PRIVAGG" task show --task "$T/task.json"
grep -q '270 cells = 27 offense x 5 status x 2 role' "$T/out" && ok || bad "task show lacks the schema line"
grep -q 'agencies  646 in 47 partitions' "$T/out" && ok || bad "task show lacks 646 agencies"
grep -q 'partitions 47: 14 counties of their own, 32 regions of neighbouring counties, 1 without a county' "$T/out" && ok || bad "task show lacks the partitions"
grep -Eq 'state +0.5 +4 +2.828 +6$' "$T/out" && grep -Eq 'partition +0.5 +4 +2.828 +6$' "$T/out" && ok || bad "task show lacks the noise per level"
grep -q 'rho 1 per record = epsilon 7.766 at delta 1e-6' "$T/out" && ok || bad "task show lacks epsilon per record"
check keygen-no-overwrite 1 "$PRIVAGG" keygen --role leader --out "$T/leader" --pairing-out "$T/pair2.json"
[ ! -e "$T/pair2.json" ] && ok || bad "a failed leader keygen left a bundle"
check keygen-bad-role 2 "$PRIVAGG" keygen --role boss --out "$T/x"
check keygen-help 0 "$PRIVAGG" keygen --help
check task-unknown-state 1 "$PRIVAGG" task init --state ZZ --data "$DATA" --keys "$T" --out "$T/t2.json"
[ ! -e "$T/t2.json" ] && ok || bad "a failed task init wrote a file"
check task-bad-number 2 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/t3.json" --rho-state abc
check task-old-rho 2 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/t3.json" --rho 0.05
grep -q -- '--rho-state R1' "$T/err" && ok || bad "--rho is not refused naming the new flags"
check task-over-budget 1 "$PRIVAGG" task init --state MO --data "$DATA" --keys "$T" --out "$T/t3.json" --budget-rho 0.4
check task-show-missing 1 "$PRIVAGG" task show --task "$T/none.json"
finish keygen_task
