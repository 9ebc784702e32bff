#!/usr/bin/env bash
# `make demo` until the controllers exist: start a real kube-apiserver + etcd on loopback and show
# what Portico's runtime already does against it — API discovery, an informer following live
# changes made with kubectl, and Lease leader election between two processes.
set -euo pipefail
PORTICO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/portico-demo.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$HERE/stop.sh" "$DIR"
  rm -rf "$DIR"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting a real kube-apiserver + etcd on 127.0.0.1 (the first run builds the apiserver: ~5 min)"
"$HERE/start.sh" "$DIR"
export KUBECONFIG=$DIR/kubeconfig

say "portico version"
"$PORTICO" version

say "portico debug discovery"
"$PORTICO" debug discovery

say "portico debug watch v1/configmaps -n demo   (an informer; kubectl makes changes meanwhile)"
kubectl create namespace demo >/dev/null
"$PORTICO" --log-level warn debug watch v1/configmaps -n demo --max-events 4 &
WATCH=$!
PIDS+=("$WATCH")
sleep 1
kubectl -n demo create configmap greeting --from-literal=text=hello
kubectl -n demo patch configmap greeting -p '{"data":{"text":"hello again"}}'
kubectl -n demo create configmap other --from-literal=x=1
kubectl -n demo delete configmap greeting
wait "$WATCH" || true

say "portico debug lease: two replicas compete for one Lease; the leader is killed"
"$PORTICO" --log-level warn debug lease --identity replica-a --lease-duration 4 --renew-deadline 3 --retry-period 0.5 &
A=$!
PIDS+=("$A")
sleep 1
"$PORTICO" --log-level warn debug lease --identity replica-b --lease-duration 4 --renew-deadline 3 --retry-period 0.5 &
B=$!
PIDS+=("$B")
sleep 2
echo "Lease holder: $(kubectl get lease portico-leader -o jsonpath='{.spec.holderIdentity}')"
echo "killing replica-a (SIGKILL)..."
kill -KILL "$A"
sleep 6
echo "Lease holder: $(kubectl get lease portico-leader -o jsonpath='{.spec.holderIdentity}')"
kill -TERM "$B"
wait "$B" || true
echo "after a graceful stop, Lease holder: '$(kubectl get lease portico-leader -o jsonpath='{.spec.holderIdentity}')'"

say "Done. The Ingress controller, proxy and 'portico local' come next (see README)."
