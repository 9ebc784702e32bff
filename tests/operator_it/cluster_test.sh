#!/usr/bin/env bash
# The operator's scenarios against a real kube-apiserver + etcd (run under
# tests/cluster/with-cluster.sh, which exports KUBECONFIG): kubectl applies, `portico operator`
# with its embedded proxy serves, curl and a keep-alive client check.
# Usage: with-cluster.sh cluster_test.sh PORTICO_BINARY SOURCE_ROOT
set -uo pipefail
PORTICO=$1
ROOT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-operator-it
# shellcheck source=scenarios.sh
source "$HERE/scenarios.sh"
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh}"
mkdir -p "$WORK/docs"
SNAPSHOT=$WORK/routes.snapshot

if kubectl api-versions | grep -qx discovery.k8s.io/v1; then ES_API=discovery.k8s.io/v1; else ES_API=discovery.k8s.io/v1beta1; fi
echo "# EndpointSlices served as $ES_API"

# The CRD is accepted by the server, and its schema rejects bad objects with a clear message.
kubectl apply -f "$ROOT/crds/ingressclassconfig.yaml" >/dev/null && pass "kubectl apply -f crds/ingressclassconfig.yaml" \
  || fail "kubectl apply -f crds/ingressclassconfig.yaml"
kubectl wait --for condition=established --timeout=30s crd/ingressclassconfigs.portico.io >/dev/null
bad=$(printf 'apiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: bad}\nspec: {listeners: {http: {port: 70000}}, tls: {minVersion: SSLv3}}\n' \
  | kubectl apply -f - 2>&1)
grep -q "spec.listeners.http.port" <<<"$bad" && grep -q "minVersion" <<<"$bad" \
  && pass "an invalid IngressClassConfig is rejected by the server, naming the fields" \
  || fail "an invalid IngressClassConfig is rejected: $bad"
defaults=$(printf 'apiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: defaults}\n' \
  | kubectl apply -f - -o jsonpath='{.spec.listeners.http.port} {.spec.listeners.https.port} {.spec.sslRedirect} {.spec.tls.minVersion}')
check "the server applies the schema's defaults" "80 443 true TLSv1.2" "$defaults"
kubectl delete ingressclassconfig defaults >/dev/null

apply_doc() {
  cat >"$WORK/docs/$1.yaml"
  kubectl apply -f "$WORK/docs/$1.yaml" >/dev/null || fail "kubectl apply $1"
}
delete_doc() { kubectl delete -f "$WORK/docs/$1.yaml" --wait=false >/dev/null; }
ingress_lb_ip() { kubectl get ingress "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
config_condition() {
  kubectl get ingressclassconfig portico -o jsonpath="{.status.conditions[?(@.type==\"$1\")].status}"
}
event_reasons() {
  kubectl get events --field-selector "involvedObject.name=$1,involvedObject.kind=Ingress" \
    -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}'
}
start_operator() {
  OPERATOR_OUT=$WORK/operator.out
  OPERATOR_ERR=$WORK/operator.err
  : >"$OPERATOR_OUT"
  "$PORTICO" operator --kubeconfig "$KUBECONFIG" --snapshot "$SNAPSHOT" --leader-elect \
    --lease-duration 4 --renew-deadline 3 --retry-period 0.5 --metrics-address 127.0.0.1:0 \
    >"$OPERATOR_OUT" 2>>"$OPERATOR_ERR" &
  OPERATOR_PID=$!
}

run_scenarios

# Cluster specifics: printer columns, and two replicas where only the leader writes status.
columns=$(kubectl get ingressclassconfig portico --no-headers -o wide | awk '{print $4, $5}')
check "kubectl get shows Accepted and Programmed columns" "True True" "$columns"

kill -TERM "$OPERATOR_PID"
wait "$OPERATOR_PID"
OPERATOR_PID=""
metric() { curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
start_replica() {  # NAME METRICS_PORT EXTRA_ARGS...
  local name=$1 port=$2
  shift 2
  "$PORTICO" operator --kubeconfig "$KUBECONFIG" --leader-elect --identity "$name" \
    --lease-duration 4 --renew-deadline 3 --retry-period 0.5 --metrics-address "127.0.0.1:$port" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  wait_line "$WORK/$name.out" "listening on" 30 || fail "replica $name started"
}
publish_address() {
  kubectl patch ingressclassconfig portico --type merge -p "{\"spec\":{\"statusPublishing\":{\"addresses\":[\"$1\"]}}}" >/dev/null
}
M_A=$(free_port)
M_B=$(free_port)
P_B=$(free_port)
start_replica replica-a "$M_A" --snapshot "$WORK/a.snapshot"
A_PID=${PIDS[-1]}
check_eventually "replica A leads" 15 1 "metric $M_A portico_leader"
start_replica replica-b "$M_B" --snapshot "$WORK/b.snapshot" --http-port "$P_B" --https-port -2
check "replica A serves traffic" backend-a "$(body live.test /)"
check "replica B serves traffic too" backend-a "$(body live.test / "$P_B")"
check "replica B follows" 0 "$(metric "$M_B" portico_leader)"
publish_address 192.0.2.10
check_eventually "the leader writes the new published address" 10 192.0.2.10 "ingress_lb_ip live"
check "the follower has written no status" 0 "$(metric "$M_B" portico_status_writes_total)"
{ kill -KILL "$A_PID"; wait "$A_PID"; } 2>/dev/null
check_eventually "replica B takes over after the leader is killed" 15 1 "metric $M_B portico_leader"
publish_address 192.0.2.20
check_eventually "the new leader writes status" 10 192.0.2.20 "ingress_lb_ip live"
check "replica B kept serving through the takeover" backend-a "$(body live.test / "$P_B")"

# What the leader's /metrics says about its Kubernetes API traffic, and promtool's lint.
# shellcheck source=../lib/metrics.sh
source "$HERE/../lib/metrics.sh"
M=$WORK/metrics.txt
curl -s --max-time 5 "http://127.0.0.1:$M_B/metrics" >"$M"
check_metric_above "API requests by verb, resource and code: list ingresses 200" "$M" 0 \
  portico_kube_api_requests_total 'code="200"' 'resource="ingresses"' 'verb="list"'
check_metric_above "the leader Lease taken over (update leases)" "$M" 0 portico_kube_api_requests_total 'resource="leases"' 'verb="update"'
check_metric_above "status written (patch ingresses/status)" "$M" 0 portico_kube_api_requests_total 'resource="ingresses/status"' 'verb="patch"'
check_metric_above "API latency by verb" "$M" 0 portico_kube_api_request_duration_seconds_count 'verb="list"'
check_metric_above "reconciles of the Ingress status controller" "$M" 0 portico_controller_reconcile_total 'controller="ingress-status"'
check_promtool "$M"
check_dashboard "$M" "the Grafana dashboard's API panels name exported families" --only portico_kube_api_
echo "# operator log (last lines):"
tail -n 5 "$OPERATOR_ERR" | sed 's/^/#   /'
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
