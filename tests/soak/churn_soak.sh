#!/usr/bin/env bash
# Churn soak: 10 changes a second (Ingresses rewritten, an EndpointSlice going unready and back,
# a TLS Secret rotated) for SECONDS while keep-alive clients (HTTP and HTTPS) send requests
# without pause. No request may fail and no kept-alive connection may be cut; RSS, descriptors
# and threads are sampled every 5 s and the first and last figures printed.
#   churn_soak.sh PORTICO_BINARY [SECONDS=60]             through `portico local` (manifest files)
#   churn_soak.sh PORTICO_BINARY [SECONDS=60] --cluster   `portico operator` on the real apiserver
#     (run under tests/cluster/with-cluster.sh; changes by server-side apply)
# CI runs 60 s of each; the issue's long run is 600.
set -uo pipefail
PORTICO=$1
SECONDS_TOTAL=${2:-60}
MODE=${3:-local}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-churn-soak
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
M=$WORK/manifests
mkdir -p "$M" "$WORK/pki"
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
A_PORT=$(free_port)
B_PORT=$(free_port)
for port in "$A_PORT" "$B_PORT"; do
  python3 "$HERE/../proxy_it/backend.py" "$port" "web-$port" >"$WORK/backend-$port.log" 2>&1 3>&- &
  PIDS+=($!)
  wait_line "$WORK/backend-$port.log" ready 10 || fail "backend $port started"
done
# A CA and two certificates for churn.test, rotated in turn.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/pki/ca.key" \
  -out "$WORK/pki/ca.pem" -days 2 -subj /CN=soak-ca 2>/dev/null
for n in 1 2; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/pki/$n.key" \
    -out "$WORK/pki/$n.csr" -subj /CN=churn.test 2>/dev/null
  printf 'subjectAltName=DNS:churn.test\n' >"$WORK/pki/$n.ext"
  openssl x509 -req -in "$WORK/pki/$n.csr" -CA "$WORK/pki/ca.pem" -CAkey "$WORK/pki/ca.key" \
    -CAcreateserial -out "$WORK/pki/$n.pem" -days 2 -extfile "$WORK/pki/$n.ext" 2>/dev/null
done
ES_API=discovery.k8s.io/v1
if [[ $MODE == --cluster ]]; then
  : "${PORTICO_CLUSTER_DIR:?run under tests/cluster/with-cluster.sh}"
  kubectl api-versions | grep -qx discovery.k8s.io/v1 || ES_API=discovery.k8s.io/v1beta1
  kubectl apply -f "$HERE/../../crds/" >/dev/null
  kubectl wait --for condition=established --timeout=30s crd/ingressclassconfigs.portico.io >/dev/null
  exec 3> >(python3 "$HERE/apply_stream.py" "$PORTICO_CLUSTER_DIR" >"$WORK/applied" 2>"$WORK/apply.err")
  put() { { cat; echo '%%'; } >&3; }
else
  put() { cat >"$M/.$1.tmp" && mv "$M/.$1.tmp" "$M/$1.yaml"; }
fi
slice() {  # NAME PORT READY
  printf -- '---\napiVersion: %s\nkind: EndpointSlice\nmetadata: {name: %s, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: http, port: %s}]\nendpoints: [{addresses: [127.0.0.1], conditions: {ready: %s}}]\n' "$ES_API" "$1" "$2" "$3"
}
churn_ingress() {  # N VERSION
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: churn-%s, namespace: default, annotations: {version: "%s"}}\nspec:\n  rules: [{host: c%s.churn.test, http: {paths: [{path: /v%s, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n' "$1" "$2" "$1" "$2"
}
{
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec: {listeners: {address: 127.0.0.1, http: {port: %s}, https: {port: %s}}, sslRedirect: false}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{name: http, port: 80, protocol: TCP}]}\n' "$HTTP_PORT" "$HTTPS_PORT"
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: steady, namespace: default}\nspec:\n  tls: [{hosts: [churn.test], secretName: churn-tls}]\n  rules: [{host: churn.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n'
} | put base
slice web-a "$A_PORT" true | put slice-a
slice web-b "$B_PORT" true | put slice-b
manifest_tls_secret churn-tls "$WORK/pki/1.pem" "$WORK/pki/1.key" | sed 's/metadata: {name: churn-tls}/metadata: {name: churn-tls, namespace: default}/' | put tls
for n in $(seq 0 19); do churn_ingress "$n" 0 | put "churn-$n"; done

if [[ $MODE == --cluster ]]; then
  # The applies are asynchronous: the operator starts once the class and its config are there
  # (before them it would take built-in listeners, which change only at a restart).
  eventually 10 'kubectl get ingress churn-19 >/dev/null 2>&1'
  kubectl get ingressclassconfig portico >/dev/null || fail "the initial objects were applied"
  "$PORTICO" operator --kubeconfig "$KUBECONFIG" --snapshot "$WORK/routes.snapshot" \
    --metrics-address 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err" 3>&- &
else
  "$PORTICO" local --manifests "$M" --state "$WORK/state" >"$WORK/out" 2>"$WORK/err" &
fi
OPERATOR_PID=$!
wait_line "$WORK/out" "listening on" 20 || { fail "portico local started"; cat "$WORK/err"; exit 1; }
for _ in $(seq 1 100); do
  curl -s --max-time 1 --cacert "$WORK/pki/ca.pem" --resolve "churn.test:$HTTPS_PORT:127.0.0.1" \
    "https://churn.test:$HTTPS_PORT/" >/dev/null && break
  sleep 0.05
done

LOAD_SECONDS=$((SECONDS_TOTAL + 30))
python3 "$HERE/../lib/keepalive_load.py" "$HTTP_PORT" churn.test "$WORK/stop" --max-seconds "$LOAD_SECONDS" >"$WORK/http.out" 3>&- &
HTTP_LOAD=$!
python3 "$HERE/../lib/keepalive_load.py" "$HTTPS_PORT" churn.test "$WORK/stop" --tls "$WORK/pki/ca.pem" \
  --max-seconds "$LOAD_SECONDS" >"$WORK/https.out" 3>&- &
HTTPS_LOAD=$!
sample() {
  local rss fds threads
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$OPERATOR_PID/status" 2>/dev/null)
  fds=$(ls "/proc/$OPERATOR_PID/fd" 2>/dev/null | wc -l)
  threads=$(awk '/Threads/ {print $2}' "/proc/$OPERATOR_PID/status" 2>/dev/null)
  echo "$(( ${rss:-0} / 1024 )) $fds ${threads:-0}"
}
: >"$WORK/samples"
changes=0
start_ms=$(date +%s%3N)
next_sample=$((start_ms + 5000))  # the first sample once the clients are connected
while true; do
  now=$(date +%s%3N)
  ((now - start_ms < SECONDS_TOTAL * 1000)) || break
  if ((now >= next_sample)); then sample >>"$WORK/samples"; next_sample=$((now + 5000)); fi
  case $((changes % 10)) in
    0) slice web-b "$B_PORT" false | put slice-b ;;            # an endpoint goes unready
    5) slice web-b "$B_PORT" true | put slice-b ;;             # and comes back
    3) n=$(( (changes / 10) % 2 + 1 ))                          # the TLS Secret rotates
       manifest_tls_secret churn-tls "$WORK/pki/$n.pem" "$WORK/pki/$n.key" \
         | sed 's/metadata: {name: churn-tls}/metadata: {name: churn-tls, namespace: default}/' | put tls ;;
    *) n=$((changes % 20)); churn_ingress "$n" "$changes" | put "churn-$n" ;;  # an Ingress changes
  esac
  changes=$((changes + 1))
  # 10 changes a second: sleep until the next one is due (not at all when behind).
  wait_ms=$((start_ms + changes * 100 - $(date +%s%3N)))
  ((wait_ms > 0)) && sleep "$(printf '0.%03d' "$wait_ms")"
done
sample >>"$WORK/samples"
touch "$WORK/stop"
wait $HTTP_LOAD $HTTPS_LOAD
read -r http_ok http_bad http_reconnects _ <"$WORK/http.out"
read -r https_ok https_bad https_reconnects _ <"$WORK/https.out"
read -r rss0 fds0 threads0 <"$WORK/samples"
read -r rss1 fds1 threads1 < <(tail -n1 "$WORK/samples")
echo "# $changes changes in ${SECONDS_TOTAL} s; HTTP $http_ok requests, HTTPS $https_ok requests"
((changes >= SECONDS_TOTAL * 5)) && pass "at least 5 changes a second ($changes)" || fail "too few changes: $changes"
echo "# first sample: RSS ${rss0} MiB, ${fds0} fds, ${threads0} threads; last: RSS ${rss1} MiB, ${fds1} fds, ${threads1} threads"
check "HTTP keep-alive load: no failed request, no reconnect" "0 0" "$http_bad $http_reconnects"
check "HTTPS keep-alive load: no failed request, no reconnect" "0 0" "$https_bad $https_reconnects"
((http_ok > 0 && https_ok > 0)) && pass "both loads ran" || fail "a load ran no request"
check "RSS flat (last within 48 MiB of the first sample)" yes "$( ((rss1 <= rss0 + 48)) && echo yes || echo "no: $rss0 → $rss1")"
check "descriptors flat (within 8)" yes "$( ((fds1 <= fds0 + 8)) && echo yes || echo "no: $fds0 → $fds1")"
check "threads flat" "$threads0" "$threads1"
kill -0 "$OPERATOR_PID" && pass "portico still running" || fail "portico died"
if [[ $MODE == --cluster ]]; then
  exec 3>&-
  eventually 10 '[[ -s $WORK/applied ]]'
  read -r _ applied _ apply_failed <"$WORK/applied"
  echo "# server-side applies: ${applied:-0} accepted, ${apply_failed:-?} refused"
  check "every change was accepted by the apiserver" 0 "${apply_failed:-?}"
  [[ -s $WORK/apply.err ]] && echo "# $(head -n3 "$WORK/apply.err")"
fi
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
