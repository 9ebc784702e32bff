#!/usr/bin/env bash
# Benchmark (a script, not a test): HTTP/2 to clients over TLS — Portico vs nginx (`http2 on`)
# vs haproxy (ALPN h2), each one worker on the same CPU, in front of the same HTTP/1.1 backend,
# load from h2load (-c 50 -m 10 by default). Prints req/s, mean and p99 request time and the
# proxy's CPU share, medians of alternating rounds, with the ratios.
#   tests/bench/h2_bench.sh [BUILD_DIR]   (DURATION=10 ROUNDS=3 CLIENTS=50 STREAMS=10)
# CPU layout on a 2-core machine: the proxy under test on CPU 0; backend and h2load on CPU 1.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
PORTICO=$BUILD/portico
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
STREAMS=${STREAMS:-10}
"$HERE/../install-packages.sh" nginx-light haproxy nghttp2-client
WORK=$(mktemp -d /tmp/portico-h2-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as an unprivileged user and must read the files
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_tls() {
  for _ in $(seq 1 100); do
    curl -sk --http2 -o /dev/null "https://127.0.0.1:$1/small" && return 0
    sleep 0.05
  done
  return 1
}
PROXY_CPU=0
LOAD_CPU=$(($(nproc) > 1 ? 1 : 0))

BE=$(free_port); S_PORTICO=$(free_port); S_NGINX=$(free_port); S_HAPROXY=$(free_port)
mkdir -p "$WORK/www" "$WORK/be" "$WORK/ngx" "$WORK/manifests"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/tls.key" \
  -out "$WORK/tls.pem" -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
cat "$WORK/tls.pem" "$WORK/tls.key" >"$WORK/haproxy.pem"

cat >"$WORK/be/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/be/nginx.pid; error_log $WORK/be/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BE; root $WORK/www;
    location = /small { default_type text/plain; return 200 "ok\n"; } } }
CONF
taskset -c "$LOAD_CPU" nginx -c "$WORK/be/nginx.conf" -p "$WORK/be" &
PIDS+=($!)

cat >"$WORK/ngx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/ngx/nginx.pid; error_log $WORK/ngx/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; http2_max_concurrent_streams 128;
  upstream be { server 127.0.0.1:$BE; keepalive 64; }
  server { listen 127.0.0.1:$S_NGINX ssl http2;
    ssl_certificate $WORK/tls.pem; ssl_certificate_key $WORK/tls.key; ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$remote_addr; } } }
CONF
taskset -c "$PROXY_CPU" nginx -c "$WORK/ngx/nginx.conf" -p "$WORK/ngx" &
PIDS+=($!)

cat >"$WORK/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 5000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor
frontend fe
  bind 127.0.0.1:$S_HAPROXY ssl crt $WORK/haproxy.pem alpn h2,http/1.1
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:$BE maxconn 1000
CONF
taskset -c "$PROXY_CPU" haproxy -f "$WORK/haproxy.cfg" -db &
HAPROXY_PID=$!
PIDS+=("$HAPROXY_PID")

{
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec: {sslRedirect: false, defaultCertificate: {namespace: default, name: bench-tls}, listeners: {https: {http2: true}}}\n'
  manifest_tls_secret bench-tls "$WORK/tls.pem" "$WORK/tls.key"
  manifest_service be
  manifest_endpoint_slice be-1 be "$BE"
  cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench}
spec:
  rules:
  - http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: be, port: {number: 80}}}}]
YAML
} >"$WORK/manifests/bench.yaml"
"$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" >/dev/null
taskset -c "$PROXY_CPU" "$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 \
  --http-port 0 --https-port "$S_PORTICO" --workers 1 >/dev/null 2>"$WORK/portico.err" &
PORTICO_PID=$!
PIDS+=("$PORTICO_PID")

for p in $S_NGINX $S_HAPROXY $S_PORTICO; do wait_tls "$p" || { echo "port $p did not come up"; exit 1; }; done
NGINX_PIDS="$(cat "$WORK/ngx/nginx.pid") $(pgrep -P "$(cat "$WORK/ngx/nginx.pid")" | tr '\n' ' ')"
proxy_pids() {
  case $1 in portico) echo "$PORTICO_PID" ;; nginx) echo "$NGINX_PIDS" ;; haproxy) echo "$HAPROXY_PID" ;; esac
}
proxy_port() {
  case $1 in portico) echo "$S_PORTICO" ;; nginx) echo "$S_NGINX" ;; haproxy) echo "$S_HAPROXY" ;; esac
}
cpu_ticks() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$total"; }

run_h2load() {  # PORT → "rps mean_ms p99_ms errors"
  taskset -c "$LOAD_CPU" h2load -c "$CLIENTS" -m "$STREAMS" -t 1 -D "$DURATION" \
    --log-file="$WORK/h2load.log" "https://127.0.0.1:$1/small" >"$WORK/h2load.out" 2>&1 || true
  python3 - "$WORK/h2load.out" "$WORK/h2load.log" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", t)
failed = re.search(r"requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed", t)
times = []
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) >= 3: times.append(int(parts[2]) / 1000.0)  # microseconds → ms
times.sort()
mean = sum(times) / len(times) if times else float("nan")
p99 = times[int(len(times) * 0.99)] if times else float("nan")
print("%.0f %.2f %.2f %s" % (float(rps.group(1)) if rps else 0, mean, p99, failed.group(1) if failed else "?"))
PY
}

echo "HTTP/2 over TLS: h2load -c $CLIENTS -m $STREAMS, ${DURATION}s x ${ROUNDS} alternating rounds, median shown;"
echo "proxy on CPU $PROXY_CPU, backend + h2load on CPU $LOAD_CPU"
for proxy in portico nginx haproxy; do : >"$WORK/$proxy.runs"; done
# shellcheck disable=SC2034  # a counter of rounds
for round in $(seq 1 "$ROUNDS"); do
  for proxy in portico nginx haproxy; do
    # shellcheck disable=SC2046  # one pid per word
    before=$(cpu_ticks $(proxy_pids $proxy))
    result=$(run_h2load "$(proxy_port $proxy)")
    # shellcheck disable=SC2046
    after=$(cpu_ticks $(proxy_pids $proxy))
    echo "$result $(((after - before) * 100 / (DURATION * $(getconf CLK_TCK))))" >>"$WORK/$proxy.runs"
  done
done
printf '\n%-8s %10s %8s %8s %7s %5s   %s\n' proxy req/s mean_ms p99_ms failed cpu% "all rounds (req/s)"
declare -A MEDIAN
for proxy in portico nginx haproxy; do
  MEDIAN[$proxy]=$(sort -n "$WORK/$proxy.runs" | sed -n "$(((ROUNDS + 1) / 2))p")
  read -r rps mean p99 failed cpu <<<"${MEDIAN[$proxy]}"
  printf '%-8s %10s %8s %8s %7s %5s   %s\n' "$proxy" "$rps" "$mean" "$p99" "$failed" "$cpu" \
    "$(cut -d' ' -f1 "$WORK/$proxy.runs" | tr '\n' ' ')"
done
read -r a _ <<<"${MEDIAN[portico]}"; read -r b _ <<<"${MEDIAN[nginx]}"; read -r c _ <<<"${MEDIAN[haproxy]}"
python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print('ratios: portico/nginx %.2f  portico/haproxy %.2f' % (a/b if b else 0, a/c if c else 0))" "$a" "$b" "$c"
