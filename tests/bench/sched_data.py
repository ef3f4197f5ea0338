"""Bench data for tests/bench/sched: a 5,000-node cluster written straight into a cube state file
(already migrated by cube-sched), and 10,000 placement requests over 50 distinct selectors that use
all six operators. Seeded, so every run measures the same thing.
Usage: python3 sched_data.py STATE.db REQUESTS.jsonl [NODES] [REQUESTS]
"""
import json
import random
import sqlite3
import sys
import time

rng = random.Random(20261129)
GIB = 1 << 30


def nodes(db, count, now):
    zones = ["z%d" % i for i in range(8)]
    types = ["c1.small", "c1.large", "m1.xlarge", "g1.metal", ""]
    for i in range(count):
        node_id = "node-%05d" % i
        roll = rng.random()
        heartbeat = now if roll < 0.90 else (now - 2 * 3600 * 1000 if roll < 0.95 else 0)
        # Drawn in the order the rows once took them in one tuple, so the data stays the same.
        ready = int(rng.random() < 0.97)
        reg = (node_id, "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255),
               rng.choice(types), rng.choice(zones), "k%d" % rng.randrange(4),
               rng.choice(["icx", "milan", "n1"]), rng.choice([8, 16, 32, 48, 64, 96]) * 1000,
               rng.choice([32, 64, 128, 256, 512]) * GIB, rng.choice([0, 0, 0, 40]), int(rng.random() < 0.02), now)
        cpu_util, mem_free = round(rng.uniform(0, 100), 1), rng.randrange(8, 600) * GIB
        db.execute("INSERT INTO nodes (id, address, instance_type, zone, cluster_id, cpu_type,"
                   " cpu_m, mem_bytes, max_sandboxes, cordoned, registered_ms)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", reg)
        if heartbeat != 0:  # a node never heard from has no heartbeat row
            db.execute("INSERT INTO node_heartbeats (node_id, heartbeat_ms, ready, cpu_util, mem_free_bytes)"
                       " VALUES (?, ?, ?, ?, ?)", (node_id, heartbeat, ready, cpu_util, mem_free))
        db.execute("INSERT INTO node_labels VALUES (?, 'rack', ?)", (node_id, "r%d" % rng.randrange(50)))
        if rng.random() < 0.7:
            db.execute("INSERT INTO node_labels VALUES (?, 'gpu', ?)", (node_id, rng.choice(["0", "2", "4", "8", "many"])))
        db.execute("INSERT INTO node_labels VALUES (?, 'owner', ?)", (node_id, "team%d" % rng.randrange(9)))
        for k in range(rng.randrange(6)):
            db.execute("INSERT INTO allocations (sandbox_id, node_id, cpu_m, mem_bytes, created_ms) VALUES (?, ?, ?, ?, ?)",
                       ("%s-sb%d" % (node_id, k), node_id, rng.choice([1, 2, 4, 8, 16]) * 1000,
                        rng.choice([1, 2, 4, 8, 32]) * GIB, now))


def requirement(op):
    if op == "In":
        key = rng.choice(["zone", "cluster-id", "cpu-type", "instance-type", "rack"])
        pool = {"zone": ["z%d" % i for i in range(8)], "cluster-id": ["k0", "k1", "k2", "k3"],
                "cpu-type": ["icx", "milan", "n1"], "instance-type": ["c1.small", "c1.large", "m1.xlarge", "g1.metal"],
                "rack": ["r%d" % i for i in range(50)]}[key]
        return {"key": key, "operator": op, "values": rng.sample(pool, rng.randrange(1, min(len(pool), 12)))}
    if op == "NotIn":
        return {"key": rng.choice(["zone", "rack", "gpu"]), "operator": op,
                "values": rng.sample(["z1", "z2", "r3", "r4", "0", "2", "many"], 3)}
    if op in ("Exists", "DoesNotExist"):
        return {"key": rng.choice(["gpu", "rack", "zone"]), "operator": op}
    key, values = rng.choice([("memory-size", ["64Gi", "128Gi", "200Gi", "131072Mi"]),
                              ("cpu-cores", ["8", "16", "31.5", "48000m"]), ("gpu", ["1", "2", "3"])])
    return {"key": key, "operator": op, "values": [rng.choice(values)]}


def expressions(count):
    ops = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    out = []
    for i in range(count):
        chosen = [ops[i % 6]] + rng.sample(ops, rng.randrange(0, 3))
        out.append(json.dumps([requirement(op) for op in chosen], separators=(",", ":")))
    return out


def main():
    state, requests = sys.argv[1], sys.argv[2]
    n_nodes = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    n_requests = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
    db = sqlite3.connect(state)
    with db:
        nodes(db, n_nodes, int(time.time() * 1000))
    exprs = expressions(50)
    with open(requests, "w") as f:
        for i in range(n_requests):
            r = {"cpu": rng.choice(["500m", "1", "2", "4000m", "8"]), "mem": rng.choice(["512Mi", "2G", "4G", "16G"]),
                 "selector": exprs[i % len(exprs)]}
            if i % 10 == 7:
                r["instance_type"] = "c1.large"
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
