#!/usr/bin/env bash
# Certificates end to end through `portico local` against pebble (run under
# tests/pebble/with-pebble.sh): an Ingress annotated portico.io/tls-acme gets a Certificate, the
# proxy answers HTTP-01 itself, the Secret lands in the state directory and is served over HTTPS;
# a requested renewal swaps the certificate under HTTPS keep-alive load; a validation that cannot
# succeed ends Ready=False with the CA's reason and backs off; a restart reuses the account.
# Usage: with-pebble.sh acme_local_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-acme-it
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
: "${PEBBLE_DIRECTORY:?run under tests/pebble/with-pebble.sh}"
MANIFESTS=$WORK/manifests
STATE=$WORK/state
mkdir -p "$MANIFESTS"
HTTP_PORT=$PORTICO_HTTP01_PORT  # pebble validates HTTP-01 here: the proxy's HTTP listener
HTTPS_PORT=$(free_port)
BACKEND_PORT=$(free_port)
METRICS_PORT=$(free_port)
ROOT=$PEBBLE_STATE_DIR/root.pem
python3 "$HERE/../proxy_it/backend.py" "$BACKEND_PORT" web >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
wait_line "$WORK/backend.log" ready 10 || fail "backend started"

put() { cat >"$MANIFESTS/.$1.tmp" && mv "$MANIFESTS/.$1.tmp" "$MANIFESTS/$1.yaml"; }
ingress() { manifest_acme_ingress "$@" | put "$1"; }  # NAME HOST SECRET [RENEW]

{ manifest_acme_class "$HTTP_PORT" "$HTTPS_PORT"; manifest_web_backend "$BACKEND_PORT"; } | put base

start_local() {
  : >"$WORK/out"
  "$PORTICO" local --manifests "$MANIFESTS" --state "$STATE" --metrics-address "127.0.0.1:$METRICS_PORT" \
    >"$WORK/out" 2>>"$WORK/err" &
  OPERATOR_PID=$!
  wait_line "$WORK/out" "listening on" 20 || fail "portico local started"
}
https() {  # HOST → body, or curl's failure
  curl -s --max-time 3 --cacert "$ROOT" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT/" 2>&1 \
    || echo "curl failed ($?)"
}
served_serial() {
  openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
# shellcheck source=../lib/certificate_state.sh
source "$HERE/../lib/certificate_state.sh"
# shellcheck source=../lib/metrics.sh
source "$HERE/../lib/metrics.sh"

# 1. Ingress → Certificate → Secret → HTTPS with a chain that verifies against pebble's root.
start_local
started=$(date +%s%N)
ingress app app.test app-tls
eventually 5 '[[ $(https app.test) == web ]]'
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
check "an Ingress with portico.io/tls-acme is served over HTTPS with a pebble certificate" web "$(https app.test)"
echo "# Ingress written → first HTTPS success: ${elapsed} ms (target < 5000)"
check "Certificate Ready=True" "True/Ready" "$(condition app-tls Ready)"
secret=$STATE/secrets.core/default/app-tls.yaml
python3 - "$secret" "$WORK" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
for key, name in (("tls.crt", "chain.pem"), ("tls.key", "key.pem")):
    value = re.search(r'%s: "([^"]+)"' % re.escape(key), text).group(1)
    open(sys.argv[2] + "/" + name, "wb").write(base64.b64decode(value))
PY
csplit -s -z -f "$WORK/part" "$WORK/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
check "the Secret's chain verifies against pebble's root" OK \
  "$(openssl verify -CAfile "$ROOT" -untrusted <(cat "$WORK"/part0[1-9] 2>/dev/null) "$WORK/part00" 2>&1 | sed -n 's/.*: //p')"
check "the Secret's key matches its certificate" \
  "$(openssl x509 -in "$WORK/part00" -noout -pubkey | openssl sha256)" \
  "$(openssl pkey -in "$WORK/key.pem" -pubout | openssl sha256)"
check "the Secret file is owner-only" 600 "$(stat -c %a "$secret")"
check "HTTP-01 tokens are gone once issued" "" "$(cert_field app-tls url)"

# 2. A requested renewal replaces the certificate; HTTPS keep-alive traffic never fails.
first_serial=$(served_serial app.test)
rm -f "$WORK/load.stop"
python3 "$HERE/../lib/keepalive_load.py" "$HTTPS_PORT" app.test "$WORK/load.stop" --tls "$ROOT" \
  --ready-file "$WORK/load.ready" >"$WORK/load.out" &
load=$!
for _ in $(seq 1 100); do [[ -e $WORK/load.ready ]] && break; sleep 0.1; done  # the load runs
ingress app app.test app-tls "$(date +%s)"
for _ in $(seq 1 200); do
  serial=$(served_serial app.test)
  [[ -n $serial && $serial != "$first_serial" ]] && break
  sleep 0.05
done
touch "$WORK/load.stop"
wait $load
read -r ok bad reconnects _ <"$WORK/load.out"
check "a requested renewal serves a new certificate (new serial)" yes \
  "$([[ -n $serial && $serial != "$first_serial" ]] && echo yes || echo "no: $first_serial → $serial")"
check "no HTTPS request failed during the renewal" 0 "$bad"
check "the HTTPS keep-alive connection was kept" 0 "$reconnects"
((ok > 0)) && pass "HTTPS load ran ($ok requests)" || fail "HTTPS load ran no request"
check "revision 2 after the renewal" 2 "$(cert_field app-tls revision)"

# 3. A validation that cannot succeed: pebble resolves the name to an address nobody serves.
curl -s -X POST -d '{"host":"unreachable.test","addresses":["127.0.0.2"]}' "$CHALLTESTSRV_MANAGEMENT/add-a" >/dev/null
ingress lost unreachable.test lost-tls
eventually 10 '[[ $(condition lost-tls Ready) == False/ValidationFailed ]]'
check "a validation that cannot succeed ends Ready=False with the reason" "False/ValidationFailed" "$(condition lost-tls Ready)"
grep -h '^message:' "$STATE"/events.core/default/lost-tls.*.yaml 2>/dev/null | grep -q "127.0.0.2" \
  && pass "the Event carries the CA's reason" || fail "the Event carries the CA's reason"
sleep 2
check "and backs off (one attempt, not a retry storm)" 1 "$(cert_field lost-tls failedIssuanceAttempts)"

# 3b. Portico is no confused deputy: an Ingress that names an application's Secret as its TLS
# secretName gets no certificate written over that Secret.
printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: app-creds, namespace: default}\ntype: Opaque\ndata: {password: aHVudGVyMg==}\n' | put creds
ingress grab grab.test app-creds
cert_name=app-creds  # the Certificate made for an Ingress TLS entry is named after its Secret
eventually 10 '[[ $(condition $cert_name Ready) == False/SecretOwnedByOther ]]'
check "a Secret Portico does not own is never overwritten: Ready=False/SecretOwnedByOther" \
  "False/SecretOwnedByOther" "$(condition "$cert_name" Ready)"
grep -h '^reason:' "$STATE"/events.core/default/"$cert_name".*.yaml 2>/dev/null | grep -q SecretOwnedByOther \
  && pass "a Warning Event says SecretOwnedByOther" || fail "a Warning Event says SecretOwnedByOther"
check "no ACME order was started for it" "" "$(cert_field "$cert_name" url)"
check "the application's Secret was not written to the state directory" no \
  "$([[ -e $STATE/secrets.core/default/app-creds.yaml ]] && echo yes || echo no)"
rm -f "$MANIFESTS/creds.yaml" "$MANIFESTS/grab.yaml"

# 4. What Prometheus sees of all that (portico local --metrics-address), and promtool's lint.
check "/healthz" ok "$(curl -s --max-time 2 "http://127.0.0.1:$METRICS_PORT/healthz")"
check "/readyz: caches synced and the first snapshot live" ok "$(curl -s --max-time 2 "http://127.0.0.1:$METRICS_PORT/readyz")"
M=$WORK/metrics.txt
curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$M"
check_metric_above "reconciles of the certificates controller (each schedules its next look)" "$M" 0 portico_controller_reconcile_total 'controller="certificates"' 'result="requeue"'
check_metric_above "reconcile durations per controller" "$M" 0 portico_controller_reconcile_duration_seconds_count 'controller="ingress-status"'
check_metric_above "keys taken from the work queue, with their wait" "$M" 0 portico_workqueue_queue_duration_seconds_count 'name="certificates"'
check_metric_above "work-queue adds" "$M" 0 portico_workqueue_adds_total 'name="certificates"'
check_metric_above "a work-queue depth gauge" "$M" -1 portico_workqueue_depth 'name="certificates"'
check_metric_above "ACME orders created (201)" "$M" 0 portico_acme_client_requests_total 'endpoint="newOrder"' 'status="201"'
check_metric_above "ACME finalize requests" "$M" 0 portico_acme_client_requests_total 'endpoint="finalize"' 'status="200"'
check_metric_above "the ACME validation failure seen as an authorization status" "$M" 0 portico_acme_client_requests_total 'endpoint="authorization"'
check_metric_above "ACME latency by endpoint" "$M" 0 portico_acme_client_request_duration_seconds_count 'endpoint="newNonce"'
check_metric_above "the issued certificate's expiration (Unix seconds)" "$M" "$(date +%s)" \
  portico_certificate_expiration_timestamp_seconds 'name="app-tls"' 'namespace="default"'
check_metric_above "its renewal time" "$M" "$(date +%s)" portico_certificate_renewal_timestamp_seconds 'name="app-tls"'
check "Ready=True of the issued certificate" 1 "$(metric_sum "$M" portico_certificate_ready_status 'condition="True"' 'name="app-tls"')"
check "Ready=False of the one that cannot validate" 1 "$(metric_sum "$M" portico_certificate_ready_status 'condition="False"' 'name="lost-tls"')"
check_metric_above "snapshot generation" "$M" 1 portico_snapshot_generation
check_metric_above "snapshot size" "$M" 0 portico_snapshot_size_bytes
check_metric_above "snapshot publications timed" "$M" 0 portico_snapshot_publish_duration_seconds_count
check_metric_above "snapshot age" "$M" 0 portico_snapshot_age_seconds
check_metric_above "change → live in the proxy, observed per generation" "$M" 0 portico_snapshot_propagation_seconds_count
check_metric_above "proxied requests by Ingress, Service and status class" "$M" 0 portico_proxy_requests_total \
  'ingress="app"' 'namespace="default"' 'service="web"' 'status_class="2xx"'
check_metric_above "request durations by Ingress and Service" "$M" 0 portico_proxy_request_duration_seconds_count 'ingress="app"'
check_metric_above "HTTP-01 answers and other unrouted requests" "$M" 0 portico_proxy_requests_total 'ingress=""' 'status_class="2xx"'
check_metric_above "full TLS handshakes" "$M" 0 portico_proxy_tls_handshakes_total 'resumed="false"'
check_metric_above "the active connections gauge" "$M" -1 portico_proxy_active_connections
check_metric_above "handshake failures by reason are exported" "$M" -1 portico_proxy_tls_handshake_failures_total 'reason="no_certificate"'
check_promtool "$M"
# A deleted Ingress's series leave /metrics (nothing accumulates as Ingresses come and go).
curl -s -o /dev/null --max-time 3 -H "Host: unreachable.test" "http://127.0.0.1:$HTTP_PORT/"
curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics2.txt"
check_metric_above "a request to the Ingress 'lost' is counted" "$WORK/metrics2.txt" 0 portico_proxy_requests_total 'ingress="lost"'
rm "$MANIFESTS/lost.yaml"
for _ in $(seq 1 100); do
  curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics3.txt"
  [[ -z $(metric_sum "$WORK/metrics3.txt" portico_proxy_requests_total 'ingress="lost"') ]] && break
  sleep 0.05
done
check "once 'lost' is deleted, its series are gone" "" "$(metric_sum "$WORK/metrics3.txt" portico_proxy_requests_total 'ingress="lost"')"
check_metric_above "and the other Ingresses' series stay" "$WORK/metrics3.txt" 0 portico_proxy_requests_total 'ingress="app"'
check_dashboard "$M" "the Grafana dashboard's expressions parse and name only exported families" --skip portico_kube_api_

# 5. A restart reuses the ACME account kept in the state directory.
accounts_before=$(grep -c "ACME account ready" "$WORK/err")
kill -TERM "$OPERATOR_PID"
wait "$OPERATOR_PID"
check "portico local stops cleanly" 0 $?
start_local
check "after a restart the certificate is served from the state directory" web "$(https app.test)"
ingress app app.test app-tls "again-$(date +%s)"
eventually 10 '[[ $(cert_field app-tls revision) == 3 ]]'
check "a renewal after the restart succeeds" 3 "$(cert_field app-tls revision)"
urls=$(grep -o '"account":"[^"]*"' "$WORK/err" | sort -u | wc -l)
check "the same ACME account before and after the restart" 1 "$urls"
((accounts_before >= 1)) || fail "an account was registered"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
