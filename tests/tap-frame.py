#!/usr/bin/python3
"""Test helper for cube-tap: plays the two ends of a TAP fd and a raw socket client.

  tap-frame.py write            write one Ethernet frame (ethertype 0x88b5) to fd 3, vnet header first
  tap-frame.py read SECONDS     read frames from fd 3 until an IPv4 one arrives; print its MACs
  tap-frame.py ask SOCKET DATA [DELAY]
                                connect, send DATA (after DELAY seconds), print the reply and
                                whether an fd came with it
"""
import array
import os
import select
import socket
import sys
import time

VNET_HDR = 12
GUEST_MAC = bytes.fromhex("20906ffcfcfc")


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def write():
    fd = int(os.environ["CUBE_TAP_FD"])
    frame = b"\xff" * 6 + GUEST_MAC + b"\x88\xb5" + b"cube-tap hello".ljust(46, b"\0")
    os.write(fd, b"\0" * VNET_HDR + frame)
    print("wrote", len(frame))


def read(seconds):
    fd = int(os.environ["CUBE_TAP_FD"])
    deadline = time.time() + seconds
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
        if not r:
            break
        data = os.read(fd, 65536)[VNET_HDR:]
        if len(data) >= 14 and data[12:14] == b"\x08\x00":
            print(f"ipv4 {mac(data[6:12])} -> {mac(data[0:6])}")
            return 0
    print("nothing")
    return 1


def ask(path, data, delay=0.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    start = time.monotonic()
    s.connect(path)
    if delay:
        time.sleep(delay)
    if data:
        try:
            s.sendall(data.encode())
        except OSError:
            pass
    fds = array.array("i")
    try:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    except OSError as e:
        print("error", e)
        return 1
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    print(msg.decode(), "fd" if len(fds) else "nofd")
    if os.environ.get("ASK_TIMING"):
        print("elapsed_ms", int((time.monotonic() - start) * 1000))
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "write":
        write()
    elif mode == "read":
        sys.exit(read(float(sys.argv[2])))
    elif mode == "ask":
        sys.exit(ask(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0.0))
