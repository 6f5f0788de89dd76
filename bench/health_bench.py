#!/usr/bin/env python3
"""The cost of healthchecks, berthd beside Debian's dockerd in one run: 50 running busybox
containers on each (--network none), each with `--health-cmd true --health-interval 1s`,
every one healthy before the measure starts. Over the window, the CPU time (user + system,
with the children each process reaped) of:

  daemon   berthd alone, against dockerd + containerd
  stack    the same plus the containers' shims (berth-shim runs a probe with the runtime
           library; containerd-shim-runc-v2 runs `runc exec`, whose time lands in the shim
           as a reaped child), and the probes themselves (`sh -c true`, reaped by the shims)

and the probes per second (from the spacing of each container's last five results), so that
both are seen doing the same work. Nothing else asks the daemons anything meanwhile.

usage: sudo bench/health_bench.py [--containers N] [--seconds N]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from daemons import DOCKER, Daemons, busybox_tar, cpu_seconds, run


def processes(binary, marker):
    """Pids of `binary` whose command line holds `marker` (the bench's directory)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(binary) and any(marker in a for a in cmd):
            out.append(int(d))
    # Not the shims' own short-lived forks (a probe being started): their time comes back to
    # the shim when it reaps them.
    def parent(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            return 0
    return [p for p in out if parent(p) not in out]


def start_containers(env, n):
    for i in range(n):
        run([DOCKER, "run", "-d", "--network", "none", "--name", f"h{i}", "--health-cmd", "true",
             "--health-interval", "1s", "busybox", "sleep", "100000"], env)
    ids = run([DOCKER, "ps", "-q"], env).split()
    deadline = time.time() + 60
    while True:
        states = run([DOCKER, "inspect", "-f", "{{.State.Health.Status}}"] + ids, env).split()
        if all(s == "healthy" for s in states):
            return ids
        if time.time() > deadline:
            raise RuntimeError(f"not all healthy after 60 s: {states}")
        time.sleep(0.5)



def seconds_of(rfc3339):
    """Seconds (since midnight is enough: differences within a minute) of an RFC 3339 time."""
    t = rfc3339.split("T", 1)[1].rstrip("Z").split("+")[0]
    h, m, sec = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(sec[:15])


def probe_rate(env, ids):
    """Probes per second over all containers, from the spacing of each one's last five."""
    out = run([DOCKER, "inspect", "-f", "{{json .State.Health}}"] + ids, env)
    rate, unhealthy = 0.0, 0
    for line in out.splitlines():
        h = json.loads(line)
        unhealthy += h["Status"] != "healthy"
        starts = [seconds_of(e["Start"]) for e in h["Log"]]
        if len(starts) > 1 and starts[-1] > starts[0]:
            rate += (len(starts) - 1) / (starts[-1] - starts[0])
    return rate, unhealthy


def measure(env, ids, daemon_pids, stack_pids, seconds):
    """CPU ms per second of the daemons alone and with their shims, nobody else asking."""
    d0, s0 = cpu_seconds(daemon_pids), cpu_seconds(stack_pids, with_children=True)
    t0 = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - t0
    d1, s1 = cpu_seconds(daemon_pids), cpu_seconds(stack_pids, with_children=True)
    rate, unhealthy = probe_rate(env, ids)
    return {"daemon": (d1 - d0) * 1000 / elapsed, "stack": (s1 - s0) * 1000 / elapsed,
            "probes": rate, "unhealthy": unhealthy}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="berth-health-bench-")
    daemons = Daemons(work)
    results = {}
    try:
        tar = busybox_tar(work)
        n = args.containers

        bproc, benv = daemons.berthd()
        run([DOCKER, "import", tar, "busybox"], benv)
        bids = start_containers(benv, n)
        shims = processes(b"berth-shim", work.encode())
        if len(shims) < n:
            raise RuntimeError(f"found {len(shims)} berth shims for {n} containers")
        results["berthd"] = measure(benv, bids, [bproc.pid], [bproc.pid] + shims, args.seconds)
        print(f"berthd: {results['berthd']}", flush=True)
        run([DOCKER, "rm", "-f"] + bids, benv)

        peers = daemons.dockerd(daemons.bridge("hbench", "10.199.78.1/24"), iptables=False)
        if peers:
            dproc, cproc, denv = peers
            run([DOCKER, "import", tar, "busybox"], denv)
            dids = start_containers(denv, n)
            address = os.path.join(work, "docker/containerd.sock").encode()
            shims = processes(b"containerd-shim-runc-v2", address)
            if len(shims) == 0:
                raise RuntimeError("no containerd shims found")
            results["dockerd"] = measure(denv, dids, [dproc.pid, cproc.pid],
                                         [dproc.pid, cproc.pid] + shims, args.seconds)
            print(f"dockerd: {results['dockerd']}", flush=True)
            run([DOCKER, "rm", "-f"] + dids, denv)

        print(f"{n} healthy containers, --health-cmd true --health-interval 1s, "
              f"{args.seconds} s measured\n")
        print(f"{'':28} {'probes/s':>9} {'daemon CPU ms/s':>16} {'with shims ms/s':>16}"
              f" {'daemon ms/probe':>16} {'with shims ms/probe':>20}")
        names = {"berthd": "berthd", "dockerd": "dockerd + containerd"}
        per_probe = lambda r, key: r[key] / max(r["probes"], 0.1)
        for daemon, r in results.items():
            print(f"{names[daemon]:28} {r['probes']:9.1f} {r['daemon']:16.1f} {r['stack']:16.1f}"
                  f" {per_probe(r, 'daemon'):16.2f} {per_probe(r, 'stack'):20.2f}")
            if r["unhealthy"]:
                print(f"  ({r['unhealthy']} containers were not healthy at the end)")
        if "dockerd" in results:
            b, d = results["berthd"], results["dockerd"]
            print(f"\ndockerd / berthd: daemon CPU {d['daemon'] / max(b['daemon'], 0.1):.1f}x, "
                  f"with shims {d['stack'] / max(b['stack'], 0.1):.1f}x")
            # A stack that cannot keep the interval does less work for its CPU: per probe is
            # the cost of the same work.
            print(f"per probe: daemon CPU {per_probe(d, 'daemon') / per_probe(b, 'daemon'):.1f}x, "
                  f"with shims {per_probe(d, 'stack') / per_probe(b, 'stack'):.1f}x")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
