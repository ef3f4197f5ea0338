#!/usr/bin/env python3
"""A sandbox client for the proxy tests: one keep-alive HTTP(S) connection to HOST:PORT that runs
each STEP in turn and prints one line per request, "<local port> <status> <body>".

STEP: "METHOD /path" (a request), "METHOD /path BODY" (with a JSON body), "sh:COMMAND" (a shell
command between two requests: change the policy), "sleep:SECONDS", or "upgrade:/path TEXT": a GET
asking for a WebSocket upgrade; on 101 it sends TEXT through the tunnel and prints what comes back. With CAFILE "-" it speaks
plain HTTP. HOST goes to the Host header and the SNI; ADDR is where it connects."""
import http.client
import socket
import ssl
import subprocess
import sys
import time


def main():
    host, addr, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if cafile == "-":
        conn = http.client.HTTPConnection(addr, port, timeout=10)
    else:
        ctx = ssl.create_default_context(cafile=cafile)
        conn = http.client.HTTPSConnection(addr, port, timeout=10, context=ctx)
        raw = socket.create_connection((addr, port), timeout=10)
        conn.sock = ctx.wrap_socket(raw, server_hostname=host)
    for step in sys.argv[5:]:
        if step.startswith("sh:"):
            subprocess.run(step[3:], shell=True, check=True)
            continue
        if step.startswith("sleep:"):
            time.sleep(float(step[6:]))
            continue
        if step.startswith("upgrade:"):
            upgrade(conn, host, *step[8:].split(" ", 1))
            continue
        parts = step.split(" ", 2)
        body = parts[2].encode() if len(parts) > 2 else None
        headers = {"Host": host}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(parts[0], parts[1], body=body, headers=headers)
        local = conn.sock.getsockname()[1]
        resp = conn.getresponse()
        data = resp.read().decode(errors="replace").strip()
        print(local, resp.status, data, flush=True)


def upgrade(conn, host, path, text):
    conn.request("GET", path, headers={"Host": host, "Connection": "Upgrade", "Upgrade": "websocket"})
    local = conn.sock.getsockname()[1]
    resp = conn.getresponse()
    if resp.status != 101:
        print(local, resp.status, resp.read().decode(errors="replace").strip(), flush=True)
        return
    conn.sock.sendall(text.encode())
    got = b""
    while len(got) < len(text):
        chunk = conn.sock.recv(4096)
        if not chunk:
            break
        got += chunk
    print(local, 101, got.decode(errors="replace"), flush=True)


main()
