#!/usr/bin/env bash
# Faults against a real kube-apiserver, under load (run under tests/cluster/with-cluster.sh).
# Two operator replicas serve a keep-alive HTTP load each and a WebSocket each, held open from
# start to end of the faults they survive:
#  1. the apiserver the replicas use is killed (SIGKILL) for 10 s; meanwhile changes are made
#     through a second apiserver on the same etcd. Both replicas keep serving with no failed
#     request, and apply the changes once their apiserver is back.
#  2. the leading replica is SIGKILLed: the other takes over the Lease and writes status, with
#     no failed request and no cut connection on it.
# Usage: with-cluster.sh cluster_faults_test.sh PORTICO_BINARY SOURCE_ROOT
set -uo pipefail
PORTICO=$1
ROOT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-faults-it
# shellcheck source=scenarios.sh
source "$HERE/scenarios.sh"
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh}"
CLUSTER=$PORTICO_CLUSTER_DIR
# shellcheck disable=SC2034  # read by scenarios.sh
if kubectl api-versions | grep -qx discovery.k8s.io/v1; then ES_API=discovery.k8s.io/v1; else ES_API=discovery.k8s.io/v1beta1; fi

# A second apiserver on the same etcd: the way changes are made while the first is down.
"$ROOT/tests/cluster/start.sh" "$CLUSTER" --apiserver apiserver2 2>"$WORK/apiserver2.log" \
  || { fail "a second apiserver started: $(tail -n3 "$WORK/apiserver2.log")"; exit 1; }
SECOND=$CLUSTER/apiserver2.kubeconfig

kubectl apply -f "$ROOT/crds/" >/dev/null
kubectl wait --for condition=established --timeout=30s crd/ingressclassconfigs.portico.io >/dev/null
# shellcheck disable=SC2034  # read by scenarios.sh
HTTP_PORT=$(free_port)  # the config's; each replica listens on its own ports below
# shellcheck disable=SC2034  # read by scenarios.sh
HTTPS_PORT=$(free_port)
# shellcheck source=../proxy_it/two_backends.sh
source "$HERE/../proxy_it/two_backends.sh"
{
  doc_class TLSv1.2
  doc_service svc-a
  doc_slice svc-a-1 svc-a "$PORT_A"
  doc_service svc-b
  doc_slice svc-b-1 svc-b "$PORT_B"
  doc_ingress live live.test svc-a
} | kubectl apply -f - >/dev/null || fail "the workload applied"

metric() { curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
declare -A PID PORT METRICS
start_replica() {  # NAME
  PORT[$1]=$(free_port)
  METRICS[$1]=$(free_port)
  "$PORTICO" operator --kubeconfig "$KUBECONFIG" --leader-elect --identity "$1" \
    --lease-duration 4 --renew-deadline 3 --retry-period 0.5 --snapshot "$WORK/$1.snapshot" \
    --http-port "${PORT[$1]}" --https-port -2 --metrics-address "127.0.0.1:${METRICS[$1]}" \
    >"$WORK/$1.out" 2>"$WORK/$1.err" &
  PID[$1]=$!
  PIDS+=($!)
  wait_line "$WORK/$1.out" "listening on" 30 || fail "replica $1 started"
}
start_replica r1
check_eventually "replica r1 leads" 15 1 "metric ${METRICS[r1]} portico_leader"
start_replica r2
for r in r1 r2; do
  check_eventually "replica $r serves" 10 backend-a "body live.test / ${PORT[$r]}"
  python3 "$HERE/../lib/keepalive_load.py" "${PORT[$r]}" live.test "$WORK/stop-$r" --max-seconds 170 \
    >"$WORK/load-$r.out" &
  PIDS+=($!)
  python3 "$HERE/../proxy_it/websocket_client.py" "${PORT[$r]}" live.test --hold "$WORK/stop-$r" \
    >"$WORK/ws-$r.out" 2>&1 &
  PIDS+=($!)
done
sleep 1

# 1. The apiserver is killed for 10 s; changes are made through the second one meanwhile.
"$ROOT/tests/cluster/stop.sh" "$CLUSTER" --apiserver
down_at=$SECONDS
{
  doc_ingress late late.test svc-b
  doc_slice svc-a-2 svc-a "$PORT_B"
} | kubectl --kubeconfig "$SECOND" apply -f - >/dev/null && pass "changes made through the second apiserver" \
  || fail "changes made through the second apiserver"
kubectl --kubeconfig "$SECOND" patch ingressclassconfig portico --type merge \
  -p '{"spec":{"statusPublishing":{"addresses":["192.0.2.31"]}}}' >/dev/null
served_while_down=""
while ((SECONDS - down_at < 10)); do
  served_while_down+="$(body live.test / "${PORT[r1]}") $(body live.test / "${PORT[r2]}") "
  sleep 1
done
check "both replicas answer new connections while the apiserver is down" "" \
  "$(tr ' ' '\n' <<<"$served_while_down" | grep -v '^backend-a$' | grep -v '^$' | sort -u)"
"$ROOT/tests/cluster/start.sh" "$CLUSTER" --apiserver 2>"$WORK/apiserver-restart.log" \
  || fail "the apiserver restarted: $(tail -n3 "$WORK/apiserver-restart.log")"
for r in r1 r2; do
  check_eventually "replica $r routes the Ingress created while its apiserver was down" 30 backend-b \
    "body late.test / ${PORT[$r]}"
done
backends_seen() {  # PORT → the distinct backends live.test reached in 20 requests
  for _ in $(seq 1 20); do body live.test / "$1"; done | sort -u | tr '\n' ' '
}
check_eventually "replica r2 balances over the endpoint added while its apiserver was down" 30 \
  "backend-a backend-b " "backends_seen ${PORT[r2]}"
check_eventually "the leader writes the address set while its apiserver was down" 30 192.0.2.31 \
  "kubectl get ingress live -o jsonpath='{.status.loadBalancer.ingress[0].ip}'"

# 2. The leader is SIGKILLed; the other replica takes over.
leader=""
for _ in $(seq 1 100); do
  for r in r1 r2; do [[ $(metric "${METRICS[$r]}" portico_leader) == 1 ]] && leader=$r; done
  [[ -n $leader ]] && break
  sleep 0.2
done
[[ -n $leader ]] && pass "a replica leads after the apiserver came back ($leader)" || fail "a replica leads"
[[ $leader == r1 ]] && other=r2 || other=r1
touch "$WORK/stop-$leader"  # its clients end before it is killed: what is measured is the other
eventually 5 '[[ -s $WORK/load-$leader.out ]] && grep -q closed-cleanly "$WORK/ws-$leader.out"'
{ kill -KILL "${PID[$leader]}"; wait "${PID[$leader]}"; } 2>/dev/null
check_eventually "replica $other takes over after the leader is SIGKILLed" 15 1 "metric ${METRICS[$other]} portico_leader"
kubectl patch ingressclassconfig portico --type merge -p '{"spec":{"statusPublishing":{"addresses":["192.0.2.32"]}}}' >/dev/null
check_eventually "the new leader writes status" 15 192.0.2.32 \
  "kubectl get ingress live -o jsonpath='{.status.loadBalancer.ingress[0].ip}'"
sleep 1
touch "$WORK/stop-$other"
wait_line "$WORK/ws-$other.out" closed-cleanly 10 || true
eventually 5 '[[ -s $WORK/load-$other.out ]]'

read -r ok1 bad1 reconnects1 _ <"$WORK/load-$leader.out"
read -r ok2 bad2 reconnects2 _ <"$WORK/load-$other.out"
echo "# keep-alive load: $leader (killed leader) ${ok1:-0} requests through fault 1; $other ${ok2:-0} requests through both faults"
check "keep-alive load on $leader through the apiserver's death: no failed request, no reconnect" "0 0" "${bad1:-?} ${reconnects1:-?}"
check "keep-alive load on $other through both faults: no failed request, no reconnect" "0 0" "${bad2:-?} ${reconnects2:-?}"
((${ok1:-0} > 100 && ${ok2:-0} > 100)) && pass "both loads ran (over 100 requests each)" || fail "a load ran too few requests: ${ok1:-0} ${ok2:-0}"
for r in "$leader" "$other"; do
  ws=$(tr '\n' ' ' <"$WORK/ws-$r.out")
  [[ $ws == *"bad=0"* && $ws == *"closed-cleanly=yes"* && $ws != *"ok=0 "* ]] \
    && pass "the WebSocket on $r stayed open through its faults ($ws)" || fail "the WebSocket on $r: $ws"
done
kill -0 "${PID[$other]}" && pass "replica $other still running" || fail "replica $other died"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
