#!/usr/bin/env bash
# The offline CLI on manifests/examples: snapshot compile, snapshot dump and explain, as a user
# runs them. Usage: snapshot_cli_test.sh PORTICO_BINARY SOURCE_ROOT
set -euo pipefail
PORTICO=$1
EXAMPLES=$2/manifests/examples
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect TEXT FILE
  grep -qF -- "$1" "$2" || { echo "--- $2:" >&2; cat "$2" >&2; fail "expected: $1"; }
}

"$PORTICO" snapshot compile --manifests "$EXAMPLES" --out "$WORK/routes.snap" >"$WORK/compile.out" 2>"$WORK/compile.err"
expect "4 routes, 3 backends, 0 certificates, 2 problems" "$WORK/compile.out"
expect "ignored: Ingress default/not-ours belongs to another controller's class" "$WORK/compile.err"
[[ $(stat -c %a "$WORK/routes.snap") == 600 ]] || fail "snapshot file mode is not 0600"

"$PORTICO" snapshot dump "$WORK/routes.snap" >"$WORK/dump.json"
python3 - "$WORK/dump.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["generation"] == 1, d["generation"]
assert d["listeners"] == {"address": "127.0.0.1", "http": 8080, "https": 8443, "tlsMinVersion": "TLSv1.2",
                          "hsts": "", "http2": False}, d["listeners"]
# The class's proxy limits travel in the snapshot (the CRD's defaults here).
assert d["proxy"]["maxHeaderBytes"] == 65536 and d["proxy"]["maxBodyBytes"] == 0, d["proxy"]
routes = {(r["host"], r["path"], r["match"]): r["backend"] for r in d["routes"]}
assert routes[("shop.example", "/api", "Prefix")] == "default/api:80", routes
assert routes[("shop.example", "/healthz", "Exact")] == "default/api:80", routes
assert ("other.example", "/", "Prefix") not in routes, routes
PY

"$PORTICO" explain --manifests "$EXAMPLES" --host SHOP.example:8080 --path '/api/v1?q=1' >"$WORK/explain-api.out"
expect "Request: host shop.example, path /api/v1" "$WORK/explain-api.out"
expect "Served by: default/shop rule 0 path 1" "$WORK/explain-api.out"
expect "Backend: default/api:80, 1 ready endpoint(s) 127.0.0.1:9002" "$WORK/explain-api.out"
expect "Ingress default/shop-beta: Conflict: Prefix path /api on host shop.example is already served by Ingress default/shop" "$WORK/explain-api.out"

"$PORTICO" explain --manifests "$EXAMPLES" --host shop.example --path /beta/x >"$WORK/explain-beta.out"
expect "→ 503: Service default/api-beta has no EndpointSlices" "$WORK/explain-beta.out"

"$PORTICO" explain --manifests "$EXAMPLES" --host unknown.example --path / >"$WORK/explain-404.out"
expect "404" "$WORK/explain-404.out"

# Errors name the file, the object and the field.
mkdir "$WORK/bad"
cat >"$WORK/bad/ingress.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: broken}
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Regex
        backend: {service: {name: x, port: {number: 80}}}
YAML
if "$PORTICO" snapshot compile --manifests "$WORK/bad" --out "$WORK/bad.snap" 2>"$WORK/bad.err"; then
  fail "a broken manifest compiled"
fi
expect "ingress.yaml#1: Ingress default/broken: unknown pathType \"Regex\"" "$WORK/bad.err"
echo "snapshot CLI: ok"
