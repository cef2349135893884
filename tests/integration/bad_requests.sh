#!/usr/bin/env bash
# Integration: hostile HTTP requests to real `privagg serve` processes (leader and
# helper over HTTPS on 127.0.0.1) — the network rows H1.. of the catalogue of bad
# inputs in tests/README.md.  Wrong methods and paths, media types, framing,
# bearer tokens, a captured report replayed, truncated, extended or re-signed
# wrongly, posted to another task's route, collection requests for periods out
# of range, for a partition the task lacks or under another collection id, and
# polls of malformed or unknown collection ids.  Each case: the HTTP status and
# the problem type of the answer, and at the end nothing was stored by a refused
# request and both servers still answer.  With PA_TEST_PG_URL (ctest -L pg)
# both stores are PostgreSQL schemas (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
command -v python3 >/dev/null || { echo "SKIP: python3 (scripts/install-deps.sh) captures a report"; exit 77; }

setup_demo "$T/d" --agencies-in-task --agencies 12
LPORT=$(port leader)
TASK_ID=$(task_id)
L=https://127.0.0.1:$LPORT
H=https://127.0.0.1:$(port helper)
CURL=(curl -s --max-time 20 --cacert "$D/tls/cert.pem")
CTOKEN=$(grep -o '"collector_token": "[0-9a-f]*"' "$D/leader.json" | grep -o '[0-9a-f]\{64\}')
PTOKEN=$(grep -o '"peer_token": "[0-9a-f]*"' "$D/keys/leader.key" | grep -o '[0-9a-f]\{64\}')
OCT=(-H "Content-Type: application/octet-stream")
CAUTH=(-H "Authorization: Bearer $CTOKEN")

# problem STATUS TYPE curl-args...: the answer is STATUS with a problem document
# of TYPE (TYPE "-": any body)
problem() {
  local want=$1 type=$2; shift 2
  local out; out=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@")
  if [ "$out" != "$want" ]; then bad "$*: HTTP $out, expected $want ($(head -c 200 "$T/body"))"; return; fi
  [ "$type" = - ] && { ok; return; }
  grep -q "\"urn:privagg:error:$type\"" "$T/body" && ok || bad "$*: type not $type: $(head -c 200 "$T/body")"
}
reports_in() { store_sql "$D" leader "SELECT count(*) FROM reports"; }

# 1. capture one genuine report: `privagg submit` to a catcher on the leader's
# port, with the leader's certificate, that answers 201 (the real leader starts
# on that port after it)
cat >"$T/catch.py" <<'EOF'
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        open(sys.argv[2], "wb").write(self.rfile.read(n))
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[3], sys.argv[4])
s.socket = c.wrap_socket(s.socket, server_side=True)
print("ready", flush=True)
s.handle_request()
EOF
python3 "$T/catch.py" "$LPORT" "$T/report.bin" "$D/tls/cert.pem" "$D/tls/key.pem" >"$T/catch.out" 2>&1 &
CAP_PID=$!
for _ in $(seq 50); do grep -q ready "$T/catch.out" 2>/dev/null && break; sleep 0.1; done
id=$(ls "$D/keys/agencies" | grep '\.key$' | head -1 | sed 's/\.key$//')
{ echo "cell,count"; echo "0,1"; } >"$T/one.csv"
"$PRIVAGG" submit --task "$D/task.json" --key "$D/keys/agencies/$id.key" --period 2026-08 --attempts 1 --offline-keys \
  --counts "$T/one.csv" --ca "$D/tls/cert.pem" --spool "$T/spool.db" >/dev/null 2>"$T/catch.err"
wait "$CAP_PID" 2>/dev/null
[ -s "$T/report.bin" ] || { echo "FAIL: no report captured: $(cat "$T/catch.err" "$T/catch.out")"; exit 1; }
OTHER=$(printf '%064d' 0)

start helper
start leader
n0=$(reports_in)

# 2. methods, paths, media types, framing, tokens
problem 405 - -X GET "$L/tasks/$TASK_ID/reports"                                       # H1
problem 405 - -X PUT "${OCT[@]}" --data-binary @"$T/one.csv" "$L/tasks/$TASK_ID/reports"  # H2
problem 405 - -X DELETE "$L/tasks/$TASK_ID/reports"                                    # H3
problem 404 - "$L/tasks/$TASK_ID/nothing"                                              # H4
problem 404 - -X POST "${OCT[@]}" --data-binary @"$T/one.csv" "$L/internal/job/init"   # H5 (a helper route)
problem 404 - "$L/../../etc/passwd" --path-as-is                                       # H6
problem 400 invalid-message -X POST "${OCT[@]}" --data-binary '' "$L/tasks/$TASK_ID/reports"  # H7 empty body
problem 415 unsupported-media-type -X POST -H "Content-Type: application/json" \
  --data-binary @"$T/report.bin" "$L/tasks/$TASK_ID/reports"                           # H8
problem 400 - -X POST "${OCT[@]}" -H "Content-Length: 1x" --data-binary @"$T/one.csv" \
  "$L/tasks/$TASK_ID/reports"   # H9 (libmicrohttpd answers this one itself)
problem 401 unauthorized -X POST "${OCT[@]}" -H "Authorization: Bearer $PTOKEN" \
  --data-binary @"$T/one.csv" "$L/tasks/$TASK_ID/collections"                          # H10 the peer's token
problem 401 unauthorized -X POST "${OCT[@]}" -H "Authorization: Basic $CTOKEN" \
  --data-binary @"$T/one.csv" "$L/tasks/$TASK_ID/collections"                          # H11 another scheme
problem 401 unauthorized -X POST "${OCT[@]}" -H "Authorization: Bearer ${CTOKEN:0:63}" \
  --data-binary @"$T/one.csv" "$L/tasks/$TASK_ID/collections"                          # H12 63 hex digits
problem 401 unauthorized -X POST "${OCT[@]}" "${CAUTH[@]}" --data-binary @"$T/one.csv" \
  "$H/internal/job/init"                                                               # H13 collector's token at the helper
problem 401 unauthorized "$L/tasks/$TASK_ID/collections/$(printf '%032d' 0)"          # H14 poll without a token

# 3. the captured report: altered (its task id, a signature byte), truncated,
# extended, posted under another task's path; then genuine, and replayed
python3 - "$T/report.bin" "$TASK_ID" "$T" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
task, t = bytes.fromhex(sys.argv[2]), sys.argv[3]
assert b.count(task) == 1
open(t + "/other-task.bin", "wb").write(b.replace(task, bytes(32)))
open(t + "/trunc.bin", "wb").write(b[:-1])
open(t + "/extra.bin", "wb").write(b + b"\x00")
i = len(b) - 10   # inside the signature, the last field
open(t + "/sig.bin", "wb").write(b[:i] + bytes([b[i] ^ 1]) + b[i + 1:])
EOF
problem 404 not-found -X POST "${OCT[@]}" --data-binary @"$T/other-task.bin" "$L/tasks/$TASK_ID/reports"  # H15
problem 400 invalid-message -X POST "${OCT[@]}" --data-binary @"$T/trunc.bin" "$L/tasks/$TASK_ID/reports" # H16
problem 404 not-found -X POST "${OCT[@]}" --data-binary @"$T/report.bin" "$L/tasks/$OTHER/reports"     # H17
problem 400 invalid-message -X POST "${OCT[@]}" --data-binary @"$T/extra.bin" "$L/tasks/$TASK_ID/reports"  # H18
problem 403 forbidden -X POST "${OCT[@]}" --data-binary @"$T/sig.bin" "$L/tasks/$TASK_ID/reports"      # H19
[ "$(reports_in)" = "$n0" ] && ok || bad "a refused report was stored"
out=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST "${OCT[@]}" --data-binary @"$T/report.bin" "$L/tasks/$TASK_ID/reports")
case "$out" in 20?) ok ;; *) bad "the genuine report: HTTP $out" ;; esac
problem 409 duplicate -X POST "${OCT[@]}" --data-binary @"$T/report.bin" "$L/tasks/$TASK_ID/reports"  # H20 replay
[ "$(reports_in)" = "$((n0 + 1))" ] && ok || bad "the replay changed the stored reports: $(reports_in)"

# 5. collection requests: msgpack [version 2, task id, collection id, period, partition]
creq() { # period partition collection-id-hex -> file
  python3 - "$TASK_ID" "$1" "$2" "$3" "$4" <<'EOF'
import sys
task, period, part, cid, out = bytes.fromhex(sys.argv[1]), sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4]), sys.argv[5]
def s(x): x = x.encode(); return bytes([0xa0 | len(x)]) + x if len(x) < 32 else b"\xd9" + bytes([len(x)]) + x
open(out, "wb").write(b"\x95\x02\xc4\x20" + task + b"\xc4\x10" + cid + s(period) + s(part))
EOF
}
creq 2019-12 state "$(printf '%032d' 0)" "$T/c1.bin"
problem 400 invalid-message -X POST "${OCT[@]}" "${CAUTH[@]}" --data-binary @"$T/c1.bin" "$L/tasks/$TASK_ID/collections"  # H21
creq 2026-13 state "$(printf '%032d' 0)" "$T/c2.bin"
problem 400 invalid-message -X POST "${OCT[@]}" "${CAUTH[@]}" --data-binary @"$T/c2.bin" "$L/tasks/$TASK_ID/collections"  # H22
creq 2026-08 state "$(printf '%032d' 0)" "$T/c3.bin"
problem 400 invalid-argument -X POST "${OCT[@]}" "${CAUTH[@]}" --data-binary @"$T/c3.bin" "$L/tasks/$TASK_ID/collections" # H23 wrong collection id
creq 2026-08 99999 "$(printf '%032d' 0)" "$T/c4.bin"
problem 404 not-found -X POST "${OCT[@]}" "${CAUTH[@]}" --data-binary @"$T/c4.bin" "$L/tasks/$TASK_ID/collections"       # H24 no such partition
problem 400 - "${CAUTH[@]}" "$L/tasks/$TASK_ID/collections/xyz"                        # H25 not hex
problem 404 not-found "${CAUTH[@]}" "$L/tasks/$TASK_ID/collections/$(printf '%032d' 0)" # H26 unknown id
problem 400 - "${CAUTH[@]}" "$L/tasks/$TASK_ID/collections/$(printf '%064d' 0)"        # H27 32 bytes, not 16

# 6. both servers still answer
for u in "$L/health" "$H/health"; do
  out=$("${CURL[@]}" "$u"); case "$out" in *ok*) ok ;; *) bad "$u after the refusals: $out" ;; esac
done
finish bad_requests
