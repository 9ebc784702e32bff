#!/usr/bin/env python3
"""Send raw bytes to HOST:PORT and print what comes back until the server closes (or a timeout).

Usage: raw_http.py PORT 'escaped request bytes' [timeout_seconds]
Prints the response bytes, then 'CLOSED' if the server closed the connection."""
import socket
import sys

port = int(sys.argv[1])
data = sys.argv[2].encode().decode("unicode_escape").encode("latin-1")
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 3.0
s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
s.sendall(data)
out = b""
closed = False
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            closed = True
            break
        out += chunk
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
print("\nCLOSED" if closed else "\nOPEN")
