#!/usr/bin/env bash
# `portico proxy` over a compiled snapshot in front of real backend processes, driven by curl
# and raw sockets: routing, keep-alive reuse, X-Forwarded-*, chunked and large bodies both ways,
# dead and slow backends, limits, malformed and smuggling requests, pipelining, WebSockets, and
# snapshot republishing under load without a failed request or a cut WebSocket.
# Usage: proxy_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
WORK=$(mktemp -d /tmp/portico-proxy-it.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"

# shellcheck source=two_backends.sh
source "$HERE/two_backends.sh"

# A test CA and certificates: app.test, *.wild.test, secure.test, and a default certificate.
mkdir "$WORK/manifests" "$WORK/pki"
(
  cd "$WORK/pki" || exit 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj /CN=portico-test-ca 2>/dev/null
  for spec in app:app.test:DNS:app.test wild:wild:DNS:*.wild.test secure:secure.test:DNS:secure.test \
    default:default.test:DNS:default.test; do
    IFS=: read -r name cn kind value <<<"$spec"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" \
      -subj "/CN=$cn" 2>/dev/null
    printf 'subjectAltName=%s:%s\n' "$kind" "$value" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days 2 \
      -extfile "$name.ext" 2>/dev/null
  done
)
write_manifests() {  # write_manifests EXTRA_PATH_NAME
  {
    manifest_portico_class false default-tls
    manifest_service web
    manifest_endpoint_slice web-1 web "$PORT_A"
    manifest_endpoint_slice web-2 web "$PORT_B"
    manifest_service dead
    manifest_endpoint_slice dead-1 dead "$DEAD_PORT"
    manifest_service mixed
    manifest_endpoint_slice mixed-1 mixed "$DEAD_PORT"
    manifest_endpoint_slice mixed-2 mixed "$PORT_A"
    manifest_service solo
    manifest_endpoint_slice solo-1 solo "$PORT_A"
    manifest_tls_secret app-tls "$WORK/pki/app.pem" "$WORK/pki/app.key"
    manifest_tls_secret wild-tls "$WORK/pki/wild.pem" "$WORK/pki/wild.key"
    manifest_tls_secret secure-tls "$WORK/pki/secure.pem" "$WORK/pki/secure.key"
    manifest_tls_secret default-tls "$WORK/pki/default.pem" "$WORK/pki/default.key"
    cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, annotations: {portico.io/ssl-redirect: "true"}}
spec:
  tls: [{hosts: [secure.test], secretName: secure-tls}]
  rules:
  - host: secure.test
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: solo}
spec:
  rules:
  - host: solo.test
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: solo, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: app}
spec:
  tls: [{hosts: [app.test], secretName: app-tls}, {hosts: ["*.wild.test"], secretName: wild-tls}]
  rules:
  - host: "*.wild.test"
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
  - host: app.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {path: /dead, pathType: Prefix, backend: {service: {name: dead, port: {number: 80}}}}
      - {path: /mixed, pathType: Prefix, backend: {service: {name: mixed, port: {number: 80}}}}
      - {path: /$1, pathType: Exact, backend: {service: {name: dead, port: {number: 80}}}}
YAML
  } >"$WORK/manifests/all.yaml"
}
write_manifests v0
"$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" \
  --acme-token "tok-123=tok-123.thumbprint" >/dev/null 2>&1 || { echo "snapshot compile failed"; exit 1; }
METRICS_PORT=$(free_port)
"$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 --https-port 0 --workers 2 \
  --upstream-timeout 1 --max-body-bytes 2000000 --max-head-bytes 8192 --metrics-address "127.0.0.1:$METRICS_PORT" \
  >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
PIDS+=($!)
wait_line "$WORK/proxy.out" "listening on" 10 || { echo "proxy did not start"; cat "$WORK/proxy.err"; exit 1; }
PORT=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy.out")
TLS_PORT=$(sed -n 's/.*https:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy.out")
URL=http://127.0.0.1:$PORT
C=(curl -s -H "Host: app.test")

# Routing and round-robin over both endpoints.
seen=$(for _ in 1 2 3 4 5 6; do "${C[@]}" "$URL/"; done | sort -u | tr '\n' ' ')
check "round-robin reaches both endpoints" "backend-a backend-b " "$seen"
check "unknown host is 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.test' "$URL/")"

# Keep-alive: curl reuses one connection for several requests.
curl -sv -H "Host: app.test" "$URL/x" "$URL/y" "$URL/z" -o /dev/null -o /dev/null -o /dev/null 2>"$WORK/keepalive.err"
check "keep-alive connection reused" "2" "$(grep -c 'Re-using existing connection' "$WORK/keepalive.err")"

# ...and so does the proxy upstream: four requests on one client connection to a one-endpoint
# backend all arrive on one upstream connection (kept with the client between requests).
peer_ports=$(curl -s -H "Host: solo.test" "$URL/echo" "$URL/echo" "$URL/echo" "$URL/echo" |
  grep -o '"peer_port": [0-9]*' | sort -u | wc -l)
check "the upstream connection is reused across a client's requests" "1" "$peer_ports"

# Forwarded headers, Host preserved.
echo_doc=$("${C[@]}" -H 'X-Forwarded-For: 203.0.113.7' "$URL/echo")
fwd=$(python3 -c 'import json,sys; h=json.loads(sys.argv[1])["headers"]; print(h.get("Host"), h.get("X-Forwarded-For"), h.get("X-Forwarded-Proto"), h.get("X-Forwarded-Host"))' "$echo_doc")
check "Host kept; X-Forwarded-For/-Proto/-Host set" "app.test 203.0.113.7, 127.0.0.1 http app.test" "$fwd"

# Request bodies: chunked upload and a large Content-Length body arrive intact.
head -c 300000 /dev/urandom >"$WORK/body.bin"
want=$(sha256sum "$WORK/body.bin" | cut -d' ' -f1)
got=$("${C[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/body.bin" "$URL/echo" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["body_sha256"], d["body_length"])')
check "chunked upload arrives intact" "$want 300000" "$got"
head -c 1500000 /dev/urandom >"$WORK/big.bin"
want=$(sha256sum "$WORK/big.bin" | cut -d' ' -f1)
got=$("${C[@]}" --data-binary @"$WORK/big.bin" "$URL/echo" | python3 -c 'import json,sys; print(json.load(sys.stdin)["body_sha256"])')
check "1.5 MB upload with Content-Length arrives intact" "$want" "$got"

# Response bodies: chunked, 1 MiB, close-delimited, HEAD.
check "chunked response relayed" "$(printf 'chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4')" "$("${C[@]}" "$URL/chunked?n=5")"
check "1 MiB response relayed" "1048576" "$("${C[@]}" "$URL/big?bytes=1048576" | wc -c)"
check "close-delimited response relayed" "closed-body" "$("${C[@]}" "$URL/close")"
check "HEAD has no body" "0" "$("${C[@]}" -I "$URL/big?bytes=1000" -o /dev/null -w '%{size_download}')"

# Failing upstreams.
check "dead backend is 502" "502" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/dead")"
mixed=$(for _ in 1 2 3 4; do "${C[@]}" -o /dev/null -w '%{http_code} ' "$URL/mixed"; done)
check "a failed connect retries the next endpoint" "200 200 200 200 " "$mixed"
check "slow backend is 504" "504" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/slow?ms=3000")"

# Limits.
head -c 2500000 /dev/zero >"$WORK/toolarge.bin"
check "body over the limit is 413" "413" "$("${C[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$WORK/toolarge.bin" "$URL/echo")"
check "head over the limit is 431" "431" "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL/")"

# Malformed and smuggling requests: 400 and the connection is closed.
raw() { python3 "$HERE/raw_http.py" "$PORT" "$1" 3; }
out=$(raw 'GET / HTTP/1.1\r\nHost: app.test\r\nHost: evil.test\r\n\r\n')
check "two Host headers: 400 and close" "400 CLOSED" "$(echo "$out" | head -1 | cut -d' ' -f2) $(echo "$out" | tail -1)"
out=$(raw 'POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n')
check "CL + TE: 400 and close" "400 CLOSED" "$(echo "$out" | head -1 | cut -d' ' -f2) $(echo "$out" | tail -1)"
out=$(raw 'GET / HTTP/1.1\r\nHost: app.test\r\nX: a\r\n b\r\n\r\n')
check "obs-fold: 400" "400" "$(echo "$out" | head -1 | cut -d' ' -f2)"
out=$(raw 'GET /x HTTP/1.1\r\nHost: app.test\r\n\r\nGET /y HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
check "pipelined requests both answered, in order" "2 CLOSED" "$(echo "$out" | grep -c '^HTTP/1.1 200') $(echo "$out" | tail -1)"
out=$(python3 "$HERE/raw_http.py" "$PORT" 'GET / HTTP/1.1\r\nHost: app' 2)
check "an incomplete head waits (no answer yet)" "OPEN" "$(echo "$out" | tail -1)"

# RFC 9112 §3.2.2: an absolute-form target's authority replaces Host, routing and forwarding alike.
host_seen() { echo "$1" | grep -o '"Host": "[^"]*"' | cut -d'"' -f4; }
out=$(raw 'GET http://app.test/echo HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n')
check "absolute form: the URI's authority is the Host upstream" "app.test" "$(host_seen "$out")"
out=$(raw 'GET /echo HTTP/1.1\r\nHost: app.test\r\nConnection: Host, close\r\n\r\n')
check "Connection: Host does not strip Host" "app.test" "$(host_seen "$out")"
out=$(raw 'GET / HTTP/1.1\r\nHost: [::1]:junk\r\n\r\n')
check "Host [::1]:junk is 400" "400" "$(echo "$out" | head -1 | cut -d' ' -f2)"
# RFC 9112 §6.1: an HTTP/1.0 client never gets chunked; the body ends with the connection.
out=$(raw 'GET /chunked?n=3 HTTP/1.0\r\nHost: app.test\r\n\r\n')
check "HTTP/1.0 client: chunked response close-delimited" "0 chunk-0 chunk-2 CLOSED" \
  "$(echo "$out" | grep -ci '^transfer-encoding') $(echo "$out" | grep -c '^chunk-0$' | sed 's/1/chunk-0/') $(echo "$out" | grep -c '^chunk-2$' | sed 's/1/chunk-2/') $(echo "$out" | tail -1)"
# A bare LF is answered at once, not after the header timeout (the client waits 2 s at most).
start_ms=$(date +%s%3N)
out=$(python3 "$HERE/raw_http.py" "$PORT" 'GET / HTTP/1.1\nHost: app.test\n' 2)
elapsed=$(($(date +%s%3N) - start_ms))
check "bare LF head: 400 and close at once" "400 CLOSED fast" \
  "$(echo "$out" | head -1 | cut -d' ' -f2) $(echo "$out" | tail -1) $( ((elapsed < 1500)) && echo fast || echo "slow:${elapsed}ms")"
# RFC 9110 §6.6.1: Date on every response; Server: portico unless the backend sent its own.
hdrs=$(curl -s -D - -o /dev/null -H 'Host: other.test' "$URL/")
check "a local 404 carries Date and Server" "1 Server: portico" \
  "$(echo "$hdrs" | grep -c '^Date: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]* GMT') $(echo "$hdrs" | grep -i '^server:' | tr -d '\r')"
hdrs=$("${C[@]}" -D - -o /dev/null "$URL/noserver")
check "a backend without Server/Date gets both added" "1 Server: portico" \
  "$(echo "$hdrs" | grep -c '^Date: ') $(echo "$hdrs" | grep -i '^server:' | tr -d '\r')"
hdrs=$("${C[@]}" -D - -o /dev/null "$URL/echo")
check "a backend's own Server passes unchanged" "1" "$(echo "$hdrs" | grep -ci '^server: BaseHTTP')"

# ACME path without a token in the snapshot.
check "unknown ACME token is 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/.well-known/acme-challenge/nope")"

# TLS: SNI picks exact, wildcard, then the default certificate; 1.2 and 1.3; resumption.
TC=(curl -s --cacert "$WORK/pki/ca.pem")
check "HTTPS with the exact certificate" "backend-a backend-b" \
  "$(for _ in 1 2 3 4; do "${TC[@]}" --resolve "app.test:$TLS_PORT:127.0.0.1" "https://app.test:$TLS_PORT/"; done | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "HTTPS with the wildcard certificate" "200" \
  "$("${TC[@]}" -o /dev/null -w '%{http_code}' --resolve "x.wild.test:$TLS_PORT:127.0.0.1" "https://x.wild.test:$TLS_PORT/")"
subject() { echo | openssl s_client -connect "127.0.0.1:$TLS_PORT" "$@" 2>/dev/null | sed -n 's/^subject=.*CN *= *//p'; }
check "unknown SNI gets the default certificate" "default.test" "$(subject -servername unknown.test)"
check "no SNI gets the default certificate" "default.test" "$(subject)"
check "wildcard covers one label only (default served)" "default.test" "$(subject -servername a.b.wild.test)"
check "TLS 1.2 works" "1" "$(echo | openssl s_client -tls1_2 -connect "127.0.0.1:$TLS_PORT" -servername app.test 2>/dev/null | grep -c '^New, TLSv1.2')"
check "TLS 1.1 is refused" "0" "$(echo | openssl s_client -tls1_1 -connect "127.0.0.1:$TLS_PORT" -servername app.test 2>/dev/null | grep -c '^New, TLSv1')"
req='GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n'
printf "$req" | openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername app.test -sess_out "$WORK/sess.pem" -ign_eof >/dev/null 2>&1
check "a TLS session resumes (tickets shared by all workers)" "1" \
  "$(printf "$req" | openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername app.test -sess_in "$WORK/sess.pem" \
    -sess_out "$WORK/sess2.pem" -ign_eof 2>/dev/null | grep -c '^Reused')"
check "a resumed session resumes again (a fresh ticket every time)" "1" \
  "$(printf "$req" | openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername app.test -sess_in "$WORK/sess2.pem" -ign_eof 2>/dev/null | grep -c '^Reused')"
curl -sv --cacert "$WORK/pki/ca.pem" --resolve "app.test:$TLS_PORT:127.0.0.1" "https://app.test:$TLS_PORT/x" "https://app.test:$TLS_PORT/y" -o /dev/null -o /dev/null 2>"$WORK/tls-keepalive.err"
check "HTTPS keep-alive reuses the connection" "1" "$(grep -c 'Re-using existing connection' "$WORK/tls-keepalive.err")"
check "X-Forwarded-Proto is https over TLS" "https" \
  "$("${TC[@]}" --resolve "app.test:$TLS_PORT:127.0.0.1" "https://app.test:$TLS_PORT/echo" | python3 -c 'import json,sys; print(json.load(sys.stdin)["headers"]["X-Forwarded-Proto"])')"
redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: secure.test' "$URL/path?q=1")
check "HTTP→HTTPS redirect (308) where the Ingress asks for it" "308 https://secure.test:$TLS_PORT/path?q=1" "$redirect"
check "ACME challenges are never redirected" "404" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: secure.test' "$URL/.well-known/acme-challenge/tok")"
check "a pending ACME token is answered for any host, ahead of the redirect" "200 tok-123.thumbprint" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: secure.test' "$URL/.well-known/acme-challenge/tok-123") $(curl -s -H 'Host: secure.test' "$URL/.well-known/acme-challenge/tok-123")"
check "a pending ACME token is answered for a host without routes" "tok-123.thumbprint" \
  "$(curl -s -H 'Host: nowhere.test' "$URL/.well-known/acme-challenge/tok-123")"
# Clients that vanish mid-response (plain and TLS) cost the proxy nothing but that connection.
python3 - "$PORT" "$TLS_PORT" <<'PY'
import socket, ssl, sys
plain, tls = int(sys.argv[1]), int(sys.argv[2])
req = b"GET /big?bytes=5000000 HTTP/1.1\r\nHost: app.test\r\n\r\n"
for _ in range(5):
    s = socket.create_connection(("127.0.0.1", plain)); s.sendall(req); s.recv(100); s.close()
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls)), server_hostname="app.test")
    t.sendall(req); t.recv(100)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    t.close()
    # An idle keep-alive TLS connection reset by the client (what load generators do at exit).
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tls)), server_hostname="app.test")
    t.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
    got = b""
    while b"backend-" not in got:
        got += t.recv(4096)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    t.close()
PY
check "the proxy survives clients that vanish mid-response" "200" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/")"
check "no redirect where the class default says no" "200" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/")"

# WebSocket: the upgrade reaches the backend, messages are echoed both ways (every frame
# length encoding), over HTTP and HTTPS; an h2c upgrade is not passed on.
ws=$(python3 "$HERE/websocket_client.py" "$PORT" app.test 2>&1)
check "WebSocket upgrade through the proxy (the backend saw Upgrade and X-Forwarded-For)" yes \
  "$(grep -qE '^backend-[ab] upgrade=websocket xff=127.0.0.1$' <<<"$ws" && echo yes || echo "$ws")"
check "WebSocket messages echoed both ways (5 B, 200 B, 70 KB, ...)" "ok=5 bad=0" "$(grep '^ok=' <<<"$ws")"
check "the WebSocket close handshake passes and the connection ends" "closed-cleanly=yes" "$(grep '^closed' <<<"$ws")"
check "a WebSocket quiet both ways for the upstream timeout (1 s here) is closed" "idle-closed=yes" \
  "$(python3 "$HERE/websocket_client.py" "$PORT" app.test --idle 4 2>&1)"
wss=$(python3 "$HERE/websocket_client.py" "$TLS_PORT" app.test --tls "$WORK/pki/ca.pem" 2>&1)
check "WebSocket over TLS (wss)" "ok=5 bad=0" "$(grep '^ok=' <<<"$wss")"
check "an h2c upgrade is not passed on (the backend sees no Upgrade)" "none" \
  "$("${C[@]}" -H 'Connection: Upgrade, HTTP2-Settings' -H 'Upgrade: h2c' -H 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA' "$URL/echo" \
     | python3 -c 'import json,sys; print(json.load(sys.stdin)["headers"].get("Upgrade", "none"))')"

# Republish the snapshot 100 times under load: no request fails, new routes go live, and a
# WebSocket opened before keeps working throughout.
python3 "$HERE/websocket_client.py" "$PORT" app.test --hold "$WORK/load.stop" >"$WORK/ws-hold.out" 2>&1 &
WS_HOLD=$!
python3 - "$PORT" "$WORK/load.stop" >"$WORK/load.out" <<'PY' &
import http.client, os, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
ok = bad = 0
end = time.time() + 60
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
while time.time() < end and not os.path.exists(stop):
    try:
        conn.request("GET", "/", headers={"Host": "app.test"})
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            ok += 1
        else:
            bad += 1
    except Exception:
        bad += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
print(ok, bad)
PY
LOAD=$!
sleep 0.2
for i in $(seq 1 100); do
  write_manifests "v$i"
  "$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" >/dev/null 2>&1 || fail "compile $i"
done
touch "$WORK/load.stop"
wait $LOAD
wait $WS_HOLD
read -r load_ok load_bad <"$WORK/load.out"
check "no failed request while the snapshot was republished 100 times" "0" "$load_bad"
if ((load_ok > 0)); then pass "load ran ($load_ok requests)"; else fail "load ran no request"; fi
ws_hold=$(grep '^ok=' "$WORK/ws-hold.out")
[[ $ws_hold =~ ^ok=([0-9]+)\ bad=0$ && ${BASH_REMATCH[1]} -gt 10 ]] \
  && pass "a WebSocket open through the 100 republishes kept echoing ($ws_hold)" \
  || fail "the WebSocket held through the republishes: $(cat "$WORK/ws-hold.out")"
check "and closed cleanly afterwards" "closed-cleanly=yes" "$(grep '^closed' "$WORK/ws-hold.out")"
# The proxy adopts a snapshot within ~10 ms; wait for the last one, bounded.
for _ in $(seq 1 100); do
  [[ $("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/v100") == 502 ]] && break
  sleep 0.02
done
check "the last republished route is live (/v100 → the dead Service)" "502" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/v100")"
check "an earlier republished route is gone (/v50 → back to /)" "200" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/v50")"

# Fault: the snapshot file overwritten in place with garbage, then truncated to nothing, under
# keep-alive load; the proxy keeps its last good table (and says so once per reason, and in a
# metric), and takes the next good snapshot when one is written.
rm -f "$WORK/fault.stop"
python3 "$HERE/../lib/keepalive_load.py" "$PORT" app.test "$WORK/fault.stop" \
  --ready-file "$WORK/fault.ready" >"$WORK/fault.out" &
FAULT_LOAD=$!
eventually 10 '[[ -e $WORK/fault.ready ]]'
head -c 5000 /dev/urandom >"$WORK/garbage"
cat "$WORK/garbage" >"$WORK/routes.snap"
sleep 0.3
: >"$WORK/routes.snap"
sleep 0.3
touch "$WORK/fault.stop"
wait $FAULT_LOAD
read -r fault_ok fault_bad fault_reconnects _ <"$WORK/fault.out"
check "garbage and a truncated snapshot file: no failed request, no reconnect" "0 0" "$fault_bad $fault_reconnects"
((fault_ok > 0)) && pass "load ran through the corrupt snapshot ($fault_ok requests)" || fail "no load ran"
check "the rejection is logged once per reason, not on every poll" yes \
  "$(n=$(grep -c 'snapshot rejected' "$WORK/proxy.err"); ((n >= 1 && n <= 4)) && echo yes || echo "no: $n")"
write_manifests v101
"$PORTICO" snapshot compile --manifests "$WORK/manifests" --out "$WORK/routes.snap" >/dev/null 2>&1 || fail "compile v101"
for _ in $(seq 1 100); do
  [[ $("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/v101") == 502 ]] && break
  sleep 0.02
done
check "a good snapshot written afterwards is adopted (/v101 live)" "502" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/v101")"

# What `portico proxy --metrics-address` tells Prometheus about all that (summed over workers).
# shellcheck source=../lib/metrics.sh
source "$HERE/../lib/metrics.sh"
M=$WORK/metrics.txt
curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$M"
check "the standalone proxy is ready" ok "$(curl -s --max-time 2 "http://127.0.0.1:$METRICS_PORT/readyz")"
check_metric_above "requests of the Ingress 'app' to Service 'web', 2xx" "$M" 0 portico_proxy_requests_total \
  'ingress="app"' 'service="web"' 'status_class="2xx"'
check_metric_above "the dead backend: upstream connect failures" "$M" 0 portico_proxy_upstream_errors_total \
  'service="dead"' 'reason="connect_failed"'
check_metric_above "the slow backend: upstream timeouts" "$M" 0 portico_proxy_upstream_errors_total 'reason="timeout"'
check_metric_above "413 and 431 counted as 4xx" "$M" 1 portico_proxy_requests_total 'status_class="4xx"'
check_metric_above "TLS handshakes" "$M" 0 portico_proxy_tls_handshakes_total
check_metric_above "WebSocket upgrades counted as 1xx" "$M" 0 portico_proxy_requests_total 'status_class="1xx"'
check_metric_above "request durations" "$M" 0 portico_proxy_request_duration_seconds_count 'ingress="app"'
check_metric_above "corrupt snapshots rejected" "$M" 0 portico_proxy_snapshot_rejections_total
check_promtool "$M"

# Out of file descriptors: a proxy limited to 64 rests its listener instead of spinning on it,
# keeps serving the connections it has, and accepts again once descriptors are free.
M2_PORT=$(free_port)
(ulimit -n 64 && exec "$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 \
  --https-port -2 --workers 1 --metrics-address "127.0.0.1:$M2_PORT") >"$WORK/proxy64.out" 2>"$WORK/proxy64.err" &
P64=$!
# shellcheck disable=SC2206  # a pid is one word
PIDS+=($P64)
wait_line "$WORK/proxy64.out" "listening on" 10 || fail "the fd-limited proxy started"
PORT64=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy64.out")
python3 - "$PORT64" "$P64" >"$WORK/fd.out" 2>&1 <<'PY'
import http.client, os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
def get(conn):
    conn.request("GET", "/", headers={"Host": "app.test"})
    r = conn.getresponse()
    r.read()
    return r.status
kept = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
print("before", get(kept))
idle = []
for _ in range(120):  # more than the proxy has descriptors for
    idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
time.sleep(0.3)
ticks = lambda: sum(int(x) for x in open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[11:13])
t0 = ticks()
time.sleep(1.0)
print("cpu_ticks_per_s", ticks() - t0)
print("during", get(kept))
for s in idle:
    s.close()
time.sleep(0.3)
fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
print("after", get(fresh))
PY
check "out of descriptors: a kept-alive connection is still served" "during 200" "$(grep '^during' "$WORK/fd.out")"
ticks=$(sed -n 's/^cpu_ticks_per_s //p' "$WORK/fd.out")
[[ -n $ticks ]] && ((ticks < 50)) && pass "the listener rests instead of spinning ($ticks of $(getconf CLK_TCK) ticks in 1 s)" \
  || fail "the listener rests instead of spinning: $(cat "$WORK/fd.out")"
check "descriptors free again: new connections are accepted" "after 200" "$(grep '^after' "$WORK/fd.out")"
curl -s --max-time 5 "http://127.0.0.1:$M2_PORT/metrics" >"$WORK/metrics64.txt"
check_metric_above "accept pauses counted" "$WORK/metrics64.txt" 0 portico_proxy_accept_pauses_total

# Graceful shutdown (SIGTERM, as on a rolling update): not ready at once; kept-alive idle
# connections closed; new connections still served for --shutdown-delay (with Connection:
# close), refused after; the request in flight finishes; then the proxy exits by itself.
M3_PORT=$(free_port)
"$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 --https-port -2 --workers 2 \
  --shutdown-delay 1 --shutdown-grace 10 --metrics-address "127.0.0.1:$M3_PORT" >"$WORK/proxy-drain.out" 2>"$WORK/proxy-drain.err" &
PD=$!
wait_line "$WORK/proxy-drain.out" "listening on" 10 || fail "the proxy to drain started"
PORTD=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy-drain.out")
python3 - "$PORTD" "$PD" "$M3_PORT" >"$WORK/drain.out" 2>&1 <<'PY'
import http.client, os, signal, socket, sys, threading, time, urllib.request
port, pid, mport = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def request(conn, path="/"):
    conn.request("GET", path, headers={"Host": "app.test"})
    r = conn.getresponse()
    r.read()
    return r
def readyz():
    try:
        return urllib.request.urlopen("http://127.0.0.1:%d/readyz" % mport, timeout=2).status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:
        return type(e).__name__
print("ready-before", readyz())
idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
print("idle-first", request(idle).status)
slow = {}
def slow_request():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    slow["status"] = request(c, "/slow?ms=2500").status
thread = threading.Thread(target=slow_request)
thread.start()
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
print("ready-draining", readyz())
idle.sock.settimeout(2)
try:
    print("idle-closed", "yes" if idle.sock.recv(1) == b"" else "no")
except Exception as e:
    print("idle-closed", type(e).__name__)
during = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
r = request(during)
print("during-delay", r.status, "connection:", r.getheader("Connection"))
time.sleep(1.2)
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    print("after-delay", "accepted")
except ConnectionRefusedError:
    print("after-delay", "refused")
thread.join()
print("in-flight", slow.get("status"))
PY
for _ in $(seq 1 80); do kill -0 "$PD" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PD" 2>/dev/null; then drain_rc=running; kill -KILL "$PD"; else wait "$PD"; drain_rc=$?; fi
check "SIGTERM: /readyz fails at once" "ready-draining 503" "$(grep '^ready-draining' "$WORK/drain.out")"
check "SIGTERM: an idle kept-alive connection is closed" "idle-closed yes" "$(grep '^idle-closed' "$WORK/drain.out")"
check "SIGTERM: a new connection during --shutdown-delay is served, told to close" "during-delay 200 connection: close" \
  "$(grep '^during-delay' "$WORK/drain.out")"
check "SIGTERM: after the delay new connections are refused" "after-delay refused" "$(grep '^after-delay' "$WORK/drain.out")"
check "SIGTERM: the request in flight (2.5 s) completes" "in-flight 200" "$(grep '^in-flight' "$WORK/drain.out")"
check "SIGTERM: the drained proxy exits by itself, status 0" "0" "$drain_rc"
# A second signal ends the drain at once (Ctrl-C twice): the 5 s request in flight is cut.
"$PORTICO" proxy --snapshot "$WORK/routes.snap" --http-address 127.0.0.1 --http-port 0 --https-port -2 --workers 1 \
  --shutdown-grace 20 >"$WORK/proxy-hurry.out" 2>"$WORK/proxy-hurry.err" &
PH=$!
wait_line "$WORK/proxy-hurry.out" "listening on" 10 || fail "the proxy to hurry started"
PORTH=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/proxy-hurry.out")
python3 - "$PORTH" "$PH" >"$WORK/hurry.out" 2>&1 <<'PY'
import http.client, os, signal, sys, threading, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
result = {}
def slow():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/slow?ms=5000", headers={"Host": "app.test"})
        result["slow"] = c.getresponse().status
    except Exception as e:
        result["slow"] = "cut"
thread = threading.Thread(target=slow)
thread.start()
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
thread.join()
print("slow", result["slow"])
PY
for _ in $(seq 1 50); do kill -0 "$PH" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PH" 2>/dev/null; then hurry_rc=running; kill -KILL "$PH"; else wait "$PH"; hurry_rc=$?; fi
check "a second SIGTERM ends the drain: the request in flight is cut" "slow cut" "$(cat "$WORK/hurry.out")"
check "and the proxy has exited, status 0" "0" "$hurry_rc"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
