#!/usr/bin/env python3
"""Dockerfile builds: a five-step Dockerfile (FROM busybox, COPY, two RUNs, CMD) built cold
(--no-cache), rebuilt fully cached, and rebuilt after one source file changed, with
  - the berth CLI against berthd,
  - the docker CLI's classic builder (DOCKER_BUILDKIT=0) against berthd,
  - the docker CLI's classic builder against Debian's dockerd, when it is installed.
RUN steps use --network none on every side, so no daemon needs a bridge for them.
Each daemon has its own data root, exec root and socket; an installed Docker is never
touched. Prints medians in milliseconds and the ratios to dockerd's classic builder.
usage: sudo bench/build_bench.py [--iterations N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from daemons import BUILD, DOCKER, Daemons, run

DOCKERFILE = """FROM busybox
COPY app /app
RUN cat /app/*.txt > /joined
RUN echo built > /built && ls /app > /listing
CMD ["cat", "/joined"]
"""


def make_context(path):
    os.makedirs(os.path.join(path, "app"))
    for i in range(20):
        with open(os.path.join(path, "app", f"f{i}.txt"), "w") as f:
            f.write(f"file {i}\n" * 100)
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE)


def timed(argv, env):
    t0 = time.perf_counter()
    run(argv, env)
    return (time.perf_counter() - t0) * 1000


def bench(cli, env, ctx, iterations):
    base = [cli, "build", "--network", "none", "-t", "bench:build"]
    classic = dict(env, DOCKER_BUILDKIT="0")
    run(base + [ctx], classic)  # warm: the base image's layers, the first cache entries
    cold, cached, changed = [], [], []
    for i in range(iterations):
        cold.append(timed(base + ["--no-cache", ctx], classic))
        cached.append(timed(base + [ctx], classic))
        with open(os.path.join(ctx, "app", "f0.txt"), "a") as f:
            f.write(f"change {i} {ctx}\n")  # contents no other run has cached
        changed.append(timed(base + [ctx], classic))
    return [statistics.median(x) for x in (cold, cached, changed)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the daemons mount and make namespaces")
    work = tempfile.mkdtemp(prefix="berth-build-bench-")
    daemons = Daemons(work)
    bridge = f"bbb{os.getpid() % 100000}"
    rows = []
    try:
        bb = os.path.join(work, "bb")
        run([os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "scripts/make-busybox-bundle.sh"), bb,
             os.path.join(BUILD, "src/cmd/berth-runtime")])
        tarball = os.path.join(work, "busybox.tar")
        run(["tar", "-C", os.path.join(bb, "rootfs"), "-cf", tarball, "."])
        _, benv = daemons.berthd(bridge=bridge)
        run([DOCKER, "import", tarball, "busybox"], benv)
        berth_cli = os.path.join(BUILD, "src/cmd/berth")
        for name, cli, env in (("berth CLI -> berthd", berth_cli, benv),
                               ("docker CLI -> berthd", DOCKER, benv)):
            ctx = os.path.join(work, "ctx-" + name.split()[0])
            make_context(ctx)
            rows.append((name, bench(cli, env, ctx, args.iterations)))
        d = daemons.dockerd()
        if d:
            denv = d[2]
            run([DOCKER, "import", tarball, "busybox"], denv)
            ctx = os.path.join(work, "ctx-dockerd")
            make_context(ctx)
            rows.append(("docker CLI -> dockerd (classic)", bench(DOCKER, denv, ctx,
                                                                  args.iterations)))
    finally:
        daemons.stop()
        subprocess.run(["nft", "delete", "table", "ip", f"berth_{bridge}"],
                       stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", bridge], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'median ms':34} {'cold':>8} {'cached':>8} {'1 changed':>10}")
    for name, (cold, cached, changed) in rows:
        print(f"{name:34} {cold:8.0f} {cached:8.0f} {changed:10.0f}")
    ref = dict(rows).get("docker CLI -> dockerd (classic)")
    if ref:
        print("speed-up over dockerd's classic builder (its time / ours):")
        for name, vals in rows[:-1]:
            print(f"  {name:32} cold {ref[0] / vals[0]:.1f}x  cached {ref[1] / vals[1]:.1f}x  "
                  f"changed {ref[2] / vals[2]:.1f}x")


if __name__ == "__main__":
    main()
