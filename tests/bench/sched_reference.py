"""A straightforward, exhaustive reference for `cube-sched place --batch` (decisions only).

For every request it walks every node, re-reading labels as strings and re-parsing quantities, and
applies the same filters, scores and tie-break as cube-sched(1): health, cordon, instance type,
affinity (In, NotIn, Exists, DoesNotExist, strict Gt/Lt on Kubernetes quantities), sandboxes, cpu,
cpu-util, mem, mem-free; least- or most-allocated score; highest score wins, ties to the lowest ID.
Usage: python3 sched_reference.py STATE.db CONFIG.toml < requests.jsonl > decisions.jsonl
"""
import json
import math
import re
import sqlite3
import sys
import time
import tomllib
from fractions import Fraction

CANONICAL = {
    "zone": "topology.kubernetes.io/zone",
    "cluster-id": "topology.kubernetes.io/cluster-id",
    "cpu-type": "kubernetes.io/cpu-type",
    "memory-size": "kubernetes.io/memory-size",
    "cpu-cores": "kubernetes.io/cpu-cores",
    "instance-type": "kubernetes.io/instance-type",
}
SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
          "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
          "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
QUANTITY = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(.*)")


def quantity(text):
    m = QUANTITY.fullmatch(text)
    if not m:
        return None
    sign, number, suffix = m.groups()
    value = Fraction(number)
    if suffix in SUFFIX:
        value *= SUFFIX[suffix]
    else:
        e = re.fullmatch(r"[eE]([+-]?\d{1,3})", suffix)
        if not e or not -38 <= int(e.group(1)) <= 29:
            return None
        value *= Fraction(10) ** int(e.group(1))
    return -value if sign == "-" else value


def size(text):
    m = re.fullmatch(r"(\d+)(K|k|M|G|T)?(i|iB|B)?", str(text))
    return int(m.group(1)) * {None: 1, "K": 2**10, "k": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2)]


def millicores(text):
    return int(quantity(str(text)) * 1000)


def duration_ms(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    return int(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}[m.group(2)]


def clamp(ratio, fallback):
    return ratio if math.isfinite(ratio) and ratio > 0 else fallback


def effective(quota, ratio):
    v = math.floor(quota * ratio)
    return min(v, 2**63 - 1)


class Policy:
    def __init__(self, path):
        with open(path, "rb") as f:
            s = tomllib.load(f).get("sched", {})
        self.cpu_ratio = clamp(float(s.get("cpu_ratio", 3.0)), 3.0)
        self.mem_ratio = clamp(float(s.get("mem_ratio", 2.0)), 2.0)
        self.types = s.get("instance_types", {})
        self.ignore = s.get("ignore_recorded_allocations", False)
        self.ceiling = float(s.get("cpu_util_ceiling", 80))
        self.reserve = size(s.get("mem_reserve", "10G"))
        self.timeout = duration_ms(s.get("heartbeat_timeout", "40s"))
        self.max_sandboxes = s.get("max_sandboxes", 3000)
        self.keys = s.get("selector_keys", [])
        self.most = s.get("score", "least-allocated") == "most-allocated"
        self.wc = float(s.get("score_cpu_weight", 1))
        self.wm = float(s.get("score_mem_weight", 1))

    def ratios(self, itype):
        t = self.types.get(itype)
        if t is not None and ("cpu_ratio" in t or "mem_ratio" in t):
            return clamp(float(t.get("cpu_ratio", 0)), 3.0), clamp(float(t.get("mem_ratio", 0)), 2.0)
        return self.cpu_ratio, self.mem_ratio

    def mem_reserve(self, itype, quota):
        t = self.types.get(itype, {})
        if "mem_reserve" in t:
            r = size(t["mem_reserve"])
        elif t.get("mem_reserve_percent", 0) > 0:
            r = math.ceil(quota * float(t["mem_reserve_percent"]) / 100.0)
        else:
            r = self.reserve
        if r >= quota:
            r = math.ceil(quota * float(10) / 100.0)
        return max(r, 0)


def load_nodes(path):
    db = sqlite3.connect(path)
    nodes = []
    for row in db.execute("SELECT n.id, COALESCE(h.heartbeat_ms, 0), COALESCE(h.ready, 0), n.instance_type, n.zone,"
                          " n.cluster_id, n.cpu_type, n.cpu_m, n.mem_bytes, n.max_sandboxes, n.cordoned,"
                          " COALESCE(h.cpu_util, 0), COALESCE(h.mem_free_bytes, 0)"
                          " FROM nodes n LEFT JOIN node_heartbeats h ON h.node_id = n.id ORDER BY n.id"):
        keys = ["id", "heartbeat_ms", "ready", "instance_type", "zone", "cluster_id", "cpu_type", "cpu_m", "mem_bytes",
                "max_sandboxes", "cordoned", "cpu_util", "mem_free", "labels", "alloc_cpu", "alloc_mem", "sandboxes"]
        nodes.append(dict(zip(keys, list(row) + [{}, 0, 0, 0])))
    by_id = {n["id"]: n for n in nodes}
    for node_id, key, value in db.execute("SELECT node_id, key, value FROM node_labels"):
        by_id[node_id]["labels"][key] = value
    for node_id, cpu, mem in db.execute("SELECT node_id, cpu_m, mem_bytes FROM allocations"):
        n = by_id[node_id]
        n["alloc_cpu"] += cpu
        n["alloc_mem"] += mem
        n["sandboxes"] += 1
    return nodes


def labels_of(node):
    labels = dict(node["labels"])
    labels.update({
        CANONICAL["zone"]: node["zone"], CANONICAL["cluster-id"]: node["cluster_id"],
        CANONICAL["cpu-type"]: node["cpu_type"], CANONICAL["memory-size"]: "%dMi" % (node["mem_bytes"] >> 20),
        CANONICAL["cpu-cores"]: "%dm" % node["cpu_m"], CANONICAL["instance-type"]: node["instance_type"],
    })
    return labels


def matches(labels, req, policy):
    key = CANONICAL.get(req["key"], req["key"])
    if key not in CANONICAL.values() and key not in policy.keys:
        raise ValueError("key not allowed")
    op, values = req["operator"], req.get("values") or []
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present:
            return False
        a, b = quantity(labels[key]), quantity(values[0])
        if a is None or b is None:
            return False
        return a > b if op == "Gt" else a < b
    raise ValueError("operator")


def fits(node, request, policy, now):
    if node["heartbeat_ms"] <= 0 or now - node["heartbeat_ms"] > policy.timeout or not node["ready"]:
        return False
    if node["cordoned"]:
        return False
    labels = labels_of(node)
    if request["instance_type"] and labels[CANONICAL["instance-type"]] != request["instance_type"]:
        return False
    if not all(matches(labels, r, policy) for r in request["selector"]):
        return False
    limit = node["max_sandboxes"] if node["max_sandboxes"] > 0 else policy.max_sandboxes
    if node["sandboxes"] >= limit:
        return False
    cpu_ratio, mem_ratio = policy.ratios(node["instance_type"])
    alloc_cpu = 0 if policy.ignore else node["alloc_cpu"]
    alloc_mem = 0 if policy.ignore else node["alloc_mem"]
    if request["cpu"] > effective(node["cpu_m"], cpu_ratio) - alloc_cpu:
        return False
    if node["cpu_util"] >= policy.ceiling:
        return False
    if request["mem"] > effective(node["mem_bytes"], mem_ratio) - alloc_mem:
        return False
    return node["mem_free"] > request["mem"] + policy.mem_reserve(node["instance_type"], node["mem_bytes"])


def score(node, request, policy):
    cpu_ratio, mem_ratio = policy.ratios(node["instance_type"])
    alloc_cpu = 0 if policy.ignore else node["alloc_cpu"]
    alloc_mem = 0 if policy.ignore else node["alloc_mem"]

    def part(eff, alloc, want):
        if eff <= 0:
            return 0.0
        used = alloc + want if policy.most else eff - alloc - want
        return float(used) * 100.0 / float(eff)

    c = part(effective(node["cpu_m"], cpu_ratio), alloc_cpu, request["cpu"])
    m = part(effective(node["mem_bytes"], mem_ratio), alloc_mem, request["mem"])
    w = policy.wc + policy.wm
    return (policy.wc * c + policy.wm * m) / w if w > 0 else 0.0


def main():
    nodes = load_nodes(sys.argv[1])
    policy = Policy(sys.argv[2])
    now = int(time.time() * 1000)
    for line in sys.stdin:
        r = json.loads(line)
        selector = r.get("selector", [])
        request = {"cpu": millicores(r["cpu"]), "mem": size(r["mem"]), "instance_type": r.get("instance_type", ""),
                   "selector": json.loads(selector) if isinstance(selector, str) else selector}
        best, best_score = None, None
        for node in nodes:
            if fits(node, request, policy, now):
                s = score(node, request, policy)
                if best is None or s > best_score:
                    best, best_score = node["id"], s
        print(json.dumps({"node": best, "score": best_score}))


if __name__ == "__main__":
    main()
