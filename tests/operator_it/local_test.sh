#!/usr/bin/env bash
# The operator's scenarios through `portico local`: the manifest directory is the API (files
# written, replaced and removed), the state directory holds what the operator writes.
# Usage: local_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-local-it
# shellcheck source=scenarios.sh
source "$HERE/scenarios.sh"

MANIFESTS=$WORK/manifests
STATE=$WORK/state
SNAPSHOT=$STATE/routes.snapshot
# shellcheck disable=SC2034  # read by scenarios.sh
ES_API=discovery.k8s.io/v1
mkdir -p "$MANIFESTS" "$WORK/docs"

# Files are replaced the way editors and kubectl-less tooling do: write aside, rename into place.
apply_doc() {
  cat >"$WORK/docs/$1.yaml"
  cp "$WORK/docs/$1.yaml" "$MANIFESTS/.$1.yaml.tmp"
  mv "$MANIFESTS/.$1.yaml.tmp" "$MANIFESTS/$1.yaml"
}
delete_doc() { rm -f "$MANIFESTS/$1.yaml"; }
state_file() { echo "$STATE/$1"; }
ingress_lb_ip() {
  local f=$STATE/ingresses.networking.k8s.io/default/$1.yaml
  [[ -f $f ]] || return 0
  python3 - "$f" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'^status:\n(?:\s+.*\n)*?\s+- ip: "([^"]+)"', text, re.M)
print(m.group(1) if m else "")
PY
}
config_condition() {
  local f=$STATE/ingressclassconfigs.portico.io/_cluster/portico.yaml
  [[ -f $f ]] || return 0
  python3 - "$f" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for block in re.split(r'\n\s+- ', text):
    if re.search(r'type: "%s"' % sys.argv[2], block):
        m = re.search(r'status: "([^"]+)"', block)
        print(m.group(1) if m else "")
PY
}
event_reasons() {
  grep -l "name: \"$1\"" "$STATE"/events.core/default/*.yaml 2>/dev/null | while read -r f; do
    sed -n 's/^reason: "\(.*\)"$/\1/p' "$f"
  done
}
start_operator() {
  OPERATOR_OUT=$WORK/operator.out
  OPERATOR_ERR=$WORK/operator.err
  : >"$OPERATOR_OUT"
  "$PORTICO" local --manifests "$MANIFESTS" --state "$STATE" --metrics-address 127.0.0.1:0 \
    >"$OPERATOR_OUT" 2>>"$OPERATOR_ERR" &
  # shellcheck disable=SC2034  # the EXIT trap of checks.sh stops it
  OPERATOR_PID=$!
}

run_scenarios

# Local specifics: a file that does not parse loses nothing; the state survives a restart.
echo "this: is: not yaml" >"$MANIFESTS/web.yaml"
sleep 0.5
check "a broken manifest file keeps its previous objects" backend-a "$(body web.test /)"
grep -q "manifest not applied" "$OPERATOR_ERR" && pass "the broken file is reported" || fail "the broken file is reported"
check "the state directory's Secrets and snapshot are owner-only" 600 "$(stat -c %a "$SNAPSHOT")"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
