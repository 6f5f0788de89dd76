"""berthd and Debian's dockerd side by side for the benchmarks: each with its own data root,
exec root and socket (dockerd with its own containerd, by default with no bridge and no
firewall rules), so an installed Docker is never touched. With a network, dockerd changes the
host's iptables: the caller saves and restores them (see network_bench.py)."""
import os
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# BERTH_BUILD: a build directory other than the repository's build/.
BUILD = os.environ.get("BERTH_BUILD") or os.path.join(os.path.dirname(HERE), "build")
DOCKER = shutil.which("docker") or "/usr/local/bin/docker"


def run(argv, env=None, check=True):
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.decode().strip()}")
    return r.stdout.decode()


def cpu_seconds(pids, with_children=False):
    """CPU seconds the processes used (user and system), with those of the children they
    reaped when asked (a shim's execs); a process that is gone counts nothing."""
    last = 15 if with_children else 13
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:last])  # utime, stime[, cutime, cstime]
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def busybox_tar(work):
    """Debian's static busybox as a rootfs in WORK/bb/rootfs and as a tarball to import;
    returns the tarball's path."""
    subprocess.run([os.path.join(HERE, "../scripts/make-busybox-bundle.sh"),
                    os.path.join(work, "bb"), os.path.join(BUILD, "src/cmd/berth-runtime")],
                   check=True, stdout=subprocess.DEVNULL)
    tar = os.path.join(work, "busybox.tar")
    run(["tar", "-C", os.path.join(work, "bb/rootfs"), "-cf", tar, "."])
    return tar


def _wait_for(sock, proc, what):
    env = dict(os.environ, DOCKER_HOST=f"unix://{sock}")
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if subprocess.run([DOCKER, "version"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return env
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up")


class Daemons:
    def __init__(self, work):
        self.work = work
        self.procs = []
        self.envs = []  # each daemon's client environment
        self.bridges = []  # made by bridge(), deleted by stop()

    def berthd(self, bridge=None, bip=None):
        """bridge and bip: the default network's bridge device (created by berthd; its
        nftables table is berth_<bridge>) and address."""
        sock = os.path.join(self.work, "berth.sock")
        log = open(os.path.join(self.work, "berthd.log"), "w")
        argv = [os.path.join(BUILD, "src/cmd/berthd"), "--data-root",
                os.path.join(self.work, "berth-data"), "--exec-root",
                os.path.join(self.work, "berth-exec"), "-H", f"unix://{sock}"]
        if bridge:
            argv += ["--bridge", bridge]
        if bip:
            argv += ["--bip", bip]
        p = subprocess.Popen(argv, stdout=log, stderr=log)
        self.procs.append(p)
        env = _wait_for(sock, p, "berthd")
        self.envs.append(env)
        return p, env

    def bridge(self, prefix, address):
        """A bridge device of this run (`prefix` and the pid) with `address` on it, up; for
        dockerd, which started with --bridge=none deletes any docker0 on the machine."""
        name = f"{prefix}{os.getpid() % 100000}"
        run(["ip", "link", "add", name, "type", "bridge"])
        self.bridges.append(name)
        run(["ip", "addr", "add", address, "dev", name])
        run(["ip", "link", "set", name, "up"])
        return name

    def dockerd(self, bridge=None, iptables=True):
        """Returns (dockerd, containerd, env) or None when docker.io is not installed.
        bridge: an existing bridge device, with its address, for dockerd's default network,
        with dockerd's iptables rules (unless not `iptables`) and docker-proxy (its
        defaults); None: --bridge=none and no iptables."""
        dockerd, containerd = shutil.which("dockerd"), shutil.which("containerd")
        if not dockerd or not containerd:
            return None
        d = os.path.join(self.work, "docker")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "containerd.toml"), "w") as f:
            f.write(f'version = 2\nroot = "{d}/ctr-root"\nstate = "{d}/ctr-state"\n'
                    f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{d}/containerd.sock"\n'
                    f'[ttrpc]\n  address = "{d}/containerd.sock.ttrpc"\n')
        with open(os.path.join(d, "daemon.json"), "w") as f:
            f.write("{}\n")
        clog = open(os.path.join(d, "containerd.log"), "w")
        c = subprocess.Popen([containerd, "--config", os.path.join(d, "containerd.toml")],
                             stdout=clog, stderr=clog)
        self.procs.append(c)
        for _ in range(100):
            if os.path.exists(os.path.join(d, "containerd.sock")):
                break
            time.sleep(0.1)
        sock = os.path.join(d, "docker.sock")
        log = open(os.path.join(d, "dockerd.log"), "w")
        p = subprocess.Popen([dockerd, "--data-root", os.path.join(d, "data"), "--exec-root",
                              os.path.join(d, "exec"), "-H", f"unix://{sock}", "--pidfile",
                              os.path.join(d, "docker.pid"), "--containerd",
                              os.path.join(d, "containerd.sock"), "--ip6tables=false",
                              "--config-file", os.path.join(d, "daemon.json")] +
                             (["--bridge", bridge, f"--iptables={str(iptables).lower()}",
                               "--userland-proxy=true"]
                              if bridge else ["--bridge=none", "--iptables=false"]),
                             stdout=log, stderr=log)
        self.procs.append(p)
        env = _wait_for(sock, p, "dockerd")
        self.envs.append(env)
        return p, c, env

    def stop(self):
        # Shims outlive their daemon, and a daemon stopped with containers left (a bench that
        # failed half-way, requests that failed under load) may leave them running.
        for env in self.envs:
            ids = run([DOCKER, "ps", "-aq"], env, check=False).split()
            if ids:
                run([DOCKER, "rm", "-f"] + ids, env, check=False)
        # dockerd before its containerd, each given time to stop its containers.
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        for b in self.bridges:
            run(["ip", "link", "delete", b], check=False)
        for sub in ("docker/exec", "docker/ctr-state", "berth-exec"):
            subprocess.run(["umount", "-R", os.path.join(self.work, sub)],
                           stderr=subprocess.DEVNULL)
        subprocess.run(f"grep -o ' {self.work}[^ ]*' /proc/mounts | sort -r | "
                       f"xargs -r -n1 umount -l", shell=True, stderr=subprocess.DEVNULL)
