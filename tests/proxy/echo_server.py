#!/usr/bin/env python3
"""A world server for the proxy tests: HTTPS (or HTTP without a cert) on ADDR:PORT that answers
every GET, HEAD and POST with the request's method, path, headers and body as JSON, so a test sees
what reached the server (over TLS, also whether the client resumed a session). A GET with "Upgrade: websocket" is answered 101, then every byte that comes
is sent back upper-cased, until the client closes."""
import http.server
import json
import ssl
import sys


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.tunnel()
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length).decode(errors="replace") if length else None
        answer = {"method": self.command, "path": self.path, "headers": dict(self.headers.items())}
        if hasattr(self.connection, "session_reused"):
            answer["tls_resumed"] = self.connection.session_reused
        if sent is not None:
            answer["body"] = sent
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
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
