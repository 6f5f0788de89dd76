#!/usr/bin/env python3
"""Container stats, berthd beside Debian's dockerd in one run, 50 running busybox containers
on each (--network none; dockerd gets a bridge of its own, without iptables rules, since
one started with --bridge=none would delete a docker0 that another Docker may be using):

  no-stream   `docker stats --no-stream` over all of them (the docker CLI against both
              daemons, and berth's CLI against berthd): wall time, and the CPU time the
              daemon spent answering (dockerd's stack is dockerd, containerd and the
              containers' shims, which read the cgroups for it; berthd reads them itself)
  api         the same 50 GET /containers/{id}/stats?stream=false at once, without a CLI:
              the daemon's own latency (the docker CLI waits 0.5 s of its own before it
              prints)
  stream      `docker stats` streaming all of them for a while: what it adds to the
              daemon's resident memory, and the daemon's CPU time per second of streaming

usage: sudo bench/stats_bench.py [--containers N] [--iterations N] [--stream-seconds N]
"""
import argparse
import concurrent.futures
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from daemons import BUILD, DOCKER, Daemons, busybox_tar, cpu_seconds, run

BERTH = os.path.join(BUILD, "src/cmd/berth")


def rss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def shims_of(ctr_pid):
    """containerd's shims re-parent to init: found by their -address under the bench's dir."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"containerd-shim-runc-v2") and ctr_pid in cmd:
            out.append(int(d))
    return out


def start_containers(env, n):
    for i in range(n):
        run([DOCKER, "run", "-d", "--network", "none", "--name", f"s{i}", "busybox", "sleep",
             "100000"], env)


def no_stream(argv, env, stack, n):
    """Medians of wall ms and daemon CPU ms of `stats --no-stream`, checking every row, and
    the first round's wall ms: berthd pairs a sample with one of the round before when that
    is at most 2 s old, so the docker CLI's first round (the first client) is the one where
    berthd waits for a second sample."""
    walls, cpus = [], []
    for _ in range(n):
        pids = stack()
        c0 = cpu_seconds(pids)
        t0 = time.perf_counter()
        out = run(argv + ["stats", "--no-stream"], env)
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((cpu_seconds(pids) - c0) * 1000)
        rows = out.strip().splitlines()[1:]
        if len(rows) != args.containers or any("--" in r for r in rows):
            raise RuntimeError(f"stats --no-stream gave {len(rows)} rows:\n{out}")
    return statistics.median(walls), statistics.median(cpus), walls[0]


def get_stats(sock, cid):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(f"GET /v1.41/containers/{cid}/stats?stream=false HTTP/1.0\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    if b" 200 " not in data.split(b"\r\n", 1)[0] or b'"cpu_stats"' not in data:
        raise RuntimeError(f"stats of {cid}: {data[:200]!r}")


def api_round(sock, ids, stack, n):
    """Medians of wall ms and daemon CPU ms of all containers' stream=false at once."""
    walls, cpus = [], []
    with concurrent.futures.ThreadPoolExecutor(len(ids)) as pool:
        for _ in range(n):
            pids = stack()
            c0 = cpu_seconds(pids)
            t0 = time.perf_counter()
            list(pool.map(lambda c: get_stats(sock, c), ids))
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((cpu_seconds(pids) - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def stream(env, stack, memory_pids, seconds):
    """RSS the daemon gains (KiB) and its CPU ms per second while `docker stats` streams."""
    time.sleep(3)  # an idle berthd hands back its heap after 2 s: measure from there
    before = rss_kib(memory_pids())
    pids = stack()
    p = subprocess.Popen([DOCKER, "stats"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)  # every container's stream is open
        c0, t0 = cpu_seconds(pids), time.perf_counter()
        peak = 0
        while time.perf_counter() - t0 < seconds:
            peak = max(peak, rss_kib(memory_pids()))
            time.sleep(0.5)
        cpu = (cpu_seconds(pids) - c0) * 1000 / (time.perf_counter() - t0)
    finally:
        p.terminate()
        p.wait()
    return peak - before, cpu, before


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--stream-seconds", type=int, default=10)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="berth-stats-bench-")
    daemons = Daemons(work)
    results = {}
    try:
        tar = busybox_tar(work)
        n = args.containers

        bproc, benv = daemons.berthd()
        bsock = benv["DOCKER_HOST"][len("unix://"):]
        run([DOCKER, "import", tar, "busybox"], benv)
        start_containers(benv, n)
        bids = run([DOCKER, "ps", "-q"], benv).split()
        berth_stack = lambda: [bproc.pid]  # noqa: E731
        results["berthd"] = {
            "docker CLI": no_stream([DOCKER], benv, berth_stack, args.iterations),
            "berth CLI": no_stream([BERTH], dict(benv, BERTH_HOST=benv["DOCKER_HOST"]),
                                   berth_stack, args.iterations),
            "api": api_round(bsock, bids, berth_stack, args.iterations),
            "stream": stream(benv, berth_stack, berth_stack, args.stream_seconds),
        }
        run([DOCKER, "rm", "-f"] + bids, benv)

        peers = daemons.dockerd(daemons.bridge("sbench", "10.199.77.1/24"), iptables=False)
        if peers:
            dproc, cproc, denv = peers
            dsock = denv["DOCKER_HOST"][len("unix://"):]
            run([DOCKER, "import", tar, "busybox"], denv)
            start_containers(denv, n)
            dids = run([DOCKER, "ps", "-q"], denv).split()
            address = os.path.join(work, "docker/containerd.sock").encode()
            docker_stack = lambda: ([dproc.pid, cproc.pid] +  # noqa: E731
                                    shims_of(address))
            docker_daemons = lambda: [dproc.pid, cproc.pid]  # noqa: E731
            results["dockerd"] = {
                "docker CLI": no_stream([DOCKER], denv, docker_stack, args.iterations),
                "api": api_round(dsock, dids, docker_stack, args.iterations),
                "stream": stream(denv, docker_stack, docker_daemons, args.stream_seconds),
            }
            run([DOCKER, "rm", "-f"] + dids, denv)

        print(f"{n} running containers; medians of {args.iterations} rounds\n")
        print(f"{'stats --no-stream':34} {'wall ms':>9} {'daemon CPU ms':>14} {'1st wall ms':>12}")
        for daemon, r in results.items():
            for client in ("docker CLI", "berth CLI"):
                if client in r:
                    w, c, first = r[client]
                    print(f"{client + ' -> ' + daemon:34} {w:9.0f} {c:14.1f} {first:12.0f}")
        print(f"\n{n} x GET stats?stream=false at once")
        for daemon, r in results.items():
            w, c = r["api"]
            print(f"{daemon:34} {w:9.0f} {c:14.1f}")
        print(f"\ndocker stats streaming {n} containers for {args.stream_seconds} s")
        print(f"{'':34} {'RSS before':>11} {'RSS added':>10} {'CPU ms/s':>9}")
        for daemon, r in results.items():
            added, cpu, before = r["stream"]
            print(f"{daemon:34} {before / 1024:8.1f}MiB {added / 1024:7.1f}MiB {cpu:9.1f}")
        if "dockerd" in results:
            b, d = results["berthd"], results["dockerd"]
            print("\ndockerd / berthd:")
            print(f"  docker stats --no-stream: wall {d['docker CLI'][0] / b['docker CLI'][0]:.1f}x,"
                  f" daemon CPU {d['docker CLI'][1] / max(b['docker CLI'][1], 0.1):.1f}x"
                  f" (berth CLI: wall {d['docker CLI'][0] / b['berth CLI'][0]:.1f}x)")
            print(f"  the docker CLI's first round alone (berthd has no sample to pair with):"
                  f" wall {d['docker CLI'][2] / b['docker CLI'][2]:.1f}x")
            print(f"  {n} stream=false at once: wall {d['api'][0] / b['api'][0]:.1f}x, "
                  f"daemon CPU {d['api'][1] / max(b['api'][1], 0.1):.1f}x")
            print(f"  streaming: memory added {d['stream'][0] / max(b['stream'][0], 1):.1f}x, "
                  f"CPU per second {d['stream'][1] / max(b['stream'][1], 0.1):.1f}x")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
