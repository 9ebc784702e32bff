#!/usr/bin/env bash
# The install manifests against a real kube-apiserver (run under tests/cluster/with-cluster.sh):
# `kubectl apply -k manifests/` works; the Deployment, Service and RBAC are what a cluster admin
# expects; the operator, running with nothing but the manifests' ServiceAccount RBAC, does its
# whole job (Lease, config and Ingress status, Events, Certificates, Secrets) without a single
# refusal, while verbs it does not need are refused.
# Usage: with-cluster.sh install_test.sh PORTICO_BINARY SOURCE_ROOT
set -uo pipefail
PORTICO=$1
ROOT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-install-it
: "${KUBECONFIG:?run under tests/cluster/with-cluster.sh}"
SA_KUBECONFIG=$PORTICO_CLUSTER_DIR/serviceaccount.kubeconfig
NS=portico-system

# 1. Apply: the CRDs alone, then everything. The IngressClassConfig needs its CRD established:
#    the usual second apply.
kubectl apply -f "$ROOT/crds/" >"$WORK/crds.out" 2>&1 \
  && pass "kubectl apply -f crds/ applies the CRDs" || fail "kubectl apply -f crds/: $(cat "$WORK/crds.out")"
kubectl apply -k "$ROOT/manifests" >"$WORK/apply1.out" 2>&1
kubectl wait --for condition=established --timeout=30s crd/ingressclassconfigs.portico.io crd/certificates.portico.io >/dev/null
kubectl apply -k "$ROOT/manifests" >"$WORK/apply2.out" 2>&1 \
  && pass "kubectl apply -k manifests/ succeeds" || fail "kubectl apply -k manifests/: $(cat "$WORK/apply2.out")"
jp() { kubectl get "$@" 2>&1; }
check "Deployment: 2 replicas" 2 "$(jp deploy portico -n $NS -o jsonpath='{.spec.replicas}')"
check "Deployment: liveness /healthz, readiness /readyz" "/healthz /readyz" \
  "$(jp deploy portico -n $NS -o jsonpath='{.spec.template.spec.containers[0].livenessProbe.httpGet.path} {.spec.template.spec.containers[0].readinessProbe.httpGet.path}')"
check "Deployment: non-root, seccomp RuntimeDefault" "true RuntimeDefault" \
  "$(jp deploy portico -n $NS -o jsonpath='{.spec.template.spec.securityContext.runAsNonRoot} {.spec.template.spec.securityContext.seccompProfile.type}')"
check "Deployment: read-only root, no privilege escalation, ALL dropped but NET_BIND_SERVICE" \
  "true false [\"ALL\"] [\"NET_BIND_SERVICE\"]" \
  "$(jp deploy portico -n $NS -o jsonpath='{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem} {.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation} {.spec.template.spec.containers[0].securityContext.capabilities.drop} {.spec.template.spec.containers[0].securityContext.capabilities.add}')"
check "Deployment: requests and a memory limit" "100m 64Mi 512Mi" \
  "$(jp deploy portico -n $NS -o jsonpath='{.spec.template.spec.containers[0].resources.requests.cpu} {.spec.template.spec.containers[0].resources.requests.memory} {.spec.template.spec.containers[0].resources.limits.memory}')"
check "the Grafana dashboard ConfigMap, labelled for Grafana's sidecar" "1 Portico: routing and certificates" \
  "$(jp configmap portico-grafana-dashboard -n $NS -o jsonpath='{.metadata.labels.grafana_dashboard}') $(jp configmap portico-grafana-dashboard -n $NS -o jsonpath='{.data.portico\.json}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])' 2>&1)"
check "Service: LoadBalancer on 80 and 443" "LoadBalancer 80 443" \
  "$(jp svc portico -n $NS -o jsonpath='{.spec.type} {.spec.ports[0].port} {.spec.ports[1].port}')"
check "IngressClass portico is the default, with its IngressClassConfig" "true portico" \
  "$(jp ingressclass portico -o jsonpath='{.metadata.annotations.ingressclass\.kubernetes\.io/is-default-class} {.spec.parameters.name}')"

# The cloud's load balancer, played by hand: its address goes to every Ingress's status.
kubectl patch svc portico -n $NS --subresource=status --type=merge \
  -p '{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.7"}]}}}' >/dev/null

# 2. A workload: a Service with an endpoint, an Ingress on it, one on a missing Service, and one
#    asking for a certificate (the default config has no ACME account: NoIssuer, with a reason).
if kubectl api-versions | grep -qx discovery.k8s.io/v1; then ES_API=discovery.k8s.io/v1; else ES_API=discovery.k8s.io/v1beta1; fi
kubectl create namespace shop >/dev/null
cat <<YAML | kubectl apply -f - >/dev/null || fail "workload applied"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: $ES_API
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules: [{host: shop.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: broken, namespace: shop}
spec:
  rules: [{host: broken.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: nowhere, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: shop, annotations: {portico.io/tls-acme: "true"}}
spec:
  tls: [{hosts: [secure.example], secretName: secure-tls}]
  rules: [{host: secure.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
YAML

# 3. The operator with the ServiceAccount's RBAC only (not system:masters).
METRICS_PORT=$(free_port)
POD_NAMESPACE=$NS "$PORTICO" operator --kubeconfig "$SA_KUBECONFIG" --leader-elect --no-proxy --replicas-service portico \
  --snapshot "$WORK/routes.snapshot" --metrics-address "127.0.0.1:$METRICS_PORT" >"$WORK/out" 2>"$WORK/err" &
PIDS+=($!)
holder() { kubectl get lease portico-leader -n $NS -o jsonpath='{.spec.holderIdentity}' 2>/dev/null | grep -q . && echo held; }
check "the leader Lease in portico-system is taken" held "$(await_output 20 held holder)"
check "IngressClassConfig status Accepted=True" True \
  "$(await_output 20 True kubectl get icc portico -o jsonpath='{.status.conditions[?(@.type=="Accepted")].status}')"
check "Ingress status.loadBalancer from the LoadBalancer Service" 203.0.113.7 \
  "$(await_output 20 203.0.113.7 kubectl get ingress shop -n shop -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"
warned() { kubectl get events -n shop --field-selector involvedObject.name=broken -o jsonpath='{.items[*].type}' | grep -q Warning && echo yes; }
check "a Warning Event on the Ingress with a missing Service" yes "$(await_output 20 yes warned)"
check "a Certificate created for the tls-acme Ingress" secure-tls \
  "$(await_output 20 secure-tls kubectl get certificate secure-tls -n shop -o jsonpath='{.metadata.name}')"
check "its status says why nothing is issued (no ACME in the config)" NoIssuer \
  "$(await_output 20 NoIssuer kubectl get certificate secure-tls -n shop -o jsonpath='{.status.conditions[?(@.type=="Issuing")].reason}')"
curl -fsS "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null && pass "/readyz answers ready" || fail "/readyz answers ready"
if grep -qi "forbidden" "$WORK/err"; then
  fail "no request of the operator was refused: $(grep -i -m3 forbidden "$WORK/err")"
else
  pass "no request of the operator was refused (RBAC covers everything it does)"
fi

# 4. ...and no more: verbs it does not need are refused.
can() { kubectl --kubeconfig "$SA_KUBECONFIG" auth can-i "$@" 2>/dev/null; }
check "allowed: watch Secrets, patch Ingress status, create Certificates" "yes yes yes" \
  "$(can watch secrets -A) $(can patch ingresses --subresource=status -n shop) $(can create certificates.portico.io -n shop)"
check "refused: change Ingresses, delete Certificates, read Pods, write RBAC, a Lease elsewhere" \
  "no no no no no no" \
  "$(can update ingresses -n shop) $(can delete certificates.portico.io -n shop) $(can get pods -n shop) $(can create clusterrolebindings) $(can update leases -n default) $(can patch services -n shop)"
refused=$(kubectl --kubeconfig "$SA_KUBECONFIG" get pods -A 2>&1)
grep -q Forbidden <<<"$refused" && pass "a real request outside its RBAC is refused (Forbidden)" \
  || fail "a real request outside its RBAC is refused: $refused"

# 5. What kubectl shows.
check "kubectl get certificates: the printer columns" "NAME READY SECRET EXPIRES AGE" \
  "$(kubectl get certificates -n shop 2>&1 | head -n1 | tr -s ' ')"
columns=$(kubectl get icc 2>&1 | head -n1 | tr -s ' ')
[[ $columns == NAME\ HTTP\ HTTPS\ ACCEPTED* ]] && pass "kubectl get icc: the printer columns ($columns)" \
  || fail "kubectl get icc: the printer columns: $columns"
explain=""
for _ in $(seq 1 50); do
  explain=$(kubectl explain certificate.spec.privateKey 2>&1)
  grep -q "rotationPolicy" <<<"$explain" && break
  sleep 0.2
done
grep -q "rotationPolicy" <<<"$explain" && grep -qi "algorithm" <<<"$explain" \
  && pass "kubectl explain certificate.spec.privateKey prints the descriptions" \
  || fail "kubectl explain certificate.spec.privateKey: $explain"
check "short names: kubectl get pcert / icc" "ok ok" \
  "$(kubectl get pcert -A >/dev/null 2>&1 && echo ok) $(kubectl get icc >/dev/null 2>&1 && echo ok)"
# Every field of both CRDs' schemas, as the server stores them, carries a description.
undocumented=$(kubectl get crd certificates.portico.io ingressclassconfigs.portico.io -o json | python3 -c '
import json, sys
missing = []
def walk(schema, path):
    for name, sub in schema.get("properties", {}).items():
        if path.count(".") == 1 and name == "metadata":
            continue  # ObjectMeta: the server documents it
        if not sub.get("description"):
            missing.append(path + name)
        walk(sub, path + name + ".")
    if "items" in schema:
        walk(schema["items"], path + "[].")
for crd in json.load(sys.stdin)["items"]:
    for version in crd["spec"]["versions"]:
        walk(version["schema"]["openAPIV3Schema"], crd["spec"]["names"]["kind"] + ".")
print(" ".join(missing))')
check "every CRD field has a description (kubectl explain teaches the API)" "" "$undocumented"
# The server's validation: enums and ranges named in the error.
bad=$(cat <<YAML | kubectl apply -f - 2>&1
apiVersion: portico.io/v1alpha1
kind: Certificate
metadata: {name: bad, namespace: shop}
spec: {secretName: bad-tls, dnsNames: [bad.example], renewBeforePercentage: 150, privateKey: {algorithm: DSA}}
YAML
)
grep -q "spec.privateKey.algorithm" <<<"$bad" && grep -q "spec.renewBeforePercentage" <<<"$bad" \
  && pass "an invalid Certificate is rejected by the server, naming the fields" \
  || fail "an invalid Certificate is rejected by the server: $bad"

# 6. The Dockerfile (no image can be built here): its runtime stage installs the package of every
#    library the binary links, its user is the Deployment's, and its build stage configures.
runtime_stage=$(sed -n '/^FROM debian:bookworm-slim/,$p' "$ROOT/Dockerfile")
missing=""
for lib in $(objdump -p "$PORTICO" | awk '/NEEDED/ {print $2}'); do
  [[ $lib == ld-linux* ]] && continue
  path=$(ldd "$PORTICO" | awk -v l="$lib" '$1 == l {print $3}')
  # Debian registers some files under /lib, some under /usr/lib (usrmerge): ask for both.
  pkg=$(dpkg -S "$(realpath "$path")" "$path" "${path#/usr}" 2>/dev/null | head -n1 | cut -d: -f1)
  case $pkg in libc6 | libstdc++6 | libgcc-s1) continue ;; esac  # in every Debian image
  [[ -n $pkg ]] || { missing+=" $lib(no package)"; continue; }
  grep -qw -- "$pkg" <<<"$runtime_stage" || missing+=" $lib($pkg)"
done
check "the image's runtime stage has every library the binary links" "" "$missing"
check "the image's user is the Deployment's (65532)" "65532:65532 65532"   "$(sed -n 's/^USER //p' "$ROOT/Dockerfile") $(jp deploy portico -n $NS -o jsonpath='{.spec.template.spec.securityContext.runAsUser}')"
setup_args=$(sed -n 's/.*meson setup \/build \(.*\) \\$/\1/p' "$ROOT/Dockerfile")
# shellcheck disable=SC2086
(cd "$ROOT" && meson setup "$WORK/image-build" $setup_args >"$WORK/meson.out" 2>&1) \
  && pass "the image's build stage configures (meson setup $setup_args)" \
  || fail "the image's build stage configures: $(tail -n3 "$WORK/meson.out")"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
