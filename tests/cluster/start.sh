#!/usr/bin/env bash
# Start a real etcd + kube-apiserver on free loopback ports, state in DIR (see
# ../../../shared/recipes/test-cluster.md). Writes DIR/kubeconfig (admin, system:masters),
# DIR/env (ports, pids) and DIR/*.log.
#   start.sh DIR                 everything (builds the apiserver once, cached)
#   start.sh DIR --apiserver [NAME]   (re)start only an apiserver against the running etcd;
#                                      NAME (default "apiserver") names a second one, e.g.
#                                      "apiserver2", with its own port and DIR/NAME.kubeconfig
set -euo pipefail
DIR=$(mkdir -p "$1" && cd "$1" && pwd)
MODE=${2:-all}
HERE=$(cd "$(dirname "$0")" && pwd)
log() { echo "cluster/start: $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() {  # wait_for SECONDS PID DESCRIPTION COMMAND...
  local secs=$1 pid=$2 what=$3; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then log "$what died; its log:"; tail -n 30 "$DIR/$what.log" >&2; exit 1; fi
    if ((SECONDS >= deadline)); then log "$what not ready after ${secs}s; its log:"; tail -n 30 "$DIR/$what.log" >&2; exit 1; fi
    sleep 0.2
  done
}

start_apiserver() {  # start_apiserver [NAME]
  local name=${1:-apiserver}
  # shellcheck disable=SC1091
  source "$DIR/env"
  local port_var=${name^^}_PORT
  local port=${!port_var:-}
  if [[ -z $port ]]; then
    port=$(free_port)
    echo "$port_var=$port" >>"$DIR/env"
  fi
  "$BIN/kube-apiserver" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --endpoint-reconciler-type=none --secure-port="$port" --insecure-port=0 \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
    --client-ca-file="$DIR/pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.0.0.0/24 --token-auth-file="$DIR/tokens.csv" \
    --authorization-mode=RBAC --disable-admission-plugins=ServiceAccount \
    >>"$DIR/$name.log" 2>&1 &
  local pid=$!
  local pid_var=${name^^}_PID
  sed -i "/^$pid_var=/d" "$DIR/env"
  echo "$pid_var=$pid" >>"$DIR/env"
  wait_for 60 "$pid" "$name" curl -fsS --cacert "$DIR/pki/ca.crt" \
    -H "Authorization: Bearer $ADMIN_TOKEN" "https://127.0.0.1:$port/readyz"
  if [[ $name != apiserver ]]; then
    sed "s#https://127.0.0.1:$APISERVER_PORT#https://127.0.0.1:$port#" "$DIR/kubeconfig" >"$DIR/$name.kubeconfig"
  fi
  log "$name ready on 127.0.0.1:$port (pid $pid)"
}

if [[ $MODE == --apiserver ]]; then
  start_apiserver "${3:-apiserver}"
  exit 0
fi

BIN=$("$HERE/build.sh")
command -v etcd >/dev/null || { log "etcd is missing (Debian package etcd-server)"; exit 1; }

# --- certificates and tokens -------------------------------------------------------------
mkdir -p "$DIR/pki"
cd "$DIR/pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=portico-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 2 -extfile apiserver.ext 2>/dev/null
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
chmod 600 ./*.key
cd "$DIR"
ADMIN_TOKEN=$(openssl rand -hex 16)
OPERATOR_TOKEN=$(openssl rand -hex 16)
SA_TOKEN=$(openssl rand -hex 16)
# The operator's own user has no groups: RBAC tests bind roles to it explicitly. The third user
# is the install manifests' ServiceAccount (portico-system/portico) as the apiserver sees it, so
# tests run the operator with exactly the RBAC of manifests/ (no token controller runs here).
printf '%s,admin,admin-uid,"system:masters"\n%s,portico-operator,portico-operator-uid\n%s,system:serviceaccount:portico-system:portico,portico-sa-uid,"system:serviceaccounts,system:serviceaccounts:portico-system,system:authenticated"\n' \
  "$ADMIN_TOKEN" "$OPERATOR_TOKEN" "$SA_TOKEN" >tokens.csv
chmod 600 tokens.csv

ETCD_PORT=$(free_port)
ETCD_PEER_PORT=$(free_port)
APISERVER_PORT=$(free_port)
cat >./env <<ENV
BIN=$BIN
ETCD_PORT=$ETCD_PORT
APISERVER_PORT=$APISERVER_PORT
ADMIN_TOKEN=$ADMIN_TOKEN
OPERATOR_TOKEN=$OPERATOR_TOKEN
SA_TOKEN=$SA_TOKEN
ENV

etcd --data-dir "$DIR/etcd" --name portico-test \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "portico-test=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync=true \
  >"$DIR/etcd.log" 2>&1 &
ETCD_PID=$!
echo "ETCD_PID=$ETCD_PID" >>./env
wait_for 30 "$ETCD_PID" etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
log "etcd ready on 127.0.0.1:$ETCD_PORT (pid $ETCD_PID)"

start_apiserver

write_kubeconfig() {  # write_kubeconfig FILE USER TOKEN
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: portico-test
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 <"$DIR/pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: portico-test
  context: {cluster: portico-test, user: $2}
current-context: portico-test
KC
  chmod 600 "$1"
}
write_kubeconfig "$DIR/kubeconfig" admin "$ADMIN_TOKEN"
write_kubeconfig "$DIR/operator.kubeconfig" portico-operator "$OPERATOR_TOKEN"
write_kubeconfig "$DIR/serviceaccount.kubeconfig" portico-sa "$SA_TOKEN"
log "kubeconfig: $DIR/kubeconfig"
