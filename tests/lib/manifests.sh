# shellcheck shell=bash
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

# Portico's default IngressClass with an IngressClassConfig on 127.0.0.1 whose ACME account is
# the pebble that tests/pebble/with-pebble.sh started (PEBBLE_DIRECTORY, PEBBLE_CA).
manifest_acme_class() {  # HTTP_PORT HTTPS_PORT [AUTO_TLS]
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}\n---\napiVersion: portico.io/v1alpha1\nkind: IngressClassConfig\nmetadata: {name: portico}\nspec:\n  listeners: {address: 127.0.0.1, http: {port: %s}, https: {port: %s}}\n  sslRedirect: false\n  acme: {server: "%s", email: admin@portico.test, caBundle: "%s", autoTLS: %s}\n' \
    "$1" "$2" "$PEBBLE_DIRECTORY" "$(base64 -w0 "$PEBBLE_CA")" "${3:-false}"
}

# Service "web" (namespace default) with one ready endpoint at 127.0.0.1:PORT.
manifest_web_backend() {  # PORT [ENDPOINTSLICE_API_VERSION]
  printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{name: http, port: 80}]}\n---\napiVersion: %s\nkind: EndpointSlice\nmetadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: http, port: %s}]\nendpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]\n' \
    "${2:-discovery.k8s.io/v1}" "$1"
}

# An Ingress of HOST → web:80 with TLS from SECRET, asking for an ACME certificate.
manifest_acme_ingress() {  # NAME HOST SECRET [RENEW_VALUE]
  local renew=""
  [[ -n ${4:-} ]] && renew=", portico.io/renew: \"$4\""
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: %s, namespace: default, annotations: {portico.io/tls-acme: "true"%s}}\nspec:\n  tls: [{hosts: [%s], secretName: %s}]\n  rules: [{host: %s, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n' \
    "$1" "$renew" "$2" "$3" "$2"
}
