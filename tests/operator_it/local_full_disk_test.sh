#!/usr/bin/env bash
# Fault: `portico local`'s state directory (and its snapshot) on a filesystem that fills up.
# A small tmpfs is mounted as the state directory; with the disk full, a change is still routed
# (memory is authoritative), the failed writes are logged clearly, no file is left truncated or
# half-written; once space returns, the next change is saved again.
# Needs root for the mount (CI runs as root); skipped (77) otherwise.
# Usage: local_full_disk_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-full-disk
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
STATE=$WORK/state
mkdir -p "$STATE" "$WORK/manifests"
mount -t tmpfs -o size=8m tmpfs "$STATE" 2>/dev/null || { echo "cannot mount a tmpfs (not root?): skipped"; exit 77; }
# shellcheck disable=SC2154  # p is the loop variable inside the trap
trap 'for p in "${PIDS[@]}" $OPERATOR_PID; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; umount "$STATE"; rm -rf "$WORK"' EXIT
BACKEND_PORT=$(free_port)
HTTP_PORT=$(free_port)
python3 "$HERE/../proxy_it/backend.py" "$BACKEND_PORT" web >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
wait_line "$WORK/backend.log" ready 10 || fail "backend started"
put() { cat >"$WORK/manifests/.$1.tmp" && mv "$WORK/manifests/.$1.tmp" "$WORK/manifests/$1.yaml"; }
ingress() {  # NAME HOST [ANNOTATION_VALUE]
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: %s, namespace: default, annotations: {touched: "%s"}}\nspec:\n  rules: [{host: %s, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n' \
    "$1" "${3:-0}" "$2" | put "$1"
}
{
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec: {listeners: {address: 127.0.0.1, http: {port: %s}, https: {port: %s}}, statusPublishing: {addresses: [127.0.0.1]}}\n' \
    "$HTTP_PORT" "$(free_port)"
  manifest_web_backend "$BACKEND_PORT"
} | put base
ingress a a.test
"$PORTICO" local --manifests "$WORK/manifests" --state "$STATE" >"$WORK/out" 2>"$WORK/err" &
OPERATOR_PID=$!
wait_line "$WORK/out" "listening on" 20 || { fail "portico local started"; cat "$WORK/err"; }
served() { curl -s --max-time 2 -H "Host: $1" "http://127.0.0.1:$HTTP_PORT/" || echo "curl failed"; }
status_saved() { grep -q '127.0.0.1' "$STATE/ingresses.networking.k8s.io/default/$1.yaml" 2>/dev/null; }
eventually 10 'status_saved a'
check "before: a.test served, its status saved" "web yes" "$(served a.test) $(status_saved a && echo yes)"

# Fill the filesystem, then change things.
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null
check "the state filesystem is full" 0 "$(df --output=avail -B1 "$STATE" | tail -1 | tr -d ' ')"
ingress b b.test
eventually 10 '[[ $(served b.test) == web ]]'
check "with the disk full, a new Ingress is served all the same" web "$(served b.test)"
eventually 5 'grep -q "state not saved" "$WORK/err"'
check "the failed write is logged with the reason" yes \
  "$(grep 'state not saved' "$WORK/err" | grep -q 'No space left on device' && echo yes || echo no)"
check "no temporary file is left behind" "" "$(find "$STATE" -name '*.tmp')"
check "no state file is truncated (each is whole YAML)" "" \
  "$(find "$STATE" -name '*.yaml' | while read -r f; do [[ -s $f && $(tail -c1 "$f" | od -An -c | tr -d ' ') == '\n' ]] || echo "$f"; done)"
check "a.test's saved status is intact" yes "$(status_saved a && echo yes || echo no)"
kill -0 "$OPERATOR_PID" && pass "portico local is still running" || fail "portico local died"

# Space returns: the next change is saved.
rm -f "$STATE/filler"
ingress b b.test 1
eventually 10 'status_saved b'
check "space back: what could not be saved is saved (retried every 5 s)" yes "$(status_saved b && echo yes || echo no)"
check "and served" web "$(served b.test)"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
