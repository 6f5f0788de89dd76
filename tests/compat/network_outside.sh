#!/usr/bin/env bash
# berth's networking seen from outside, through the real docker CLI against a berthd of this
# test's own (its own bridge, nftables table berth_<bridge>, --dns to a fake upstream): a
# simulated outside world in a network namespace (veth to the host, an HTTP server, a tiny
# DNS server) reaches published ports and is reached by containers (masqueraded), berthd's
# embedded DNS forwards to the fake upstream only, internal networks stay inside, user
# networks are isolated from each other; then Debian's dockerd runs beside it with its
# default firewall (FORWARD policy DROP, DOCKER chains) and berth's traffic must still flow,
# and berthd's start must reconcile a tampered table. Everything is undone on exit: the
# iptables state is restored from iptables-save and tables that were absent are deleted.
# Traffic goes only to the host's own addresses, the namespace and containers made here.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

for t in ip nft iptables iptables-save iptables-restore busybox containerd; do
  command -v "$t" >/dev/null || fail "$t is not installed"
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
[ -x "$BERTHD" ] || fail "berthd not found at $BERTHD (build it: ninja -C build berthd)"

BR=bno$$ NS=out$$ VH=vho$$ VO=vno$$ DBR=dkr$$ TABLE=berth_bno$$
NETS=(bna$$ bnb$$ bni$$) # bridges of the user networks A, B and internal
CG=/sys/fs/cgroup

# ---- Addresses: six free /24s in 10.232.0.0/16 (no route or address of this host overlaps):
# X veth to the outside, X+1 berth's default bridge, X+2 net A, X+3 net B, X+4 internal, X+5 dockerd.
X=$("$PY" - $$ <<'PY'
import ipaddress, json, subprocess, sys
taken = []
for r in json.loads(subprocess.check_output(["ip", "-4", "-j", "route", "show", "table", "all"])):
    d = r.get("dst", "default")
    if d != "default":
        taken.append(ipaddress.ip_network(d if "/" in d else d + "/32", strict=False))
for link in json.loads(subprocess.check_output(["ip", "-4", "-j", "addr"])):
    for a in link.get("addr_info", []):
        taken.append(ipaddress.ip_network("%s/%s" % (a["local"], a["prefixlen"]), strict=False))
for i in range(42):
    x = ((int(sys.argv[1]) + i) % 42) * 6
    if not any(ipaddress.ip_network("10.232.%d.0/24" % (x + k)).overlaps(t) for k in range(6) for t in taken):
        print(x); break
PY
)
[ -n "$X" ] || fail "no six free /24s in 10.232.0.0/16"
net() { echo "10.232.$((X + $1))"; }
HOST_IP=$(net 0).1 OUT_IP=$(net 0).2
echo "outside $OUT_IP, host $HOST_IP, berth $(net 1).0/24, A $(net 2).0/24, B $(net 3).0/24, internal $(net 4).0/24, dockerd $(net 5).0/24"

# ---- The host's firewall as found. Other daemons (berthds of concurrent tests, a dockerd
# beside) change their own rules meanwhile, so nothing is restored wholesale and nothing of
# theirs is checked: what is ours and was not there before (berth_bno$$'s accept rules, rules
# naming our bridges) is deleted rule by rule, the built-in chains get their policies back,
# tables that were absent and are empty again are deleted.
tables_before=$(nft list tables | sort)
for t in filter nat; do iptables -w -t $t -S >"$WORK/ipt.$t.before"; done
OURS="$DBR|berth:$TABLE\b|$BR\b|${NETS[0]}|${NETS[1]}|${NETS[2]}"
# dockerd's chains (DOCKER, DOCKER-USER, DOCKER-ISOLATION-*), the jumps to them and the
# FORWARD policy it sets are the same for every dockerd: they are ours to undo only when no
# other dockerd runs (ours has stopped by the time they are undone).
other_dockerd() { pgrep -x dockerd >/dev/null; }
restore_host() {
  local t rule chain pol MINE="DOCKER|$OURS"
  ! other_dockerd || MINE=$OURS
  for t in filter nat; do
    while read -r rule; do
      grep -qxF -- "$rule" "$WORK/ipt.$t.before" || eval "iptables -w -t $t ${rule/#-A/-D}" || true
    done < <(iptables -w -t $t -S | grep -E -- '^-A ' | grep -E -- "$MINE")
    for chain in $(iptables -w -t $t -S | awk '$1 == "-N" {print $2}' | grep -E -- "$MINE"); do
      grep -qxF -- "-N $chain" "$WORK/ipt.$t.before" || { iptables -w -t $t -F "$chain" && iptables -w -t $t -X "$chain"; } || true
    done
    grep -qxF "table ip $t" <<<"$tables_before" && ! other_dockerd || continue
    while read -r _ chain pol; do
      iptables -w -t $t -S "$chain" | grep -qxF -- "-P $chain $pol" || iptables -w -t $t -P "$chain" "$pol" || true
    done < <(grep -E '^-P ' "$WORK/ipt.$t.before")
  done
  local fam name
  while read -r _ fam name; do
    grep -qxF "table $fam $name" <<<"$tables_before" && continue
    [ "$name" = "$TABLE" ] && { nft delete table "$fam" "$name" || true; continue; }
    # An iptables table dockerd made: gone once nothing but empty built-in chains is left.
    case $name in filter | nat | mangle | raw)
      [ -z "$(nft list table "$fam" "$name" | grep -vE '^\s*(table|chain|type|}|$)')" ] && { nft delete table "$fam" "$name" || true; } ;;
    esac
    true
  done < <(nft list tables)
  for l in "$BR" "${NETS[@]}" "$DBR"; do ip link del "$l" 2>/dev/null || true; done
  return 0
}
defer restore_host

# ---- The outside world: a namespace behind a veth, an HTTP server and a DNS server there.
# ip netns exec forks: the servers are found as the processes in the namespace.
defer 'for p in $(ip netns pids $NS 2>/dev/null); do kill "$p"; done; ip netns del $NS 2>/dev/null; ip link del $VH 2>/dev/null; true'
ip netns add "$NS"
ip link add "$VH" type veth peer name "$VO" netns "$NS"
ip addr add "$HOST_IP/24" dev "$VH" && ip link set "$VH" up
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$OUT_IP/24" dev "$VO" && ip -n "$NS" link set "$VO" up
for k in 1 2 3 4; do ip -n "$NS" route add "$(net $k).0/24" via "$HOST_IP"; done
ox() { ip netns exec "$NS" "$@"; }

mkdir -p "$WORK/www" && echo outside-answer >"$WORK/www/outside.txt"
ox "$PY" -u -m http.server 8000 --bind "$OUT_IP" --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
cat >"$WORK/fakedns.py" <<'PY'
# A DNS server for the test: A of outside.test, NODATA for its other types, NXDOMAIN for the rest.
import socket, struct, sys
addr, answer, log = sys.argv[1], sys.argv[2], open(sys.argv[3], "a", buffering=1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
log.write("listening\n")
while True:
    data, peer = s.recvfrom(4096)
    i, labels = 12, []
    while i < len(data) and data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace")); i += 1 + data[i]
    if len(data) < 12 or i + 5 > len(data): continue
    qid, flags = struct.unpack("!HH", data[:4])
    qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
    name = ".".join(labels).lower()
    log.write("%s %s %d\n" % (peer[0], name, qtype))
    answers, rcode = b"", 0
    if name == "outside.test":
        if qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(answer)
    else:
        rcode = 3
    head = struct.pack("!HHHHHH", qid, 0x8580 | (flags & 0x0100) | rcode, 1, 1 if answers else 0, 0, 0)
    s.sendto(head + data[12:i + 5] + answers, peer)
PY
ox "$PY" -u "$WORK/fakedns.py" "$OUT_IP" "$OUT_IP" "$WORK/dns.log" >"$WORK/dns.err" 2>&1 &
# A second resolver outside, for containers' own --dns; its answer tells it apart.
OUT_DNS2=$(net 0).3 OUT_ANSWER2=$(net 0).99
ip -n "$NS" addr add "$OUT_DNS2/24" dev "$VO"
ox "$PY" -u "$WORK/fakedns.py" "$OUT_DNS2" "$OUT_ANSWER2" "$WORK/dns2.log" >"$WORK/dns2.err" 2>&1 &
outside_ready() { grep -q listening "$WORK/dns.log" && grep -q listening "$WORK/dns2.log" && [ -n "$(ox ss -Hltn 'sport = :8000')" ]; }
wait_for 5 outside_ready || true
grep -q listening "$WORK/dns.log" || { cat "$WORK/dns.err" >&2; fail "fake DNS server did not start"; }
grep -q listening "$WORK/dns2.log" || { cat "$WORK/dns2.err" >&2; fail "second fake DNS server did not start"; }

# ---- berthd with its own bridge, --bip and --dns (the fake upstream only).
start_bd() {
  BERTHD_DIR=$WORK/b1 BERTHD_SOCK=$WORK/b1/berthd.sock
  mkdir -p "$BERTHD_DIR" && echo '{}' >"$BERTHD_DIR/daemon.json"
  "$BERTHD" --data-root "$BERTHD_DIR/data" --exec-root "$BERTHD_DIR/exec" -H "unix://$BERTHD_SOCK" \
    --pidfile "$BERTHD_DIR/berthd.pid" --config-file "$BERTHD_DIR/daemon.json" -l info \
    -b "$BR" --bip "$(net 1).1/24" --dns "$OUT_IP" >>"$BERTHD_DIR/berthd.log" 2>&1 &
  BERTHD_PID=$!
  for _ in $(seq 200); do
    curl -sf --unix-socket "$BERTHD_SOCK" http://berthd/_ping >/dev/null 2>&1 && return 0
    [ -d "/proc/$BERTHD_PID" ] || break
    sleep 0.05
  done
  tail -20 "$BERTHD_DIR/berthd.log" >&2
  fail "berthd did not start"
}
# What berthd cannot undo any more: its containers' processes and shims.
hard_cleanup() {
  local id pid
  for id in $(ls "$WORK/b1/exec/containers" 2>/dev/null | grep -E '^[0-9a-f]{64}$'); do
    for pid in $(cat "$CG"/*/berth/"$id"/cgroup.procs 2>/dev/null | sort -u) $(pgrep -f "berth-shim --id $id " || true); do
      kill -9 "$pid" 2>/dev/null || true
    done
  done
  return 0
}
defer hard_cleanup
defer 'stop_pid $BERTHD_PID berthd' # the berthd running at exit, after restarts too
start_bd
docker() { bdocker "$@"; }
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1; for n in neta netb netint; do docker network rm $n >/dev/null 2>&1; done; true'
docker import --change 'CMD ["sh"]' "$(busybox_tar)" busybox >/dev/null

ip_of() { docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1" 2>&1; }
# cx CONTAINER CMD...: run in a running container; output and status in OUT and RC.
cx() { run_capture docker exec "$@"; }
# busybox 1.35's wget -T crashes (SIGSEGV): timeout(1) bounds it instead.
fetch() { cx "$1" timeout "${3:-4}" wget -q -O - "$2"; }
out_fetch() { run_capture ox timeout 4 busybox wget -q -O - "$1"; }
# The client address the outside HTTP server logged for requests carrying TAG.
client_of() { grep -F "$1" "$WORK/http.log" | awk '{print $1}' | sort -u | tr '\n' ' '; }
web_cmd='mkdir -p /www && echo "web:$(hostname)" >/www/index.html && exec httpd -f -p 80 -h /www'
# reachable CMD...: ready checks (true when the command succeeds within 5 s).
reachable() { wait_for 5 "$@"; }

HP=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')

# ---------------------------------------------------------------------------------------
step "1. the outside reaches a published port at the host's veth address"
docker run -d --name web --hostname web -p "$HP:80" busybox sh -c "$web_cmd" >/dev/null
reachable ox timeout 1 busybox wget -q -O /dev/null "http://$HOST_IP:$HP/" || true
out_fetch "http://$HOST_IP:$HP/"
check_eq "$RC/$OUT" "0/web:web" "outside: wget http://$HOST_IP:$HP/ (published -p $HP:80)"
check_eq "$(docker port web 80/tcp 2>&1 | head -1)" "0.0.0.0:$HP" "docker port web 80/tcp"

step "2. containers reach the outside server, masqueraded to the host's veth address"
docker run -d --name defc busybox sleep 600 >/dev/null
fetch defc "http://$OUT_IP:8000/outside.txt?from=default"
check_eq "$RC/$OUT" "0/outside-answer" "default bridge container -> outside server"
echo "  the outside server logged: $(grep -F from= "$WORK/http.log" | awk '{print $1, $7}' | tr '\n' ';')"
check_eq "$(client_of from=default)" "$HOST_IP " "outside server sees the default bridge container as $HOST_IP"
docker network create --subnet "$(net 2).0/24" -o com.docker.network.bridge.name="${NETS[0]}" neta >/dev/null
docker network create --subnet "$(net 3).0/24" -o com.docker.network.bridge.name="${NETS[1]}" netb >/dev/null
docker run -d --name a1 --network neta busybox sh -c "$web_cmd" >/dev/null
fetch a1 "http://$OUT_IP:8000/outside.txt?from=user"
check_eq "$RC/$OUT" "0/outside-answer" "user network container -> outside server"
check_eq "$(client_of from=user)" "$HOST_IP " "outside server sees the user network container as $HOST_IP"

step "3. embedded DNS: forwarded to the --dns upstream only, local names answered locally"
docker run -d --name a2 --network neta busybox sleep 600 >/dev/null
cx a2 cat /etc/resolv.conf
check_eq "$(grep '^nameserver' <<<"$OUT")" "nameserver $(net 2).1" "user network container's resolv.conf names only the gateway"
cx defc cat /etc/resolv.conf
check_eq "$(grep '^nameserver' <<<"$OUT")" "nameserver $OUT_IP" "default bridge container's resolv.conf names only --dns"
cx a2 nslookup outside.test
check_eq "$RC" 0 "nslookup outside.test exit status ($OUT)"
check_match "$OUT" "Name:[[:space:]]+outside\.test[[:space:]]+Address:? $OUT_IP" "nslookup outside.test answers the fake upstream's A"
cx a2 nslookup nosuch.test
check_contains "$OUT" "NXDOMAIN" "nslookup nosuch.test: the upstream's NXDOMAIN"
cx a2 nslookup a1
check_match "$OUT" "Address:? $(ip_of a1 neta)" "nslookup a1 (a container name) answers locally"
check_contains "$(awk '$2 == "outside.test" {print $1}' "$WORK/dns.log" | sort -u)" "$HOST_IP" "upstream queries come from the host"
check_eq "$(awk '$2 ~ /^(a1|web|defc)(\.|$)/' "$WORK/dns.log")" "" "container names are not forwarded upstream"
# As Docker's embedded DNS: a container's own --dns on a user network is where its other
# questions go; its resolv.conf still names the gateway.
docker run -d --name a3 --network neta --dns "$OUT_DNS2" busybox sleep 600 >/dev/null
cx a3 cat /etc/resolv.conf
check_eq "$(grep '^nameserver' <<<"$OUT")" "nameserver $(net 2).1" "run --dns on a user network: resolv.conf names the gateway"
cx a3 nslookup outside.test
check_match "$OUT" "Address:? $OUT_ANSWER2" "run --dns on a user network: forwarded to the container's own resolver"
cx a3 nslookup a1
check_match "$OUT" "Address:? $(ip_of a1 neta)" "run --dns on a user network: container names still answered locally"
cx a2 nslookup outside.test
check_match "$OUT" "Address:? $OUT_IP" "containers without --dns still use berthd's --dns"

step "4. internal network: no way out, but its members reach each other"
docker network create --internal --subnet "$(net 4).0/24" -o com.docker.network.bridge.name="${NETS[2]}" netint >/dev/null
docker run -d --name i1 --network netint busybox sh -c "$web_cmd" >/dev/null
docker run -d --name i2 --network netint busybox sleep 600 >/dev/null
fetch i2 "http://$OUT_IP:8000/outside.txt?from=internal" 2
[ "$RC" != 0 ] || check_fail "internal container -> outside server: expected a failure, got '$OUT'"
check_eq "$(client_of from=internal)" "" "the outside server never saw the internal container"
reachable docker exec i2 timeout 1 wget -q -O /dev/null "http://$(ip_of i1 netint)/" || true
fetch i2 "http://$(ip_of i1 netint)/"
check_eq "$RC/$OUT" "0/web:$(docker inspect -f '{{.Config.Hostname}}' i1)" "internal container -> another on the same internal network"

step "5. user networks are isolated from each other; a container on both reaches both"
docker run -d --name b1 --network netb busybox sh -c "$web_cmd" >/dev/null
docker run -d --name ab --network neta busybox sleep 600 >/dev/null
docker network connect netb ab
A1=$(ip_of a1 neta) B1=$(ip_of b1 netb)
reachable docker exec ab timeout 1 wget -q -O /dev/null "http://$B1/" || true
isolation_checks() { # $1: when
  cx a1 ping -c1 -W2 "$B1"
  check_eq "$RC" 1 "$1: neta container cannot ping netb's $B1"
  cx b1 ping -c1 -W2 "$A1"
  check_eq "$RC" 1 "$1: netb container cannot ping neta's $A1"
  cx ab ping -c1 -W2 "$A1"
  check_eq "$RC" 0 "$1: container on both networks pings neta's $A1 ($OUT)"
  cx ab ping -c1 -W2 "$B1"
  check_eq "$RC" 0 "$1: container on both networks pings netb's $B1 ($OUT)"
  fetch ab "http://$B1/"
  check_eq "$RC/$OUT" "0/web:$(docker inspect -f '{{.Config.Hostname}}' b1)" "$1: container on both networks -> netb's web server"
}
isolation_checks "before dockerd"

# ---------------------------------------------------------------------------------------
step "6. Debian's dockerd beside berthd, with its default firewall (iptables on)"
# A bridge of its own (-b and --bip exclude each other in dockerd: the address goes on first).
ip link add "$DBR" type bridge && ip addr add "$(net 5).1/24" dev "$DBR" && ip link set "$DBR" up
start_dockerd --bridge "$DBR"
check_contains "$(iptables -w -S)" "-o $DBR -j DOCKER" "dockerd sends its bridge's traffic through its DOCKER chain"
if [ "$(iptables -S FORWARD | head -1)" != "-P FORWARD DROP" ]; then
  # dockerd sets DROP only when it turns ip_forward on itself; this host had it on already.
  echo "  (ip_forward was on already, so dockerd kept the FORWARD policy: setting DROP as dockerd would)"
  iptables -P FORWARD DROP
fi
check_eq "$(iptables -S FORWARD | head -1)" "-P FORWARD DROP" "FORWARD policy with dockerd running"

traffic_checks() { # $1: when, $2: a tag for the URLs
  out_fetch "http://$HOST_IP:$HP/"
  check_eq "$RC/$OUT" "0/web:web" "$1: outside -> published port $HP"
  fetch defc "http://$OUT_IP:8000/outside.txt?from=default-$2"
  check_eq "$RC/$OUT" "0/outside-answer" "$1: default bridge container -> outside server"
  fetch a1 "http://$OUT_IP:8000/outside.txt?from=user-$2"
  check_eq "$RC/$OUT" "0/outside-answer" "$1: user network container -> outside server"
  check_eq "$(client_of "from=user-$2")" "$HOST_IP " "$1: still masqueraded to $HOST_IP"
  fetch a2 "http://$A1/"
  check_eq "$RC/$OUT" "0/web:$(docker inspect -f '{{.Config.Hostname}}' a1)" "$1: container -> container on neta"
  fetch defc "http://$(ip_of web bridge)/"
  check_eq "$RC/$OUT" "0/web:web" "$1: container -> container on the default bridge"
  cx a2 nslookup outside.test
  check_contains "$OUT" "$OUT_IP" "$1: DNS forwarding to the outside"
}
traffic_checks "dockerd started after berthd" dockerd
forward_rules() { iptables -S FORWARD | grep -F "berth:$TABLE" | sort; }

step "6b. berthd restarted while dockerd runs: it reconciles, traffic flows"
stop_pid "$BERTHD_PID" berthd
start_bd
check_eq "$(forward_rules | wc -l)" 8 "FORWARD: one -i and one -o accept rule for each of berth's 4 bridges"
traffic_checks "berthd restarted beside dockerd" restarted
cx a3 nslookup outside.test
check_match "$OUT" "Address:? $OUT_ANSWER2" "berthd restarted: a3's own --dns is still its upstream"
isolation_checks "berthd restarted beside dockerd"

step "6c. berthd's start puts back a tampered table exactly"
expected=$(nft list table ip "$TABLE")
rules_expected=$(forward_rules)
check_contains "$expected" "tcp dport $HP dnat to $(ip_of web bridge):80" "table holds the DNAT of the published port"
check_contains "$expected" "ip saddr $(net 2).0/24 oifname != \"${NETS[0]}\" masquerade" "table masquerades neta"
check_not_contains "$expected" "ip saddr $(net 4).0/24 oifname != \"${NETS[2]}\" masquerade" "table does not masquerade the internal network"
nft add rule ip "$TABLE" ports tcp dport 19999 dnat to 10.0.0.1:1
handle=$(nft -a list chain ip "$TABLE" ports | grep -F "dport $HP " | sed 's/.*# handle //')
nft delete rule ip "$TABLE" ports handle "$handle"
iptables -D FORWARD -o "$BR" -m comment --comment "berth:$TABLE" -j ACCEPT
[ "$(nft list table ip "$TABLE")" != "$expected" ] || check_fail "tampering did not change the table"
out_fetch "http://$HOST_IP:$HP/"
check_eq "$RC" 1 "with its DNAT rule deleted the published port is unreachable"
stop_pid "$BERTHD_PID" berthd
start_bd
check_eq "$(nft list table ip "$TABLE")" "$expected" "after berthd's restart: nft list table ip $TABLE exactly as before the tampering"
check_eq "$(forward_rules)" "$rules_expected" "after berthd's restart: FORWARD accept rules as before"
out_fetch "http://$HOST_IP:$HP/"
check_eq "$RC/$OUT" "0/web:web" "after berthd's restart: outside -> published port again"

# ---------------------------------------------------------------------------------------
step "7. cleanup: everything removed, the host's firewall as found"
docker rm -f $(docker ps -aq) >/dev/null
docker network rm neta netb netint >/dev/null
stop_pid "$BERTHD_PID" berthd
stop_pid "$DOCKERD_PID" dockerd
stop_pid "$CONTAINERD_PID" containerd
restore_host
# Only what this test made is checked: other daemons' rules and tables may come and go.
check_eq "$(iptables-save | grep -E -- "$OURS" || true)" "" "nothing naming our bridges, dockerd's bridge or $TABLE left in iptables"
if ! other_dockerd; then
  for t in filter nat; do
    check_eq "$(iptables -w -t $t -S | grep -E '^-P ' | sort)" "$(grep -E '^-P ' "$WORK/ipt.$t.before" | sort)" "iptables -t $t: the built-in chains' policies as before"
    check_eq "$(iptables -w -t $t -S | grep -E -- '^-[AN] \S*DOCKER|-j DOCKER' | grep -vxFf "$WORK/ipt.$t.before" || true)" "" "iptables -t $t: no DOCKER chain or jump of our dockerd left"
  done
fi
check_eq "$(nft list tables | grep -c "$TABLE" || true)" 0 "nft table $TABLE deleted"
for l in "$BR" "${NETS[@]}" "$DBR"; do
  ip link show "$l" >/dev/null 2>&1 && check_fail "link $l is still there"
done

finish_checks "berth networking with an outside world and dockerd"
