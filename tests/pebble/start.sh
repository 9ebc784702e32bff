#!/usr/bin/env bash
# Start Let's Encrypt's pebble (RFC 8555 test CA) and pebble-challtestsrv (DNS: every name →
# 127.0.0.1) on free loopback ports. HTTP-01 validations go to 127.0.0.1:HTTP01_PORT — point the
# proxy's HTTP listener there. Extra environment (PEBBLE_WFE_NONCEREJECT, ...) passes through.
# With PEBBLE_EAB_KID and PEBBLE_EAB_HMAC (base64url) set, pebble requires External Account
# Binding (RFC 8555 §7.3.4) with that key. PEBBLE_ALTERNATE_ROOTS=N adds alternate chains.
# Usage: start.sh DIR HTTP01_PORT     → DIR/env: PEBBLE_DIRECTORY, PEBBLE_CA (API TLS trust),
#   PEBBLE_MANAGEMENT, CHALLTESTSRV_MANAGEMENT (e.g. POST /add-a to point a name elsewhere),
#   PEBBLE_PID, CHALLTESTSRV_PID
#        start.sh DIR --pebble  → (re)starts pebble alone with DIR's config, as after a crash: same
#   ports, no memory of accounts or orders, a new issuing root (DIR/root.pem)
set -euo pipefail
DIR=$1
HTTP01_PORT=$2
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
log() { echo "pebble/start: $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
command -v pebble >/dev/null || { log "pebble is missing (Debian package pebble)"; exit 1; }
cd "$DIR"

launch_pebble() {  # DNS_PORT → PEBBLE_PID
  unset PEBBLE_VA_ALWAYS_VALID
  PEBBLE_VA_NOSLEEP=1 pebble -config pebble.json -dnsserver "127.0.0.1:$1" -strict=false \
    >>pebble.log 2>&1 &
  PEBBLE_PID=$!
}
wait_ready() {  # API_PORT MGMT_PORT
  for _ in $(seq 1 100); do
    if curl -fsS --cacert api-ca.pem "https://127.0.0.1:$1/dir" >/dev/null 2>&1; then
      # The issuing root is generated at every start; tests verify chains against it.
      curl -fsS --cacert api-ca.pem "https://127.0.0.1:$2/roots/0" >root.pem
      log "pebble ready: https://127.0.0.1:$1/dir"
      return 0
    fi
    kill -0 "$PEBBLE_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "pebble did not start"; tail -n 20 pebble.log challtestsrv.log >&2
  return 1
}

if [[ $HTTP01_PORT == --pebble ]]; then
  # shellcheck disable=SC1091
  source ./env
  launch_pebble "$PEBBLE_DNS_PORT"
  sed -i "s/^PEBBLE_PID=.*/PEBBLE_PID=$PEBBLE_PID/" env
  wait_ready "$PEBBLE_API_PORT" "$PEBBLE_MGMT_PORT"
  exit
fi

# Debian's package ships no test certificates: pebble's own TLS (the ACME API) gets a small CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout api-ca.key -out api-ca.pem \
  -days 2 -subj /CN=pebble-api-test-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout api.key -out api.csr \
  -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >api.ext
openssl x509 -req -in api.csr -CA api-ca.pem -CAkey api-ca.key -CAcreateserial -days 2 -extfile api.ext \
  -out api.pem 2>/dev/null
chmod 600 ./*.key

API_PORT=$(free_port)
MGMT_PORT=$(free_port)
DNS_PORT=$(free_port)
CHALL_MGMT_PORT=$(free_port)
EAB='"externalAccountBindingRequired": false'
if [[ -n ${PEBBLE_EAB_KID:-} ]]; then
  EAB="\"externalAccountBindingRequired\": true, \"externalAccountMACKeys\": {\"$PEBBLE_EAB_KID\": \"$PEBBLE_EAB_HMAC\"}"
fi
cat >pebble.json <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$API_PORT", "managementListenAddress": "127.0.0.1:$MGMT_PORT",
 "certificate": "$DIR/api.pem", "privateKey": "$DIR/api.key", "httpPort": $HTTP01_PORT, "tlsPort": $(free_port),
 "ocspResponderURL": "", $EAB}}
JSON

pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DNS_PORT" -http01 "" \
  -https01 "" -tlsalpn01 "" -management "127.0.0.1:$CHALL_MGMT_PORT" >challtestsrv.log 2>&1 &
CHALLTESTSRV_PID=$!
launch_pebble "$DNS_PORT"
cat >./env <<ENV
PEBBLE_DIRECTORY=https://127.0.0.1:$API_PORT/dir
PEBBLE_CA=$DIR/api-ca.pem
PEBBLE_MANAGEMENT=https://127.0.0.1:$MGMT_PORT
CHALLTESTSRV_MANAGEMENT=http://127.0.0.1:$CHALL_MGMT_PORT
PEBBLE_PID=$PEBBLE_PID
CHALLTESTSRV_PID=$CHALLTESTSRV_PID
PEBBLE_API_PORT=$API_PORT
PEBBLE_MGMT_PORT=$MGMT_PORT
PEBBLE_DNS_PORT=$DNS_PORT
ENV
if ! wait_ready "$API_PORT" "$MGMT_PORT"; then
  kill "$PEBBLE_PID" "$CHALLTESTSRV_PID" 2>/dev/null  # nothing left running for a caller to stop
  exit 1
fi
log "(HTTP-01 → 127.0.0.1:$HTTP01_PORT)"
