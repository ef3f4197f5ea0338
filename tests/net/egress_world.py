#!/usr/bin/env python3
"""The world side of the egress tests (tests/cube-egress-rules-enforce.bats); prints "listening".

  egress_world.py tcp PORT       accepts TCP on every local address and closes at once
  egress_world.py dns ANSWER ADDRESS...
                                 answers every UDP DNS query to port 53 of each ADDRESS with one A
                                 record, TTL 60, from the address asked (as a resolver does)
"""
import select
import socket
import struct
import sys


def tcp(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    print("listening", flush=True)
    while True:
        c, _ = s.accept()
        c.close()


def dns(answer, addresses):
    socks = []
    for a in addresses:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 53))
        socks.append(s)
    print("listening", flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            q, peer = s.recvfrom(512)
            if len(q) < 17:
                continue
            header = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
            rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(answer)
            s.sendto(header + q[12:] + rr, peer)


if sys.argv[1] == "tcp":
    tcp(int(sys.argv[2]))
else:
    dns(sys.argv[2], sys.argv[3:])
