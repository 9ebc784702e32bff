#!/usr/bin/env bash
# Run a command against a fresh test cluster: with-cluster.sh COMMAND [ARGS...]
# The command sees PORTICO_CLUSTER_DIR (state: env, kubeconfig, logs) and KUBECONFIG.
# The cluster is always stopped afterwards. Fails loudly when the cluster cannot start.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/portico-cluster.XXXXXX)
cleanup() {
  "$HERE/stop.sh" "$DIR"
  if [[ ${KEEP_CLUSTER_DIR:-} != 1 ]]; then rm -rf "$DIR"; fi
}
trap cleanup EXIT
if ! "$HERE/start.sh" "$DIR"; then
  echo "with-cluster: the test cluster did not start" >&2
  exit 1
fi
export PORTICO_CLUSTER_DIR=$DIR KUBECONFIG=$DIR/kubeconfig
"$@"
