#!/usr/bin/env python3
"""Writes a CRI log of LINES lines of STREAM into FILE, one line every STEP_MS milliseconds from
START (Unix seconds); line i's text is "line <i>". Used to test --since/--until and rotation reads.

usage: gen-cri.py FILE STREAM FIRST LAST START STEP_MS"""
import sys, time

path, stream, first, last, start, step = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
with open(path, "w") as f:
    for i in range(first, last + 1):
        ns = start * 10**9 + i * step * 10**6
        s, frac = divmod(ns, 10**9)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % frac
        f.write(f"{stamp} {stream} F line {i}\n")
