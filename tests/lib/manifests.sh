# Manifest snippets for test and benchmark scripts (source this file). Each function prints one
# YAML document preceded by "---".

# A Service with one port named "http" on port 80.
manifest_service() {  # NAME
  printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {ports: [{name: http, port: 80}]}\n' "$1"
}

# An EndpointSlice of SERVICE with one ready endpoint at 127.0.0.1:PORT (port named "http").
manifest_endpoint_slice() {  # NAME SERVICE PORT
  printf -- '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: %s, labels: {kubernetes.io/service-name: %s}}\naddressType: IPv4\nports: [{name: http, port: %s}]\nendpoints: [{addresses: [127.0.0.1]}]\n' "$1" "$2" "$3"
}

# A kubernetes.io/tls Secret from PEM files.
manifest_tls_secret() {  # NAME CERT_FILE KEY_FILE
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n' \
    "$1" "$(base64 -w0 "$2")" "$(base64 -w0 "$3")"
}

# The default IngressClass for Portico, with an IngressClassConfig: sslRedirect and an optional
# default certificate Secret.
manifest_portico_class() {  # SSL_REDIRECT [DEFAULT_CERT_SECRET]
  local cert=""
  [[ -n ${2:-} ]] && cert=", defaultCertificate: {namespace: default, name: $2}"
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec: {sslRedirect: %s%s}\n' "$1" "$cert"
}
