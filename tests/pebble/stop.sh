#!/usr/bin/env bash
# Stop what tests/pebble/start.sh DIR started; `stop.sh DIR --pebble` kills pebble alone, hard,
# as a crash would (challtestsrv's DNS stays).
DIR=$1
[[ -f $DIR/env ]] || exit 0
# shellcheck disable=SC1091
source "$DIR/env"
if [[ ${2:-} == --pebble ]]; then
  kill -KILL "${PEBBLE_PID:-}" 2>/dev/null
  while kill -0 "${PEBBLE_PID:-}" 2>/dev/null; do sleep 0.05; done
  exit 0
fi
kill "${PEBBLE_PID:-}" "${CHALLTESTSRV_PID:-}" 2>/dev/null
wait "${PEBBLE_PID:-}" "${CHALLTESTSRV_PID:-}" 2>/dev/null
exit 0
