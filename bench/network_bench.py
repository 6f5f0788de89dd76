#!/usr/bin/env python3
"""Container networking, berthd beside Debian's dockerd in one run, on the same image (busybox
plus bench/net_helper.c built static):

  throughput     2 GB from a python sendall loop on the host (1 MiB writes) into a sink in a
                 container: through a published port on 127.0.0.1 (berth: nftables DNAT;
                 dockerd: docker-proxy), through a published port on the host's own address
                 (both: kernel DNAT) and straight to the container's address; MB/s
  connections    wrk -t2 -c32 against a published port on 127.0.0.1 and straight, one request
                 per connection: busybox httpd (forks per connection) and net_helper http
                 (2 processes, no fork); requests/s
  set-up time    medians of `run --rm busybox true`, `run -d` and `rm -f` on the default
                 bridge minus the same with --network none, in alternating blocks of 5
                 (berth CLI -> berthd, docker CLI -> dockerd)
  processes      what appears on the host when a container publishes 5 ports

berthd runs with its own bridge (-b), dockerd with its own bridge, iptables rules and
docker-proxy. The host's iptables, nftables tables, bridges and sysctls are saved first and
restored at the end, also on failure. Traffic goes only to loopback, the host's own address
and the containers.
usage: sudo bench/network_bench.py [--bytes N] [--reps N] [--duration S] [--iterations N]
"""
import argparse
import glob
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from daemons import BUILD, DOCKER, HERE, Daemons, run

BERTH = os.path.join(BUILD, "src/cmd/berth")
BERTH_BRIDGE, BERTH_BIP = "brthbench", "10.233.0.1/24"
DOCKER_BRIDGE, DOCKER_BIP = "dkrbench", "10.234.0.1/24"
IPT = ("filter", "nat", "mangle", "raw", "security")
SYSCTLS = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables",
           "/proc/sys/net/netfilter/nf_conntrack_max"]


def sh(cmd, check=False):
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, check=check).stdout.decode()


def ours(words):
    """Whether the words of an iptables rule name this run's bridges, subnets or dockerd's
    chains."""
    names = {BERTH_BRIDGE, DOCKER_BRIDGE, f"berth:berth_{BERTH_BRIDGE}"}
    nets = [ipaddress.ip_network(n, strict=False) for n in (BERTH_BIP, DOCKER_BIP)]

    def in_our_nets(word):
        try:
            net = ipaddress.ip_network(word, strict=False)
        except ValueError:
            return False
        return any(net.version == n.version and net.subnet_of(n) for n in nets)

    return any(w in names or w.startswith("DOCKER") or in_our_nets(w) for w in words)


class HostState:
    """The host's firewall, links and sysctls before the run, and their restoration."""

    def __init__(self):
        self.iptables = sh("iptables-save", check=True)
        self.ip6tables = sh("ip6tables-save")
        self.tables = self._tables()
        self.chains = {t: self._chains(t) for t in self.tables}
        self.links = self._links()
        self.sysctls = {}
        for p in SYSCTLS:
            try:
                with open(p) as f:
                    self.sysctls[p] = f.read().strip()
            except OSError:
                pass

    @staticmethod
    def _tables():
        return set(sh("nft list tables").split("\n")) - {""}

    @staticmethod
    def _iptables_tables():
        """The nftables text of iptables-nft's IPv4 tables."""
        return {t: sh(f"nft -s list {t}") for t in HostState._tables()
                if t.split()[1] == "ip" and t.split()[2] in IPT}

    @staticmethod
    def _links():
        return {l.split(":")[1].strip().split("@")[0]
                for l in sh("ip -o link show").splitlines() if ":" in l}

    @staticmethod
    def _chains(table):
        """{chain: number of rules} of an nftables table ("table ip nat")."""
        chains, cur = {}, None
        for line in sh(f"nft -s list {table}").splitlines():
            line = line.strip()
            if line.startswith("chain "):
                cur = line.split()[1]
                chains[cur] = 0
            elif line == "}":
                cur = None
            elif cur and line and not line.startswith(("type ", "policy ")):
                chains[cur] += 1
        return chains

    def restore(self):
        """Takes out only what the two daemons added, so that rules other programs add
        meanwhile stay; each step runs even when an earlier one failed. Returns what is
        still not as found."""
        for step in (self._restore_links, self._restore_iptables, self._restore_sysctls):
            try:
                step()
            except Exception as ex:
                print(f"clean-up, {step.__name__}: {ex!r}", file=sys.stderr)
        return self._differences()

    def _restore_links(self):
        for link in (BERTH_BRIDGE, DOCKER_BRIDGE):
            if link not in self.links:
                sh(f"ip link delete {link}")
        if f"table ip berth_{BERTH_BRIDGE}" not in self.tables:
            sh(f"nft delete table ip berth_{BERTH_BRIDGE}")

    def _restore_iptables(self):
        for table in ("filter", "nat"):
            listing = sh(f"iptables -w -t {table} -S")
            for line in listing.splitlines():
                words = shlex.split(line)
                if (len(words) > 2 and words[0] == "-A" and not words[1].startswith("DOCKER")
                        and ours(words[2:])):
                    sh(f"iptables -w -t {table} -D {shlex.join(words[1:])}")
            for line in listing.splitlines():
                words = line.split()
                if words[:1] == ["-N"] and words[1].startswith("DOCKER"):
                    sh(f"iptables -w -t {table} -F {words[1]}")
            for line in listing.splitlines():
                words = line.split()
                if words[:1] == ["-N"] and words[1].startswith("DOCKER"):
                    sh(f"iptables -w -t {table} -X {words[1]}")
        now = sh("iptables -w -S")
        for line in self.iptables.splitlines():  # built-in chains' policies
            m = re.match(r":(INPUT|FORWARD|OUTPUT) (ACCEPT|DROP)", line)
            if m and f"-P {m.group(1)} {m.group(2)}" not in now:
                sh(f"iptables -w -P {m.group(1)} {m.group(2)}")
        # iptables-nft makes base chains and tables that were not there: empty ones go.
        for t in self._tables():
            fam, name = t.split()[1:3]
            if fam != "ip" or name not in IPT:
                continue
            before = self.chains.get(t, {})
            chains = self._chains(t)
            for chain, rules in chains.items():
                if chain not in before and rules == 0:
                    sh(f"nft delete chain ip {name} {chain}")
            if t not in self.tables and not self._chains(t):
                sh(f"nft delete table ip {name}")

    def _restore_sysctls(self):
        for p, v in self.sysctls.items():
            with open(p, "w") as f:
                f.write(v)

    def _differences(self):
        """What of this run is still there (other programs may change the host meanwhile:
        only this run's things and iptables' tables and policies are compared)."""
        left = []
        for cmd in ("iptables-save", "ip6tables-save"):
            rules = [l for l in sh(cmd).splitlines()
                     if l.startswith(("-A", ":")) and ours(shlex.split(l))]
            if rules:
                left.append(f"{cmd}: {rules}")
        policies = lambda text: re.findall(r"^:(?:INPUT|FORWARD|OUTPUT) \w+", text, re.M)
        if policies(sh("iptables-save")) != policies(self.iptables):
            left.append("iptables policies differ")
        mine = lambda ts: {t for t in ts if t.split()[2] in IPT or
                           t.split()[2] == f"berth_{BERTH_BRIDGE}"}
        if mine(self._tables()) != mine(self.tables):
            left.append(f"nft tables {sorted(mine(self._tables()) ^ mine(self.tables))}")
        for t, text in self._iptables_tables().items():
            if t in self.chains and set(self._chains(t)) != set(self.chains[t]):
                left.append(f"{t}: chains {sorted(set(self._chains(t)) ^ set(self.chains[t]))}")
        new_links = (self._links() - self.links) & {BERTH_BRIDGE, DOCKER_BRIDGE}
        if new_links:
            left.append(f"links {sorted(new_links)}")
        return left


class Engine:
    """One daemon and the CLI that drives it."""

    def __init__(self, name, cli, env, bridge):
        self.name, self.cli, self.env, self.bridge = name, cli, env, bridge
        self.containers = []

    def __call__(self, *args, check=True):
        return run([self.cli, *args], self.env, check).strip()

    def start(self, *args):
        cid = self("run", "-d", *args)
        self.containers.append(cid)
        return cid

    def ip(self, cid):
        ns = json.loads(self("inspect", cid))[0]["NetworkSettings"]
        addr = ns.get("IPAddress") or next(
            (n.get("IPAddress") for n in (ns.get("Networks") or {}).values()
             if n.get("IPAddress")), "")
        if not addr:
            raise RuntimeError(f"{self.name}: container {cid[:12]} has no address: {ns}")
        return addr

    def remove_all(self):
        if self.containers:
            self("rm", "-f", *self.containers, check=False)
            self.containers = []


def free_ports(n, start=18000):
    out, port = [], start
    while len(out) < n:
        port += 1
        s = socket.socket()
        try:
            s.bind(("0.0.0.0", port))
            out.append(port)
        except OSError:
            pass
        finally:
            s.close()
    return out


def wait_listening(addr, port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((addr, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on {addr}:{port}")


def send(addr, port, nbytes):
    """MB/s of nbytes sent with sendall in 1 MiB writes, timed until the sink closed (so
    that nothing is still in flight)."""
    buf = b"\0" * (1 << 20)
    s = socket.create_connection((addr, port), timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    t0 = time.perf_counter()
    for _ in range(nbytes >> 20):
        s.sendall(buf)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    dt = time.perf_counter() - t0
    s.close()
    return (nbytes >> 20) * (1 << 20) / dt / 1e6


def wrk(url, duration):
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{duration}s", url],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk {url}: {out}")
    errors = re.search(r"Socket errors:.*", out)
    non2xx = re.search(r"Non-2xx.*", out)
    notes = "; ".join(x.group(0) for x in (errors, non2xx) if x)
    return float(m.group(1)), notes


def host_address():
    """The host's own IPv4 address on its default route's interface."""
    out = sh("ip -4 -o route get 1.1.1.1")
    m = re.search(r"\bsrc (\S+)", out)
    return m.group(1) if m else None


def proc_table():
    procs = {}
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{d}/stat") as f:
                stat = f.read()
            with open(f"{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        procs[int(d[6:])] = (comm, ppid, cmd)
    return procs


def new_processes(before, daemon_pids, mark):
    """Processes not in `before` that belong to the daemons: descendants of a daemon or of
    a process whose command line names this run's directory (the shims)."""
    now = proc_table()

    def ours(pid):
        seen = set()
        while pid > 1 and pid not in seen:
            seen.add(pid)
            if pid in daemon_pids or (pid in now and mark in now[pid][2]):
                return True
            pid = now[pid][1] if pid in now else 0
        return False

    return sorted(now[p][0] for p in now if p not in before and ours(p))


def count_named(name):
    return sum(1 for c, _, _ in proc_table().values() if c == name)


def conntrack_count():
    try:
        with open("/proc/sys/net/netfilter/nf_conntrack_count") as f:
            return int(f.read())
    except OSError:
        return -1


def make_image(work):
    subprocess.run([os.path.join(BUILD, "../scripts/make-busybox-bundle.sh"),
                    os.path.join(work, "bb"), os.path.join(BUILD, "src/cmd/berth-runtime")],
                   check=True, stdout=subprocess.DEVNULL)
    rootfs = os.path.join(work, "bb/rootfs")
    run(["gcc", "-O2", "-static", "-o", os.path.join(rootfs, "bin/net_helper"),
         os.path.join(HERE, "net_helper.c")])
    os.makedirs(os.path.join(rootfs, "www"))
    with open(os.path.join(rootfs, "www/f"), "w") as f:
        f.write("hello, world\n")
    tar = os.path.join(work, "netbench.tar")
    run(["tar", "-C", rootfs, "-cf", tar, "."])
    return tar


def throughput(engines, hostip, nbytes, reps):
    """{engine: {path: MB/s median}}; servers are net_helper sinks; busybox nc once."""
    paths = {}
    for e in engines:
        p_lo, p_host = free_ports(2, start=18100 if e.name == "berth" else 18200)
        args = ["-p", f"127.0.0.1:{p_lo}:5001"]
        if hostip:
            args += ["-p", f"{hostip}:{p_host}:5001"]
        cid = e.start(*args, "busybox", "/bin/net_helper", "sink", "5001")
        ip = e.ip(cid)
        wait_listening(ip, 5001)
        paths[e.name] = {"published 127.0.0.1": ("127.0.0.1", p_lo),
                         "straight to container": (ip, 5001)}
        if hostip:
            paths[e.name]["published host address"] = (hostip, p_host)
    results = {e: {p: [] for p in ps} for e, ps in paths.items()}
    for _ in range(reps):
        for e, ps in paths.items():
            for p, (addr, port) in ps.items():
                results[e][p].append(send(addr, port, nbytes))
    out = {e: {p: statistics.median(v) for p, v in ps.items()} for e, ps in results.items()}
    # busybox nc as the sink, straight, once: is it the bottleneck the helper avoids?
    e = engines[0]
    cid = e.start("busybox", "sh", "-c", "while true; do nc -l -p 5002 >/dev/null; done")
    ip = e.ip(cid)
    wait_listening(ip, 5002)
    time.sleep(0.2)
    out["busybox nc"] = send(ip, 5002, nbytes // 2)
    return out


def connections(engines, duration):
    """{engine: {(server, path): (req/s, notes)}}."""
    out = {}
    for e in engines:
        out[e.name] = {}
        p_bb, p_nh = free_ports(2, start=18300 if e.name == "berth" else 18400)
        # One server container for the straight runs and another behind the published port:
        # conntrack keeps every connection for 120 s, and masquerade keeps the client's port,
        # so a published run's reply tuples (container -> gateway:port) are the very tuples a
        # straight run to the same container opens, and the other way round. The kernel drops
        # a SYN whose tuple clashes, or finds no free port to masquerade to, and the client
        # waits a second to retry: that measured the order of the runs, not the paths.
        bb_args = ["busybox", "httpd", "-f", "-p", "80", "-h", "/www"]
        nh_args = ["busybox", "/bin/net_helper", "http", "8080", "2"]
        bb, bb_pub = e.start(*bb_args), e.start("-p", f"127.0.0.1:{p_bb}:80", *bb_args)
        nh, nh_pub = e.start(*nh_args), e.start("-p", f"127.0.0.1:{p_nh}:8080", *nh_args)
        bb_ip, nh_ip = e.ip(bb), e.ip(nh)
        for c, port in ((bb, 80), (bb_pub, 80), (nh, 8080), (nh_pub, 8080)):
            wait_listening(e.ip(c), port)
        for server, path, url in (
                ("busybox httpd", "straight to container", f"http://{bb_ip}:80/f"),
                ("busybox httpd", "published 127.0.0.1", f"http://127.0.0.1:{p_bb}/f"),
                ("net_helper http", "straight to container", f"http://{nh_ip}:8080/f"),
                ("net_helper http", "published 127.0.0.1", f"http://127.0.0.1:{p_nh}/f")):
            out[e.name][(server, path)] = wrk(url, duration) + (conntrack_count(),)
        ours = (bb, bb_pub, nh, nh_pub)
        e("rm", "-f", *ours)
        e.containers = [c for c in e.containers if c not in ours]
    return out


def setup_time(e, n):
    """Medians in ms, (bridge, none) each: run --rm true, run -d sleep, rm -f."""
    def ms(f):
        t0 = time.perf_counter()
        r = f()
        return (time.perf_counter() - t0) * 1000, r

    def once(net):
        rm = ms(lambda: e("run", "--rm", *net, "busybox", "true"))[0]
        start, cid = ms(lambda: e("run", "-d", *net, "busybox", "sleep", "1000"))
        remove = ms(lambda: e("rm", "-f", cid))[0]
        return rm, start, remove

    once([])  # warm-up
    once(["--network", "none"])
    bridge, none = [], []
    # Alternating blocks, not single runs: the work a bridge container leaves behind (veths
    # and namespaces to delete, spares to make) then lands on bridge runs, not on the
    # --network none runs after them, while the blocks still share the machine's drift.
    block = 5
    for _ in range(max(1, n // block)):
        bridge += [once([]) for _ in range(block)]
        none += [once(["--network", "none"]) for _ in range(block)]
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    return [(med(bridge, i), med(none, i)) for i in range(3)]


def processes(e, daemon_pids, mark):
    ports = free_ports(5, start=18500 if e.name == "berth" else 18600)
    proxies = count_named("docker-proxy")
    before = proc_table()
    args = []
    for i, p in enumerate(ports):
        args += ["-p", f"127.0.0.1:{p}:{81 + i}"]
    cid = e.start(*args, "busybox", "sleep", "1000")
    time.sleep(1)
    new = new_processes(before, daemon_pids, mark)
    proxies = count_named("docker-proxy") - proxies
    e("rm", "-f", cid)
    e.containers.remove(cid)
    return new, proxies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, default=2 << 30, help="bytes per throughput run")
    ap.add_argument("--reps", type=int, default=3, help="throughput runs per path (median)")
    ap.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    ap.add_argument("--iterations", type=int, default=40, help="runs per set-up median")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed")
    # A SIGTERM or SIGHUP unwinds through the finally below like ^C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))

    load_start = os.getloadavg()[0]
    host = HostState()
    work = tempfile.mkdtemp(prefix="berth-net-bench-")
    daemons = Daemons(work)
    engines = []
    try:
        # Many short connections leave conntrack entries in TIME_WAIT for 120 s; keep the
        # table from filling up (restored at the end).
        if int(host.sysctls.get(SYSCTLS[2], "0") or 0) < (1 << 20):
            with open(SYSCTLS[2], "w") as f:
                f.write(str(1 << 20))
        tar = make_image(work)
        hostip = host_address()

        berthd, benv = daemons.berthd(bridge=BERTH_BRIDGE, bip=BERTH_BIP)
        benv = dict(benv, BERTH_HOST=benv["DOCKER_HOST"])
        run([DOCKER, "import", tar, "busybox"], benv)
        berth = Engine("berth", BERTH, benv, BERTH_BRIDGE)
        engines.append(berth)
        daemon_pids = {berthd.pid}

        if DOCKER_BRIDGE not in host.links:
            sh(f"ip link add {DOCKER_BRIDGE} type bridge && "
               f"ip addr add {DOCKER_BIP} dev {DOCKER_BRIDGE} && "
               f"ip link set {DOCKER_BRIDGE} up", check=True)
        peers = daemons.dockerd(bridge=DOCKER_BRIDGE)
        if peers:
            dockerd, containerd, denv = peers
            run([DOCKER, "import", tar, "busybox"], denv)
            engines.append(Engine("docker", DOCKER, denv, DOCKER_BRIDGE))
            daemon_pids |= {dockerd.pid, containerd.pid}

        # Set-up first, on a host whose conntrack table the wrk runs have not filled: the
        # kernel walks the whole table whenever a host-side veth goes down (masquerade's
        # notifier, for both engines), which is a cost of that table, not of set-up.
        setup = {e.name: setup_time(e, args.iterations) for e in engines}
        tput = throughput(engines, hostip, args.bytes, args.reps)
        for e in engines:
            e.remove_all()
        conns = connections(engines, args.duration)
        procs = {e.name: processes(e, daemon_pids, work) for e in engines}

        cores = os.cpu_count()
        print(f"{cores} cores, shared with whatever else runs on this machine (load average "
              f"{load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end); client, "
              f"server and kernel paths all compete for them.\n")
        print(f"Throughput: {args.bytes / 1e9:.2f} GB per run, python sendall in 1 MiB writes, "
              f"into net_helper sink; median of {args.reps}, MB/s")
        print(f"{'path':28} {'berth':>10} {'docker':>10} {'berth/docker':>13}")
        for p in ("published 127.0.0.1", "published host address", "straight to container"):
            if p not in tput["berth"]:
                continue
            b = tput["berth"][p]
            d = tput.get("docker", {}).get(p)
            print(f"{p:28} {b:10.0f} " + (f"{d:10.0f} {b / d:12.2f}x" if d else ""))
        for e in engines:
            t = tput[e.name]
            print(f"{e.name}: published 127.0.0.1 / straight = "
                  f"{t['published 127.0.0.1'] / t['straight to container']:.3f}"
                  + (f", published host address / straight = "
                     f"{t['published host address'] / t['straight to container']:.3f}"
                     if "published host address" in t else ""))
        print(f"busybox nc as the sink (berth, straight, {args.bytes / 2e9:.2f} GB): "
              f"{tput['busybox nc']:.0f} MB/s")
        if hostip:
            print(f"(host address {hostip}; on dockerd 127.0.0.1 goes through docker-proxy, "
                  f"the host address through its iptables DNAT)")

        print(f"\nShort connections: wrk -t2 -c32 -d{args.duration}s, one request per "
              f"connection; requests/s")
        print(f"{'server, path':44} {'berth':>10} {'docker':>10} {'berth/docker':>13}")
        for key in conns["berth"]:
            b, bn, _ = conns["berth"][key]
            d, dn, _ = conns.get("docker", {}).get(key, (None, "", 0))
            name = f"{key[0]}, {key[1]}"
            print(f"{name:44} {b:10.0f} " + (f"{d:10.0f} {b / d:12.2f}x" if d else ""))
            for who, note in (("berth", bn), ("docker", dn)):
                if note:
                    print(f"    {who}: {note}")
        for e in engines:
            c = conns[e.name]
            for server in ("busybox httpd", "net_helper http"):
                pub = c[(server, "published 127.0.0.1")][0]
                straight = c[(server, "straight to container")][0]
                print(f"{e.name}, {server}: published / straight = {pub / straight:.3f}")
        print(f"conntrack entries after the last wrk run: "
              f"{max(v[2] for c in conns.values() for v in c.values())}")

        print(f"\nNetwork set-up: medians of {args.iterations}, ms, default bridge minus "
              f"--network none")
        print(f"{'client -> daemon':24} {'':14} {'bridge':>8} {'none':>8} {'network':>8}")
        for e in engines:
            cli = "berth CLI -> berthd" if e.name == "berth" else "docker CLI -> dockerd"
            for what, (br, none) in zip(("run --rm true", "run -d sleep", "rm -f"),
                                        setup[e.name]):
                print(f"{cli:24} {what:14} {br:8.1f} {none:8.1f} {br - none:8.1f}")

        print("\nProcesses that appear for a container publishing 5 ports on 127.0.0.1:")
        for e in engines:
            new, proxies = procs[e.name]
            print(f"{e.name}: {len(new)} new {new}; docker-proxy processes: {proxies}")
    finally:
        for e in engines:
            try:
                e.remove_all()
            except Exception as ex:  # the daemon may be gone; stopping it cleans up anyway
                print(f"{e.name}: rm -f: {ex}", file=sys.stderr)
        daemons.stop()
        left = host.restore()
        if left:
            print(f"host not as found after clean-up: {'; '.join(left)}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
