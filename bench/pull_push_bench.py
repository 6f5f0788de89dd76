#!/usr/bin/env python3
"""push and pull of a ~200 MB image of 4 layers over loopback: berthd against Debian's
dockerd, both against Debian's docker-registry (distribution 2.8), side by side, and berthd
against berth-registry when it is built. Each run
pushes to a registry of its own (fresh storage, fresh port), so nothing is found there or
mounted from an earlier run; then the image is removed from the daemon and pulled back.
Reports wall time, throughput of the image's size and the daemon's CPU seconds."""
import argparse
import hashlib
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

from daemons import BUILD, DOCKER, Daemons, cpu_seconds, run

REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
BERTH_REGISTRY = os.path.join(BUILD, "src/cmd/berth-registry")


def layer_bytes(rng, size):
    """Half random, half text-like: compresses about as much as a distribution's files."""
    out = bytearray()
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             .encode() for _ in range(2000)]
    while len(out) < size:
        if rng.random() < 0.5:
            out += rng.randbytes(64 << 10)
        else:
            out += b" ".join(rng.choice(words) for _ in range(10000)) + b"\n"
    return bytes(out[:size])


def make_image(path, total_mb, layers):
    """A docker-save archive of `layers` layers, each a tar of a few files."""
    rng = random.Random(7)
    per_layer = total_mb * 1000 * 1000 // layers
    diff_ids, layer_names, members = [], [], []
    for i in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            remaining, n = per_layer, 0
            while remaining > 0:
                size = min(remaining, rng.randint(1 << 20, 8 << 20))
                data = layer_bytes(rng, size)
                info = tarfile.TarInfo(f"layer{i}/file{n}")
                info.size = len(data)
                info.mtime = 0
                t.addfile(info, io.BytesIO(data))
                remaining -= size
                n += 1
        tar = buf.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        layer_names.append(f"{i}/layer.tar")
        members.append((f"{i}/layer.tar", tar))
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": f"layer {i}"} for i in range(layers)]}
                        ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["bench:img"],
                            "Layers": layer_names}]).encode()
    with tarfile.open(path, "w") as t:
        for name, data in members + [(config_name, config), ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return sum(len(d) for _, d in members)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Registry:
    def __init__(self, work, name, binary):
        self.port = free_port()
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                    f"    rootdirectory: {self.dir}/data\nhttp:\n  addr: 127.0.0.1:{self.port}\n")
        self.proc = subprocess.Popen([binary, "serve", cfg], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v2/", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not come up")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def timed(argv, env, pids, registry):
    """Wall seconds, the daemon's CPU seconds and the registry's."""
    c0, r0, t0 = cpu_seconds(pids), cpu_seconds([registry]), time.perf_counter()
    run(argv, env)
    return (time.perf_counter() - t0, cpu_seconds(pids) - c0, cpu_seconds([registry]) - r0)


def bench_daemon(env, pids, archive, work, iterations, registry=REGISTRY):
    run([DOCKER, "load", "-q", "-i", archive], env)
    pushes, pulls = [], []
    for i in range(iterations):
        reg = Registry(work, f"registry-{len(os.listdir(work))}", registry)
        try:
            name = f"127.0.0.1:{reg.port}/bench/img:{i}"
            run([DOCKER, "tag", "bench:img", name], env)
            run(["sync"])
            pushes.append(timed([DOCKER, "push", name], env, pids, reg.proc.pid))
            run([DOCKER, "rmi", name, "bench:img"], env)
            run(["sync"])
            pulls.append(timed([DOCKER, "pull", name], env, pids, reg.proc.pid))
            run([DOCKER, "tag", name, "bench:img"], env)
            run([DOCKER, "rmi", name], env)
        finally:
            reg.stop()
    run([DOCKER, "rmi", "bench:img"], env)
    med = lambda xs: tuple(statistics.median(x[k] for x in xs) for k in range(3))
    return med(pushes), med(pulls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--layers", type=int, default=4)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the daemons unpack layers with their owners")
    if not os.path.exists(REGISTRY):
        sys.exit("docker-registry is not installed (scripts/setup.sh installs it)")

    work = tempfile.mkdtemp(prefix="berth-pull-push-bench-")
    daemons = Daemons(work)
    try:
        archive = os.path.join(work, "image.tar")
        size = make_image(archive, args.size_mb, args.layers)
        mb = size / 1e6
        print(f"image: {args.layers} layers, {mb:.0f} MB uncompressed; "
              f"{args.iterations} runs each, medians")
        results = {}
        p, env = daemons.berthd()
        results["berthd"] = bench_daemon(env, [p.pid], archive, work, args.iterations)
        if os.path.exists(BERTH_REGISTRY):
            results["berthd+b-r"] = bench_daemon(env, [p.pid], archive, work, args.iterations,
                                                 BERTH_REGISTRY)
        peers = daemons.dockerd()
        if peers:
            d, c, denv = peers
            results["dockerd"] = bench_daemon(denv, [d.pid, c.pid], archive, work,
                                              args.iterations)
        print("\nCPU-s: the daemon's (dockerd with its containerd); reg: the registry's, "
              "docker-registry's except for berthd+b-r (berth-registry)")
        print(f"{'daemon':10} {'push':>8} {'MB/s':>6} {'CPU-s':>6} {'reg':>5}   "
              f"{'pull':>8} {'MB/s':>6} {'CPU-s':>6} {'reg':>5}")
        for name, ((pt, pc, pr), (lt, lc, lr)) in results.items():
            print(f"{name:10} {pt:7.2f}s {mb / pt:6.0f} {pc:6.2f} {pr:5.2f}   "
                  f"{lt:7.2f}s {mb / lt:6.0f} {lc:6.2f} {lr:5.2f}")
        if "dockerd" in results:
            (bp, bpc, _), (bl, blc, _) = results["berthd"]
            (dp, dpc, _), (dl, dlc, _) = results["dockerd"]
            print(f"\nberthd/dockerd throughput: push {dp / bp:.2f}x (goal 3x), "
                  f"pull {dl / bl:.2f}x (goal 2x); daemon CPU: push {bpc / dpc:.2f}x, "
                  f"pull {blc / dlc:.2f}x of dockerd's")
        if "dockerd" in results and "berthd+b-r" in results:
            (bp, _, _), (bl, _, _) = results["berthd+b-r"]
            (dp, _, _), (dl, _, _) = results["dockerd"]
            print(f"berthd with berth-registry / dockerd with docker-registry: push "
                  f"{dp / bp:.2f}x, pull {dl / bl:.2f}x")
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
