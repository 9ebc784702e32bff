#!/usr/bin/env bash
# What pebble can only show with help: External Account Binding, a preferred chain among
# alternates, and ARI-driven renewal (RFC 9773) through a small test double of the renewalInfo
# resource (tests/pebble/ari_double.py: the first certificate's window is already open, later
# ones are 10-11 days ahead). Runs `portico local` under tests/pebble/with-pebble.sh with
# PEBBLE_EAB_KID, PEBBLE_EAB_HMAC and PEBBLE_ALTERNATE_ROOTS=1.
# Usage: with-pebble.sh acme_ari_test.sh PORTICO_BINARY
set -uo pipefail
PORTICO=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/checks.sh
source "$HERE/../lib/checks.sh"
use_workdir portico-acme-ari
# shellcheck source=../lib/manifests.sh
source "$HERE/../lib/manifests.sh"
: "${PEBBLE_DIRECTORY:?run under tests/pebble/with-pebble.sh}"
: "${PEBBLE_EAB_KID:?set PEBBLE_EAB_KID and PEBBLE_EAB_HMAC for pebble}"
MANIFESTS=$WORK/manifests
STATE=$WORK/state
mkdir -p "$MANIFESTS"
HTTP_PORT=$PORTICO_HTTP01_PORT
HTTPS_PORT=$(free_port)
BACKEND_PORT=$(free_port)
ARI_PORT=$(free_port)

python3 "$HERE/../proxy_it/backend.py" "$BACKEND_PORT" web >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
python3 "$HERE/../pebble/ari_double.py" "$ARI_PORT" "$PEBBLE_STATE_DIR/api.pem" "$PEBBLE_STATE_DIR/api.key" \
  "$PEBBLE_DIRECTORY" "$PEBBLE_CA" "$WORK/asked.log" >"$WORK/ari.log" 2>&1 &
PIDS+=($!)
wait_line "$WORK/backend.log" ready 10 || fail "backend started"
wait_line "$WORK/ari.log" ready 10 || fail "ARI double started"

# The alternate root (pebble makes a fresh one at every start) and its common name.
curl -fsS --cacert "$PEBBLE_CA" "$PEBBLE_MANAGEMENT/roots/1" >"$WORK/root1.pem"
ROOT0=$PEBBLE_STATE_DIR/root.pem
ROOT1=$WORK/root1.pem
ALT_CN=$(openssl x509 -in "$ROOT1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= //p')
[[ -n $ALT_CN ]] || fail "pebble offers an alternate root"

put() { cat >"$MANIFESTS/.$1.tmp" && mv "$MANIFESTS/.$1.tmp" "$MANIFESTS/$1.yaml"; }
class_config() {  # NAME HMAC_B64URL
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s-eab, namespace: default}\ntype: Opaque\ndata: {secret: %s}\n' \
    "$1" "$(printf %s "$2" | base64 -w0)"
  printf -- '---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: %s}\nspec:\n  listeners: {address: 127.0.0.1, http: {port: %s}, https: {port: %s}}\n  sslRedirect: false\n  acme:\n    server: "https://127.0.0.1:%s/dir"\n    email: admin@portico.test\n    caBundle: "%s"\n    preferredChain: "%s"\n    externalAccountBinding: {keyID: "%s", keySecretRef: {namespace: default, name: %s-eab, key: secret}}\n' \
    "$1" "$HTTP_PORT" "$HTTPS_PORT" "$ARI_PORT" "$(base64 -w0 "$PEBBLE_CA")" "$ALT_CN" "$PEBBLE_EAB_KID" "$1"
}
{
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n'
  class_config portico "$PEBBLE_EAB_HMAC"
  class_config wrong-eab "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  manifest_web_backend "$BACKEND_PORT"
} | put base

https() {  # HOST ROOT → body, or curl's failure
  curl -s --max-time 3 --cacert "$2" --resolve "$1:$HTTPS_PORT:127.0.0.1" "https://$1:$HTTPS_PORT/" 2>&1 \
    || echo "curl failed ($?)"
}
# shellcheck source=../lib/certificate_state.sh
source "$HERE/../lib/certificate_state.sh"

"$PORTICO" local --manifests "$MANIFESTS" --state "$STATE" >"$WORK/out" 2>"$WORK/err" &
PIDS+=($!)
wait_line "$WORK/out" "listening on" 20 || fail "portico local started"
manifest_acme_ingress app ari.test ari-tls | put app

# 1. EAB: the account exists only because the binding was accepted (pebble requires it).
eventually 15 '[[ $(cert_field ari-tls revision) -ge 1 ]] 2>/dev/null'
check "with EAB required by the CA, the account is registered and a certificate issued" yes \
  "$([[ $(cert_field ari-tls revision) -ge 1 ]] 2>/dev/null && echo yes || echo no)"
printf -- '---\napiVersion: portico.io/v1alpha1\nkind: Certificate\nmetadata: {name: bad-eab, namespace: default}\nspec: {secretName: bad-eab-tls, dnsNames: [bad.test], issuerRef: {name: wrong-eab}}\n' | put bad
eventually 10 '[[ $(condition bad-eab Ready) == False/AccountFailed ]]'
check "a wrong EAB key: Ready=False/AccountFailed" "False/AccountFailed" "$(condition bad-eab Ready)"
grep -h '^message:' "$STATE"/events.core/default/bad-eab.*.yaml 2>/dev/null | grep -qi "external account\|eab\|binding" \
  && pass "the Event carries the CA's EAB reason" || fail "the Event carries the CA's EAB reason"

# 2. ARI: the CA's window for the first certificate is open, so it is renewed unasked, and the
#    renewal order names the certificate it replaces.
eventually 15 '[[ $(cert_field ari-tls revision) == 2 ]]'
check "the CA's open ARI window renews the certificate (revision 2, nobody asked)" 2 "$(cert_field ari-tls revision)"
check "the first certificate was asked about and told 'now'" past "$(head -n1 "$WORK/asked.log" | cut -d' ' -f2)"
grep -h '^reason:' "$STATE"/events.core/default/ari-tls.*.yaml 2>/dev/null | grep -q RenewalWindow \
  && pass "an Event says the CA's renewal window started the renewal" || fail "an Event says the CA's renewal window started the renewal"
steps=$(grep -h '^reason:' "$STATE"/events.core/default/ari-tls.*.yaml 2>/dev/null | tr -d '"' | awk '{print $2}' | sort -u | tr '\n' ' ')
for step in SecretMissing Presenting ValidationRequested Finalized Issued; do
  [[ " $steps" == *" $step "* ]] || missing_step+=" $step"
done
check "an Event for every issuance step (${steps% })" "" "${missing_step:-}"
first_id=$(head -n1 "$WORK/asked.log" | cut -d' ' -f1)
grep -q "\"replaces\":\"$first_id\"" "$WORK/err" \
  && pass "the renewal order replaces the first certificate (RFC 9773 §5)" || fail "the renewal order replaces the first certificate"
grep -q '"msg":"ACME order created","controller":"certificates","object":"default/ari-tls","reconcileID":"[0-9a-f]\{16\}"' "$WORK/err" \
  && pass "log lines carry the controller, the object and the reconcile id" || fail "log lines carry the controller, the object and the reconcile id"
grep -q "with replaces refused" "$WORK/err" && fail "the CA accepted the replaces field" || pass "the CA accepted the replaces field"
# The CA's answer about the new certificate reaches the status one reconcile after it is given.
renewal_in_window() {
  python3 -c '
import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
d = (t - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
print("yes" if 9.99 < d < 11.01 else "no: %s" % sys.argv[1])' "$(cert_field ari-tls renewalTime)" 2>&1
}
eventually 10 '[[ $(renewal_in_window) == yes ]]'
check "the new certificate's renewal time lies in its window, 10-11 days ahead" yes "$(renewal_in_window)"

# 3. The preferred chain: the Secret's chain leads to the alternate root, not the default one.
eventually 5 '[[ $(https ari.test "$ROOT1") == web ]]'
check "served over HTTPS with the chain of the preferred (alternate) root" web "$(https ari.test "$ROOT1")"
python3 - "$STATE/secrets.core/default/ari-tls.yaml" "$WORK" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
open(sys.argv[2] + "/chain.pem", "wb").write(base64.b64decode(re.search(r'tls\.crt: "([^"]+)"', text).group(1)))
print("ca.crt" in text and "has ca.crt" or "", file=open(sys.argv[2] + "/ca.txt", "w"))
PY
csplit -s -z -f "$WORK/part" "$WORK/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
verify() { openssl verify -CAfile "$1" -untrusted <(cat "$WORK"/part0[1-9] 2>/dev/null) "$WORK/part00" 2>&1 | tail -n1 | sed 's/.*: //'; }
check "the chain verifies against the alternate root" OK "$(verify "$ROOT1")"
[[ $(verify "$ROOT0") != OK ]] && pass "and not against the default root" || fail "and not against the default root"
check "no ca.crt: pebble's chain leaves out the root, and an intermediate is not a CA bundle" "" "$(cat "$WORK/ca.txt")"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
