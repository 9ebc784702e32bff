#!/usr/bin/env bash
# The namespaced install against a real kube-apiserver (run under tests/cluster/with-cluster.sh):
# `kubectl apply -k manifests/namespaced/` gives the ServiceAccount a Role in portico-system and
# read access to the two cluster-scoped kinds only; the operator, run with those rights alone and
# --watch-namespace as the Deployment passes it, does its whole job in its namespace without a
# single refusal, and neither sees nor can reach any other namespace (its Secrets above all).
# Usage: with-cluster.sh install_namespaced_test.sh PORTICO_BINARY SOURCE_ROOT
set -uo pipefail
PORTICO=$1
ROOT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-install-ns-it
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh}"
SA_KUBECONFIG=$PORTICO_CLUSTER_DIR/serviceaccount.kubeconfig
NS=portico-system

# 1. Apply (twice: the IngressClassConfig needs its CRD established).
kubectl apply -k "$ROOT/manifests/namespaced" >"$WORK/apply1.out" 2>&1
kubectl wait --for condition=established --timeout=30s crd/ingressclassconfigs.portico.io crd/certificates.portico.io >/dev/null
kubectl apply -k "$ROOT/manifests/namespaced" >"$WORK/apply2.out" 2>&1 \
  && pass "kubectl apply -k manifests/namespaced/ succeeds" \
  || fail "kubectl apply -k manifests/namespaced/: $(cat "$WORK/apply2.out")"
args=$(kubectl get deploy portico -n $NS -o jsonpath='{.spec.template.spec.containers[0].args}' 2>&1)
grep -qF -- '--watch-namespace=$(POD_NAMESPACE)' <<<"$args" \
  && pass "the Deployment watches its own namespace (--watch-namespace=\$(POD_NAMESPACE))" \
  || fail "the Deployment's args: $args"
check "no ClusterRole of the namespaced install names Secrets" "" \
  "$(kubectl get clusterrole portico-namespaced -o jsonpath='{.rules[*].resources}' | grep -o secrets)"
kubectl patch svc portico -n $NS --subresource=status --type=merge \
  -p '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.9"}]}}}' >/dev/null

# 2. A workload in Portico's namespace, and one in another namespace with a Secret of its own.
if kubectl api-versions | grep -qx discovery.k8s.io/v1; then ES_API=discovery.k8s.io/v1; else ES_API=discovery.k8s.io/v1beta1; fi
kubectl create namespace other >/dev/null
ingress() {  # NAMESPACE NAME SERVICE [ANNOTATION]
  cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: $2, namespace: $1, annotations: {${4:-}}}
spec:
  tls: [{hosts: [$2.example], secretName: $2-tls}]
  rules: [{host: $2.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: $3, port: {number: 80}}}}]}}]
YAML
}
{
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: $ES_API
kind: EndpointSlice
metadata: {name: web-1, namespace: $NS, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
---
apiVersion: v1
kind: Secret
metadata: {name: app-credentials, namespace: other}
stringData: {password: hunter2}
YAML
  ingress $NS shop web
  ingress $NS broken nowhere
  ingress $NS secure web 'portico.io/tls-acme: "true"'
  ingress other elsewhere web 'portico.io/tls-acme: "true"'
} | kubectl apply -f - >"$WORK/workload.out" 2>&1 || fail "workload applied: $(cat "$WORK/workload.out")"

# 3. The operator with the ServiceAccount's rights only, as the Deployment runs it.
METRICS_PORT=$(free_port)
POD_NAMESPACE=$NS "$PORTICO" operator --kubeconfig "$SA_KUBECONFIG" --leader-elect --no-proxy \
  --replicas-service portico --watch-namespace $NS --snapshot "$WORK/routes.snapshot" \
  --metrics-address "127.0.0.1:$METRICS_PORT" >"$WORK/out" 2>"$WORK/err" &
PIDS+=($!)
lb() { kubectl get ingress "$2" -n "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
check "IngressClassConfig status Accepted=True" True \
  "$(await_output 20 True kubectl get icc portico -o jsonpath='{.status.conditions[?(@.type=="Accepted")].status}')"
check "an Ingress in its namespace gets status.loadBalancer" 203.0.113.9 "$(await_output 20 203.0.113.9 lb $NS shop)"
warned() { kubectl get events -n $NS --field-selector involvedObject.name=broken -o jsonpath='{.items[*].type}' | grep -q Warning && echo yes; }
check "a Warning Event on its Ingress with a missing Service" yes "$(await_output 20 yes warned)"
check "a Certificate for its tls-acme Ingress, with a reason why nothing is issued" "secure-tls NoIssuer" \
  "$(await_output 20 "secure-tls NoIssuer" kubectl get certificate secure-tls -n $NS -o jsonpath='{.metadata.name} {.status.conditions[?(@.type=="Issuing")].reason}')"
curl -fsS "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null && pass "/readyz answers ready" || fail "/readyz answers ready"
# The other namespace is not served: no status, no Certificate, nothing in the route table.
sleep 1
check "an Ingress elsewhere is left alone (no status, no Certificate)" ":" \
  "$(lb other elsewhere):$(kubectl get certificate -n other -o name 2>&1)"
"$PORTICO" snapshot dump "$WORK/routes.snapshot" >"$WORK/dump" 2>&1
grep -q "shop.example" "$WORK/dump" && ! grep -q "elsewhere.example" "$WORK/dump" \
  && pass "the route table holds its namespace's hosts only" \
  || fail "the route table: $(head -c 600 "$WORK/dump")"
if grep -qi "forbidden" "$WORK/err"; then
  fail "no request of the operator was refused: $(grep -i -m3 forbidden "$WORK/err")"
else
  pass "no request of the operator was refused (the namespaced RBAC covers everything it does)"
fi

# 4. ...and nothing outside it.
can() { kubectl --kubeconfig "$SA_KUBECONFIG" auth can-i "$@" 2>/dev/null; }
check "allowed in its namespace: watch Secrets, create Certificates, create Events" "yes yes yes" \
  "$(can watch secrets -n $NS) $(can create certificates.portico.io -n $NS) $(can create events -n $NS)"
check "refused: Secrets of another namespace or of all, Ingresses elsewhere, Events in default" \
  "no no no no no" \
  "$(can get secrets -n other) $(can list secrets -A) $(can watch secrets -n other) $(can list ingresses -A) $(can create events -n default)"
refused=$(kubectl --kubeconfig "$SA_KUBECONFIG" get secret app-credentials -n other 2>&1)
grep -q Forbidden <<<"$refused" && pass "reading another namespace's Secret is refused (Forbidden)" \
  || fail "reading another namespace's Secret is refused: $refused"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
