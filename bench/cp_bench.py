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

from daemons import BUILD, DOCKER, Daemons, busybox_tar, run

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


def measure_once(client, env, cid, src, tar, out_root, i, into):
    """One run of cp in, cp out, tar in and tar out, appended to `into`. Nothing is removed
    between runs: ext4 then spends more time finding inodes that were not just deleted than
    copying (the kernel's recently_deleted() in a profile), which would measure deletions."""
    tag = f"{os.path.basename(client)}-{cid[:8]}-{i}"
    into[0].append(timed([client, "cp", src, f"{cid}:/tmp/in-{tag}"], env))
    into[1].append(timed([client, "cp", f"{cid}:/data", os.path.join(out_root, tag)], env))
    run([DOCKER, "exec", cid, "mkdir", f"/tmp/tar-{tag}"], env)
    into[2].append(timed_shell(f"{client} cp - {cid}:/tmp/tar-{tag} < {tar}", env))
    into[3].append(timed_shell(f"{client} cp {cid}:/data - > /dev/null", env))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=5)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("cp_bench.py must run as root")
    work = tempfile.mkdtemp(prefix="berth-cp-bench-")
    daemons = Daemons(work)
    try:
        tar = busybox_tar(work)
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

        _, benv = daemons.berthd()
        berth_env = dict(benv, BERTH_HOST=benv["DOCKER_HOST"])
        bcid = prepare(benv)
        setups = [("berth CLI -> berthd", BERTH, berth_env, bcid),
                  ("docker CLI -> berthd", DOCKER, benv, bcid)]
        peers = daemons.dockerd()
        if peers:
            _, _, denv = peers
            setups.append(("docker CLI -> dockerd", DOCKER, denv, prepare(denv)))
        # Runs alternate between the clients and daemons, so that the machine's drift (other
        # work, the file system's state) falls on all of them alike.
        samples = {name: ([], [], [], []) for name, *_ in setups}
        for i in range(args.iterations):
            for name, client, env, cid in setups:
                measure_once(client, env, cid, src, tree_tar, out_root, i, samples[name])
        rows = {name: [statistics.median(x) for x in s] for name, s in samples.items()}
        # berthd's containers outlive it (their shims do): removed before it stops.
        for _, _, env, cid in setups:
            run([DOCKER, "rm", "-f", cid], env, check=False)

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
