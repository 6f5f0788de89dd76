#!/usr/bin/env python3
"""Median latency of OCI runtimes side by side, on the same busybox bundle, in one run.

  run:            `<rt> run` of a container whose process is `true`
  create+start+delete: the three calls a container manager makes

Prints each runtime's medians and berth-runtime's ratio to each peer.
usage: sudo bench/runtime_bench.py [--iterations N] [--berth PATH]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(argv, err):
    # The container inherits the runtime's stdio: a pipe would stay open past `create`.
    err.seek(0)
    err.truncate()
    t0 = time.perf_counter_ns()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    elapsed = (time.perf_counter_ns() - t0) / 1e6
    if r.returncode != 0:
        err.seek(0)
        raise RuntimeError(f"{' '.join(argv)} failed: {err.read().decode().strip()}")
    return elapsed


def hide_unified_mount():
    """crun refuses the hybrid layout (a cgroup2 mount owning a controller next to v1). So
    that all runtimes can be measured on the same footing, the bench runs in a private
    mount namespace without /sys/fs/cgroup/unified: every runtime then sees plain v1."""
    if os.environ.get("BERTH_BENCH_NS") or not os.path.ismount("/sys/fs/cgroup/unified"):
        return
    os.environ["BERTH_BENCH_NS"] = "1"
    script = 'umount /sys/fs/cgroup/unified && exec "$0" "$@"'
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                          sys.executable, os.path.abspath(__file__)] + sys.argv[1:])


def main():
    hide_unified_mount()
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--berth", default=os.path.join(ROOT, "build/src/cmd/berth-runtime"))
    args = ap.parse_args()

    runtimes = {"berth-runtime": args.berth}
    for peer in ("crun", "runc"):
        path = shutil.which(peer)
        if path:
            runtimes[peer] = path
    work = tempfile.mkdtemp(prefix="berth-bench-")
    try:
        bundle = os.path.join(work, "bundle")
        subprocess.run([os.path.join(ROOT, "scripts/make-busybox-bundle.sh"), bundle, args.berth],
                       check=True, stdout=subprocess.DEVNULL)
        cfg_path = os.path.join(bundle, "config.json")
        spec = json.load(open(cfg_path))
        spec["process"]["terminal"] = False
        spec["process"]["args"] = ["true"]
        json.dump(spec, open(cfg_path, "w"))

        err = tempfile.TemporaryFile(dir=work)
        results = {name: {"run": [], "create+start+delete": []} for name in runtimes}
        # Interleaved so that drift on the machine affects every runtime alike.
        for i in range(args.iterations + 3):
            for name, rt in runtimes.items():
                state = os.path.join(work, "state-" + name)
                cid = f"bench-{os.getpid()}-{i}"
                base = [rt, "--root", state]
                t_run = timed(base + ["run", "--bundle", bundle, cid], err)
                t_csd = timed(base + ["create", "--bundle", bundle, cid + "c"], err)
                t_csd += timed(base + ["start", cid + "c"], err)
                t_csd += timed(base + ["delete", "-f", cid + "c"], err)
                if i >= 3:  # warm-up rounds are not counted
                    results[name]["run"].append(t_run)
                    results[name]["create+start+delete"].append(t_csd)

        print(f"median latency over {args.iterations} runs (ms), process `true`, busybox bundle")
        if os.environ.get("BERTH_BENCH_NS"):
            print("(measured with /sys/fs/cgroup/unified hidden, as crun refuses the hybrid layout)")
        print(f"{'runtime':<16}{'run':>10}{'create+start+delete':>22}")
        med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
        for name, m in med.items():
            print(f"{name:<16}{m['run']:>10.2f}{m['create+start+delete']:>22.2f}")
        for peer in [n for n in med if n != "berth-runtime"]:
            for k in ("run", "create+start+delete"):
                ratio = med["berth-runtime"][k] / med[peer][k]
                print(f"berth-runtime / {peer} {k}: {ratio:.2f}x")
    finally:
        for name, rt in runtimes.items():
            state = os.path.join(work, "state-" + name)
            if os.path.isdir(state):
                for cid in os.listdir(state):
                    subprocess.run([rt, "--root", state, "delete", "-f", cid],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
