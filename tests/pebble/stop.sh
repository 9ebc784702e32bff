#!/usr/bin/env bash
# Stop what tests/pebble/start.sh DIR started.
DIR=$1
[[ -f $DIR/env ]] || exit 0
# shellcheck disable=SC1091
source "$DIR/env"
kill "${PEBBLE_PID:-}" "${CHALLTESTSRV_PID:-}" 2>/dev/null
wait "${PEBBLE_PID:-}" "${CHALLTESTSRV_PID:-}" 2>/dev/null
exit 0
