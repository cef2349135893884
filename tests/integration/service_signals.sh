#!/usr/bin/env bash
# Integration: privagg serve as a service.  "listening <url>" on standard output
# and READY=1 with the same URL to the notification socket (a stand-in for
# systemd: pa_notify_listen) once it accepts connections; SIGHUP reopens the
# log_file (after a logrotate-style move) and reloads the TLS pair: new
# handshakes get the new certificate, a connection set up before the reload
# still gets its answer, and a pair that does not load or whose key is not the
# certificate's is refused with the old pair kept; SIGTERM: STOPPING=1, exit 0.
# With PA_TEST_PG_URL (ctest -L pg) the helper's store is a PostgreSQL schema
# (tests/support/nodes.sh).
set -u
. "$(dirname "$0")/../support/nodes.sh"
nodes_init "$1"
LISTEN="$(dirname "$PRIVAGG")/pa_notify_listen"
fingerprint() { # port -> sha256 fingerprint of the certificate the server presents
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null
}

setup_demo "$T/d" --agencies 20 --min-agencies 3
cd "$T/d"
sed -i 's|^{|{\n  "log_file": "helper.log",|' helper.json && chmod 600 helper.json
PORT=$(port helper)

"$LISTEN" "$T/notify.sock" "$T/notify.txt" 120 &
LPID=$!
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$T/notify.sock" "$PRIVAGG" serve --config helper.json >"$T/helper.out" 2>"$T/helper.err" &
HPID=$!
wait_line "$T/helper.out" listening || { bad "the helper did not start: $(cat "$T/helper.err" helper.log)"; exit 1; }
[ "$(cat "$T/helper.out")" = "listening https://127.0.0.1:$PORT" ] && ok || bad "stdout: $(cat "$T/helper.out")"
wait_line "$T/notify.txt" "READY=1" && grep -qxF "READY=1;STATUS=listening https://127.0.0.1:$PORT" "$T/notify.txt" && ok ||
  bad "no READY=1 with the URL: $(cat "$T/notify.txt" 2>&1)"
# ready means ready: the first request after READY=1 is answered
curl -sf --cacert tls/cert.pem "https://127.0.0.1:$PORT/health" | grep -q ok && ok || bad "/health after READY=1"
grep -q "listening https://127.0.0.1:$PORT" helper.log && ok || bad "log_file lacks the listening line: $(cat helper.log)"

fpA=$(fingerprint "$PORT")
[ -n "$fpA" ] && [ "$fpA" = "$(openssl x509 -noout -fingerprint -sha256 -in tls/cert.pem)" ] && ok ||
  bad "the served certificate is not tls/cert.pem ($fpA)"
# a connection set up before the reload, asking only after it
(sleep 2; printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 1) |
  openssl s_client -quiet -connect "127.0.0.1:$PORT" -servername localhost >"$T/inflight.txt" 2>/dev/null &
IPID=$!
sleep 0.7
# renew: a new pair moved over the config's files, the log moved away, SIGHUP
"$PRIVAGG" tls --cert "$T/new.crt" --key "$T/new.key" --name helper.example >/dev/null || bad "privagg tls"
[ "$(stat -c %a "$T/new.key")" = 600 ] && ok || bad "privagg tls: key mode $(stat -c %a "$T/new.key")"
"$PRIVAGG" tls --cert "$T/new.crt" --key "$T/other.key" >/dev/null 2>&1 && bad "privagg tls wrote over a certificate" || ok
cp "$T/new.crt" tls/cert.pem.new && cp "$T/new.key" tls/key.pem.new && mv tls/key.pem.new tls/key.pem &&
  mv tls/cert.pem.new tls/cert.pem
mv helper.log helper.log.1
kill -HUP "$HPID"
wait_line helper.log "SIGHUP: log reopened, TLS certificate reloaded" && ok || bad "no new log after SIGHUP: $(cat helper.log helper.log.1 2>&1 | tail -3)"
fpB=$(fingerprint "$PORT")
[ -n "$fpB" ] && [ "$fpB" = "$(openssl x509 -noout -fingerprint -sha256 -in "$T/new.crt")" ] && [ "$fpB" != "$fpA" ] && ok ||
  bad "after SIGHUP the server presents $fpB, not the new certificate"
curl -sf --cacert "$T/new.crt" "https://127.0.0.1:$PORT/health" | grep -q ok && ok || bad "/health with the new certificate"
wait "$IPID"
grep -q "HTTP/1.1 200" "$T/inflight.txt" && ok || bad "the connection opened before SIGHUP got no answer: $(head -3 "$T/inflight.txt")"
wait_line "$T/notify.txt" "RELOADING=1" && [ "$(tail -1 "$T/notify.txt")" = "READY=1" ] && ok ||
  bad "SIGHUP: no RELOADING=1 then READY=1: $(cat "$T/notify.txt")"
# refused pairs: another certificate with the current key; a file that is not PEM
"$PRIVAGG" tls --cert "$T/third.crt" --key "$T/third.key" >/dev/null
cp "$T/third.crt" tls/cert.pem
kill -HUP "$HPID"
wait_line helper.log "the key is not the certificate's" && ok || bad "a mismatched pair was not refused: $(tail -2 helper.log)"
[ "$(fingerprint "$PORT")" = "$fpB" ] && ok || bad "a mismatched pair replaced the certificate"
echo "not a certificate" >tls/cert.pem
kill -HUP "$HPID"
wait_line helper.log "not a PEM certificate" && ok || bad "a non-PEM certificate was not refused: $(tail -2 helper.log)"
[ "$(fingerprint "$PORT")" = "$fpB" ] && ok || bad "a non-PEM file replaced the certificate"
kill -TERM "$HPID"
wait "$HPID"; rc=$?
[ "$rc" = 0 ] && ok || bad "SIGTERM: exit $rc"
wait "$LPID"
grep -q "STOPPING=1" "$T/notify.txt" && ok || bad "no STOPPING=1"

finish service_signals "$T/helper.err"
