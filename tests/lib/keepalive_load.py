#!/usr/bin/env python3
"""Requests on one keep-alive connection until STOP_FILE exists (at most 120 s).

Prints "OK BAD RECONNECTS DISTINCT_BODIES": a response other than 200 or any connection error
counts as bad; bodies tell which backends answered.
Usage: keepalive_load.py PORT HOST STOP_FILE [PATH]
"""
import http.client
import os
import sys
import time

port, host, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
path = sys.argv[4] if len(sys.argv) > 4 else "/"
ok = bad = reconnects = 0
bodies = set()
end = time.time() + 120
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
while time.time() < end and not os.path.exists(stop):
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            ok += 1
            bodies.add(body.strip())
        else:
            bad += 1
        if response.getheader("Connection", "").lower() == "close":
            reconnects += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    except Exception:
        bad += 1
        reconnects += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
print(ok, bad, reconnects, len(bodies))
