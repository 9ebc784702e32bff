#!/usr/bin/env python3
"""A test double for the one ACME resource pebble lacks: renewalInfo (RFC 9773).

Serves a directory that is pebble's own plus "renewalInfo" pointing here (every other URL in it
still goes to pebble), and answers GET /renewal-info/<certID>. The first certificate asked about
gets a window that has already begun (the CA wants it renewed now); every later one gets a window
10 to 11 days ahead. Each question is appended to ASKED_LOG as "<certID> <past|future>".

Usage: ari_double.py PORT CERT KEY PEBBLE_DIRECTORY PEBBLE_CA ASKED_LOG
"""
import datetime
import http.server
import json
import ssl
import sys
import threading
import urllib.request

PORT, CERT, KEY, UPSTREAM, UPSTREAM_CA, ASKED_LOG = sys.argv[1:7]
lock = threading.Lock()
first_id = None


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global first_id
        if self.path == "/dir":
            context = ssl.create_default_context(cafile=UPSTREAM_CA)
            with urllib.request.urlopen(UPSTREAM, context=context, timeout=5) as response:
                directory = json.load(response)
            directory["renewalInfo"] = "https://127.0.0.1:%s/renewal-info" % PORT
            return self.reply(200, directory)
        if self.path.startswith("/renewal-info/"):
            cert_id = self.path[len("/renewal-info/"):]
            now = datetime.datetime.now(datetime.timezone.utc)
            with lock:
                if first_id is None:
                    first_id = cert_id
                past = cert_id == first_id
                with open(ASKED_LOG, "a") as log:
                    log.write("%s %s\n" % (cert_id, "past" if past else "future"))
            if past:
                start, end = now - datetime.timedelta(hours=2), now - datetime.timedelta(hours=1)
            else:
                start, end = now + datetime.timedelta(days=10), now + datetime.timedelta(days=11)
            return self.reply(200, {"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)},
                                    "explanationURL": "https://ari.test/why"},
                              [("Retry-After", "3600")])
        self.reply(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "not here"})

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
