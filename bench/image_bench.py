#!/usr/bin/env python3
"""`save` and `load` of one ~200 MB image, berthd beside Debian's dockerd in one run, both
driven by the same docker CLI; and layer unpack throughput, berth's apply_layer beside
`tar -x` of the same layer.

Each daemon runs with its own data root, exec root and socket (dockerd with no bridge and no
firewall rules), so an installed Docker is never touched. Prints medians and ratios.
usage: sudo bench/image_bench.py [--iterations N] [--size-mb N]
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from daemons import BUILD, DOCKER, Daemons, run


def make_rootfs(path, size_mb):
    """A tree shaped like a distribution's: many small files, some large ones, symlinks.
    Random bytes, so that no one gains from compression."""
    rng = random.Random(42)
    total, target = 0, size_mb * 1000 * 1000
    blob = os.urandom(16 << 20)
    n = 0
    while total < target:
        d = os.path.join(path, f"usr/lib/pkg{n // 100}")
        os.makedirs(d, exist_ok=True)
        r = rng.random()
        size = rng.randint(512, 16 << 10) if r < 0.96 else (
            rng.randint(64 << 10, 512 << 10) if r < 0.995 else rng.randint(2 << 20, 6 << 20))
        off = rng.randint(0, len(blob) - size)
        with open(os.path.join(d, f"f{n}"), "wb") as f:
            f.write(blob[off:off + size])
        if n % 50 == 0:
            os.symlink(f"f{n}", os.path.join(d, f"link{n}"))
        total += size
        n += 1
    return n, total


def timed(argv, env=None):
    t0 = time.perf_counter()
    run(argv, env)
    return time.perf_counter() - t0


def bench_daemon(env, layer_tar, work, iterations):
    run([DOCKER, "import", layer_tar, "bench:img"], env)
    out = os.path.join(work, "saved.tar")
    saves, loads = [], []
    for _ in range(iterations):
        if os.path.exists(out):
            os.unlink(out)
        run(["sync"])
        saves.append(timed([DOCKER, "save", "-o", out, "bench:img"], env))
    for _ in range(iterations):
        run([DOCKER, "rmi", "bench:img"], env)
        run(["sync"])
        loads.append(timed([DOCKER, "load", "-q", "-i", out], env))
    run([DOCKER, "rmi", "bench:img"], env)
    return statistics.median(saves), statistics.median(loads)


def bench_unpack(layer_tar, work, iterations):
    """Each run unpacks into a fresh directory and nothing is deleted until the end: ext4
    slows the creation of inodes right after a large delete, which would favour whoever
    runs second. The order alternates and dirty pages are flushed between runs."""
    tool = os.path.join(BUILD, "bench/layer_unpack")
    times = {"berth": [], "tar": []}
    for i in range(iterations):
        order = ("berth", "tar") if i % 2 == 0 else ("tar", "berth")
        for name in order:
            dest = os.path.join(work, f"unpack/{name}{i}")
            if name == "tar":
                os.makedirs(dest)
                argv = ["tar", "-xf", layer_tar, "-C", dest]
            else:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                argv = [tool, layer_tar, dest]
            run(["sync"])
            times[name].append(timed(argv))
    shutil.rmtree(os.path.join(work, "unpack"), ignore_errors=True)
    return statistics.median(times["berth"]), statistics.median(times["tar"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--size-mb", type=int, default=211)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the daemons unpack layers with their owners")

    work = tempfile.mkdtemp(prefix="berth-image-bench-")
    daemons = Daemons(work)
    try:
        files, size = make_rootfs(os.path.join(work, "rootfs"), args.size_mb)
        layer_tar = os.path.join(work, "layer.tar")
        run(["tar", "-C", os.path.join(work, "rootfs"), "-cf", layer_tar, "."])
        shutil.rmtree(os.path.join(work, "rootfs"))
        tar_mb = os.path.getsize(layer_tar) / 1e6
        print(f"image: one layer, {files} files, {tar_mb:.0f} MB; {args.iterations} runs each")

        results = {}
        _, env = daemons.berthd()
        results["berthd"] = bench_daemon(env, layer_tar, work, args.iterations)
        peers = daemons.dockerd()
        if peers:
            results["dockerd"] = bench_daemon(peers[2], layer_tar, work, args.iterations)

        print(f"\n{'daemon':10} {'save':>10} {'load':>10}")
        for name, (s, l) in results.items():
            print(f"{name:10} {s:9.3f}s {l:9.3f}s")
        if "dockerd" in results:
            bs, bl = results["berthd"]
            ds, dl = results["dockerd"]
            print(f"berthd is {ds / bs:.1f}x faster at save, {dl / bl:.1f}x faster at load "
                  f"(goal: 3x each)")

        b, t = bench_unpack(layer_tar, work, args.iterations)
        print(f"\nunpack: apply_layer {b:.3f}s ({tar_mb / b:.0f} MB/s), tar -x {t:.3f}s "
              f"({tar_mb / t:.0f} MB/s): {100 * t / b:.0f}% of tar's speed (goal: 90%)")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
