# shellcheck shell=bash
# Reading Certificates from a `portico local` state directory (source this file; set STATE).

cert_field() {  # NAME KEY → a scalar from the Certificate's state file (first match)
  sed -n "s/^  $2: \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$STATE/certificates.portico.io/default/$1.yaml" 2>/dev/null | head -n1
}

condition() {  # NAME TYPE → status/reason of that condition (awk: polled in tight loops)
  awk -v want="$2" '
    function flush() { if (type == want) print status "/" reason; type = status = reason = "" }
    function value(line) { sub(/^[a-zA-Z]+: "?/, "", line); sub(/"$/, "", line); return line }
    /^ *- / { flush() }
    { line = $0; sub(/^ *(- )?/, "", line) }
    line ~ /^type: / && type == "" { type = value(line) }
    line ~ /^status: / && status == "" { status = value(line) }
    line ~ /^reason: / && reason == "" { reason = value(line) }
    END { flush() }' "$STATE/certificates.portico.io/default/$1.yaml" 2>/dev/null || true
}
