#!/usr/bin/env python3
"""The Engine API under load, berthd beside Debian's dockerd in one run, each with its own
data root and socket, containers with --network none:

  load       CLIENTS concurrent clients for SECONDS, each on its own kept-alive connection,
             mixing GET /containers/json (ps), inspect, and create + start + rm -f of a busybox
             `sleep`: operations per second, p50/p99 latency per operation, errors
  idle       IDLE idle connections held open: the daemon's threads and memory (RSS) with them
  round trip a raw client (no curl start-up): /_ping on a kept-alive connection, and
             GET /containers/json on a fresh connection each time, p50/p99

Clients are spread over processes so that the client side is not the bound.
usage: sudo bench/api_load_bench.py [--clients 200] [--seconds 60] [--idle 1000]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from daemons import BUILD, DOCKER, Daemons, busybox_tar, run


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def call(conn, method, url, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, url, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def client(args):
    """One client: a loop of operations until the deadline; returns (op, ms, ok) samples."""
    sock, deadline, seed = args
    rnd = random.Random(seed)
    conn = UnixHTTP(sock)
    samples = []
    mine = []
    while time.time() < deadline:
        pick = rnd.random()
        t0 = time.perf_counter()
        try:
            if pick < 0.5:
                op = "ps"
                status, _ = call(conn, "GET", "/containers/json?all=1")
                ok = status == 200
            elif pick < 0.8 or not mine:
                op = "inspect"
                target = mine[-1] if mine else "nosuch"
                status, _ = call(conn, "GET", f"/containers/{target}/json")
                ok = status == 200 or (status == 404 and not mine)
            else:
                op = "create+start+rm"
                status, data = call(conn, "POST", "/containers/create", {
                    "Image": "busybox", "Cmd": ["sleep", "30"],
                    "HostConfig": {"NetworkMode": "none"}})
                ok = status == 201
                if ok:
                    cid = json.loads(data)["Id"]
                    status, _ = call(conn, "POST", f"/containers/{cid}/start")
                    ok = status == 204
                    status, _ = call(conn, "DELETE", f"/containers/{cid}?force=1")
                    ok = ok and status == 204
        except Exception:
            ok = False
            conn.close()
            conn = UnixHTTP(sock)
        samples.append((op, (time.perf_counter() - t0) * 1000, ok))
        if op == "ps" and ok and len(mine) < 1:
            # A container of its own to inspect, made once.
            try:
                status, data = call(conn, "POST", "/containers/create", {
                    "Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}})
                if status == 201:
                    mine.append(json.loads(data)["Id"])
            except Exception:
                pass
    for cid in mine:
        try:
            call(conn, "DELETE", f"/containers/{cid}?force=1")
        except Exception:
            pass
    return samples


def load(sock, clients, seconds):
    deadline = time.time() + seconds
    procs = min(clients, 16)
    sizes = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    with multiprocessing.Pool(procs) as pool:
        results = pool.map(client_batch, [(sock, deadline, i, n) for i, n in enumerate(sizes)])
    samples = [s for r in results for s in r]
    out = {"seconds": seconds}
    for op in ("ps", "inspect", "create+start+rm"):
        ms = sorted(m for o, m, ok in samples if o == op)
        if not ms:
            continue
        out[op] = {"n": len(ms), "p50": ms[len(ms) // 2], "p99": ms[int(len(ms) * 0.99)]}
    out["ops"] = len(samples)
    out["ops_per_s"] = len(samples) / seconds
    out["errors"] = sum(1 for _, _, ok in samples if not ok)
    return out


def client_batch(args):
    """`n` clients in threads of one process."""
    import threading
    sock, deadline, base, n = args
    results = [None] * n

    def one(i):
        results[i] = client((sock, deadline, base * 1000 + i))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [s for r in results for s in r]


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


def idle(sock, pids, n):
    before = [proc_status(p) for p in pids]
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        conns.append(s)
    # A request on the last one: all before it are accepted by then.
    c = UnixHTTP(sock)
    call(c, "GET", "/_ping")
    time.sleep(1)
    after = [proc_status(p) for p in pids]
    for s in conns:
        s.close()
    threads = sum(a[0] for a in after) - sum(b[0] for b in before)
    rss = sum(a[1] for a in after) - sum(b[1] for b in before)
    return threads, rss, sum(a[1] for a in after)


def round_trip(sock, n):
    kept = UnixHTTP(sock)
    ping = []
    for _ in range(n):
        t0 = time.perf_counter()
        call(kept, "GET", "/_ping")
        ping.append((time.perf_counter() - t0) * 1e6)
    fresh = []
    for _ in range(n):
        t0 = time.perf_counter()
        c = UnixHTTP(sock)
        call(c, "GET", "/containers/json")
        c.close()
        fresh.append((time.perf_counter() - t0) * 1e6)
    q = lambda xs, p: sorted(xs)[int(len(xs) * p)]
    return q(ping, 0.5), q(ping, 0.99), q(fresh, 0.5), q(fresh, 0.99)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--round-trips", type=int, default=2000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="berth-load-bench-")
    daemons = Daemons(work)
    try:
        tar = busybox_tar(work)
        rows = {}
        bp, benv = daemons.berthd()
        run([DOCKER, "import", tar, "busybox"], benv)
        bsock = benv["DOCKER_HOST"][len("unix://"):]
        rows["berthd"] = (round_trip(bsock, args.round_trips), idle(bsock, [bp.pid], args.idle),
                          load(bsock, args.clients, args.seconds))
        peers = daemons.dockerd()
        if peers:
            dp, cp, denv = peers
            run([DOCKER, "import", tar, "busybox"], denv)
            dsock = denv["DOCKER_HOST"][len("unix://"):]
            rows["dockerd"] = (round_trip(dsock, args.round_trips),
                               idle(dsock, [dp.pid, cp.pid], args.idle),
                               load(dsock, args.clients, args.seconds))
        print(f"{args.clients} clients for {args.seconds} s; {args.idle} idle connections; "
              f"{args.round_trips} round trips\n")
        print(f"{'daemon':8} {'ops/s':>8} {'errors':>6} {'ps p50':>8} {'ps p99':>8} "
              f"{'insp p99':>8} {'c+s+rm p50':>10} {'c+s+rm p99':>10}")
        for name, (_, _, l) in rows.items():
            ps, ins, csr = l.get("ps", {}), l.get("inspect", {}), l.get("create+start+rm", {})
            print(f"{name:8} {l['ops_per_s']:8.0f} {l['errors']:6} {ps.get('p50', 0):8.1f} "
                  f"{ps.get('p99', 0):8.1f} {ins.get('p99', 0):8.1f} {csr.get('p50', 0):10.1f} "
                  f"{csr.get('p99', 0):10.1f}")
        print(f"\n{'daemon':8} {'+threads':>9} {'+RSS MB':>8} {'RSS MB':>8}   (idle connections)")
        for name, (_, (t, r, total), _) in rows.items():
            print(f"{name:8} {t:9} {r:8.1f} {total:8.1f}")
        print(f"\n{'daemon':8} {'ping p50':>9} {'ping p99':>9} {'fresh ps p50':>12} "
              f"{'fresh ps p99':>12}   (µs)")
        for name, ((p50, p99, f50, f99), _, _) in rows.items():
            print(f"{name:8} {p50:9.0f} {p99:9.0f} {f50:12.0f} {f99:12.0f}")
        if "dockerd" in rows:
            b, d = rows["berthd"][2], rows["dockerd"][2]
            print(f"\nberthd: {b['ops_per_s'] / max(d['ops_per_s'], 1e-9):.1f}x dockerd's "
                  f"operations per second")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
