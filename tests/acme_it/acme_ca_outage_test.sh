#!/usr/bin/env bash
# The CA goes down during a renewal (run under tests/pebble/with-pebble.sh, through `portico
# local`): pebble is killed, a renewal is requested. The current certificate keeps serving (an
# HTTPS keep-alive load and new handshakes), Issuing says why (CAUnavailable, with an Event),
# the next attempt waits for the backoff (no retry storm). Pebble comes back as after a crash —
# same address, no memory of Portico's account — and the renewal completes: the account key is
# registered again and the new certificate chains to the CA's new root.
# Usage: with-pebble.sh acme_ca_outage_test.sh PORTICO_BINARY SOURCE_ROOT
set -uo pipefail
PORTICO=$1
SOURCE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-ca-outage
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
: "${PEBBLE_DIRECTORY:?run under tests/pebble/with-pebble.sh}"
MANIFESTS=$WORK/manifests
STATE=$WORK/state
mkdir -p "$MANIFESTS"
HTTP_PORT=$PORTICO_HTTP01_PORT
HTTPS_PORT=$(free_port)
BACKEND_PORT=$(free_port)
ROOT=$WORK/root-1.pem
cp "$PEBBLE_STATE_DIR/root.pem" "$ROOT"
python3 "$HERE/../proxy_it/backend.py" "$BACKEND_PORT" web >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
wait_line "$WORK/backend.log" ready 10 || fail "backend started"
put() { cat >"$MANIFESTS/.$1.tmp" && mv "$MANIFESTS/.$1.tmp" "$MANIFESTS/$1.yaml"; }
{ manifest_acme_class "$HTTP_PORT" "$HTTPS_PORT"; manifest_web_backend "$BACKEND_PORT"; } | put base
https() {  # HOST CA → body, or curl's failure
  curl -s --max-time 3 --cacert "$2" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT/" 2>&1 \
    || echo "curl failed ($?)"
}
served_serial() {
  openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
# shellcheck source=../lib/certificate_state.sh
source "$HERE/../lib/certificate_state.sh"

"$PORTICO" local --manifests "$MANIFESTS" --state "$STATE" >"$WORK/out" 2>"$WORK/err" &
# shellcheck disable=SC2034  # the EXIT trap of checks.sh stops it
OPERATOR_PID=$!
wait_line "$WORK/out" "listening on" 20 || fail "portico local started"
manifest_acme_ingress app app.test app-tls | put app
eventually 10 '[[ $(https app.test "$ROOT") == web ]]'
check "the certificate is issued while the CA is up" web "$(https app.test "$ROOT")"
first_serial=$(served_serial app.test)

# The CA dies; a renewal is requested meanwhile, under an HTTPS keep-alive load.
python3 "$HERE/../lib/keepalive_load.py" "$HTTPS_PORT" app.test "$WORK/load.stop" --tls "$ROOT" >"$WORK/load.out" &
load=$!
"$SOURCE/tests/pebble/stop.sh" "$PEBBLE_STATE_DIR" --pebble
down_at=$SECONDS
manifest_acme_ingress app app.test app-tls "$(date +%s)" | put app
eventually 10 '[[ $(condition app-tls Issuing) == False/CAUnavailable ]]'
check "Issuing says why: False/CAUnavailable" False/CAUnavailable "$(condition app-tls Issuing)"
grep -h '^message:' "$STATE"/events.core/default/app-tls.*.yaml 2>/dev/null | grep -q "retrying in" \
  && pass "a Warning Event says the CA is unreachable and when it is retried" \
  || fail "a Warning Event about the unreachable CA: $(grep -h '^message:' "$STATE"/events.core/default/app-tls.*.yaml 2>/dev/null | tail -n1)"
check "the current certificate stays Ready" True/Ready "$(condition app-tls Ready)"
sleep 3
check "backoff: one failed attempt, not a retry storm" 1 "$(cert_field app-tls failedIssuanceAttempts)"
check "the current certificate keeps serving new handshakes" "web $first_serial" \
  "$(https app.test "$ROOT") $(served_serial app.test)"

# The CA returns, as after a crash: no accounts, no orders, a new root.
while ((SECONDS - down_at < 8)); do sleep 0.5; done
"$SOURCE/tests/pebble/start.sh" "$PEBBLE_STATE_DIR" --pebble 2>"$WORK/pebble-restart.log" \
  && pass "pebble restarted" || fail "pebble restarted: $(cat "$WORK/pebble-restart.log")"
touch "$WORK/load.stop"
wait $load
read -r ok bad reconnects _ <"$WORK/load.out"
check "HTTPS keep-alive load through the outage: no failed request, no reconnect" "0 0" "$bad $reconnects"
((ok > 100)) && pass "the load ran ($ok requests)" || fail "the load ran too few requests: $ok"
# The retry comes after the backoff (60 s for the first failure).
for _ in $(seq 1 180); do
  serial=$(served_serial app.test)
  [[ -n $serial && $serial != "$first_serial" ]] && break
  sleep 0.5
done
check "after the backoff the renewal completes (new serial served)" yes \
  "$([[ -n $serial && $serial != "$first_serial" ]] && echo yes || echo "no: $first_serial → ${serial:-none}; $(condition app-tls Issuing)")"
check "it chains to the restarted CA's new root" web "$(https app.test "$PEBBLE_STATE_DIR/root.pem")"
check "Ready=True, revision 2, failures reset" "True/Ready 2 0" \
  "$(condition app-tls Ready) $(cert_field app-tls revision) $(cert_field app-tls failedIssuanceAttempts)"
grep -q "ACME account ready" "$WORK/err" && [[ $(grep -c "ACME account ready" "$WORK/err") -ge 2 ]] \
  && pass "the account key was registered again with the CA that forgot it" \
  || fail "the account was registered again: $(grep -c "ACME account ready" "$WORK/err") registrations"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
