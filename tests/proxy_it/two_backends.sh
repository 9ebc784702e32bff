# Sourced by tests that put the proxy in front of real HTTP/1.1 backends (after WORK, PIDS and
# tests/lib/checks.sh): starts backend.py as "backend-a" on PORT_A and "backend-b" on PORT_B,
# picks DEAD_PORT where nothing listens, and waits until both backends serve.
# shellcheck shell=bash
TWO_BACKENDS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT_A=$(free_port)
PORT_B=$(free_port)
DEAD_PORT=$(free_port)
export PORT_A PORT_B DEAD_PORT
python3 "$TWO_BACKENDS_DIR/backend.py" "$PORT_A" backend-a >"$WORK/a.log" 2>&1 &
PIDS+=($!)
python3 "$TWO_BACKENDS_DIR/backend.py" "$PORT_B" backend-b >"$WORK/b.log" 2>&1 &
PIDS+=($!)
wait_line "$WORK/a.log" ready 10 && wait_line "$WORK/b.log" ready 10 || {
  echo "backends did not start"
  exit 1
}
