#!/usr/bin/env bash
# Benchmark (a script, not a test): Portico vs nginx vs haproxy as reverse proxies in front of
# the same backend, same worker count (1) and CPU pinning, load from wrk. Prints req/s, p50/p99
# and proxy RSS side by side with the ratios, then route compile/lookup numbers.
#   tests/bench/proxy_bench.sh [BUILD_DIR]     (DURATION=10 ROUNDS=3 to change the runs)
# CPU layout on a 2-core machine: the proxy under test on CPU 0; backend and wrk on CPU 1.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
PORTICO=$BUILD/portico
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
"$HERE/../install-packages.sh" nginx-light haproxy wrk
WORK=$(mktemp -d /tmp/portico-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as an unprivileged user and must read the files
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/small" && return 0; sleep 0.05; done; return 1; }
PROXY_CPU=0
LOAD_CPU=$(( $(nproc) > 1 ? 1 : 0 ))

BE=$(free_port); P_PORTICO=$(free_port); P_NGINX=$(free_port); P_HAPROXY=$(free_port)
S_PORTICO=$(free_port); S_NGINX=$(free_port); S_HAPROXY=$(free_port)
mkdir -p "$WORK/www" "$WORK/be" "$WORK/ngx" "$WORK/manifests"
head -c 1048576 /dev/zero | tr '\0' x >"$WORK/www/big"
# One ECDSA P-256 certificate for all three proxies (the same OpenSSL underneath).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.pem" \
  -days 2 -subj /CN=bench.test -addext subjectAltName=DNS:bench.test 2>/dev/null
cat "$WORK/tls.pem" "$WORK/tls.key" >"$WORK/haproxy.pem"

# The backend: nginx, one worker, a tiny response and a 1 MiB file.
cat >"$WORK/be/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/be/nginx.pid; error_log $WORK/be/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BE; root $WORK/www;
    location = /small { default_type text/plain; return 200 "ok\n"; } } }
CONF
taskset -c "$LOAD_CPU" nginx -c "$WORK/be/nginx.conf" -p "$WORK/be" &
PIDS+=($!)

# nginx as the proxy.
cat >"$WORK/ngx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/ngx/nginx.pid; error_log $WORK/ngx/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream be { server 127.0.0.1:$BE; keepalive 64; }
  server { listen 127.0.0.1:$P_NGINX; listen 127.0.0.1:$S_NGINX ssl;
    ssl_certificate $WORK/tls.pem; ssl_certificate_key $WORK/tls.key; ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$remote_addr; } } }
CONF
taskset -c "$PROXY_CPU" nginx -c "$WORK/ngx/nginx.conf" -p "$WORK/ngx" &
PIDS+=($!)

# haproxy as the proxy (maxconn under half the fd limit, or it refuses to start).
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
  bind 127.0.0.1:$P_HAPROXY
  bind 127.0.0.1:$S_HAPROXY ssl crt $WORK/haproxy.pem
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:$BE maxconn 1000
CONF
taskset -c "$PROXY_CPU" haproxy -f "$WORK/haproxy.cfg" -db &
PIDS+=($!)
HAPROXY_PID=$!

# Portico: one host-less Ingress to the backend, one worker.
{
  manifest_portico_class false bench-tls
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
  --http-port "$P_PORTICO" --https-port "$S_PORTICO" --workers 1 >/dev/null 2>"$WORK/portico.err" &
PIDS+=($!)
PORTICO_PID=$!

for p in $BE $P_NGINX $P_HAPROXY $P_PORTICO; do wait_port "$p" || { echo "port $p did not come up"; exit 1; }; done
NGINX_PIDS="$(cat "$WORK/ngx/nginx.pid") $(pgrep -P "$(cat "$WORK/ngx/nginx.pid")" | tr '\n' ' ')"

run_wrk() {  # run_wrk URL_BASE CONNECTIONS PATH [extra wrk args] → "rps p50_ms p99_ms errors"
  local base=$1 conns=$2 path=$3; shift 3
  taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$@" "$base$path" >"$WORK/wrk.out" 2>&1 || true
  python3 - "$WORK/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    if not m: return float("nan")
    v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
errs = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
e = (int(errs.group(1)) if errs else 0) + (sum(map(int, sock.groups())) if sock else 0)
print("%.0f %.2f %.2f %d" % (float(rps.group(1)) if rps else 0.0, ms("50%"), ms("99%"), e))
PY
}

# A TLS handshake per connection that never resumes a session: openssl s_time -new (one
# client process; ECDSA verification on the client side costs about what signing costs here).
run_s_time() {  # run_s_time PORT PATH → "rps p50_ms p99_ms errors"
  taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:$1" -new -www "$2" -time "$DURATION" \
    >"$WORK/s_time.out" 2>&1 || true
  python3 - "$WORK/s_time.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"(\d+) connections in ([\d.]+) real seconds", t)
print("%.0f nan nan 0" % (int(m.group(1)) / float(m.group(2)) if m else 0.0))
PY
}

# CPU time (user + system, clock ticks) the proxy under test has used so far.
cpu_ticks() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$total"; }

rss_kib() { local total=0; for p in "$@"; do total=$((total + $(ps -o rss= -p "$p" 2>/dev/null || echo 0))); done; echo "$total"; }

declare -A RESULT
proxy_pids() {  # PROXY → its process ids
  case $1 in portico) echo "$PORTICO_PID" ;; nginx) echo "$NGINX_PIDS" ;; haproxy) echo "$HAPROXY_PID" ;; esac
}

scenario() {  # scenario NAME SCHEME CONNECTIONS PATH [wrk args]; CONNECTIONS "s_time": full handshakes
  local name=$1 scheme=$2 conns=$3 path=$4; shift 4
  for proxy in portico nginx haproxy; do : >"$WORK/$name.$proxy"; done
  # shellcheck disable=SC2034  # a counter of rounds
  for round in $(seq 1 "$ROUNDS"); do
    for proxy in portico nginx haproxy; do  # alternate, so drift hits all alike
      if [[ $scheme == https ]]; then
        case $proxy in portico) port=$S_PORTICO ;; nginx) port=$S_NGINX ;; haproxy) port=$S_HAPROXY ;; esac
      else
        case $proxy in portico) port=$P_PORTICO ;; nginx) port=$P_NGINX ;; haproxy) port=$P_HAPROXY ;; esac
      fi
      local before after result
      # shellcheck disable=SC2046  # one pid per word
      before=$(cpu_ticks $(proxy_pids $proxy))
      if [[ $conns == s_time ]]; then
        result=$(run_s_time "$port" "$path")
      else
        result=$(run_wrk "$scheme://127.0.0.1:$port" "$conns" "$path" "$@")
      fi
      # shellcheck disable=SC2046
      after=$(cpu_ticks $(proxy_pids $proxy))
      # The proxy's CPU share of the run: below 100 % the load side, not the proxy, is the limit.
      echo "$result $(( (after - before) * 100 / (DURATION * $(getconf CLK_TCK)) ))" >>"$WORK/$name.$proxy"
    done
  done
  for proxy in portico nginx haproxy; do
    RESULT[$name.$proxy]=$(sort -n "$WORK/$name.$proxy" | sed -n "$(( (ROUNDS + 1) / 2 ))p")  # the median run
  done
}

echo "Benchmark: ${DURATION}s x ${ROUNDS} alternating rounds, median shown; proxy on CPU $PROXY_CPU, backend+wrk on CPU $LOAD_CPU"
scenario "keepalive-small" http 50 /small
scenario "new-connection" http 50 /small -H "Connection: close"
scenario "https-keepalive" https 50 /small
scenario "tls-handshakes" https 50 /small -H "Connection: close"
scenario "tls-full-handshake" https s_time /small
scenario "1MiB-response" http 10 /big
printf '\n%-18s %-8s %10s %8s %8s %7s %9s %5s\n' scenario proxy req/s p50_ms p99_ms errors rss_KiB cpu%
for name in keepalive-small new-connection https-keepalive tls-handshakes tls-full-handshake 1MiB-response; do
  for proxy in portico nginx haproxy; do
    read -r rps p50 p99 errs cpu <<<"${RESULT[$name.$proxy]}"
    case $proxy in portico) rss=$(rss_kib "$PORTICO_PID") ;; nginx) rss=$(rss_kib $NGINX_PIDS) ;; haproxy) rss=$(rss_kib "$HAPROXY_PID") ;; esac
    printf '%-18s %-8s %10s %8s %8s %7s %9s %5s\n' "$name" "$proxy" "$rps" "$p50" "$p99" "$errs" "$rss" "$cpu"
  done
  read -r a _ <<<"${RESULT[$name.portico]}"; read -r b _ <<<"${RESULT[$name.nginx]}"; read -r c _ <<<"${RESULT[$name.haproxy]}"
  python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print('%-18s ratios: portico/nginx %.2f  portico/haproxy %.2f' % ('$name', a/b if b else 0, a/c if c else 0))" "$a" "$b" "$c"
done

echo
echo "Route compilation and lookup (tests/bench/route_bench):"
"$BUILD/tests/bench/route_bench"
"$BUILD/tests/bench/route_bench" --snapshot "$WORK/10k.snap" 10000
"$PORTICO" proxy --snapshot "$WORK/10k.snap" --http-address 127.0.0.1 --http-port 0 --workers 2 >"$WORK/10k.out" 2>/dev/null &
PID10K=$!
# shellcheck disable=SC2206  # a pid is one word
PIDS+=($PID10K)
for _ in $(seq 1 100); do grep -q listening "$WORK/10k.out" && break; sleep 0.05; done
echo "proxy RSS with 10k Ingresses (2 workers): $(rss_kib $PID10K) KiB"
