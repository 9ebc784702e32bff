# shellcheck shell=bash
# The operator's end-to-end scenarios, shared by the cluster driver (kubectl against a real
# kube-apiserver) and the local driver (files in a manifest directory). Source it after defining:
#   apply_doc NAME        apply the YAML on stdin (kept as $WORK/docs/NAME.yaml)
#   delete_doc NAME       delete what NAME.yaml applied
#   ingress_lb_ip NAME    status.loadBalancer.ingress[0].ip of Ingress default/NAME ("" if none)
#   config_condition TYPE status of that condition on IngressClassConfig "portico"
#   event_reasons NAME    reasons of the Events about Ingress default/NAME, one per line
#   start_operator ARGS.. start the operator (embedded proxy) in the background; sets OPERATOR_PID
#   ES_API                the EndpointSlice apiVersion the server serves
# and WORK, PORTICO, HERE, with tests/lib/checks.sh sourced. Prints ok/FAIL lines; the driver
# prints the totals.

# Polls CMD (a string for eval) until it prints EXPECTED, at most SECONDS; then checks.
check_eventually() {  # check_eventually DESCRIPTION SECONDS EXPECTED CMD
  # shellcheck disable=SC2034  # read by the condition eventually evaluates
  local got="" expected=$3 command=$4
  # shellcheck disable=SC2016  # expanded by eventually's eval (bash locals are dynamic)
  eventually "$2" 'got=$(eval "$command" 2>/dev/null); [[ $got == "$expected" ]]'
  check "$1" "$3" "$got"
}
body() {  # body HOST PATH [PORT] → the response body (first line) or the status code when not 200
  local out code
  out=$(curl -s --max-time 5 -H "Host: $1" -w '\n%{http_code}' "http://127.0.0.1:${3:-$HTTP_PORT}$2")
  code=${out##*$'\n'}
  if [[ $code == 200 ]]; then head -n1 <<<"$out"; else echo "$code"; fi
}

doc_service() {  # NAME
  printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {ports: [{name: http, port: 80}]}\n' "$1"
}
doc_slice() {  # NAME SERVICE PORT
  printf -- '---\napiVersion: %s\nkind: EndpointSlice\nmetadata: {name: %s, namespace: default, labels: {kubernetes.io/service-name: %s}}\naddressType: IPv4\nports: [{name: http, port: %s}]\nendpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]\n' "$ES_API" "$1" "$2" "$3"
}
doc_tls_secret() {  # NAME CERT KEY
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: default}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n' \
    "$1" "$(base64 -w0 "$2")" "$(base64 -w0 "$3")"
}
make_pki() {  # a test CA and two certificates for secure.test (serials 1001 and 1002)
  mkdir -p "$WORK/pki" && (
    cd "$WORK/pki" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
      -days 2 -subj /CN=portico-operator-test-ca 2>/dev/null
    for serial in 1001 1002; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$serial.key" -out "$serial.csr" \
        -subj /CN=secure.test 2>/dev/null
      printf 'subjectAltName=DNS:secure.test\n' >san.ext
      openssl x509 -req -in "$serial.csr" -CA ca.pem -CAkey ca.key -set_serial "$serial" -days 2 \
        -extfile san.ext -out "$serial.pem" 2>/dev/null
    done
  )
}
served_serial() {  # the serial of the certificate served for secure.test, in decimal
  local hex
  hex=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername secure.test </dev/null 2>/dev/null \
    | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2)
  [[ -n $hex ]] && echo $((16#$hex))
}
doc_ingress() {  # NAME HOST SERVICE [CLASS] [TLS_SECRET]
  local class="" tls=""
  [[ -n ${4:-} ]] && class="ingressClassName: $4, "
  [[ -n ${5:-} ]] && tls="tls: [{hosts: [$2], secretName: $5}], "
  printf -- '---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: %s, namespace: default}\nspec: {%s%srules: [{host: %s, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: %s, port: {number: 80}}}}]}}]}\n' "$1" "$class" "$tls" "$2" "$3"
}

doc_class() {  # MIN_TLS_VERSION [MAX_BODY_BYTES]
  cat <<YAML
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: portico, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: portico.io/ingress-controller, parameters: {apiGroup: portico.io, kind: IngressClassConfig, name: portico}}
---
apiVersion: portico.io/v1alpha1
kind: IngressClassConfig
metadata: {name: portico}
spec:
  listeners: {address: 127.0.0.1, http: {port: $HTTP_PORT}, https: {port: $HTTPS_PORT}}
  sslRedirect: false
  hsts: {enabled: true, maxAgeSeconds: 600}
  tls: {minVersion: $1}
  proxy: {maxBodyBytes: ${2:-0}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec: {controller: example.com/another-controller}
YAML
}

run_scenarios() {
  HTTP_PORT=$(free_port)
  HTTPS_PORT=$(free_port)
  PORT_A=$(free_port)
  PORT_B=$(free_port)
  python3 "$HERE/../proxy_it/backend.py" "$PORT_A" backend-a >"$WORK/a.log" 2>&1 &
  PIDS+=($!)
  python3 "$HERE/../proxy_it/backend.py" "$PORT_B" backend-b >"$WORK/b.log" 2>&1 &
  PIDS+=($!)
  wait_line "$WORK/a.log" ready 10 && wait_line "$WORK/b.log" ready 10 || fail "backends started"

  doc_class TLSv1.2 | apply_doc class
  { doc_service svc-a; doc_slice svc-a-1 svc-a "$PORT_A"; doc_service svc-b; doc_slice svc-b-1 svc-b "$PORT_B"; } | apply_doc backends
  doc_ingress web web.test svc-a | apply_doc web

  start_operator
  wait_line "$OPERATOR_OUT" "listening on" 30 || { fail "the operator started"; cat "$OPERATOR_ERR"; return; }
  pass "the operator started with its embedded proxy"

  check_eventually "a request through the embedded proxy reaches the real backend" 10 backend-a "body web.test /"
  check "an unknown host gets 404" 404 "$(body nobody.test /)"
  check_eventually "status.loadBalancer of the served Ingress is written" 10 127.0.0.1 "ingress_lb_ip web"
  check_eventually "IngressClassConfig Accepted=True" 10 True "config_condition Accepted"
  check_eventually "IngressClassConfig Programmed=True" 10 True "config_condition Programmed"

  # TLS: a referenced Secret is served (SNI), with the class's HSTS; a rotated Secret goes live.
  make_pki
  doc_tls_secret secure-tls "$WORK/pki/1001.pem" "$WORK/pki/1001.key" | apply_doc secure-secret
  doc_ingress secure secure.test svc-a "" secure-tls | apply_doc secure
  local tls_curl=(curl -s --max-time 5 --cacert "$WORK/pki/ca.pem" --resolve "secure.test:$HTTPS_PORT:127.0.0.1")
  check_eventually "HTTPS with the Ingress's TLS Secret reaches the backend" 10 backend-a \
    "${tls_curl[*]} https://secure.test:$HTTPS_PORT/"
  check "HSTS from the IngressClassConfig on HTTPS responses" "max-age=600" \
    "$("${tls_curl[@]}" -D - -o /dev/null "https://secure.test:$HTTPS_PORT/" | tr -d '\r' | sed -n 's/^strict-transport-security: //Ip')"
  check "no HSTS over plain HTTP" "" \
    "$(curl -s -D - -o /dev/null -H 'Host: secure.test' "http://127.0.0.1:$HTTP_PORT/" | grep -i strict-transport)"
  check "the certificate served is the Secret's" 1001 "$(served_serial)"
  doc_tls_secret secure-tls "$WORK/pki/1002.pem" "$WORK/pki/1002.key" | apply_doc secure-secret
  check_eventually "a rotated TLS Secret is served without a restart" 10 1002 "served_serial"

  # The class's TLS policy applies without a restart.
  doc_class TLSv1.3 | apply_doc class
  check_eventually "minVersion TLSv1.3: a TLS 1.2 client is refused" 10 fail \
    "${tls_curl[*]} --tlsv1.2 --tls-max 1.2 https://secure.test:$HTTPS_PORT/ >/dev/null && echo ok || echo fail"
  check "minVersion TLSv1.3: a TLS 1.3 client is served" backend-a \
    "$("${tls_curl[@]}" --tlsv1.3 "https://secure.test:$HTTPS_PORT/")"
  doc_class TLSv1.2 | apply_doc class

  # The class's proxy limits apply without a restart too (no connection is cut for it).
  post_size() {  # BYTES → the status of a POST with that body through the proxy
    head -c "$1" /dev/zero | curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H "Host: web.test" \
      --data-binary @- "http://127.0.0.1:$HTTP_PORT/"
  }
  check "no body limit by default: a 4 KiB POST is forwarded" 200 "$(post_size 4096)"
  doc_class TLSv1.2 1024 | apply_doc class
  check_eventually "proxy.maxBodyBytes 1024 applies live: a 4 KiB POST gets 413" 10 413 "post_size 4096"
  check "and a 512-byte POST is still forwarded" 200 "$(post_size 512)"
  doc_class TLSv1.2 | apply_doc class
  check_eventually "the limit lifted live" 10 200 "post_size 4096"

  # An edit goes live.
  doc_ingress web web.test svc-b | apply_doc web
  check_eventually "an Ingress edit goes live (backend switched)" 10 backend-b "body web.test /"

  # Another controller's class: not routed, status left alone.
  doc_ingress theirs theirs.test svc-a other | apply_doc theirs
  sleep 0.5
  check "another controller's Ingress is not served" 404 "$(body theirs.test /)"
  check "another controller's Ingress status is left alone" "" "$(ingress_lb_ip theirs)"

  # A rule that cannot be served becomes an Event that says why.
  doc_ingress broken broken.test no-such-service | apply_doc broken
  check_eventually "a rule with an unknown Service gets a Warning Event" 10 ServiceNotFound \
    "event_reasons broken | grep -x ServiceNotFound | head -n1"
  check "an unknown Service answers 503" 503 "$(body broken.test /)"

  # EndpointSlice changes under keep-alive load: no request fails, both backends answer, and a
  # WebSocket opened before stays up (its tunnel keeps the backend it was routed to).
  doc_ingress live live.test svc-a | apply_doc live
  check_eventually "a new Ingress goes live" 10 backend-a "body live.test /"
  rm -f "$WORK/load.stop" "$WORK/load.ready"
  python3 "$HERE/../lib/keepalive_load.py" "$HTTP_PORT" live.test "$WORK/load.stop" \
    --ready-file "$WORK/load.ready" >"$WORK/load.out" &
  local load=$!
  python3 "$HERE/../proxy_it/websocket_client.py" "$HTTP_PORT" live.test --hold "$WORK/load.stop" \
    >"$WORK/ws.out" 2>&1 &
  local ws=$!
  eventually 10 '[[ -e $WORK/load.ready ]]'
  for i in $(seq 1 10); do
    local port=$PORT_A
    ((i % 2)) && port=$PORT_B
    doc_slice svc-a-1 svc-a "$port" | apply_doc slice-a
    sleep 0.15
  done
  touch "$WORK/load.stop"
  wait $load
  wait $ws
  local ok bad reconnects distinct ws_result
  read -r ok bad reconnects distinct <"$WORK/load.out"
  check "no failed request while EndpointSlices changed 10 times" 0 "$bad"
  ws_result=$(grep '^ok=' "$WORK/ws.out")
  [[ $ws_result =~ ^ok=([0-9]+)\ bad=0$ && ${BASH_REMATCH[1]} -gt 10 ]] \
    && pass "a WebSocket stayed up through the changes ($ws_result)" \
    || fail "a WebSocket stayed up through the changes: $(cat "$WORK/ws.out")"
  check "the keep-alive connection was never dropped" 0 "$reconnects"
  check "both backends answered during the changes" 2 "$distinct"
  if ((ok > 0)); then pass "keep-alive load ran ($ok requests)"; else fail "keep-alive load ran no request"; fi

  # A delete gives 404.
  delete_doc web
  check_eventually "a deleted Ingress answers 404" 10 404 "body web.test /"

  # The operator restarts while a proxy keeps serving: a separate `portico proxy` follows the
  # same snapshot file; it serves throughout, and picks up changes made by the new operator.
  local proxy_port
  proxy_port=$(free_port)
  "$PORTICO" proxy --snapshot "$SNAPSHOT" --http-port "$proxy_port" --https-port -2 --workers 1 \
    >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
  PIDS+=($!)
  wait_line "$WORK/proxy.out" "listening on" 10 || fail "the separate proxy started"
  rm -f "$WORK/load.stop" "$WORK/load2.ready"
  python3 "$HERE/../lib/keepalive_load.py" "$proxy_port" live.test "$WORK/load.stop" \
    --ready-file "$WORK/load2.ready" >"$WORK/load2.out" &
  load=$!
  eventually 10 '[[ -e $WORK/load2.ready ]]'
  kill -TERM "$OPERATOR_PID"
  wait "$OPERATOR_PID"
  check "the operator exits cleanly on SIGTERM" 0 $?
  sleep 0.5
  check "the proxy keeps serving while the operator is down" backend-a "$(body live.test / "$proxy_port")"
  doc_ingress web web.test svc-a | apply_doc web
  start_operator
  wait_line "$OPERATOR_OUT" "listening on" 30 || fail "the operator restarted"
  check_eventually "a change made while the operator was down goes live after its restart" 10 backend-a \
    "body web.test / $proxy_port"
  touch "$WORK/load.stop"
  wait $load
  read -r ok bad reconnects distinct <"$WORK/load2.out"
  check "no failed request through the operator's restart" 0 "$bad"
  if ((ok > 0)); then pass "load through the restart ran ($ok requests)"; else fail "no request during the restart"; fi
}
