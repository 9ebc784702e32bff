#!/usr/bin/env python3
"""A WebSocket client (RFC 6455) for proxy tests, over plain TCP or TLS.

Usage: websocket_client.py PORT HOST [--tls CA_FILE] [--hold STOP_FILE] [--messages N]
                           [--idle SECONDS]
Upgrades GET /ws on 127.0.0.1:PORT (Host/SNI: HOST), checks the 101 and Sec-WebSocket-Accept,
sends N masked text messages of growing size (up to 70 KB, so every length encoding is used)
and checks each echo. With --hold, keeps sending one message every 20 ms until STOP_FILE exists.
Prints: the first echo's backend prefix, then 'ok=N bad=N', then 'closed-cleanly=yes|no'.
With --idle, sends nothing and prints 'idle-closed=yes' if the proxy ends the quiet tunnel
within SECONDS."""
import argparse
import base64
import hashlib
import os
import socket
import ssl
import sys
import time

args = argparse.ArgumentParser()
args.add_argument("port", type=int)
args.add_argument("host")
args.add_argument("--tls")
args.add_argument("--hold")
args.add_argument("--messages", type=int, default=5)
args.add_argument("--idle", type=float)
a = args.parse_args()

sock = socket.create_connection(("127.0.0.1", a.port), timeout=5)
if a.tls:
    context = ssl.create_default_context(cafile=a.tls)
    sock = context.wrap_socket(sock, server_hostname=a.host)
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall(("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (a.host, key)).encode())
buffer = b""
while b"\r\n\r\n" not in buffer:
    chunk = sock.recv(4096)
    if not chunk:
        sys.exit("closed before the handshake answer: %r" % buffer)
    buffer += chunk
head, buffer = buffer.split(b"\r\n\r\n", 1)
lines = head.decode("latin-1").split("\r\n")
if not lines[0].startswith("HTTP/1.1 101"):
    sys.exit("not switched: %s" % lines[0])
headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
expected = base64.b64encode(
    hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
if headers.get("sec-websocket-accept") != expected or headers.get("upgrade", "").lower() != "websocket":
    sys.exit("bad handshake answer: %r" % headers)

if a.idle:
    sock.settimeout(a.idle)
    try:
        closed = sock.recv(1) == b""
    except socket.timeout:
        closed = False
    print("idle-closed=%s" % ("yes" if closed else "no"))
    sys.exit(0)



def read_exact(n):
    global buffer
    while len(buffer) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        buffer += chunk
    out, buffer = buffer[:n], buffer[n:]
    return out


def send(opcode, data):
    mask = os.urandom(4)
    frame = bytes([0x80 | opcode])
    if len(data) < 126:
        frame += bytes([0x80 | len(data)])
    elif len(data) < 65536:
        frame += bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
    else:
        frame += bytes([0x80 | 127]) + len(data).to_bytes(8, "big")
    sock.sendall(frame + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def receive():
    head = read_exact(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(read_exact(2), "big")
    elif length == 127:
        length = int.from_bytes(read_exact(8), "big")
    return head[0] & 0x0F, read_exact(length)


ok = bad = 0
sizes = [5, 200, 70000] + [16] * max(0, a.messages - 3)
i = 0
while True:
    if a.hold:
        if os.path.exists(a.hold):
            break
    elif i >= a.messages:
        break
    data = (b"m%d-" % i) + b"x" * sizes[min(i, len(sizes) - 1)]
    try:
        send(1, data)
        opcode, echo = receive()
    except (EOFError, OSError) as e:
        print("error after %d messages: %s" % (i, e))
        bad += 1
        break
    if i == 0 and b"|" in echo:
        print(echo.split(b"|", 1)[0].decode())
        echo = echo.split(b"|", 1)[1]
    if opcode == 1 and echo == data:
        ok += 1
    else:
        bad += 1
    i += 1
    if a.hold:
        time.sleep(0.02)
print("ok=%d bad=%d" % (ok, bad))
try:
    send(8, b"")
    opcode, _ = receive()
    clean = opcode == 8 and sock.recv(1) == b""
except (EOFError, OSError):
    clean = False
print("closed-cleanly=%s" % ("yes" if clean else "no"))
