#!/usr/bin/env python3
"""A real HTTP/1.1 backend for proxy tests (loopback only).

GET  /echo, POST /echo  -> JSON: method, path, headers, body length, body sha256, backend name,
                          the port of the connection it came on (peer_port)
GET  /slow?ms=N         -> answers after N milliseconds
GET  /hints             -> 103 Early Hints with a Link header, then 200
GET  /chunked?n=N       -> N chunks of 'chunk-i\\n' with Transfer-Encoding: chunked
GET  /big?bytes=N       -> N bytes with Content-Length
GET  /close             -> a close-delimited body (no Content-Length, Connection: close)
GET  /ws (Upgrade: websocket) -> 101, then every WebSocket message is echoed (RFC 6455);
                          the first message echoed is prefixed with the backend's name and
                          the Upgrade/X-Forwarded-For headers the backend saw
anything else           -> 200 with the backend's name
Usage: backend.py PORT NAME
"""
import base64
import hashlib
import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body leave in separate writes: without this, Nagle holds the body back
        # until the proxy's delayed ACK (40 ms per response), as no production server would.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, content_type="text/plain", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        self.do_GET()

    def do_PUT(self):
        self.do_GET()

    def do_HEAD(self):
        self.do_GET()

    def _websocket(self):
        """RFC 6455 §4.2.2 handshake, then echo data frames until a close frame or EOF."""
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        first = True
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8:  # close: answer it and end
                self.wfile.write(b"\x88\x00")
                self.wfile.flush()
                return
            if first:
                data = ("%s upgrade=%s xff=%s|" % (NAME, self.headers.get("Upgrade"),
                                                   self.headers.get("X-Forwarded-For"))).encode() + data
                first = False
            out = bytes([0x80 | opcode])
            if len(data) < 126:
                out += bytes([len(data)])
            elif len(data) < 65536:
                out += bytes([126]) + len(data).to_bytes(2, "big")
            else:
                out += bytes([127]) + len(data).to_bytes(8, "big")
            self.wfile.write(out + data)
            self.wfile.flush()

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self._websocket()
            return
        body = self._read_body()
        if url.path == "/echo":
            doc = {
                "backend": NAME,
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "peer_port": self.client_address[1],  # which upstream connection carried it
            }
            self._send(200, json.dumps(doc).encode(), "application/json")
        elif url.path == "/hints":
            # 103 Early Hints (RFC 8297), then the answer.
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            self._send(200, b"hinted\n")
        elif url.path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
            self._send(200, b"slow\n")
        elif url.path == "/chunked":
            n = int(query.get("n", ["3"])[0])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                data = ("chunk-%d\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/big":
            n = int(query.get("bytes", ["1048576"])[0])
            self._send(200, b"x" * n, "application/octet-stream")
        elif url.path == "/noserver":
            # No Server and no Date header (http.server adds both in send_response).
            self.send_response_only(200)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"noserver\n")
        elif url.path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"closed-body\n")
            self.close_connection = True
        else:
            self._send(200, ("%s\n" % NAME).encode())


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    NAME = sys.argv[2]
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("ready", flush=True)
    server.serve_forever()
