#!/usr/bin/env python3
"""Applies a stream of YAML manifests to the test kube-apiserver with server-side apply, one
persistent HTTPS connection, so a soak can make 10 changes a second without a kubectl process
per change. Reads stdin: YAML (one or more '---' documents in the flow style the soak writes),
each batch ended by a line '%%'. At EOF prints "applied N failed M" (failures also to stderr).
Usage: apply_stream.py CLUSTER_DIR   (tests/cluster/start.sh's directory: env, pki/ca.crt)"""
import http.client
import re
import ssl
import sys

cluster = sys.argv[1]
env = dict(line.strip().split("=", 1) for line in open(cluster + "/env") if "=" in line)
context = ssl.create_default_context(cafile=cluster + "/pki/ca.crt")
PLURAL = {"Ingress": "ingresses", "IngressClass": "ingressclasses", "Service": "services",
          "EndpointSlice": "endpointslices", "Secret": "secrets",
          "IngressClassConfig": "ingressclassconfigs"}
CLUSTER_SCOPED = {"IngressClass", "IngressClassConfig"}


def connect():
    return http.client.HTTPSConnection("127.0.0.1", int(env["APISERVER_PORT"]), timeout=10,
                                       context=context)


def path_of(doc):
    api = re.search(r"^apiVersion: *(\S+)", doc, re.M).group(1)
    kind = re.search(r"^kind: *(\S+)", doc, re.M).group(1)
    name = re.search(r"^metadata: *\{name: *([^,}\s]+)", doc, re.M).group(1)
    base = "/api/" + api if "/" not in api else "/apis/" + api
    if kind in CLUSTER_SCOPED:
        return "%s/%s/%s" % (base, PLURAL[kind], name)
    namespace = re.search(r"namespace: *([^,}\s]+)", doc)
    namespace = namespace.group(1) if namespace else "default"
    return "%s/namespaces/%s/%s/%s" % (base, namespace, PLURAL[kind], name)


conn = connect()
applied = failed = 0
batch = []
for line in sys.stdin:
    if line.rstrip("\n") != "%%":
        batch.append(line)
        continue
    for doc in re.split(r"^---\s*$", "".join(batch), flags=re.M):
        if not doc.strip():
            continue
        path = path_of(doc) + "?fieldManager=portico-soak&force=true"
        for attempt in (1, 2):  # one reconnect if the kept-alive connection was closed
            try:
                conn.request("PATCH", path, body=doc.encode(), headers={
                    "Content-Type": "application/apply-patch+yaml",
                    "Authorization": "Bearer " + env["ADMIN_TOKEN"]})
                response = conn.getresponse()
                body = response.read()
                if response.status in (200, 201):
                    applied += 1
                else:
                    failed += 1
                    print("apply %s: %d %s" % (path, response.status, body[:300]), file=sys.stderr)
                break
            except (OSError, http.client.HTTPException) as e:
                conn = connect()
                if attempt == 2:
                    failed += 1
                    print("apply %s: %s" % (path, e), file=sys.stderr)
    batch = []
print("applied %d failed %d" % (applied, failed))
