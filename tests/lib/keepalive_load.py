#!/usr/bin/env python3
"""Requests on one keep-alive connection until STOP_FILE exists (at most 120 s, or
--max-seconds).

Prints "OK BAD RECONNECTS DISTINCT_BODIES": a response other than 200 or any connection error
counts as bad; bodies tell which backends answered.
Usage: keepalive_load.py PORT HOST STOP_FILE [PATH] [--tls CA_FILE] [--max-seconds N]
                         [--ready-file FILE]
(HTTPS with SNI = HOST; --ready-file is created after the first 200, so a test can wait for
the load to be running before it changes anything)
"""
import http.client
import os
import socket
import ssl
import sys
import time

args = sys.argv[1:]
ca_file = None
if "--tls" in args:
    i = args.index("--tls")
    ca_file = args[i + 1]
    del args[i:i + 2]
max_seconds = 120
if "--max-seconds" in args:
    i = args.index("--max-seconds")
    max_seconds = float(args[i + 1])
    del args[i:i + 2]
ready_file = None
if "--ready-file" in args:
    i = args.index("--ready-file")
    ready_file = args[i + 1]
    del args[i:i + 2]
port, host, stop = int(args[0]), args[1], args[2]
path = args[3] if len(args) > 3 else "/"


def connect():
    if ca_file is None:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    context = ssl.create_default_context(cafile=ca_file)
    # Connect to 127.0.0.1 but verify (and send SNI for) the virtual host.
    conn = http.client.HTTPSConnection(host, port, timeout=5, context=context)
    conn._create_connection = lambda address, *a, **k: socket.create_connection(("127.0.0.1", port), *a, **k)
    return conn


ok = bad = reconnects = 0
bodies = set()
end = time.time() + max_seconds
conn = connect()
while time.time() < end and not os.path.exists(stop):
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            ok += 1
            if ok == 1 and ready_file:
                open(ready_file, "w").close()
            bodies.add(body.strip())
        else:
            bad += 1
        if response.getheader("Connection", "").lower() == "close":
            reconnects += 1
            conn = connect()
    except Exception:
        bad += 1
        reconnects += 1
        conn = connect()
print(ok, bad, reconnects, len(bodies))
