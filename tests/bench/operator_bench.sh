#!/usr/bin/env bash
# The operator's control-plane benchmark against a real kube-apiserver + etcd (built and cached by
# tests/cluster/build.sh). Usage: operator_bench.sh PORTICO_BINARY [--large N]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORTICO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
exec "$ROOT/tests/cluster/with-cluster.sh" python3 "$HERE/operator_bench.py" "$PORTICO" "$ROOT" "$@"
