#!/usr/bin/env bash
# `make demo`: Portico's embedded default. `portico local` serves manifests/examples/ (copied to
# a scratch directory) in front of two small example backends, then shows routing, status,
# Events and a live edit; and, with Let's Encrypt's test CA (Debian's pebble) on loopback, the
# certificate lifecycle: an Ingress annotated portico.io/tls-acme issued, served over HTTPS and
# renewed under a keep-alive client. Interactive: keeps serving until Ctrl-C so the printed
# curl commands can be tried; otherwise (CI, pipes) it ends after the tour.
set -euo pipefail
PORTICO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=$(mktemp -d /tmp/portico-demo.XXXXXX)
# The load client's files live apart: every event in the manifest directory makes Portico read
# it again, and a read that lands between `>` truncating a manifest and its write would see
# that file empty (its objects gone until the write is closed).
LOAD=$(mktemp -d /tmp/portico-demo-load.XXXXXX)
PIDS=()
PEBBLE=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $PEBBLE ]] && "$ROOT/tests/pebble/stop.sh" "$PEBBLE"
  wait 2>/dev/null || true
  rm -rf "$DIR" "$LOAD"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# shellcheck disable=SC2294  # the demo prints the command line, then runs it as typed
run() { printf '$ %s\n' "$*"; eval "$@" || true; }
in_use() { python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1))!=0)"; }
for port in 8080 8443 9001 9002; do
  if in_use "$port"; then echo "demo: port $port is in use on 127.0.0.1; stop what uses it and retry" >&2; exit 1; fi
done

cp "$ROOT"/manifests/examples/*.yaml "$DIR/" && mkdir "$DIR/state"
# The certificate half needs pebble (the HTTP-01 validations come to the demo's port 8080).
if ! command -v pebble >/dev/null || ! command -v pebble-challtestsrv >/dev/null; then
  echo "demo: pebble (Let's Encrypt's test CA, Debian package pebble) is not installed: showing routing only"
elif ! "$ROOT/tests/pebble/start.sh" "$DIR/pebble" 8080 2>"$DIR/pebble-start.log"; then
  echo "demo: pebble did not start ($(tail -n1 "$DIR/pebble-start.log")): showing routing only"
else
  PEBBLE=$DIR/pebble
  # shellcheck disable=SC1091
  source "$PEBBLE/env"
  say "Let's Encrypt's test CA (pebble) at $PEBBLE_DIRECTORY; its DNS answers 127.0.0.1 for every name"
  cat >>"$DIR/00-ingressclass.yaml" <<YAML
  acme:  # added by the demo: certificates from pebble
    server: $PEBBLE_DIRECTORY
    email: demo@portico.example
    caBundle: $(base64 -w0 "$PEBBLE_CA")
YAML
fi
say "Example backends: 'site' on 127.0.0.1:9001 and 'api' on 127.0.0.1:9002"
python3 "$ROOT/tests/proxy_it/backend.py" 9001 site >"$DIR/site.log" 2>&1 &
PIDS+=($!)
python3 "$ROOT/tests/proxy_it/backend.py" 9002 api >"$DIR/api.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q ready "$DIR/site.log" && grep -q ready "$DIR/api.log" && break; sleep 0.05; done

say "portico local --manifests $DIR --state $DIR/state"
"$PORTICO" local --manifests "$DIR" --state "$DIR/state" --metrics-address 127.0.0.1:9102 \
  >"$DIR/portico.out" 2>"$DIR/portico.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$DIR/portico.out" && break; sleep 0.05; done
cat "$DIR/portico.out"

say "Routing (Ingress v1 rules, the oldest claim wins a conflict)"
run curl -s -H "'Host: shop.example'" http://127.0.0.1:8080/
run curl -s -H "'Host: shop.example'" http://127.0.0.1:8080/api/orders
run curl -s -o /dev/null -w "'%{http_code} (Exact /healthz → api)\n'" -H "'Host: shop.example'" http://127.0.0.1:8080/healthz
run curl -s -H "'Host: shop.example'" http://127.0.0.1:8080/beta
run curl -s -o /dev/null -w "'%{http_code} (another controller'\''s Ingress is left alone)\n'" -H "'Host: other.example'" http://127.0.0.1:8080/

say "What the operator wrote: status, Events (files in the state directory)"
run "find $DIR/state -name '*.yaml' | sed 's#$DIR/state/##' | sort"
run "sed -n '/^status:/,\$p' $DIR/state/ingresses.networking.k8s.io/default/shop.yaml"
run "grep -h -E '^(reason|message):' $DIR/state/events.core/default/*.yaml"
run "grep -B5 'type: \"Programmed\"' $DIR/state/ingressclassconfigs.portico.io/_cluster/portico.yaml | grep -E 'message|status'"

say "A live edit: a new Ingress file goes live without a reload (no connection is cut)"
cat >"$DIR/30-blog.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: blog}
spec:
  rules:
  - host: blog.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: site, port: {number: 80}}}}]
YAML
start=$(date +%s%N)
for _ in $(seq 1 200); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: blog.example' http://127.0.0.1:8080/) == 200 ]] && break
  sleep 0.005
done
echo "blog.example answered $(( ($(date +%s%N) - start) / 1000000 )) ms after the file was written"
run curl -s -H "'Host: blog.example'" http://127.0.0.1:8080/

if [[ -n $PEBBLE ]]; then
  # shellcheck disable=SC2034  # read by certificate_state.sh
  STATE=$DIR/state
  # shellcheck source=../lib/certificate_state.sh
  source "$ROOT/tests/lib/certificate_state.sh"
  serial() {
    openssl s_client -connect 127.0.0.1:8443 -servername secure.example </dev/null 2>/dev/null \
      | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
  }
  secure_ingress() {  # [RENEW_VALUE]
    cat <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  annotations:
    portico.io/tls-acme: "true"${1:+
    portico.io/renew: \"$1\"}
spec:
  tls: [{hosts: [secure.example], secretName: secure-tls}]
  rules:
  - host: secure.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: site, port: {number: 80}}}}]
YAML
  }
  say "Certificates: an Ingress annotated portico.io/tls-acme gets one from the CA (HTTP-01 answered by the proxy itself, no solver pod)"
  secure_ingress | tee "$DIR/40-secure.yaml"
  start=$(date +%s%N)
  last=""
  deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    issuing=$(condition secure-tls Issuing)
    [[ -z $issuing ]] && { sleep 0.02; continue; }  # the Certificate is being created
    now="Certificate secure-tls: Issuing=$issuing Ready=$(condition secure-tls Ready)"
    [[ $now != "$last" ]] && echo "$(( ($(date +%s%N) - start) / 1000000 )) ms  $now" && last=$now
    [[ $now == *Ready=True/Ready* ]] && break
    sleep 0.05
  done
  echo "The order's steps, as Events on the Certificate:"
  grep -h -E '^(reason|message):' "$DIR"/state/events.core/default/secure-tls.*.yaml 2>/dev/null \
    | paste - - | sed 's/^message: "\(.*\)"\treason: "\([^"]*\)"$/  \2: \1/'
  say "The Secret written (owner-only), and HTTPS with a chain that verifies against the CA's root"
  run stat -c "'%A %n'" "$DIR/state/secrets.core/default/secure-tls.yaml"
  run curl -s --cacert "$PEBBLE/root.pem" --resolve secure.example:8443:127.0.0.1 https://secure.example:8443/
  run "$PORTICO" explain --manifests "$DIR" --state "$DIR/state" --host secure.example
  say "A forced renewal (portico.io/renew) under an HTTPS keep-alive client"
  before=$(serial)
  python3 "$ROOT/tests/lib/keepalive_load.py" 8443 secure.example "$LOAD/stop" --tls "$PEBBLE/root.pem" \
    --max-seconds 30 --ready-file "$LOAD/ready" >"$LOAD/out" &
  load=$!
  for _ in $(seq 1 100); do [[ -e $LOAD/ready ]] && break; sleep 0.1; done
  secure_ingress "$(date +%s)" >"$DIR/40-secure.yaml"
  for _ in $(seq 1 300); do after=$(serial); [[ -n $after && $after != "$before" ]] && break; sleep 0.05; done
  sleep 0.3
  touch "$LOAD/stop"
  wait $load || true
  read -r ok bad reconnects _ <"$LOAD/out"
  echo "serial $before → $after (revision $(cert_field secure-tls revision)); the keep-alive client: $ok requests, $bad failed, $reconnects reconnects"
fi

say "Health and metrics"
run curl -s http://127.0.0.1:9102/readyz
run "curl -s http://127.0.0.1:9102/metrics | grep -E '^portico_(snapshot_generation|routes|proxy_requests_total|snapshot_propagation_seconds_(count|sum)|controller_reconcile_total[{].*success)'"
[[ -n $PEBBLE ]] && run "curl -s http://127.0.0.1:9102/metrics | grep -E '^portico_certificate_(ready_status[{].*True|expiration_timestamp_seconds|renewal_timestamp_seconds)'"

say "Try it yourself"
cat <<TXT
  curl -H 'Host: shop.example' http://127.0.0.1:8080/api
  curl -H 'Host: blog.example' http://127.0.0.1:8080/
  edit or add files in $DIR (e.g. change blog's backend to 'api') and curl again
  $PORTICO explain --manifests $DIR --host shop.example --path /api
TXT
[[ -n $PEBBLE ]] && echo "  curl --cacert $PEBBLE/root.pem --resolve secure.example:8443:127.0.0.1 https://secure.example:8443/"
if [[ -t 0 && -z ${CI:-} ]]; then
  echo "Serving until Ctrl-C..."
  wait "${PIDS[-1]}" || true
fi
