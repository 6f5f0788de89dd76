#!/usr/bin/env python3
"""docker cp, berthd beside Debian's dockerd in one run: a 200 MB directory (100 files of
1.5 MB and 2,000 of 25 kB, random bytes) copied into a running container and out of it.

  in       cp DIR CONTAINER:/tmp/N   (a fresh destination each time)
  out      cp CONTAINER:/data DIR/N  (a fresh local destination each time)
  tar in   cp - CONTAINER:/tmp/N < TAR, and tar out: cp CONTAINER:/data - > /dev/null,
           where the client only passes a tar through: mostly the daemon's work

Clients: the berth CLI and the docker CLI against berthd, the docker CLI against dockerd.
Medians of --iterations runs; the ratios are dockerd's time over berthd's.
Containers run with --network none on both daemons.
usage: sudo bench/cp_bench.py [--iterations N]
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

BERTH = os.path.join(BUILD, "src/cmd/berth")


def make_tree(root):
    os.makedirs(root)
    for i in range(100):
        with open(os.path.join(root, f"big{i:03}.bin"), "wb") as f:
            f.write(os.urandom(1536 * 1024))
    for d in range(20):
        sub = os.path.join(root, f"dir{d:02}")
        os.makedirs(sub)
        for i in range(100):
            with open(os.path.join(sub, f"small{i:03}.bin"), "wb") as f:
                f.write(os.urandom(25 * 1024))


def timed(argv, env):
    t0 = time.perf_counter()
    run(argv, env)
    return (time.perf_counter() - t0) * 1000


def timed_shell(cmd, env):
    t0 = time.perf_counter()
    subprocess.run(cmd, shell=True, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t0) * 1000


def measure(client, env, cid, src, tar, out_root, n):
    """Medians (ms) of cp in, cp out, tar in, tar out. Nothing is removed between runs:
    ext4 then spends more time finding inodes that were not just deleted than copying (the
    kernel's recently_deleted() in a profile), which would measure the deletions."""
    ins, outs, tar_ins, tar_outs = [], [], [], []
    tag = f"{os.path.basename(client)}-{cid[:8]}"
    for i in range(n):
        ins.append(timed([client, "cp", src, f"{cid}:/tmp/in-{tag}{i}"], env))
        outs.append(timed([client, "cp", f"{cid}:/data", os.path.join(out_root, f"{tag}{i}")],
                          env))
        run([DOCKER, "exec", cid, "mkdir", f"/tmp/tar-{tag}{i}"], env)
        tar_ins.append(timed_shell(f"{client} cp - {cid}:/tmp/tar-{tag}{i} < {tar}", env))
        tar_outs.append(timed_shell(f"{client} cp {cid}:/data - > /dev/null", env))
    return [statistics.median(x) for x in (ins, outs, tar_ins, tar_outs)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("cp_bench.py must run as root")
    work = tempfile.mkdtemp(prefix="berth-cp-bench-")
    daemons = Daemons(work)
    try:
        subprocess.run([os.path.join(BUILD, "../scripts/make-busybox-bundle.sh"),
                        os.path.join(work, "bb"), os.path.join(BUILD, "src/cmd/berth-runtime")],
                       check=True, stdout=subprocess.DEVNULL)
        tar = os.path.join(work, "busybox.tar")
        run(["tar", "-C", os.path.join(work, "bb/rootfs"), "-cf", tar, "."])
        src = os.path.join(work, "tree")
        make_tree(src)
        tree_tar = os.path.join(work, "tree.tar")
        run(["tar", "-C", work, "-cf", tree_tar, "tree"])
        out_root = os.path.join(work, "out")
        os.makedirs(out_root)

        def prepare(env):
            run([DOCKER, "import", tar, "busybox"], env)
            cid = run([DOCKER, "run", "-d", "--network", "none", "busybox", "sleep", "1000"],
                      env).strip()
            run([DOCKER, "cp", src, f"{cid}:/data"], env)
            return cid

        rows = {}
        _, benv = daemons.berthd()
        bcid = prepare(benv)
        berth_env = dict(benv, BERTH_HOST=benv["DOCKER_HOST"])
        rows["berth CLI -> berthd"] = measure(BERTH, berth_env, bcid, src, tree_tar, out_root,
                                              args.iterations)
        rows["docker CLI -> berthd"] = measure(DOCKER, benv, bcid, src, tree_tar, out_root,
                                               args.iterations)
        run([DOCKER, "rm", "-f", bcid], benv)
        peers = daemons.dockerd()
        if peers:
            _, _, denv = peers
            dcid = prepare(denv)
            rows["docker CLI -> dockerd"] = measure(DOCKER, denv, dcid, src, tree_tar, out_root,
                                                    args.iterations)
            run([DOCKER, "rm", "-f", dcid], denv)

        print(f"cp of a 200 MB directory; {args.iterations} runs each; medians in ms\n")
        cols = ("cp in", "cp out", "tar in", "tar out")
        print(f"{'client -> daemon':24}" + "".join(f"{c:>10}" for c in cols))
        for name, values in rows.items():
            print(f"{name:24}" + "".join(f"{v:10.1f}" for v in values))
        if peers:
            d = rows["docker CLI -> dockerd"]
            print("\ndockerd's time over berthd's (higher: berth faster)")
            for name in ("berth CLI -> berthd", "docker CLI -> berthd"):
                print(f"{name:24}" + "".join(f"{x / y:9.2f}x" for x, y in zip(d, rows[name])))
        else:
            print("\n(dockerd is not installed: no comparison)")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
