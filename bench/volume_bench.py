#!/usr/bin/env python3
"""Volumes, berthd beside Debian's dockerd in one run, on the same busybox image:

  mounts      run --rm with one named volume and one bind mount against the same run
              without them: what the mounts add, berth CLI and docker CLI -> berthd, docker
              CLI -> dockerd (the two alternate run by run; "added" is the median of the
              differences of each pair)
  copy-up     first use of a fresh named volume over an image directory of 5,000 small
              files (run --rm -v NEW:/data), against the same run with no volume

Containers run with --network none on both daemons.
usage: sudo bench/volume_bench.py [--iterations N] [--files N]
"""
import argparse
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


def mounts(client, env, n, bind_dir):
    """Medians of run --rm without and with a named volume and a bind mount, and of what the
    mounts add: the two alternate run by run, so that drift on a busy machine hits both."""
    plain = [client, "run", "--rm", "--network", "none", "busybox", "true"]
    mounted = [client, "run", "--rm", "--network", "none", "-v", "benchvol:/v", "-v",
               f"{bind_dir}:/b", "busybox", "true"]
    run(mounted, env)  # the volume exists from here on: what is measured is its use
    pairs = []
    for i in range(n):
        # Which of the two goes first alternates: a run pays for what its predecessor left
        # behind (its removal finishing, the daemon's background clean-up).
        if i % 2:
            m = timed(mounted, env)
            pairs.append((timed(plain, env), m))
        else:
            pairs.append((timed(plain, env), timed(mounted, env)))
    return (statistics.median(p for p, _ in pairs), statistics.median(m for _, m in pairs),
            statistics.median(m - p for p, m in pairs))


def copy_up(client, env, n, tag, files):
    """Medians of run --rm over the image's /data without a volume, with a fresh one, and of
    what the copy adds, run by run."""
    plain = [client, "run", "--rm", "--network", "none", "seeded", "true"]
    pairs = []
    for i in range(n):
        name = f"fresh{tag}{i}"
        pairs.append((timed(plain, env),
                      timed([client, "run", "--rm", "--network", "none", "-v", f"{name}:/data",
                             "seeded", "true"], env)))
        # Check that the copy happened, then drop the volume outside the timing.
        found = run([client, "run", "--rm", "--network", "none", "-v", f"{name}:/d", "busybox",
                     "sh", "-c", "ls /d | wc -l"], env).strip()
        if found != str(files):
            raise RuntimeError(f"copy-up into {name} left {found} files")
        run([client, "volume", "rm", name], env)
    return (statistics.median(p for p, _ in pairs), statistics.median(m for _, m in pairs),
            statistics.median(m - p for p, m in pairs))


def seeded_image(work, files):
    """A busybox rootfs with /data holding `files` small files, as a tarball."""
    root = os.path.join(work, "bb/rootfs")
    data = os.path.join(root, "data")
    os.makedirs(data, exist_ok=True)
    for i in range(files):
        with open(os.path.join(data, f"f{i:05}"), "w") as f:
            f.write(f"file {i}\n" * 8)
    tar = os.path.join(work, "seeded.tar")
    run(["tar", "-C", root, "-cf", tar, "."])
    shutil.rmtree(data)
    return tar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--files", type=int, default=5000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="berth-vol-bench-")
    daemons = Daemons(work)
    bind_dir = os.path.join(work, "bind")
    os.makedirs(bind_dir)
    try:
        tar = busybox_tar(work)
        seeded = seeded_image(work, args.files)

        _, benv = daemons.berthd()
        berth_env = dict(benv, BERTH_HOST=benv["DOCKER_HOST"])
        run([DOCKER, "import", tar, "busybox"], benv)
        run([DOCKER, "import", seeded, "seeded"], benv)
        rows, copies = {}, {}
        rows["berth CLI -> berthd"] = mounts(BERTH, berth_env, args.iterations, bind_dir)
        rows["docker CLI -> berthd"] = mounts(DOCKER, benv, args.iterations, bind_dir)
        half = args.iterations // 2
        copies["berth CLI -> berthd"] = copy_up(BERTH, berth_env, half, "b", args.files)
        copies["docker CLI -> berthd"] = copy_up(DOCKER, benv, half, "d", args.files)

        # A bridge of dockerd's own, and no firewall rules.
        peers = daemons.dockerd(daemons.bridge("bvb", "10.254.93.1/24"), iptables=False)
        if peers:
            _, _, denv = peers
            run([DOCKER, "import", tar, "busybox"], denv)
            run([DOCKER, "import", seeded, "seeded"], denv)
            rows["docker CLI -> dockerd"] = mounts(DOCKER, denv, args.iterations, bind_dir)
            copies["docker CLI -> dockerd"] = copy_up(DOCKER, denv, half, "x", args.files)

        print(f"{args.iterations} runs each; medians in ms\n")
        print("run --rm busybox true, and with -v benchvol:/v -v DIR:/b")
        print(f"{'client -> daemon':24} {'plain':>9} {'mounts':>9} {'added':>9}")
        for name, (p, m, added) in rows.items():
            print(f"{name:24} {p:9.1f} {m:9.1f} {added:9.1f}")
        print(f"\nrun --rm over /data of {args.files} files, and with a fresh volume there "
              f"(copy-up), {half} runs")
        print(f"{'client -> daemon':24} {'plain':>9} {'copy-up':>9} {'added':>9}")
        for name, (p, m, added) in copies.items():
            print(f"{name:24} {p:9.1f} {m:9.1f} {added:9.1f}")
        if peers:
            _, dm, _ = rows["docker CLI -> dockerd"]
            _, cm, cadded = copies["docker CLI -> dockerd"]
            print()
            for name in ("berth CLI -> berthd", "docker CLI -> berthd"):
                _, bm, _ = rows[name]
                _, xm, xadded = copies[name]
                print(f"{name}: run --rm with mounts {dm / bm:.1f}x faster than docker CLI -> "
                      f"dockerd; first use with copy-up {cm / xm:.1f}x (copy-up alone "
                      f"{cadded / max(xadded, 0.01):.1f}x)")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
