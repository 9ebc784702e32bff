#!/usr/bin/env python3
"""The operator's control-plane numbers against a real kube-apiserver, side by side with targets.

  propagation  `kubectl apply` of a new Ingress returns → its host answers through the
               embedded proxy; 100 changes, p50/p99 (target p99 < 100 ms)
  cold start   1,000 Ingresses already in the API server; `portico operator` starts → the last
               host answers (target < 10 s)
  memory       operator RSS with 1,000 and with 10,000 Ingresses (all served)

Runs inside tests/cluster/with-cluster.sh (PORTICO_CLUSTER_DIR, KUBECONFIG set).
Usage: operator_bench.py PORTICO_BINARY SOURCE_ROOT [--large N]
"""
import concurrent.futures
import http.client
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

PORTICO, ROOT = sys.argv[1], sys.argv[2]
LARGE = int(sys.argv[sys.argv.index("--large") + 1]) if "--large" in sys.argv else 10000
CLUSTER = os.environ["PORTICO_CLUSTER_DIR"]
ENV = dict(line.strip().split("=", 1) for line in open(os.path.join(CLUSTER, "env")) if "=" in line)
WORK = tempfile.mkdtemp(prefix="portico-operator-bench.")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def kubectl(*args, stdin=None):
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=True).stdout


class Api:
    """Direct REST calls with the admin token: creating 10,000 objects through kubectl would take
    minutes, and only the operator is being measured."""

    def __init__(self):
        self.context = ssl.create_default_context(cafile=os.path.join(CLUSTER, "pki", "ca.crt"))
        self.port = int(ENV["APISERVER_PORT"])
        self.headers = {"Authorization": "Bearer " + ENV["ADMIN_TOKEN"], "Content-Type": "application/json"}

    def post_many(self, path, objects, threads=8):
        def worker(chunk):
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context)
            for obj in chunk:
                conn.request("POST", path, body=json.dumps(obj), headers=self.headers)
                response = conn.getresponse()
                response.read()
                if response.status not in (200, 201, 409):
                    raise RuntimeError("create failed: %d" % response.status)
        chunks = [objects[i::threads] for i in range(threads)]
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            list(pool.map(worker, chunks))


def ingress(name, host, ns="bench"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}


def answers(port, host, timeout=0.5):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", "/", headers={"Host": host})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status == 200
    except OSError:
        return False


def wait_for(predicate, limit):
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.001)
    return None


def rss_mib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


class Operator:
    def __init__(self):
        self.snapshot = os.path.join(WORK, "routes.snapshot")
        self.log = open(os.path.join(WORK, "operator.log"), "a")
        self.process = subprocess.Popen(
            [PORTICO, "--log-level", "warn", "operator", "--kubeconfig", os.environ["KUBECONFIG"],
             "--snapshot", self.snapshot, "--https-port", "-2"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.started = time.monotonic()

    def wait_listening(self):
        line = self.process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError("operator did not start; see " + self.log.name)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def main():
    http_port = free_port()
    backend_port = free_port()
    backend = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/proxy_it/backend.py"),
                                str(backend_port), "web"], stdout=subprocess.PIPE, text=True)
    backend.stdout.readline()
    es_api = "discovery.k8s.io/v1" if "discovery.k8s.io/v1\n" in kubectl("api-versions") else "discovery.k8s.io/v1beta1"
    kubectl("apply", "-f", os.path.join(ROOT, "crds/ingressclassconfig.yaml"))
    kubectl("wait", "--for", "condition=established", "crd/ingressclassconfigs.portico.io")
    kubectl("create", "namespace", "bench")
    kubectl("apply", "-f", "-", stdin=f"""
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {{name: portico, annotations: {{ingressclass.kubernetes.io/is-default-class: "true"}}}}
spec: {{controller: portico.io/ingress-controller, parameters: {{apiGroup: portico.io, kind: IngressClassConfig, name: portico}}}}
---
apiVersion: portico.io/v1alpha1
kind: IngressClassConfig
metadata: {{name: portico}}
spec: {{listeners: {{address: 127.0.0.1, http: {{port: {http_port}}}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: bench}}
spec: {{ports: [{{name: http, port: 80}}]}}
---
apiVersion: {es_api}
kind: EndpointSlice
metadata: {{name: web-1, namespace: bench, labels: {{kubernetes.io/service-name: web}}}}
addressType: IPv4
ports: [{{name: http, port: {backend_port}}}]
endpoints: [{{addresses: [127.0.0.1], conditions: {{ready: true}}}}]
""")
    api = Api()
    results = []

    # Propagation: 100 new Ingresses, one at a time, each through `kubectl apply`.
    op = Operator()
    op.wait_listening()
    latencies = []
    for i in range(100):
        doc = json.dumps(ingress("p-%d" % i, "p-%d.bench.test" % i))
        kubectl("apply", "-f", "-", stdin=doc)
        t = wait_for(lambda: answers(http_port, "p-%d.bench.test" % i), 10)
        latencies.append(t * 1000 if t is not None else float("inf"))
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[98]
    results.append(("propagation p50 (kubectl apply returned → route answers)", "%.1f ms" % p50, ""))
    results.append(("propagation p99 over 100 changes", "%.1f ms" % p99, "< 100 ms"))
    op.stop()

    # Cold start with 1,000 Ingresses.
    api.post_many("/apis/networking.k8s.io/v1/namespaces/bench/ingresses",
                  [ingress("c-%d" % i, "c-%d.bench.test" % i) for i in range(1000 - 100)])
    op = Operator()
    op.wait_listening()
    t = wait_for(lambda: answers(http_port, "c-899.bench.test") and answers(http_port, "p-99.bench.test"), 60)
    cold = (time.monotonic() - op.started) if t is not None else float("inf")
    results.append(("cold start: 1,000 Ingresses programmed (process start → last answers)", "%.2f s" % cold, "< 10 s"))
    time.sleep(1)
    results.append(("operator RSS with 1,000 Ingresses", "%.0f MiB" % rss_mib(op.process.pid), ""))
    op.stop()

    # Memory with LARGE Ingresses.
    start = time.monotonic()
    api.post_many("/apis/networking.k8s.io/v1/namespaces/bench/ingresses",
                  [ingress("l-%d" % i, "l-%d.bench.test" % i) for i in range(LARGE - 1000)])
    created = time.monotonic() - start
    op = Operator()
    op.wait_listening()
    last = "l-%d.bench.test" % (LARGE - 1001)
    t = wait_for(lambda: answers(http_port, last), 120)
    cold_large = (time.monotonic() - op.started) if t is not None else float("inf")
    time.sleep(1)
    results.append(("cold start: %s Ingresses programmed" % format(LARGE, ","), "%.2f s" % cold_large, ""))
    results.append(("operator RSS with %s Ingresses" % format(LARGE, ","), "%.0f MiB" % rss_mib(op.process.pid), ""))
    op.stop()
    backend.terminate()

    print("\n%-72s %12s   %s" % ("measure", "portico", "target"))
    for name, value, target in results:
        print("%-72s %12s   %s" % (name, value, target))
    print("(%s more Ingresses created through the API in %.1f s)" % (format(LARGE - 1000, ","), created))


if __name__ == "__main__":
    main()
