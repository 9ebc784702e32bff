#!/usr/bin/env bash
# Stop what start.sh started in DIR.
#   stop.sh DIR                      everything
#   stop.sh DIR --apiserver [NAME]   only that apiserver, killed hard as a crash would
set -uo pipefail
DIR=$1
[[ -f $DIR/env ]] || exit 0
# shellcheck disable=SC1091
source "$DIR/env"
stop_pid() {  # stop_pid PID SIGNAL
  [[ -n ${1:-} ]] || return 0
  kill "-$2" "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
if [[ ${2:-} == --apiserver ]]; then
  pid_var=$(echo "${3:-apiserver}" | tr '[:lower:]' '[:upper:]')_PID
  stop_pid "${!pid_var:-}" KILL
  exit 0
fi
stop_pid "${APISERVER2_PID:-}" TERM
stop_pid "${APISERVER_PID:-}" TERM
stop_pid "${ETCD_PID:-}" TERM
