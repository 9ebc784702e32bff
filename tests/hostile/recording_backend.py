#!/usr/bin/env python3
"""A backend that parses HTTP/1.1 strictly and records every request it gets, one JSON line per
request in LOG; anything that does not frame as a request (smuggled bytes, a bad chunk, a bare
LF, a request the proxy should have refused) is recorded as {"unframed": ...}. Every request is
answered 200 with its path; the connection is kept alive.

Usage: recording_backend.py PORT LOG"""
import json
import re
import socket
import sys
import threading

PORT, LOG = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def record(entry):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


class Unframed(Exception):
    pass


class Aborted(Exception):
    """The connection ended inside a message: the proxy gave up on the request (a timeout),
    nothing beyond the message reached us."""


def read_until(conn, buf, marker, limit=1 << 20):
    while marker not in buf:
        data = conn.recv(65536)
        if not data:
            if buf:
                raise Aborted("the connection ended inside a message")
            return None, buf
        buf += data
        if len(buf) > limit:
            raise Unframed("no end of head in %d bytes" % len(buf))
    i = buf.index(marker)
    return buf[:i], buf[i + len(marker):]


def read_exact(conn, buf, n):
    while len(buf) < n:
        data = conn.recv(65536)
        if not data:
            raise Aborted("the connection ended inside a body")
        buf += data
    return buf[:n], buf[n:]


def parse_head(head):
    if b"\n" in head.replace(b"\r\n", b"") or b"\r" in head.replace(b"\r\n", b"") or b"\0" in head:
        raise Unframed("bare CR/LF or NUL in a head: %r" % head[:200])
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0") or not TOKEN.match(parts[0]):
        raise Unframed("bad request line: %r" % lines[0][:200])
    headers = []
    for line in lines[1:]:
        if not line or line[:1] in (b" ", b"\t") or b":" not in line:
            raise Unframed("bad header line: %r" % line[:200])
        name, value = line.split(b":", 1)
        if not TOKEN.match(name):
            raise Unframed("bad header name: %r" % name[:100])
        headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
    return parts[0].decode(), parts[1].decode("latin-1"), headers


def handle(conn):
    buf = b""
    current = None
    try:
        while True:
            head, buf = read_until(conn, buf, b"\r\n\r\n")
            if head is None:
                return
            method, target, headers = parse_head(head)
            names = [n for n, _ in headers]
            te = [v for n, v in headers if n == "transfer-encoding"]
            cl = [v for n, v in headers if n == "content-length"]
            if names.count("host") != 1:
                raise Unframed("%d Host headers" % names.count("host"))
            if te and cl:
                raise Unframed("both Transfer-Encoding and Content-Length")
            body = b""
            current = target
            if te:
                if te != ["chunked"]:
                    raise Unframed("Transfer-Encoding %r" % te)
                while True:
                    size_line, buf = read_until(conn, buf, b"\r\n")
                    if size_line is None or not re.match(rb"^[0-9a-fA-F]{1,8}$", size_line):
                        raise Unframed("bad chunk size %r" % size_line)
                    size = int(size_line, 16)
                    data, buf = read_exact(conn, buf, size + 2)
                    if data[-2:] != b"\r\n":
                        raise Unframed("chunk data without CRLF")
                    body += data[:-2]
                    if size == 0:
                        break
            elif cl:
                if len(cl) != 1 or not cl[0].isdigit():
                    raise Unframed("Content-Length %r" % cl)
                body, buf = read_exact(conn, buf, int(cl[0]))
            record({"method": method, "target": target,
                    "host": dict(headers).get("host", ""), "body": len(body)})
            answer = ("ok %s\n" % target).encode("latin-1")
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
    except Unframed as e:
        record({"unframed": str(e)})
    except Aborted as e:
        record({"aborted": current, "why": str(e)})
    except OSError:
        pass
    finally:
        conn.close()


server = socket.create_server(("127.0.0.1", PORT), reuse_port=False)
print("ready", flush=True)
while True:
    c, _ = server.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
