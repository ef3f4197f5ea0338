#!/usr/bin/env python3
"""Traffic from a sandbox's guest for the egress tests (tests/cube-egress-rules-enforce.bats).

  egress_probe.py tcp PORT DST...        (DST: an address, or ADDRESS:PORT) one line a destination: "DST allow" when a TCP connect
                                         succeeds, "DST deny" when it is refused or times out
  egress_probe.py why PORT DST            "allow", "refused" (a reset or an ICMP error) or "timeout"
  egress_probe.py dns SERVER NAME        "answered ADDRESS" or "blocked" (an A query over UDP)
  egress_probe.py race PORT SECONDS DST...  connects to each DST in turn until SECONDS pass; prints
                                         "DST ok N of M" a destination
"""
import socket
import struct
import sys
import time


def connect(dst, port, timeout=1.0):
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect((dst, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def dns(server, name):
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    try:
        s.sendto(q, (server, 53))
        r = s.recv(512)
    except OSError:
        return "blocked"
    return "answered " + socket.inet_ntoa(r[-4:])


def main():
    kind = sys.argv[1]
    if kind == "tcp":
        port = int(sys.argv[2])
        for d in sys.argv[3:]:
            addr, _, p = d.partition(":")
            print(d, "allow" if connect(addr, int(p or port)) else "deny", flush=True)
    elif kind == "why":
        s = socket.socket()
        s.settimeout(1.0)
        try:
            s.connect((sys.argv[3], int(sys.argv[2])))
            print("allow")
        except socket.timeout:
            print("timeout")
        except OSError:
            print("refused")
    elif kind == "dns":
        print(dns(sys.argv[2], sys.argv[3]))
    elif kind == "race":
        port, end, dsts = int(sys.argv[2]), time.time() + float(sys.argv[3]), sys.argv[4:]
        ok = {d: 0 for d in dsts}
        tries = {d: 0 for d in dsts}
        while time.time() < end:
            for d in dsts:
                tries[d] += 1
                ok[d] += connect(d, port, 0.3)
            time.sleep(0.002)  # leave the CPU to the policy changes it races
        for d in dsts:
            print(d, "ok", ok[d], "of", tries[d])


main()
