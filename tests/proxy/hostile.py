#!/usr/bin/env python3
"""Hostile and idle clients for the proxy's limit tests. Each mode prints one JSON line of what it
saw, so a test reads numbers, not timing guesses.

  hold SRC DST PORT N SECONDS     open N connections from SRC, send nothing, keep them SECONDS;
                                  {"connected", "closed_early", "closed"}: how many the proxy cut
                                  within 1 s, and within SECONDS
  slowloris SRC DST PORT GAP      send a ClientHello one byte every GAP seconds;
                                  {"sent", "seconds"}: bytes sent before the proxy cut us
  bighello SRC DST PORT SIZE      announce a ClientHello of SIZE bytes and send it;
                                  {"sent", "seconds"}
  idle SRC NAME DST CAFILE        TLS to NAME at DST:443 through the proxy, then send nothing;
                                  {"handshake": true, "seconds"}: how long until the proxy cut us
  slowget SRC NAME DST CAFILE WAIT
                                  TLS to NAME, print {"ready": true}, wait WAIT seconds, then GET
                                  /hello; {"status", "path"}: what the server answered
"""
import json
import os
import resource
import selectors
import socket
import ssl
import sys
import time


def connect(src, dst, port, blocking=True):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    if blocking:
        s.connect((dst, port))
    else:
        s.setblocking(False)
        s.connect_ex((dst, port))
    return s


def hold(src, dst, port, n, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = connect(src, dst, port, blocking=False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ)
    start = time.monotonic()
    closed = set()
    early = 0
    while time.monotonic() - start < seconds:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed.add(s.fileno())
                sel.unregister(s)
                if time.monotonic() - start < 1:
                    early += 1
    connected = sum(1 for s in socks if s.fileno() in closed or not s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    print(json.dumps({"connected": connected, "closed_early": early, "closed": len(closed)}), flush=True)


def until_cut(s, chunks, gap):
    start = time.monotonic()
    sent = 0
    try:
        for c in chunks:
            s.sendall(c)
            sent += len(c)
            s.settimeout(gap)
            try:
                if s.recv(1) == b"":
                    break
            except socket.timeout:
                pass
        s.settimeout(30)
        s.recv(1)
    except OSError:
        pass
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - start, 3)}), flush=True)


def hello_prefix(total):
    """A TLS record header and a ClientHello header announcing `total` bytes of hello body."""
    body = total + 4
    return bytes([22, 3, 1, (body >> 8) & 0xFF, body & 0xFF, 1, (total >> 16) & 0xFF, (total >> 8) & 0xFF, total & 0xFF])


def main():
    mode = sys.argv[1]
    if mode == "hold":
        hold(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "slowloris":
        s = connect(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        data = hello_prefix(300) + bytes(300)
        until_cut(s, [data[i:i + 1] for i in range(len(data))], float(sys.argv[5]))
    elif mode == "bighello":
        s = connect(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        size = int(sys.argv[5])
        # Records of at most 16 KiB of payload each, as TLS allows: the hello spans several.
        hs = bytes([1, (size >> 16) & 0xFF, (size >> 8) & 0xFF, size & 0xFF, 3, 3]) + bytes(size - 2)
        records = [bytes([22, 3, 1, len(c) >> 8, len(c) & 0xFF]) + c for c in
                   (hs[i:i + 16384] for i in range(0, len(hs), 16384))]
        until_cut(s, records, 0.2)
    elif mode == "idle":
        src, name, dst, cafile = sys.argv[2:6]
        raw = connect(src, dst, 443)
        ctx = ssl.create_default_context(cafile=cafile)
        s = ctx.wrap_socket(raw, server_hostname=name)
        start = time.monotonic()
        s.settimeout(30)
        try:
            s.recv(1)
        except (OSError, ssl.SSLError):
            pass
        print(json.dumps({"handshake": True, "seconds": round(time.monotonic() - start, 3)}), flush=True)
    elif mode == "slowget":
        slowget(*sys.argv[2:6], float(sys.argv[6]))


def slowget(src, name, dst, cafile, wait):
    raw = connect(src, dst, 443)
    ctx = ssl.create_default_context(cafile=cafile)
    s = ctx.wrap_socket(raw, server_hostname=name)
    print(json.dumps({"ready": True}), flush=True)
    time.sleep(wait)
    s.sendall(("GET /hello HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name).encode())
    data = b""
    s.settimeout(10)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    path = json.loads(body).get("path") if status == 200 else None
    print(json.dumps({"status": status, "path": path}), flush=True)


main()
