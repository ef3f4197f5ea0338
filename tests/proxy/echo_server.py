#!/usr/bin/env python3
"""A world server for the proxy tests: HTTPS (or HTTP without a cert) on ADDR:PORT that answers
every GET, HEAD and POST with the request's method, path, headers and body as JSON, so a test sees
what reached the server (over TLS, also whether the client resumed a session). A GET with
"Upgrade: websocket" is answered 101, then every byte that comes is sent back upper-cased, until
the client closes. GET /bytes/N answers N pseudo-random bytes with their SHA-256 in X-Sha256; a
body of more than 64 KiB is answered with its length and SHA-256 instead of the body itself.
"peer" in the answer is the client's port, so a test sees which requests shared a connection. A path
ending in /close is answered with "Connection: close" and the connection closed; one ending in
/drop-next is answered, and the next request on its connection is read and left unanswered, the
connection closed (what a client sees when the server ends a kept connection as a request arrives).
A path ending in /early gets a 103 Early Hints first, the answer 0.2 s later; one ending in
/chunked is answered with Transfer-Encoding: chunked (to HEAD too, without the chunks)."""
import hashlib
import http.server
import random
import json
import ssl
import sys
import time


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    drop_next = False

    def do_GET(self):
        if self.drop_next:
            self.close_connection = True
            return
        self.drop_next = self.path.endswith("/drop-next")
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.tunnel()
        if self.path.startswith("/bytes/"):
            return self.send_bytes(int(self.path[len("/bytes/"):]))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        sent = raw.decode(errors="replace") if 0 < length <= 65536 else None
        if self.path.endswith("/early"):
            self.send_response_only(103)
            self.send_header("Link", "</style.css>; rel=preload")
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.2)
        answer = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                  "peer": self.client_address[1]}
        if length > 65536:
            answer["body_length"] = len(raw)
            answer["body_sha256"] = hashlib.sha256(raw).hexdigest()
        if hasattr(self.connection, "session_reused"):
            answer["tls_resumed"] = self.connection.session_reused
        if sent is not None:
            answer["body"] = sent
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.endswith("/chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            return
        self.send_header("Content-Length", str(len(body)))
        if self.path.endswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_bytes(self, n):
        body = random.Random(n).randbytes(n)
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.send_header("X-Sha256", hashlib.sha256(body).hexdigest())
        self.end_headers()
        self.wfile.write(body)

    def tunnel(self):
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.end_headers()
        self.wfile.flush()
        while True:
            data = self.rfile.read1(4096)
            if not data:
                break
            self.wfile.write(data.upper())
            self.wfile.flush()
        self.close_connection = True

    do_POST = do_GET
    do_HEAD = do_GET

    def log_message(self, *args):
        pass


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    server = http.server.ThreadingHTTPServer((addr, port), Echo)
    if len(sys.argv) > 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


main()
