# Reading Certificates from a `portico local` state directory (source this file; set STATE).

cert_field() {  # NAME KEY → a scalar from the Certificate's state file (first match)
  sed -n "s/^  $2: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$STATE/certificates.portico.io/default/$1.yaml" 2>/dev/null | head -n1
}

condition() {  # NAME TYPE → status/reason of that condition
  python3 - "$STATE/certificates.portico.io/default/$1.yaml" "$2" <<'PY' 2>/dev/null
import re, sys
text = open(sys.argv[1]).read()
for block in re.split(r'\n\s+- ', text):
    if 'type: "%s"' % sys.argv[2] in block:
        status = re.search(r'status: "([^"]+)"', block).group(1)
        reason = re.search(r'reason: "([^"]+)"', block).group(1)
        print(status + "/" + reason)
PY
}
