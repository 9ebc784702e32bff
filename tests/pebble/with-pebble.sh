#!/usr/bin/env bash
# Run a command against a fresh pebble: with-pebble.sh COMMAND [ARGS...]. The command sees
# PEBBLE_DIRECTORY, PEBBLE_CA, PEBBLE_MANAGEMENT, PEBBLE_STATE_DIR (root.pem inside) and
# PORTICO_HTTP01_PORT, the free port pebble validates HTTP-01 on (the proxy listens there).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/portico-pebble.XXXXXX)
cleanup() {
  "$HERE/stop.sh" "$DIR"
  rm -rf "$DIR"
}
trap cleanup EXIT
PORTICO_HTTP01_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$HERE/start.sh" "$DIR" "$PORTICO_HTTP01_PORT"
set -a
# shellcheck disable=SC1091
source "$DIR/env"
set +a
export PORTICO_HTTP01_PORT PEBBLE_STATE_DIR=$DIR
"$@"
