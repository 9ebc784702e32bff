#!/usr/bin/env bash
# Certificates end to end against a real kube-apiserver and pebble (run as
# with-cluster.sh with-pebble.sh acme_cluster_test.sh PORTICO SOURCE_ROOT): the CRDs install,
# `kubectl apply` an Ingress annotated portico.io/tls-acme, `portico operator` obtains the
# certificate (HTTP-01 answered by its own proxy) and serves it; the operator SIGKILLed in the
# middle of a renewal resumes the same order with the same account; with two replicas the CA
# is asked to validate only once every replica's proxy answers the challenge.
set -uo pipefail
PORTICO=$1
ROOT_DIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-acme-cluster-it
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh}" "${PEBBLE_DIRECTORY:?run under tests/pebble/with-pebble.sh}"
HTTP_PORT=$PORTICO_HTTP01_PORT
HTTPS_PORT=$(free_port)
BACKEND_PORT=$(free_port)
PEBBLE_ROOT=$PEBBLE_STATE_DIR/root.pem
python3 "$HERE/../proxy_it/backend.py" "$BACKEND_PORT" web >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
if kubectl api-versions | grep -qx discovery.k8s.io/v1; then ES_API=discovery.k8s.io/v1; else ES_API=discovery.k8s.io/v1beta1; fi

kubectl apply -f "$ROOT_DIR/crds/" >/dev/null && pass "kubectl apply -f crds/" || fail "kubectl apply -f crds/"
kubectl wait --for condition=established --timeout=30s crd/certificates.portico.io crd/ingressclassconfigs.portico.io >/dev/null
bad=$(printf 'apiVersion: portico.io/v1alpha1\nkind: Certificate\nmetadata: {name: bad}\nspec: {secretName: s, dnsNames: [a.test], privateKey: {algorithm: DSA}}\n' | kubectl apply -f - 2>&1)
grep -q "spec.privateKey.algorithm" <<<"$bad" && pass "an invalid Certificate is rejected by the server, naming the field" \
  || fail "an invalid Certificate is rejected: $bad"
# The server publishes a new CRD's OpenAPI a moment after it is established.
eventually 10 'kubectl explain certificate.spec.dnsNames 2>/dev/null | grep -q subjectAltName'
kubectl explain certificate.spec.dnsNames 2>/dev/null | grep -q "subjectAltName" \
  && pass "kubectl explain teaches the Certificate API" || fail "kubectl explain certificate.spec.dnsNames"

{ manifest_acme_class "$HTTP_PORT" "$HTTPS_PORT"; manifest_web_backend "$BACKEND_PORT" "$ES_API"; } | kubectl apply -f - >/dev/null

start_operator() {
  "$PORTICO" operator --kubeconfig "$KUBECONFIG" --snapshot "$WORK/routes.snapshot" --leader-elect \
    --lease-duration 4 --renew-deadline 3 --retry-period 0.5 >"$WORK/operator.out" 2>"$WORK/operator-$1.err" &
  OPERATOR_PID=$!
  wait_line "$WORK/operator.out" "listening on" 30 || fail "the operator started"
}
https() {
  curl -s --max-time 3 --cacert "$PEBBLE_ROOT" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT/" 2>&1 \
    || echo "curl failed ($?)"
}
ready() { kubectl get certificate "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null; }
field() { kubectl get certificate "$1" -o jsonpath="{$2}" 2>/dev/null; }

: >"$WORK/operator.out"
start_operator 1
started=$(date +%s%N)
manifest_acme_ingress app app.test app-tls | kubectl apply -f - >/dev/null
eventually 5 '[[ $(https app.test) == web ]]'
echo "# kubectl apply of the Ingress → first HTTPS success: $(( ($(date +%s%N) - started) / 1000000 )) ms (target < 5000)"
check "HTTPS with the certificate pebble issued" web "$(https app.test)"
check "Certificate Ready=True" True "$(ready app-tls)"
check "the Certificate is owned by the Ingress" Ingress/app "$(field app-tls '.metadata.ownerReferences[0].kind')/$(field app-tls '.metadata.ownerReferences[0].name')"
check "the Secret is kubernetes.io/tls" kubernetes.io/tls "$(kubectl get secret app-tls -o jsonpath='{.type}')"
check "kubectl get certificate shows Ready and the Secret" "True app-tls" \
  "$(kubectl get certificate app-tls --no-headers | awk '{print $2, $3}')"
account_rv=$(kubectl get secret portico-acme-portico -o jsonpath='{.metadata.resourceVersion}')

# A renewal interrupted by SIGKILL once the order exists: the next leader resumes that order.
# A watch sees the order the moment it is written (polling with kubectl could miss it).
kubectl get certificate app-tls -w -o jsonpath='{.status.order.url}{"\n"}' >"$WORK/orders" 2>/dev/null &
watcher=$!
sleep 0.5
kubectl annotate certificate app-tls portico.io/renew=kill-test --overwrite >/dev/null
for _ in $(seq 1 1000); do grep -q . "$WORK/orders" && break; sleep 0.002; done
kill -KILL "$OPERATOR_PID"
order=$(grep -m1 . "$WORK/orders")
kill "$watcher" 2>/dev/null
wait "$OPERATOR_PID" 2>/dev/null
if [[ -n $order ]]; then pass "the renewal's order is in status when the operator dies ($order)"; else fail "order in status before the kill"; fi
start_operator 2
eventually 15 '[[ $(field app-tls .status.revision) == 2 ]]'
check "the renewal completes after the restart (revision 2)" 2 "$(field app-tls '.status.revision')"
check "the interrupted order was resumed, not duplicated" 0 "$(grep -c '"ACME order created"' "$WORK/operator-2.err")"
check "no second ACME account (the account key Secret is untouched)" "$account_rv" \
  "$(kubectl get secret portico-acme-portico -o jsonpath='{.metadata.resourceVersion}')"
check "HTTPS still served after the renewal" web "$(https app.test)"
check "the renewal request is recorded on the Secret" kill-test \
  "$(kubectl get secret app-tls -o jsonpath='{.metadata.annotations.portico\.io/renew}')"

# High availability: the CA's validation request may reach any replica. Replica A leads on
# another HTTP port; replica B follows on the port pebble validates against. The replicas are
# the ready endpoints of a Service (--replicas-service): A asks the CA only once B's proxy
# answers the challenge, so while B is frozen the order waits and says so in status.
kill -TERM "$OPERATOR_PID"; wait "$OPERATOR_PID" 2>/dev/null
P_A=$(free_port)
printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: portico-replicas, namespace: default}\nspec: {ports: [{name: http, port: 80}]}\n' | kubectl apply -f - >/dev/null
for replica in "a $P_A" "b $HTTP_PORT"; do
  set -- $replica
  printf -- '---\napiVersion: %s\nkind: EndpointSlice\nmetadata: {name: portico-replicas-%s, namespace: default, labels: {kubernetes.io/service-name: portico-replicas}}\naddressType: IPv4\nports: [{name: http, port: %s}]\nendpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]\n' \
    "$ES_API" "$1" "$2" | kubectl apply -f - >/dev/null
done
start_replica() {  # NAME EXTRA_ARGS...
  local name=$1; shift
  "$PORTICO" operator --kubeconfig "$KUBECONFIG" --snapshot "$WORK/$name.snapshot" --leader-elect \
    --identity "$name" --replicas-service default/portico-replicas --lease-duration 4 --renew-deadline 3 \
    --retry-period 0.5 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  wait_line "$WORK/$name.out" "listening on" 30 || fail "replica $name started"
}
start_replica replica-a --http-port "$P_A" --https-port -2
holder() { kubectl get lease portico-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
eventually 10 '[[ $(holder) == replica-a ]]'
check "replica A leads" replica-a "$(holder)"
start_replica replica-b
B_PID=${PIDS[-1]}
kill -STOP "$B_PID"
# A name pebble has not validated yet (it may reuse a valid authorization for app.test).
manifest_acme_ingress ha ha.test ha-tls | kubectl apply -f - >/dev/null
issuing() { field ha-tls '.status.conditions[?(@.type=="Issuing")].reason'; }
eventually 10 '[[ $(issuing) == WaitingForReplicas ]]'
check "while replica B is frozen the order waits for it (Issuing reason)" WaitingForReplicas "$(issuing)"
[[ $(issuing) == WaitingForReplicas ]] || kubectl get certificate ha-tls -o yaml | sed 's/^/# /'
# Replica A's own proxy may load the challenge a moment after the first probe, so the first
# message can name both; the condition must settle on B alone while B stays frozen.
names_only_b() {
  message=$(field ha-tls '.status.conditions[?(@.type=="Issuing")].message')
  grep -q "127.0.0.1:$HTTP_PORT" <<<"$message" && ! grep -q "127.0.0.1:$P_A" <<<"$message"
}
eventually 10 names_only_b \
  && pass "the condition names the replica that does not answer: $message" \
  || fail "the condition names replica B only: $message"
order_waits() {  # an order in status, the CA not yet told to validate
  [[ -n $(field ha-tls '.status.order.url') && $(field ha-tls '.status.order.responded') != true ]]
}
consistently 1 order_waits \
  && pass "the CA is not asked while a replica cannot answer" \
  || fail "the CA is not asked while a replica cannot answer: order $(field ha-tls '.status.order.url'), responded=$(field ha-tls '.status.order.responded')"
kill -CONT "$B_PID"
eventually 15 '[[ $(ready ha-tls) == True ]]'
check "once B answers, pebble validates through B and the certificate is issued (Ready)" True "$(ready ha-tls)"
check "replica B serves the new certificate over HTTPS" web "$(https ha.test)"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
