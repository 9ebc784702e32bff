#!/usr/bin/env bash
# Memory of `portico local` under churn (issue 12): CYCLES times, N Ingresses are added (one
# manifest file) and removed again; RSS, open descriptors and threads are printed after each
# phase. Flat figures across cycles mean nothing grows without bound (the in-memory watch
# history fills up to its 32 MiB bound over the first cycles, then stays).
# Usage: local_churn_memory.sh PORTICO_BINARY [N=5000] [CYCLES=7]
set -uo pipefail
PORTICO=$1
N=${2:-5000}
CYCLES=${3:-7}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-churn
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
mkdir -p "$WORK/manifests"
HTTP_PORT=$(free_port)
{
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec: {listeners: {address: 127.0.0.1, http: {port: %s}, https: {port: %s}}}\n' \
    "$HTTP_PORT" "$(free_port)"
  manifest_web_backend "$(free_port)"
} >"$WORK/manifests/base.yaml"
python3 - "$N" "$WORK/ingresses.yaml" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "w") as f:
    for i in range(n):
        f.write("---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
                "metadata: {name: churn-%d, namespace: default}\n"
                "spec: {rules: [{host: h%d.churn.test, http: {paths: [{path: /, pathType: Prefix, "
                "backend: {service: {name: web, port: {number: 80}}}}]}}]}\n" % (i, i))
PY
"$PORTICO" local --manifests "$WORK/manifests" --state "$WORK/state" >"$WORK/out" 2>"$WORK/err" &
OPERATOR_PID=$!
wait_line "$WORK/out" "listening on" 20 || { echo "portico local did not start"; cat "$WORK/err"; exit 1; }
routes() { grep -c '"msg":"snapshot published"' "$WORK/err"; }
published_with() {  # ROUTES → waits (bounded) for a snapshot with that many routes
  for _ in $(seq 1 1200); do
    grep -q "\"routes\":\"$1\"" <(tail -n 3 "$WORK/err") && return 0
    sleep 0.1
  done
  return 1
}
first_rss=0
last_rss=0
figures() {
  local rss fds threads
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$OPERATOR_PID/status")
  fds=$(ls "/proc/$OPERATOR_PID/fd" | wc -l)
  threads=$(awk '/Threads/ {print $2}' "/proc/$OPERATOR_PID/status")
  printf '%-14s RSS %6d MiB  fds %4d  threads %3d\n' "$1" $((rss / 1024)) "$fds" "$threads"
  last_rss=$((rss / 1024))
  last_fds=$fds
  last_threads=$threads
}
figures "start"
for cycle in $(seq 1 "$CYCLES"); do
  cp "$WORK/ingresses.yaml" "$WORK/manifests/.churn.tmp" && mv "$WORK/manifests/.churn.tmp" "$WORK/manifests/churn.yaml"
  published_with "$N" || echo "cycle $cycle: $N routes not published in time"
  figures "cycle $cycle +$N"
  rm -f "$WORK/manifests/churn.yaml"
  published_with 0 || echo "cycle $cycle: routes not removed in time"
  sleep 6  # the controllers let go, then `portico local` returns the freed heap (every 5 s)
  figures "cycle $cycle -$N"
  if ((cycle == 1)); then
    first_rss=$last_rss first_fds=$last_fds first_threads=$last_threads
  fi
done
# After the first cycle only the watch history may still grow, up to its 32 MiB bound.
check "RSS after the last removal within 48 MiB of the first ($first_rss → $last_rss MiB)" yes \
  "$( ((last_rss <= first_rss + 48)) && echo yes || echo no)"
check "descriptors back where they were ($first_fds → $last_fds)" "$first_fds" "$last_fds"
check "threads back where they were ($first_threads → $last_threads)" "$first_threads" "$last_threads"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
