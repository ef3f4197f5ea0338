#!/usr/bin/env python3
"""A tiny DNS resolver and client for the DNS relay's tests (no DNS library needed).

  dns-tool.py serve ADDRESS LOG     answer on ADDRESS:53, UDP and TCP, from the table below;
                                    every question is appended to LOG as "proto name"
  dns-tool.py query SERVER NAME [--tcp]
                                    ask SERVER:53 for NAME's A records; print "ADDRESS TTL" lines,
                                    or "timeout" (exit 1)

Names the resolver knows (TTLs chosen by the tests):
  api.example.com      A 203.0.113.10 TTL 2, A 203.0.113.11 TTL 2
  long.example.com     A 203.0.113.20 TTL 300
  alias.example.com    CNAME api.example.com TTL 60, then api.example.com's records
  other.example.net    A 203.0.113.30 TTL 300
  meta.example.com     A 169.254.169.254 TTL 300, A 203.0.113.40 TTL 300 (a resolver naming a
                       private address)
  loop.example.com     an answer whose name is a compression pointer to itself
  trunc.example.com    an answer cut off in the middle of its record
anything else: NXDOMAIN.
"""
import socket
import struct
import sys
import threading

RECORDS = {
    "api.example.com": [("A", "203.0.113.10", 2), ("A", "203.0.113.11", 2)],
    "long.example.com": [("A", "203.0.113.20", 300)],
    "alias.example.com": [("CNAME", "api.example.com", 60)],
    "other.example.net": [("A", "203.0.113.30", 300)],
    "meta.example.com": [("A", "169.254.169.254", 300), ("A", "203.0.113.40", 300)],
}


def encode_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def read_name(msg, pos):
    labels = []
    while msg[pos] != 0:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode())
        pos += 1 + n
    return ".".join(labels), pos + 1


def record(name, kind, value, ttl):
    if kind == "A":
        rdata = socket.inet_aton(value)
        rtype = 1
    else:
        rdata = encode_name(value)
        rtype = 5
    return encode_name(name) + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer(query):
    qid, _flags, qd = struct.unpack(">HHH", query[:6])
    name, end = read_name(query, 12)
    question = query[12:end + 4]
    name = name.lower()
    if name == "loop.example.com":
        # The answer's name points at itself (offset of the answer section).
        ptr = 12 + len(question)
        body = struct.pack(">HH", 0xC000 | ptr, 1) + struct.pack(">HIH", 1, 5, 4) + bytes(4)
        return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + body, name
    if name == "trunc.example.com":
        full = record(name, "A", "203.0.113.40", 5)
        return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + full[:-3], name
    answers = []
    current = name
    for _ in range(4):
        recs = RECORDS.get(current, [])
        for kind, value, ttl in recs:
            answers.append(record(current, kind, value, ttl))
        cnames = [v for k, v, _ in recs if k == "CNAME"]
        if not cnames:
            break
        current = cnames[0]
    rcode = 0 if answers else 3
    header = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(answers), 0, 0)
    return header + question + b"".join(answers), name


def serve(address, log):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, 53))
    tcp.listen(16)
    lock = threading.Lock()

    def note(proto, name):
        with lock, open(log, "a") as f:
            f.write(f"{proto} {name}\n")

    def udp_loop():
        while True:
            query, peer = udp.recvfrom(4096)
            reply, name = answer(query)
            note("udp", name)
            udp.sendto(reply, peer)

    def tcp_conn(conn):
        with conn:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                (n,) = struct.unpack(">H", head)
                query = b""
                while len(query) < n:
                    part = conn.recv(n - len(query))
                    if not part:
                        return
                    query += part
                reply, name = answer(query)
                note("tcp", name)
                conn.sendall(struct.pack(">H", len(reply)) + reply)

    threading.Thread(target=udp_loop, daemon=True).start()
    print("listening", flush=True)
    while True:
        conn, _ = tcp.accept()
        threading.Thread(target=tcp_conn, args=(conn,), daemon=True).start()


def parse_answers(msg):
    _qid, _flags, qd, an = struct.unpack(">HHHH", msg[:8])
    pos = 12
    for _ in range(qd):
        _, pos = read_name(msg, pos)
        pos += 4
    out = []
    for _ in range(an):
        while msg[pos] != 0 and msg[pos] < 0xC0:
            pos += 1 + msg[pos]
        pos += 2 if msg[pos] >= 0xC0 else 1
        rtype, _cls, ttl, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == 1:
            out.append(f"{socket.inet_ntoa(msg[pos:pos + 4])} {ttl}")
        pos += rdlen
    return out


def query(server, name, tcp):
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack(">HH", 1, 1)
    try:
        if tcp:
            s = socket.create_connection((server, 53), timeout=3)
            s.sendall(struct.pack(">H", len(q)) + q)
            head = s.recv(2)
            (n,) = struct.unpack(">H", head)
            reply = b""
            while len(reply) < n:
                reply += s.recv(n - len(reply))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.sendto(q, (server, 53))
            reply, peer = s.recvfrom(4096)
            # The answer must come from the resolver that was asked, on port 53.
            if peer != (server, 53):
                print(f"answer from {peer[0]}:{peer[1]}")
                return 1
    except (socket.timeout, ConnectionError, struct.error, OSError):
        print("timeout")
        return 1
    try:
        lines = parse_answers(reply)
    except (IndexError, struct.error, OSError):
        print("malformed")
        return 0
    print("\n".join(lines) if lines else "no records")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit(query(sys.argv[2], sys.argv[3], "--tcp" in sys.argv[4:]))
