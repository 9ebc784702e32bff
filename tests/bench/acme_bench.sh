#!/usr/bin/env bash
# Certificate issuance numbers against pebble (PEBBLE_VA_NOSLEEP=1), through `portico local`:
#   one Ingress written → first HTTPS success with the issued certificate (target < 5 s)
#   50 Ingresses with one host each written at once → all 50 served over HTTPS (target < 60 s)
# Usage: acme_bench.sh PORTICO_BINARY   (starts and stops its own pebble)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [[ -z ${PEBBLE_DIRECTORY:-} ]]; then
  exec "$HERE/../pebble/with-pebble.sh" "$0" "$@"
fi
PORTICO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
WORK=$(mktemp -d /tmp/portico-acme-bench.XXXXXX)
PIDS=()
# shellcheck disable=SC2154  # p is the loop variable inside the trap
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/m"
HTTPS_PORT=$(free_port)
BACKEND_PORT=$(free_port)
python3 "$HERE/../proxy_it/backend.py" "$BACKEND_PORT" web >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
{ manifest_acme_class "$PORTICO_HTTP01_PORT" "$HTTPS_PORT" true; manifest_web_backend "$BACKEND_PORT"; } >"$WORK/m/base.yaml"
https_ok() {
  curl -s -o /dev/null --max-time 2 --cacert "$PEBBLE_STATE_DIR/root.pem" --resolve "$1:$HTTPS_PORT:127.0.0.1" \
    "https://$1:$HTTPS_PORT/" 2>/dev/null
}
"$PORTICO" --log-level warn local --manifests "$WORK/m" --state "$WORK/state" >"$WORK/out" 2>"$WORK/err" &
PIDS+=($!)
wait_line "$WORK/out" "listening on" 20

start=$(date +%s%N)
manifest_acme_ingress first first.bench.test first-tls >"$WORK/m/first.yaml"
until https_ok first.bench.test; do sleep 0.01; done
single=$(( ($(date +%s%N) - start) / 1000000 ))

start=$(date +%s%N)
for i in $(seq 1 50); do manifest_acme_ingress "host$i" "host$i.bench.test" "host$i-tls"; done >"$WORK/m/fifty.yaml"
deadline=$(( $(date +%s) + 300 ))
for i in $(seq 1 50); do
  until https_ok "host$i.bench.test"; do
    (( $(date +%s) < deadline )) || { echo "host$i never served" >&2; break; }
    sleep 0.05
  done
done
fifty=$(( ($(date +%s%N) - start) / 1000000 ))
printf '\n%-60s %12s   %s\n' measure portico target
printf '%-60s %9d ms   %s\n' "Ingress written → first HTTPS with its pebble certificate" "$single" "< 5000 ms"
printf '%-60s %9d ms   %s\n' "50 Ingresses (one host each) → all 50 served over HTTPS" "$fifty" "< 60000 ms"
printf "%-60s %12d\n" "certificates per minute (50 hosts)" $(( 50 * 60000 / fifty ))
