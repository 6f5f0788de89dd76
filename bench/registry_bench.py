#!/usr/bin/env python3
"""berth-registry beside Debian's docker-registry (distribution 2.8) in one run, each on a
loopback port and a storage directory of its own, both read from the same registry:2
configuration (no auth, access log off). Each gets the same image (a config, a 1 MiB
layer, an OCI manifest tagged `latest`), then loads of keep-alive connections:

  manifest GET   wrk: GET /v2/bench/app/manifests/latest with the OCI Accept header
  blob HEAD      ApacheBench (-k -i): HEAD /v2/bench/app/blobs/<layer digest>

Printed: requests per second, median and p99 latency, and the registry's resident
memory when idle after seeding and its peak under load; then berth/docker ratios. The two
registries take turns (berth, docker, berth, docker...) so that other load on the machine
weighs on both alike.

usage: bench/registry_bench.py [--seconds N] [--connections N] [--threads N] [--rounds N]
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from daemons import BUILD

BERTH_REGISTRY = os.path.join(BUILD, "src/cmd/berth-registry")
DOCKER_REGISTRY = "/usr/bin/docker-registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Registry:
    def __init__(self, name, argv_of, work):
        self.name = name
        self.port = free_port()
        root = os.path.join(work, name)
        os.makedirs(root)
        config = os.path.join(work, name + ".yml")
        with open(config, "w") as f:
            f.write("version: 0.1\n"
                    "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                    f"storage:\n  filesystem:\n    rootdirectory: {root}\n"
                    f"http:\n  addr: 127.0.0.1:{self.port}\n")
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.proc = subprocess.Popen(argv_of(config), stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(self.base + "/v2/", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start; see {self.log.name}")

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(urllib.parse.urljoin(self.base, path), data=body,
                                     method=method, headers=headers or {})
        with urllib.request.urlopen(req) as r:
            return r.headers, r.read()

    def push_blob(self, data):
        # POST then PUT: distribution 2.8 takes no single-POST upload.
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        headers, _ = self.request("POST", "/v2/bench/app/blobs/uploads/")
        location = headers["Location"]
        sep = "&" if "?" in location else "?"
        self.request("PUT", f"{location}{sep}digest={digest}", data,
                     {"Content-Type": "application/octet-stream"})
        return digest

    def seed(self, layer):
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        cd = self.push_blob(config)
        ld = self.push_blob(layer)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld,
                        "size": len(layer)}]}).encode()
        self.request("PUT", "/v2/bench/app/manifests/latest", manifest,
                     {"Content-Type": OCI_MANIFEST})
        return ld

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def wrk(url, args, headers=()):
    argv = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d",
            f"{args.seconds}s", "--latency"]
    for h in headers:
        argv += ["-H", h]
    out = subprocess.run(argv + [url], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode()
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk against {url} saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return rps, lat.get("50", "?"), lat.get("99", "?")


def ab_head(url, args):
    """HEAD under ApacheBench: wrk waits for a HEAD answer's Content-Length of body, which
    never comes, and so cannot measure it."""
    out = subprocess.run(["ab", "-k", "-i", "-q", "-c", str(args.connections), "-t",
                          str(args.seconds), "-n", "10000000", url], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if failed or non2xx:
        raise RuntimeError(f"ab against {url} saw errors:\n{out}")
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\d+)", out, re.M))
    return rps, pct.get("50", "?") + "ms", pct.get("99", "?") + "ms"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    for tool in (BERTH_REGISTRY, DOCKER_REGISTRY, shutil.which("wrk")):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"missing {tool or 'wrk'} (build berth-registry; scripts/setup.sh)")
    work = tempfile.mkdtemp(prefix="berth-registry-bench-")
    regs = []
    try:
        regs.append(Registry("berth", lambda c: [BERTH_REGISTRY, "serve", c], work))
        regs.append(Registry("docker", lambda c: [DOCKER_REGISTRY, "serve", c], work))
        layer = os.urandom(1 << 20)
        results = {r.name: {"idle": 0, "peak": 0, "manifest": [], "head": []} for r in regs}
        digests = {}
        for r in regs:
            digests[r.name] = r.seed(layer)
            results[r.name]["idle"] = kib(r.proc.pid, "VmRSS")
        for _ in range(args.rounds):
            for r in regs:
                res = results[r.name]
                res["manifest"].append(wrk(r.base + "/v2/bench/app/manifests/latest", args,
                                           headers=[f"Accept: {OCI_MANIFEST}"]))
                res["head"].append(ab_head(f"{r.base}/v2/bench/app/blobs/{digests[r.name]}",
                                           args))
                res["peak"] = kib(r.proc.pid, "VmHWM")
        print(f"{args.connections} connections (wrk -t{args.threads}), {args.seconds} s per run, "
              f"best of {args.rounds} rounds")
        print(f"{'registry':<10}{'manifest GET/s':>16}{'p50':>9}{'p99':>9}"
              f"{'blob HEAD/s':>14}{'p50':>9}{'p99':>9}{'idle RSS':>11}{'peak RSS':>11}")
        best = {}
        for r in regs:
            res = results[r.name]
            m = max(res["manifest"])
            h = max(res["head"])
            best[r.name] = (m[0], h[0], res["idle"], res["peak"])
            print(f"{r.name:<10}{m[0]:>16.0f}{m[1]:>9}{m[2]:>9}{h[0]:>14.0f}{h[1]:>9}{h[2]:>9}"
                  f"{res['idle'] / 1024:>9.1f}MB{res['peak'] / 1024:>9.1f}MB")
        b, d = best["berth"], best["docker"]
        print(f"berth/docker: manifest GET {b[0] / d[0]:.2f}x, blob HEAD {b[1] / d[1]:.2f}x, "
              f"idle RSS {b[2] / d[2]:.2f}x, peak RSS {b[3] / d[3]:.2f}x")
    finally:
        for r in regs:
            r.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
