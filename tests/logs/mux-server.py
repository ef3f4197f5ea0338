#!/usr/bin/env python3
"""Serves one connection on a Unix socket with the cube-logs framed multiplex (the vsock stand-in).

usage: mux-server.py SOCKET SPEC...   SPEC is STREAM:TEXT (STREAM 1 stdout, 2 stderr, anything
else is sent as is); TEXT may use Python escapes. Each SPEC is one frame, sent in two writes split
mid-frame so the reader must join them."""
import os, socket, struct, sys, time

path = sys.argv[1]
frames = []
for spec in sys.argv[2:]:
    stream, text = spec.split(":", 1)
    payload = text.encode().decode("unicode_escape").encode("latin-1")
    frames.append(struct.pack(">BI", int(stream), len(payload)) + payload)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(path + ".ready", "w").close()
conn, _ = srv.accept()
for f in frames:
    half = len(f) // 2
    conn.sendall(f[:half])
    time.sleep(0.01)
    conn.sendall(f[half:])
conn.close()
srv.close()
os.unlink(path)
