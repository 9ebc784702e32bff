#!/usr/bin/env python3
"""A battery of hostile clients against a running Portico proxy in front of
recording_backend.py: request smuggling (CL/TE variants, obs-fold, bare LF/CR, NUL, chunk-size
overflow, absolute form with another Host), path-normalisation tricks against Prefix and Exact
rules, slowloris on heads and bodies, head and body floods, TLS garbage and an oversized
ClientHello. A normal keep-alive client runs throughout; its latency is printed and none of its
requests may fail. At the end the backend's record must hold no unframed bytes, no smuggled
request and no path outside the routes.

Usage: hostile.py HTTP_PORT TLS_PORT BACKEND_LOG
The proxy serves host h.test: Prefix /public and Exact /exact to the recording backend."""
import json
import os
import socket
import ssl
import statistics
import sys
import threading
import time

HTTP_PORT, TLS_PORT, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
passed = failed = 0


def check(name, expected, actual):
    global passed, failed
    if expected == actual:
        passed += 1
        print("ok   - %s" % name)
    else:
        failed += 1
        print("FAIL - %s: expected [%s], got [%s]" % (name, expected, actual))


def exchange(data, timeout=3.0, port=HTTP_PORT):
    """Sends raw bytes; returns (first status or None, closed by the server?, all bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out, closed = b"", False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
    except socket.timeout:
        pass
    except OSError:
        closed = True
    s.close()
    status = None
    if out.startswith(b"HTTP/1.1 "):
        status = int(out[9:12])
    return status, closed, out


# --- the normal client -------------------------------------------------------------------------
latencies, normal_failures = [], []
stop_normal = threading.Event()


def normal_client():
    sock = None
    while not stop_normal.is_set():
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=5)
            start = time.monotonic()
            sock.sendall(b"GET /public/ping HTTP/1.1\r\nHost: h.test\r\n\r\n")
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            head, rest = buf.split(b"\r\n\r\n", 1)
            length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length")][0])
            while len(rest) < length:
                rest += sock.recv(4096)
            latencies.append(time.monotonic() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                normal_failures.append(head.split(b"\r\n")[0].decode())
        except (OSError, ValueError, IndexError) as e:
            normal_failures.append(str(e))
            sock = None
        time.sleep(0.02)


normal = threading.Thread(target=normal_client, daemon=True)
normal.start()

# --- request smuggling: every message below must be refused and its connection closed -----------
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n"
H = b"POST /public/s HTTP/1.1\r\nHost: h.test\r\n"
refused = [
    ("CL.TE", H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("TE.CL", H + b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("TE xchunked", H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 501),
    ("TE chunked, identity", H + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED, 501),
    ("TE twice, the last not chunked", H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n" + SMUGGLED, 501),
    ("space before the colon", H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("TE by obs-fold", H + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("vertical tab before chunked", H + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("CL list that disagrees", H + b"Content-Length: 5, 6\r\n\r\nabcde" + SMUGGLED, 400),
    ("two CLs that disagree", H + b"Content-Length: 5\r\nContent-Length: 50\r\n\r\nabcde" + SMUGGLED, 400),
    ("CL +5", H + b"Content-Length: +5\r\n\r\nabcde" + SMUGGLED, 400),
    ("CL 0x5", H + b"Content-Length: 0x5\r\n\r\nabcde" + SMUGGLED, 400),
    ("CL -1", H + b"Content-Length: -1\r\n\r\n" + SMUGGLED, 400),
    ("TE in HTTP/1.0", b"POST /public/s HTTP/1.0\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("bare LF in the head", b"GET /public/a HTTP/1.1\nHost: h.test\n\n" + SMUGGLED, 400),
    ("bare CR in a header", b"GET /public/a HTTP/1.1\r\nHost: h.test\r\nX: a\rb\r\n\r\n" + SMUGGLED, 400),
    ("NUL in a header", b"GET /public/a HTTP/1.1\r\nHost: h.test\r\nX: a\0b\r\n\r\n" + SMUGGLED, 400),
    ("two Hosts", b"GET /public/a HTTP/1.1\r\nHost: h.test\r\nHost: evil.test\r\n\r\n" + SMUGGLED, 400),
    ("chunk size overflow", H + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("negative chunk size", H + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("chunk size with bare LF", H + b"Transfer-Encoding: chunked\r\n\r\n5\nabcde\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("chunk longer than its size", H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcde\r\n0\r\n\r\n" + SMUGGLED, 400),
    ("Host [::1]:junk", b"GET /public/a HTTP/1.1\r\nHost: [::1]:junk\r\n\r\n" + SMUGGLED, 400),
]
for name, data, want in refused:
    status, closed, _ = exchange(data)
    check("smuggling, %s: %d and the connection closed" % (name, want), (want, True), (status, closed))

# Absolute form: the URI's authority is the Host, routing and forwarding alike (RFC 9112 §3.2.2).
status, _, out = exchange(b"GET http://h.test/public/absolute HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n")
check("absolute form with another Host is routed by the URI", 200, status)

# --- path normalisation against Prefix /public and Exact /exact -----------------------------------
paths = [
    ("/admin", 404), ("/public/../admin", 404), ("/public/%2e%2e/admin", 404),
    ("/public/..%2fadmin", 400), ("/public%2F..%2Fadmin", 400), ("/public/..%5cadmin", 400),
    ("/public/..\\admin", 400), ("//admin", 404), ("/PUBLIC/x", 404), ("/publicx", 404),
    ("/public/./x", 200), ("/%70ublic/x", 200), ("/public", 200), ("/public/", 200),
    ("/exact", 200), ("/exact/", 404), ("/./exact", 200), ("/exact%2F", 404), ("/exact/.", 404),
    ("/exactly", 404), ("/public/%00", 400), ("/public/%zz", 400), ("*", 400),
]
for path, want in paths:
    status, _, _ = exchange(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n")
    check("path %s: %d" % (path, want), want, status)

# --- slowloris: heads and bodies that drip in ------------------------------------------------------
def drip(first, byte, interval, seconds):
    s = socket.create_connection(("127.0.0.1", HTTP_PORT), timeout=1)
    s.sendall(first)
    deadline, closed, answer = time.monotonic() + seconds, False, b""
    while time.monotonic() < deadline:
        try:
            s.sendall(byte)
            time.sleep(interval)
            s.setblocking(False)
            try:
                chunk = s.recv(4096)
                if not chunk:
                    closed = True
                    break
                answer += chunk
            except BlockingIOError:
                pass
            finally:
                s.setblocking(True)
        except OSError:
            closed = True
            break
    s.close()
    return closed, answer[:12]


results = []
threads = [threading.Thread(target=lambda: results.append(
    drip(b"GET /public/ HTTP/1.1\r\nHost: h.test\r\nX-Slow: ", b"a", 0.5, 8))) for _ in range(40)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("slowloris on heads: all 40 connections ended by the header timeout (408)",
      (40, 40), (sum(1 for c, _ in results if c), sum(1 for _, a in results if a.startswith(b"HTTP/1.1 408"))))
results = []
threads = [threading.Thread(target=lambda: results.append(
    drip(b"POST /public/slow HTTP/1.1\r\nHost: h.test\r\nContent-Length: 100\r\n\r\n", b"a", 4.5, 12)))
    for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("slowloris on bodies: 10 connections silent longer than the body timeout end (408)",
      (10, 10), (sum(1 for c, _ in results if c), sum(1 for _, a in results if a.startswith(b"HTTP/1.1 408"))))

# --- floods -----------------------------------------------------------------------------------------
many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
status, closed, _ = exchange(b"GET /public/ HTTP/1.1\r\nHost: h.test\r\n" + many + b"\r\n")
check("150 header fields: 431 and close", (431, True), (status, closed))
status, closed, _ = exchange(b"GET /public/ HTTP/1.1\r\nHost: h.test\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
check("a 20 kB header: 431 and close", (431, True), (status, closed))
status, closed, _ = exchange(b"GET /public/ HTTP/1.1\r\nHost: h.test\r\nX-Endless: " + b"a" * 200000)
check("a head that never ends: 431 and close", (431, True), (status, closed))
status, closed, _ = exchange(H + b"Content-Length: 300000\r\n\r\n" + b"a" * 1000)
check("a declared body over the limit: 413 and close", (413, True), (status, closed))
chunks = b"".join(b"4000\r\n" + b"a" * 0x4000 + b"\r\n" for _ in range(10))
status, closed, _ = exchange(H + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
check("a chunked body growing over the limit: 413 and close", (413, True), (status, closed))

# --- TLS garbage and an oversized ClientHello -------------------------------------------------------
status, closed, out = exchange(os.urandom(4096), timeout=3, port=TLS_PORT)
check("TLS port: random bytes end the connection", True, closed)
hello_body = b"\x03\x03" + os.urandom(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
extensions = b"\x00\x15" + (60000).to_bytes(2, "big") + b"\x00" * 60000  # padding extension
hello_body += len(extensions).to_bytes(2, "big") + extensions
handshake = b"\x01" + len(hello_body).to_bytes(3, "big") + hello_body
records = b""
for i in range(0, len(handshake), 16384):
    piece = handshake[i:i + 16384]
    records += b"\x16\x03\x01" + len(piece).to_bytes(2, "big") + piece
status, closed, out = exchange(records, timeout=3, port=TLS_PORT)
check("TLS port: a 60 kB ClientHello ends the connection", True, closed)
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5) as raw:
    with context.wrap_socket(raw, server_hostname="h.test") as tls:
        tls.sendall(b"GET /public/tls HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                break
            answer += chunk
check("TLS still serves a normal client afterwards", b"HTTP/1.1 200", answer[:12])

# --- the normal client, and what the backend saw -----------------------------------------------------
stop_normal.set()
normal.join()
check("the normal client's requests all succeeded (%d)" % len(latencies), [], normal_failures[:3])
if latencies:
    ms = sorted(x * 1000 for x in latencies)
    print("# normal client during the battery: %d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          % (len(ms), statistics.median(ms), ms[int(len(ms) * 0.99) - 1], ms[-1]))
entries = [json.loads(line) for line in open(LOG)]
unframed = [e for e in entries if "unframed" in e]
check("the backend never got unframed bytes", [], unframed[:3])
aborted = [e["aborted"] for e in entries if "aborted" in e]
check("requests the proxy gave up on (the slow bodies) ended mid-body, nothing after them",
      True, all(target == "/public/slow" for target in aborted) and len(aborted) <= 10)
check("no smuggled request reached the backend", [],
      [e["target"] for e in entries if "smuggled" in e.get("target", "")])
check("no request outside the routes reached the backend", [],
      [e["target"] for e in entries if "admin" in e.get("target", "").lower()])
check("the absolute-form request arrived with the URI's Host", ["h.test"],
      [e["host"] for e in entries if e.get("target") == "/public/absolute"])
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
