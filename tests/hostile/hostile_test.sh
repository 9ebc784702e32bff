#!/usr/bin/env bash
# The hostile-client battery (hostile.py) against `portico proxy` in front of a recording
# backend that parses strictly and records every request it gets.
# Usage: hostile_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-hostile
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
BACKEND_PORT=$(free_port)
python3 "$HERE/recording_backend.py" "$BACKEND_PORT" "$WORK/backend.jsonl" >"$WORK/backend.out" 2>&1 &
PIDS+=($!)
wait_line "$WORK/backend.out" ready 10 || { echo "backend did not start"; exit 1; }
: >"$WORK/backend.jsonl"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/h.key" -out "$WORK/h.pem" \
  -days 1 -subj /CN=h.test -addext subjectAltName=DNS:h.test 2>/dev/null
mkdir "$WORK/manifests"
{
  manifest_portico_class false
  manifest_service web
  manifest_endpoint_slice web-1 web "$BACKEND_PORT"
  manifest_tls_secret h-tls "$WORK/h.pem" "$WORK/h.key"
  cat <<'YAML'
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: h}
spec:
  tls: [{hosts: [h.test], secretName: h-tls}]
  rules:
  - host: h.test
    http:
      paths:
      - {path: /public, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /exact, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
YAML
} >"$WORK/manifests/all.yaml"
"$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" >/dev/null 2>&1 \
  || { echo "snapshot compile failed"; exit 1; }
"$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 --https-port 0 --workers 2 \
  --header-timeout 2 --upstream-timeout 3 --max-head-bytes 8192 --max-body-bytes 100000 \
  >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
PIDS+=($!)
wait_line "$WORK/proxy.out" "listening on" 10 || { echo "proxy did not start"; cat "$WORK/proxy.err"; exit 1; }
PORT=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy.out")
TLS_PORT=$(sed -n 's/.*https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/proxy.out")
python3 "$HERE/hostile.py" "$PORT" "$TLS_PORT" "$WORK/backend.jsonl"
status=$?
kill -0 "${PIDS[1]}" 2>/dev/null && echo "ok   - the proxy is still running" || { echo "FAIL - the proxy died"; status=1; }
exit $status
