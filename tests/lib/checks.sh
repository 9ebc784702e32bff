# shellcheck shell=bash
# Shell test helpers (source this file): ok/FAIL lines counted in PASSED/FAILED, free loopback
# ports, and bounded waits.
PASSED=${PASSED:-0}
FAILED=${FAILED:-0}
pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() {  # wait_line FILE TEXT SECONDS
  for _ in $(seq 1 $(($3 * 20))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
# Microseconds since the epoch (bash 5's EPOCHREALTIME, whatever the locale's decimal mark).
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
# eventually SECONDS CONDITION: true as soon as the shell CONDITION holds (it is evaluated at
# every poll, so quote it in single quotes), false once SECONDS have passed without it.
#   eventually 10 '[[ $(served a.test) == web ]]' || fail "a.test served"
# POLL (seconds, default 0.05) sets the interval.
eventually() {
  local deadline=$(($(now_us) + $1 * 1000000)) condition=$2
  until eval "$condition"; do
    (($(now_us) < deadline)) || return 1
    sleep "${POLL:-0.05}"
  done
}
# consistently SECONDS CONDITION: true when CONDITION holds at every poll for SECONDS.
consistently() {
  local deadline=$(($(now_us) + $1 * 1000000)) condition=$2
  while (($(now_us) < deadline)); do
    eval "$condition" || return 1
    sleep "${POLL:-0.05}"
  done
}
await_output() {  # SECONDS EXPECTED COMMAND... → the command's last output (EXPECTED or timeout)
  local deadline=$((SECONDS + $1)) expected=$2 got
  shift 2
  while :; do
    got=$("$@" 2>&1)
    [[ $got == "$expected" || $SECONDS -ge $deadline ]] && break
    sleep 0.2
  done
  echo "$got"
}
# A scratch directory WORK, and background processes (PIDS, OPERATOR_PID) that end with the
# script; KEEP_WORK=1 keeps the directory for a post-mortem.
use_workdir() {  # NAME_PREFIX
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  OPERATOR_PID=""
  # shellcheck disable=SC2154  # p is the loop variable inside the trap
  trap 'for p in "${PIDS[@]}" $OPERATOR_PID; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [[ ${KEEP_WORK:-} == 1 ]] || rm -rf "$WORK"' EXIT
}
