#!/usr/bin/env bash
# HTTP/2 to clients through `portico proxy` (the class's spec.listeners.https.http2), with real clients (curl with nghttp2) in
# front of real HTTP/1.1 backends: ALPN picks h2 while HTTP/1.1 clients are unaffected; routing,
# forwarded headers, uploads (with and without a length) and downloads with flow control, HEAD,
# local answers (404, 503, ACME token), upstream failures (502, 504), many streams on one
# connection; the published attacks mounted with raw frames (h2_attack.py); the metrics.
# Usage: h2_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
WORK=$(mktemp -d /tmp/portico-h2-it.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"

# shellcheck source=two_backends.sh
source "$HERE/two_backends.sh"

mkdir "$WORK/manifests"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/app.key" \
  -out "$WORK/app.pem" -days 2 -subj /CN=app.test -addext subjectAltName=DNS:app.test 2>/dev/null
h2_class() {  # HTTP2 (true/false): the class's config turns h2 on or off for the HTTPS listener
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec: {sslRedirect: false, listeners: {https: {http2: %s}}}\n' "$1"
}
h2_class true >"$WORK/manifests/class.yaml"
{
  manifest_service web
  manifest_endpoint_slice web-1 web "$PORT_A"
  manifest_endpoint_slice web-2 web "$PORT_B"
  manifest_service solo
  manifest_endpoint_slice solo-1 solo "$PORT_A"
  manifest_service dead
  manifest_endpoint_slice dead-1 dead "$DEAD_PORT"
  manifest_tls_secret app-tls "$WORK/app.pem" "$WORK/app.key"
  cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: app}
spec:
  tls: [{hosts: [app.test], secretName: app-tls}]
  rules:
  - host: app.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /solo, pathType: Prefix, backend: {service: {name: solo, port: {number: 80}}}}
      - {path: /dead, pathType: Prefix, backend: {service: {name: dead, port: {number: 80}}}}
YAML
} >"$WORK/manifests/all.yaml"
"$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" \
  --acme-token "tok-123=tok-123.thumbprint" >/dev/null 2>&1 || { echo "snapshot compile failed"; exit 1; }
METRICS_PORT=$(free_port)
"$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 --https-port 0 \
  --workers 2 --upstream-timeout 1 --max-body-bytes 5000000 --metrics-address "127.0.0.1:$METRICS_PORT" \
  >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
wait_line "$WORK/proxy.out" "listening on" 10 || { echo "proxy did not start"; cat "$WORK/proxy.err"; exit 1; }
TLS_PORT=$(sed -n 's/.*https:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy.out")
BASE=https://app.test:$TLS_PORT
H2=(curl -s --http2 --cacert "$WORK/app.pem" --resolve "app.test:$TLS_PORT:127.0.0.1")

check "ALPN picks h2" "2" "$("${H2[@]}" -o /dev/null -w '%{http_version}' "$BASE/")"
check "an HTTP/1.1 client still gets HTTP/1.1" "1.1" \
  "$("${H2[@]}" --http1.1 -o /dev/null -w '%{http_version}' "$BASE/")"
seen=$(for _ in 1 2 3 4; do "${H2[@]}" "$BASE/"; done | sort -u | tr '\n' ' ')
check "h2 requests reach both endpoints" "backend-a backend-b " "$seen"

doc=$("${H2[@]}" -H 'Cookie: a=1' -H 'Cookie: b=2' -H 'X-Custom: kept' "$BASE/echo?q=1")
fields=$(python3 -c 'import json,sys; d=json.load(sys.stdin); h={k.lower():v for k,v in d["headers"].items()}
print(d["method"], d["path"], h.get("host"), h.get("x-forwarded-proto"), h.get("x-forwarded-for"), h.get("x-custom"), h.get("cookie"), "te" in h)' <<<"$doc")
check "the backend gets an HTTP/1.1 request: path, Host, X-Forwarded-*, fields, cookies joined" \
  "GET /echo?q=1 app.test:$TLS_PORT https 127.0.0.1 kept a=1; b=2 False" "$fields"

head -c 3000000 /dev/urandom >"$WORK/upload.bin"
want=$(sha256sum "$WORK/upload.bin" | cut -d' ' -f1)
got=$("${H2[@]}" --data-binary "@$WORK/upload.bin" "$BASE/echo" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["body_length"], d["body_sha256"])')
check "a 3 MB upload with a length arrives whole" "3000000 $want" "$got"
# (curl sends no content-length on h2 when told the body is chunked.)
got=$("${H2[@]}" -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/upload.bin" "$BASE/echo" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["body_length"], d["body_sha256"], d["headers"].get("Transfer-Encoding"))')
check "an upload without a length goes upstream chunked, whole" "3000000 $want chunked" "$got"

head -c 6000000 /dev/zero >"$WORK/too-big.bin"
check "over --max-body-bytes with a length: 413" "413" \
  "$("${H2[@]}" -o /dev/null -w '%{http_code}' --data-binary "@$WORK/too-big.bin" "$BASE/echo")"
check "over --max-body-bytes without a length: 413" "413" \
  "$("${H2[@]}" -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/too-big.bin" "$BASE/echo")"
"${H2[@]}" -v "$BASE/hints" >"$WORK/hints.out" 2>"$WORK/hints.err"
check "103 Early Hints pass ahead of the answer" "1 1 hinted" \
  "$(grep -c '< HTTP/2 103' "$WORK/hints.err") $(grep -ci '< link: </style.css>' "$WORK/hints.err") $(cat "$WORK/hints.out")"
"${H2[@]}" -v -H 'Expect: 100-continue' --data-binary "@$WORK/upload.bin" -o /dev/null "$BASE/echo" 2>"$WORK/continue.err"
check "100 Continue reaches an h2 client that asked for it" "1" "$(grep -c '< HTTP/2 100' "$WORK/continue.err")"
check "a 20 MB download arrives whole" "20000000" "$("${H2[@]}" "$BASE/big?bytes=20000000" | wc -c)"
check "a chunked response arrives as DATA" "$(printf 'chunk-%d\n' 0 1 2 3 4 | md5sum)" \
  "$("${H2[@]}" "$BASE/chunked?n=5" | md5sum)"
check "a close-delimited response arrives whole" "200" "$("${H2[@]}" -o /dev/null -w '%{http_code}' "$BASE/close")"
check "HEAD: status and length, no body" "200 0" \
  "$("${H2[@]}" -I -o /dev/null -w '%{http_code} %{size_download}' "$BASE/big?bytes=1000")"

check "no route: 404" "404" "$("${H2[@]}" -o /dev/null -w '%{http_code}' -H 'Host: other.test' "$BASE/")"
check "a dead backend: 502" "502" "$("${H2[@]}" -o /dev/null -w '%{http_code}' "$BASE/dead")"
check "a slow backend: 504 after the upstream timeout" "504" \
  "$("${H2[@]}" -o /dev/null -w '%{http_code}' "$BASE/slow?ms=3000")"
check "an ACME token over h2" "200 tok-123.thumbprint" \
  "$("${H2[@]}" -o /dev/null -w '%{http_code}' "$BASE/.well-known/acme-challenge/tok-123") $("${H2[@]}" "$BASE/.well-known/acme-challenge/tok-123")"

# Many streams on one connection, at once: each gets its own answer.
urls=()
for i in $(seq 1 20); do urls+=("$BASE/echo?i=$i"); done
answers=$("${H2[@]}" --no-progress-meter --parallel --parallel-max 20 "${urls[@]}" |
  grep -o '"path": "/echo?i=[0-9]*"' | sort -u | wc -l)
check "20 parallel streams on one connection all answered" "20" "$answers"

# The published attacks, mounted with raw frames: each ends its own connection with GOAWAY
# ENHANCE_YOUR_CALM (11), and a normal client is served right after.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status"; }
rss_before=$(rss_kib)
for attack in rapid-reset continuation ping empty-data; do
  check "$attack: GOAWAY ENHANCE_YOUR_CALM" "11" \
    "$(python3 "$HERE/h2_attack.py" 127.0.0.1 "$TLS_PORT" app.test "$WORK/app.pem" "$attack" 2000)"
  check "$attack: a normal client is still served" "200" \
    "$("${H2[@]}" -o /dev/null -w '%{http_code}' "$BASE/")"
done

rss_after=$(rss_kib)
check "the attacks cost the proxy under 32 MiB of memory" "yes" \
  "$( ((rss_after - rss_before < 32768)) && echo yes || echo "no: $rss_before -> $rss_after KiB")"

# shellcheck source=../lib/metrics.sh
source "$HERE/../lib/metrics.sh"
M=$WORK/metrics.txt
curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$M"
check_metric_above "h2 requests are counted like HTTP/1.1 ones" "$M" 20 portico_proxy_requests_total \
  'ingress="app"' 'service="web"' 'status_class="2xx"'
check_metric_above "requests by protocol: h2" "$M" 20 portico_proxy_protocol_requests_total 'protocol="h2"'
check_metric_above "requests by protocol: h1" "$M" 0 portico_proxy_protocol_requests_total 'protocol="h1"'
check_metric_above "HTTP/2 connections" "$M" 10 portico_proxy_http2_connections_total
# (The attack connections end on whichever worker took them: wait for the gauge to settle.)
streams_settled() {
  curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/settle.txt"
  [[ $(metric_sum "$WORK/settle.txt" portico_proxy_http2_active_streams) == 0 ]]
}
if eventually 5 streams_settled; then pass "no HTTP/2 stream left open"; else
  fail "HTTP/2 streams still open: $(metric_sum "$WORK/settle.txt" portico_proxy_http2_active_streams)"; fi
for defence in rapid_reset continuation_flood control_frame_flood empty_frame_flood; do
  check_metric_above "defence counted: $defence" "$M" 0 portico_proxy_http2_defences_total \
    "defence=\"$defence\""
done
check_metric_above "GOAWAYs sent" "$M" 3 portico_proxy_http2_goaways_total 'direction="sent"'
check_metric_above "and the dead backend's connect failures" "$M" 0 portico_proxy_upstream_errors_total \
  'service="dead"' 'reason="connect_failed"'

# The class turns HTTP/2 off: the next snapshot makes new connections speak HTTP/1.1, without
# a restart; `portico proxy --http2` offers it whatever the class says.
h2_class false >"$WORK/manifests/class.yaml"
"$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" >/dev/null 2>&1
if eventually 5 '[[ $("${H2[@]}" -o /dev/null -w "%{http_version}" "$BASE/") == 1.1 ]]'; then
  pass "spec.listeners.https.http2: false turns h2 off for new connections"
else fail "h2 still negotiated after the class turned it off"; fi
"$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 --https-port 0 \
  --workers 1 --http2 >"$WORK/flag.out" 2>"$WORK/flag.err" &
PIDS+=($!)
wait_line "$WORK/flag.out" "listening on" 10
FLAG_PORT=$(sed -n 's/.*https:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/flag.out")
check "--http2 offers h2 though the class does not" "2" \
  "$(curl -s --http2 --cacert "$WORK/app.pem" --resolve "app.test:$FLAG_PORT:127.0.0.1" -o /dev/null \
    -w '%{http_version}' "https://app.test:$FLAG_PORT/")"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
