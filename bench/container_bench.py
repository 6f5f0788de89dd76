#!/usr/bin/env python3
"""Containers, berthd beside Debian's dockerd in one run, on the same busybox image:

  run --rm busybox true      median, with berth's CLI and with the docker CLI as client
  run -d, then rm -f         medians
  start rate                 50 containers started by 4 clients at once, containers/s
  idle daemon memory         berthd RSS against dockerd + containerd RSS
  memory per container       berth-shim PSS against containerd-shim PSS, 10 idle containers

Containers run with --network none on both daemons (berth's networking is not in yet).
usage: sudo bench/container_bench.py [--iterations N]
"""
import argparse
import concurrent.futures
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from daemons import BUILD, DOCKER, Daemons, busybox_tar, run

BERTH = os.path.join(BUILD, "src/cmd/berth")


def timed(argv, env):
    t0 = time.perf_counter()
    run(argv, env)
    return (time.perf_counter() - t0) * 1000


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# "Idle": this long without a request, after an import. berthd hands memory back after 2 s.
IDLE_S = 5


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pids_named(name, mark):
    """Processes called `name` whose command line names `mark` (this run's directory), so
    that shims of other daemons on the machine are not counted."""
    out = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{d}/comm") as f:
                if not f.read().strip().startswith(name):
                    continue
            with open(f"{d}/cmdline", "rb") as f:
                if mark.encode() in f.read():
                    out.append(int(d[6:]))
        except OSError:
            pass
    return out


def measure(client, env, n):
    runs = [timed([client, "run", "--rm", "--network", "none", "busybox", "true"], env)
            for _ in range(n)]
    starts, removes = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        cid = run([client, "run", "-d", "--network", "none", "busybox", "sleep", "1000"],
                  env).strip()
        starts.append((time.perf_counter() - t0) * 1000)
        removes.append(timed([client, "rm", "-f", cid], env))
    return statistics.median(runs), statistics.median(starts), statistics.median(removes)


def client_floor(client, env, n):
    """Median ms of `rm -f` of a name that does not exist: the client's start-up, its ping and
    one API round trip, with no container work: what no daemon can go below."""
    def once():
        t0 = time.perf_counter()
        run([client, "rm", "-f", "no-such-container-bench"], env, check=False)
        return (time.perf_counter() - t0) * 1000
    return statistics.median(once() for _ in range(n))


def start_rate(client, env, total=50, clients=4):
    def one(_):
        return run([client, "run", "-d", "--network", "none", "busybox", "sleep", "1000"],
                   env).strip()
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        ids = list(pool.map(one, range(total)))
    rate = total / (time.perf_counter() - t0)
    run([client, "rm", "-f"] + ids, env)
    return rate


def shim_memory(client, env, shim_name, mark, count=10):
    before = set(pids_named(shim_name, mark))
    ids = [run([client, "run", "-d", "--network", "none", "busybox", "sleep", "1000"],
               env).strip() for _ in range(count)]
    time.sleep(1)
    shims = [p for p in pids_named(shim_name, mark) if p not in before]
    total = sum(pss_kb(p) for p in shims)
    run([client, "rm", "-f"] + ids, env)
    return total / max(len(shims), 1), len(shims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="berth-ctr-bench-")
    daemons = Daemons(work)
    try:
        tar = busybox_tar(work)

        berthd, benv = daemons.berthd()
        run([DOCKER, "import", tar, "busybox"], benv)
        berth_env = dict(benv, BERTH_HOST=benv["DOCKER_HOST"])
        time.sleep(IDLE_S)
        idle_berthd = rss_kb(berthd.pid)
        rows = {}
        rows["berth CLI -> berthd"] = measure(BERTH, berth_env, args.iterations)
        rows["docker CLI -> berthd"] = measure(DOCKER, benv, args.iterations)
        floors = {"berth CLI": client_floor(BERTH, berth_env, args.iterations),
                  "docker CLI": client_floor(DOCKER, benv, args.iterations)}
        rate_b = start_rate(BERTH, berth_env)
        shim_b, nb = shim_memory(BERTH, berth_env, "berth-shim", work)

        peers = daemons.dockerd()
        if peers:
            dockerd, containerd, denv = peers
            run([DOCKER, "import", tar, "busybox"], denv)
            time.sleep(IDLE_S)
            idle_docker = rss_kb(dockerd.pid) + rss_kb(containerd.pid)
            rows["docker CLI -> dockerd"] = measure(DOCKER, denv, args.iterations)
            rate_d = start_rate(DOCKER, denv)
            shim_d, nd = shim_memory(DOCKER, denv, "containerd-shim", work)

        print(f"{args.iterations} runs each; medians in ms\n")
        print(f"{'client -> daemon':24} {'run --rm':>10} {'run -d':>10} {'rm -f':>10}")
        for name, (r, s, d) in rows.items():
            print(f"{name:24} {r:10.1f} {s:10.1f} {d:10.1f}")
        print("client floor (rm -f of a missing name, against berthd): " +
              ", ".join(f"{k} {v:.1f} ms" for k, v in floors.items()))
        print(f"\nstart rate, 50 containers by 4 clients: berthd {rate_b:.1f}/s", end="")
        print(f", dockerd {rate_d:.1f}/s ({rate_b / rate_d:.1f}x)" if peers else "")
        print(f"idle daemon RSS: berthd {idle_berthd / 1024:.1f} MB", end="")
        print(f", dockerd+containerd {idle_docker / 1024:.1f} MB "
              f"({idle_berthd / idle_docker:.3f}x)" if peers else "")
        print(f"PSS per container monitor: berth-shim {shim_b:.0f} kB ({nb} shims)", end="")
        print(f", containerd-shim {shim_d:.0f} kB ({nd}) ({shim_b / shim_d:.3f}x)"
              if peers else "")
        if peers:
            d = rows["docker CLI -> dockerd"]
            for name in ("berth CLI -> berthd", "docker CLI -> berthd"):
                b = rows[name]
                print(f"{name}: run --rm {d[0] / b[0]:.1f}x, run -d {d[1] / b[1]:.1f}x, "
                      f"rm -f {d[2] / b[2]:.1f}x faster than docker CLI -> dockerd")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
