#!/usr/bin/env bash
# `make demo`, run as CI runs it (non-interactive), checked line by line: the routing half and
# the certificate half (pebble). Then once more with a pebble that cannot start: one line says
# so and the routing half still runs.
# Usage: demo_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-demo-test
expect() {  # DESCRIPTION EXTENDED_REGEX FILE
  grep -qE -- "$2" "$3" && pass "$1" || fail "$1: no line matches /$2/"
}

started=$SECONDS
CI=true "$HERE/demo.sh" "$PORTICO" >"$WORK/demo.out" 2>&1
check "make demo exits 0" 0 $?
echo "# the demo took $((SECONDS - started)) s"
D=$WORK/demo.out
grep -m1 -x -A1 -F -- "$ curl -s -H 'Host: shop.example' http://127.0.0.1:8080/" "$D" | tail -n1 | grep -qE '^site( |$)' \
  && pass "routing: shop.example / reaches 'site'" || fail "routing: shop.example /: $(grep -A1 -F 'http://127.0.0.1:8080/' "$D" | head -n2)"
expect "a live edit goes live without a reload" '^blog.example answered [0-9]+ ms after the file was written' "$D"
expect "the Certificate goes Issuing" 'Certificate secure-tls: Issuing=True/[A-Za-z]+ Ready=False' "$D"
expect "...then Ready" 'Certificate secure-tls: Issuing=[A-Za-z]+/[A-Za-z]+ Ready=True/Ready$' "$D"
expect "the order's steps as Events: challenge presented by the proxies" '^  Presenting: 1 HTTP-01 challenge' "$D"
expect "the order's steps as Events: issued" '^  Issued: certificate issued into Secret secure-tls' "$D"
expect "the Secret is written owner-only" '^-rw------- .*/state/secrets.core/default/secure-tls.yaml$' "$D"
grep -m1 -A1 -- '^$ curl -s --cacert .*https://secure.example:8443/$' "$D" | tail -n1 | grep -qE '^site( |$)' \
  && pass "HTTPS with a chain that verifies against pebble's root" \
  || fail "HTTPS with pebble's root: $(grep -A1 -- '--cacert' "$D" | head -n2)"
expect "portico explain names the certificate serving the host" '^TLS: certificate from Secret default/secure-tls$' "$D"
renewal=$(grep -E '^serial [0-9A-F]+ → [0-9A-F]+ \(revision 2\); the keep-alive client: [0-9]+ requests, 0 failed, 0 reconnects$' "$D")
read -r _ before _ after _ <<<"$renewal"
[[ -n $renewal && $before != "$after" ]] && pass "a forced renewal replaces the serial under a keep-alive client ($renewal)" \
  || fail "the forced renewal: $(grep '^serial' "$D")"
expect "the certificate metrics" '^portico_certificate_ready_status[{]condition="True",.*name="secure-tls".*[}] 1$' "$D"
expect "the certificate's expiry metric" '^portico_certificate_expiration_timestamp_seconds[{].*name="secure-tls"' "$D"

# A pebble that cannot start: said in one line, routing still shown.
mkdir -p "$WORK/bin"
printf '#!/bin/sh\necho "pebble: cannot start (demo test)" >&2\nexit 1\n' >"$WORK/bin/pebble"
chmod +x "$WORK/bin/pebble"
PATH="$WORK/bin:$PATH" CI=true "$HERE/demo.sh" "$PORTICO" >"$WORK/demo2.out" 2>&1
check "without a working pebble the demo still exits 0" 0 $?
expect "one line says why the certificate half is skipped" '^demo: pebble did not start .*: showing routing only$' "$WORK/demo2.out"
expect "the routing half runs" '^blog.example answered [0-9]+ ms' "$WORK/demo2.out"
check "and no certificate section" 0 "$(grep -c 'Certificate secure-tls' "$WORK/demo2.out")"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
