#!/usr/bin/env bash
# The real docker CLI against a berthd of this test's own, for networking, checked against what
# Docker does: network create/ls/inspect/rm/prune and their errors; run --network, --ip,
# --network-alias, --mac-address, --hostname, --dns*, --add-host, --link, host, none,
# container:NAME; connect/disconnect; names on user networks and isolation between networks;
# addresses kept across a kill -9 of berthd; published ports (tcp, udp, ranges, -P) answering on
# 127.0.0.1 and on the host's own address, and their conflicts. Traffic goes only to loopback,
# the host's own address and containers. Failures are collected; the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

BR="bcn$$"          # this daemon's default bridge; its nftables table is berth_$BR
TABLE="berth_$BR"
HOSTIP=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
[ -n "$HOSTIP" ] || fail "the host has no global IPv4 address"
CG=/sys/fs/cgroup

# ---- Subnets of 10.231.0.0/16 no route or address of the host touches.
free_24() {
  local p="10.231.$1.0/24"
  [ -z "$(ip -4 route show root "$p")$(ip -4 route show match "$p" | grep -v '^default' || true)" ] &&
    ! ip -4 -o addr | grep -q " 10\.231\.$1\."
}
octets=()
for n in $(seq 10 250); do free_24 "$n" && octets+=("$n"); ((${#octets[@]} < 8)) || break; done
((${#octets[@]} == 8)) || fail "not enough free /24s in 10.231.0.0/16"
A=10.231.${octets[0]} B=10.231.${octets[1]} C=10.231.${octets[2]} D=10.231.${octets[3]}
E=10.231.${octets[4]} F=10.231.${octets[5]} G=10.231.${octets[6]} H=10.231.${octets[7]}

# ---- Cleanup even when berthd itself failed: container processes, veths, bridges, firewall.
BERTHD_DIR=$WORK/n1
container_ids() { { ls "$BERTHD_DIR/exec/containers" "$BERTHD_DIR/data/containers" 2>/dev/null || true; } | grep -E '^[0-9a-f]{64}$' | sort -u || true; }
cgroups_empty() { ! cat "$CG"/*/berth/"$1"/cgroup.procs 2>/dev/null | grep -q .; }
hard_cleanup() {
  local id pid
  for id in $(container_ids); do
    for pid in $(cat "$CG"/*/berth/"$id"/cgroup.procs 2>/dev/null | sort -u); do kill -9 "$pid" 2>/dev/null || true; done
    for pid in $(pgrep -f "berth-shim --id $id " || true); do kill -9 "$pid" 2>/dev/null || true; done
  done
  for id in $(container_ids); do
    wait_for 5 cgroups_empty "$id" || true
    for d in "$CG"/*/berth/"$id"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  done
  return 0
}
BRIDGES="$BR"
# The bridges of this daemon's networks (a name given with -o, or br-<12 hex of the id).
remember_bridges() {
  local id b
  for id in $(docker network ls -q --no-trunc --filter driver=bridge 2>/dev/null); do
    b=$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$id" 2>/dev/null) || continue
    [ -n "$b" ] || b=br-${id:0:12}
    [[ " $BRIDGES " == *" $b "* ]] || BRIDGES+=" $b"
  done
}
net_cleanup() { remove_berth_network $BRIDGES; }
defer hard_cleanup
defer net_cleanup

# berthd with its network settings: daemon.json keys and command-line flags both.
mkdir -p "$BERTHD_DIR"
cat >"$BERTHD_DIR/daemon.json" <<EOF
{"bip": "$A.1/24", "mtu": 1450, "default-address-pools": [{"base": "$E.0/24", "size": 26}]}
EOF
docker() { bdocker "$@"; }
tarball=$(busybox_tar)
start_berthd n1 -b "$BR" --dns "$HOSTIP"
# While berthd lives (deferred again after each start): containers and networks through the API.
api_cleanup() {
  remember_bridges
  local ids
  ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  docker network prune -f >/dev/null 2>&1
  return 0
}
defer api_cleanup
docker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null

# Seven host ports P1..P7 no socket holds, in a block picked from this process's id, so that
# a run beside another one (its own berthd) does not collide.
ports_free() { local p; for p in $(seq $(($1 + 1)) $(($1 + 7))); do [ -z "$(ss -Htuan "sport = :$p")" ] || return 1; done; }
for ((i = 0; i < 90; i++)); do
  PB=$((18100 + ($$ + i) % 90 * 10))
  ports_free "$PB" && break
done
ports_free "$PB" || fail "no block of seven free host ports in 18100-18999"
P1=$((PB + 1)) P2=$((PB + 2)) P4=$((PB + 4)) P5=$((PB + 5)) P6=$((PB + 6)) P7=$((PB + 7))
ex() { docker exec "$@" 2>&1; }
ip_of() { insp "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }
# veths() BRIDGE: the host ends plugged into a bridge with a container behind them. berthd keeps
# spares on its default bridge: namespaces whose eth0 is up without an address yet.
spare_ifindexes() {
  local ns
  for ns in "$BERTHD_DIR"/exec/netns/*; do
    nsenter --net="$ns" ip -o -4 addr show eth0 2>/dev/null | grep -q inet && continue
    nsenter --net="$ns" ip -o link show eth0 2>/dev/null | sed -n 's/.*eth0@if\([0-9]*\).*/\1/p'
  done
}
veths() {
  local spares idx name rest
  spares=" $(spare_ifindexes | tr '\n' ' ') "
  ip -o link show master "$1" 2>/dev/null | while read -r idx name rest; do
    [[ "$spares" == *" ${idx%:} "* ]] || echo "${name%%@*}"
  done | sort
}
nft_rules() { nft list table ip "$TABLE" 2>/dev/null || true; }
sorted() { sort | tr '\n' ' '; }
# ns_addrs NAME HOST: the addresses busybox nslookup prints for HOST inside container NAME.
ns_addrs() { docker exec "$1" nslookup -type=a "$2" 2>&1 | awk '/^Name:/ {n = 1; next} n && /^Address/ {print $2}' | sorted; }
pings() { docker exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }
get() { curl -s --max-time 3 "$@" 2>&1; }
WWW='mkdir -p /www && echo hello-berth >/www/index.html && httpd -p 81 -h /www && exec httpd -f -p 80 -h /www'

# ---------------------------------------------------------------------------------------
step "predefined networks bridge, host, none; the default bridge from -b and daemon.json bip"
check_eq "$(docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}' | sorted)" "bridge bridge local host host local none null local " "network ls of a fresh daemon"
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' bridge 2>&1)" "$A.0/24 $A.1" "the default bridge's subnet and gateway (bip)"
check_eq "$(docker network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' bridge 2>&1)" "$BR" "the default bridge's device (-b)"
check_contains "$(ip -4 -o addr show dev "$BR" 2>&1)" "$A.1/24" "the default bridge device holds the bip address"
run_capture docker network rm bridge
check_eq "$RC" 1 "network rm bridge exit status"
check_contains "$OUT" "bridge is a pre-defined network and cannot be removed" "network rm bridge message"

step "network create: --subnet --gateway --ip-range --label --attachable -o bridge.name; defaults"
run_capture docker network create -d bridge --subnet "$B.0/24" --gateway "$B.254" --ip-range "$B.128/25" \
  --label team=blue --attachable -o com.docker.network.bridge.name="${BR}a" net1
check_match "$RC/$OUT" '^0/[0-9a-f]{64}$' "network create net1 prints the ID"
id1=${OUT: -64}
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' net1 2>&1)" "$B.0/24" "inspect net1: subnet"
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}} {{.IPRange}}{{end}}' net1 2>&1)" "$B.254 $B.128/25" "inspect net1: gateway, ip-range"
check_eq "$(docker network inspect -f '{{.Name}} {{.Id}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Attachable}} {{.Labels.team}}' net1 2>&1)" \
  "net1 $id1 bridge local false true blue" "inspect net1: name, id, driver, scope, internal, attachable, label"
check_contains "$(ip -4 -o addr show dev "${BR}a" 2>&1)" "$B.254/24" "net1's bridge (-o com.docker.network.bridge.name) holds the gateway"
mac_br1=$(cat "/sys/class/net/${BR}a/address")
id2=$(docker network create --subnet "$C.0/24" net2 2>&1)
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' net2 2>&1)" "$C.1" "net2: the gateway defaults to the subnet's first address"
check_contains "$(ip -4 -o addr show dev "br-${id2:0:12}" 2>&1)" "$C.1/24" "net2's bridge is br-<12 hex of its id>"
docker network create --internal --subnet "$D.0/24" netint >/dev/null
check_eq "$(docker network inspect -f '{{.Internal}}' netint 2>&1)" "true" "create --internal"
docker network create netauto >/dev/null
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' netauto 2>&1)" "$E.0/26" "a network without --subnet takes the first of default-address-pools"
remember_bridges

step "network create errors: a taken name, an overlapping subnet, a malformed subnet, a gateway outside"
nets_before=$(docker network ls -q | sorted)
run_capture docker network create --subnet "$F.0/24" net1
check_eq "$RC" 1 "create with a taken name exit status"
check_contains "$OUT" "network with name net1 already exists" "create with a taken name message"
run_capture docker network create --subnet "$B.128/25" netover
check_eq "$RC" 1 "create with an overlapping subnet exit status"
check_contains "$OUT" "Pool overlaps with other one on this address space" "create with an overlapping subnet message"
run_capture docker network create --subnet 10.231.300.0/24 netbad
check_eq "$RC" 1 "create with a malformed subnet exit status"
check_contains "$OUT" "10.231.300.0/24" "create with a malformed subnet: the message names it"
run_capture docker network create --subnet "$F.0/24" --gateway "$G.1" netgw
check_eq "$RC" 1 "create with a gateway outside the subnet exit status"
check_contains "$OUT" "$G.1" "create with a gateway outside the subnet: the message names it"
check_eq "$(docker network ls -q | sorted)" "$nets_before" "failed creates leave no network"
check_eq "$(ip -4 -o addr | grep -c " $F\.\| $G\." || true)" 0 "failed creates leave no bridge with their addresses"

step "IPAM: --aux-address is kept, shown and never handed out; null fields are absent, as in Go"
docker network create --subnet "$H.0/29" --aux-address router="$H.2" --aux-address printer="$H.3" netaux >/dev/null
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{json .AuxiliaryAddresses}}{{end}}' netaux)" \
  "{\"printer\":\"$H.3\",\"router\":\"$H.2\"}" "inspect shows the auxiliary addresses"
check_eq "$(docker run --rm --network netaux busybox ip -o -4 addr show eth0 | awk '{print $4}')" "$H.4/29" \
  "the first address handed out skips the auxiliary ones"
run_capture docker run --rm --network netaux --ip "$H.2" busybox true
check_eq "$RC" 125 "--ip of an auxiliary address is refused"
docker network rm netaux >/dev/null
# The docker CLI checks this itself; berthd does too, for other clients.
out=$(curl -s -w ' %{http_code}' --unix-socket "$BERTHD_SOCK" -X POST -H 'Content-Type: application/json' \
  -d "{\"Name\":\"netfar\",\"IPAM\":{\"Config\":[{\"Subnet\":\"$H.0/29\",\"AuxiliaryAddresses\":{\"far\":\"$G.9\"}}]}}" \
  http://b/v1.44/networks/create)
check_match "$out" "must belong to the master pool.* 403$" "an auxiliary address outside the subnet is refused"
code=$(curl -s -o "$WORK/nullnet" -w '%{http_code}' --unix-socket "$BERTHD_SOCK" -X POST -H 'Content-Type: application/json' \
  -d "{\"Name\":\"netnull\",\"IPAM\":{\"Driver\":\"default\",\"Config\":[{\"Subnet\":\"$H.0/29\",\"IPRange\":null,\"Gateway\":null,\"AuxiliaryAddresses\":null}]}}" \
  http://b/v1.44/networks/create)
check_eq "$code" 201 "an IPAM pool with null fields is created ($(cat "$WORK/nullnet"))"
check_eq "$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' netnull)" "$H.1" "null gateway: the default one"
docker network rm netnull >/dev/null

step "network ls: -q, --filter name= driver= type=custom label=, --format"
check_eq "$(docker network ls -q | wc -l)" 7 "network ls -q counts every network"
check_eq "$(docker network ls -q | grep -cvE '^[0-9a-f]{12}$' || true)" 0 "network ls -q prints short IDs"
check_eq "$(docker network ls --filter name=net1 --format '{{.Name}}')" "net1" "ls --filter name=net1"
check_eq "$(docker network ls --filter name=net --format '{{.Name}}' | sorted)" "net1 net2 netauto netint " "ls --filter name=net (a substring)"
check_eq "$(docker network ls --filter driver=bridge --format '{{.Name}}' | sorted)" "bridge net1 net2 netauto netint " "ls --filter driver=bridge"
check_eq "$(docker network ls --filter type=custom --format '{{.Name}}' | sorted)" "net1 net2 netauto netint " "ls --filter type=custom"
check_eq "$(docker network ls --filter label=team=blue --format '{{.Name}}')" "net1" "ls --filter label=team=blue"
check_eq "$(docker network ls --filter label=team --format '{{.Name}}')" "net1" "ls --filter label=team"

# ---------------------------------------------------------------------------------------
step "run --network net1 --ip --network-alias --hostname --domainname --mac-address"
MAC=02:42:0a:e7:00:0a
docker run -d --name web1 --network net1 --ip "$B.10" --network-alias svc --hostname h1 --domainname example.test \
  --mac-address "$MAC" busybox sleep 600 >/dev/null
docker run -d --name web2 --network net1 --network-alias svc busybox sleep 600 >/dev/null
IP1=$(ip_of web1 net1) IP2=$(ip_of web2 net1)
check_eq "$IP1" "$B.10" "--ip: the static address in inspect"
check_contains "$(ex web1 ip -o -4 addr show eth0)" "$B.10/24" "--ip: the static address inside"
check_match "$IP2" "^$B\.(1[2-9][0-9]|2[0-4][0-9]|25[0-3])$" "a dynamic address comes from the ip-range"
check_eq "$(ex web1 cat /sys/class/net/eth0/address)/$(insp '{{.NetworkSettings.Networks.net1.MacAddress}}' web1)" "$MAC/$MAC" "--mac-address inside and in inspect"
check_eq "$(ex web1 cat /etc/hostname)" "h1" "--hostname: /etc/hostname"
check_match "$(ex web1 cat /etc/hosts)" "$B\.10[[:space:]]+h1\.example\.test h1" "--hostname --domainname: /etc/hosts"
check_eq "$(ex web1 ip -o -4 route show default | awk '{print $3}')" "$B.254" "the default route goes through net1's gateway"
check_eq "$(ex web1 cat /sys/class/net/eth0/mtu)" "1450" "daemon.json mtu on the container's interface"
# As Docker on IPv4-only networks: no IPv6 on the container's interfaces; lo keeps ::1.
check_eq "$(ex web1 cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6)/$(ex web1 ip -o -6 addr show lo | awk '{print $4}')" \
  "1/::1/128" "IPv6 off on eth0 of a user network, ::1 on lo"
check_eq "$(docker run --rm busybox cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>&1)" "1" "IPv6 off on eth0 of the default bridge"
check_contains "$(ex web1 cat /etc/resolv.conf)" "nameserver $B.254" "resolv.conf on a user network names berthd's DNS at the gateway"
check_eq "$(docker network inspect -f '{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}' net1 2>&1 | tr ' ' '\n' | sort | tr '\n' ' ')" \
  " web1=$B.10/24 web2=$IP2/24 " "network inspect: Containers map"

step "--ip of an address in use: an error, the container left created, no veth left"
v_before=$(veths "${BR}a")
run_capture docker run -d --name dup --network net1 --ip "$B.10" busybox sleep 600
check_eq "$RC" 125 "run --ip <in use> exit status"
check_contains "$OUT" "Address already in use" "run --ip <in use> message"
check_eq "$(insp '{{.State.Status}}' dup)" "created" "run --ip <in use>: the container stays created"
check_eq "$(veths "${BR}a")" "$v_before" "run --ip <in use>: no veth left on the host"
docker rm dup >/dev/null 2>&1 || true

step "names on net1: by name, alias and hostname; two containers behind one alias"
check_eq "$(ns_addrs web2 svc)" "$(printf '%s\n' "$IP1" "$IP2" | sorted)" "nslookup of an alias two containers share"
check_eq "$(ns_addrs web2 web1)" "$IP1 " "nslookup of a container name"
check_eq "$(ns_addrs web2 h1)" "$IP1 " "nslookup of a container's hostname"
# busybox nslookup of an address asks PTR; Docker answers "<container name>.<network name>".
check_contains "$(ex web2 nslookup "$IP1")" "name = web1.net1" "nslookup of web1's address (PTR)"
pings web2 web1 || check_fail "ping web1 by name from web2"
pings web1 web2 || check_fail "ping web2 by name from web1"
pings web2 h1 || check_fail "ping h1 (hostname) from web2"

step "isolation: net2 cannot reach net1; a container on both can; connect/disconnect"
docker run -d --name out --network net2 busybox sleep 600 >/dev/null
pings out "$IP1" && check_fail "a container on net2 reaches net1's $IP1"
check_eq "$(ns_addrs out web1)" "" "net2 does not resolve net1's names"
check_not_contains "$(ex out nslookup "$IP1")" "web1" "net2 does not answer PTR for net1's addresses"
# net1's DNS answers only net1's containers: not one of net2 asking it there, not the host.
check_contains "$(ex out nslookup web1 "$B.254")" "REFUSED" "net1's DNS refuses a container of net2"
check_eq "$(python3 - "$B.254" <<'EOF'
import socket, struct, sys
q = struct.pack('>HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0) + b'\x04web1\x00' + struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(q, (sys.argv[1], 53))
print(s.recv(512)[3] & 0x0f)
EOF
)" 5 "net1's DNS refuses the host (rcode 5, REFUSED)"
run_capture docker network connect --ip "$B.20" --alias calias net1 out
check_eq "$RC/$OUT" "0/" "network connect --ip --alias of a running container"
check_contains "$(ex out ip -o -4 addr)" "$B.20/24" "connect: the interface appears inside with its --ip"
pings out "$IP1" || check_fail "a container on net2 and net1 reaches web1's $IP1"
# Docker's embedded DNS answers the names of every network the asking container is on.
pings out web1 || check_fail "a container on net2 and net1 reaches web1 by name"
check_contains "$(ex out nslookup "$IP1")" "name = web1.net1" "connect: PTR of web1's address from a container on net2 and net1"
pings web1 calias || check_fail "ping the connect --alias from web1"
check_eq "$(ip_of out net1)" "$B.20" "connect: inspect shows the net1 address"
# dockerd gives each bridge a MAC of its own: otherwise the bridge takes its lowest port's, and
# containers keep a stale ARP entry for the gateway (their DNS) whenever a veth joins.
check_eq "$(cat "/sys/class/net/${BR}a/address")" "$mac_br1" "net1's bridge keeps its MAC address as containers join"
run_capture docker network connect net1 out
check_eq "$RC" 1 "connect twice exit status"
check_contains "$OUT" "already exists in network net1" "connect twice message"
run_capture docker network disconnect net1 out
check_eq "$RC/$OUT" "0/" "network disconnect"
check_eq "$(ex out ip -o -4 addr | awk '{print $2}' | sorted)" "eth0 lo " "disconnect: the interface is gone inside (only eth0 and lo left)"
pings out "$IP1" && check_fail "after disconnect the container still reaches $IP1"
docker run -d --name intc --network netint busybox sleep 600 >/dev/null
pings intc "$HOSTIP" && check_fail "a container on an --internal network reaches the host's $HOSTIP"
pings web1 "$HOSTIP" || check_fail "a container on net1 reaches the host's $HOSTIP"

step "--network host, none, container:NAME"
check_contains "$(docker run --rm --network host busybox ip -o link 2>&1)" ": $BR:" "--network host sees the host's interfaces"
check_eq "$(docker run --rm --network none busybox ip -o link 2>&1 | awk -F': ' '{print $2}')" "lo" "--network none has only lo"
check_contains "$(docker run --rm --network container:web1 busybox ip -o -4 addr show eth0 2>&1)" "$B.10/24" "--network container:web1 shares web1's address"
# dockerd creates the container and fails its start (404 at create would make the CLI pull).
run_capture docker run --rm --network nosuch busybox true
check_eq "$RC" 125 "run --network nosuch exit status"
check_contains "$OUT" "network nosuch not found" "run --network nosuch message"
check_not_contains "$OUT" "Unable to find image" "run --network nosuch: the CLI does not try to pull the image"

step "the default bridge: --dns --dns-search --dns-option, --add-host, --link; no name resolution"
rc=$(docker run --rm --dns 10.231.99.53 --dns-search a.test --dns-option ndots:3 busybox cat /etc/resolv.conf 2>&1)
check_contains "$rc" "nameserver 10.231.99.53" "--dns in resolv.conf"
check_contains "$rc" "search a.test" "--dns-search in resolv.conf"
check_contains "$rc" "options ndots:3" "--dns-option in resolv.conf"
check_contains "$(docker run --rm busybox cat /etc/resolv.conf 2>&1)" "nameserver $HOSTIP" "berthd --dns in a default-bridge container's resolv.conf"
check_match "$(docker run --rm --add-host foo.test:10.231.99.7 busybox cat /etc/hosts 2>&1)" "10\.231\.99\.7[[:space:]]+foo\.test" "--add-host in /etc/hosts"
docker run -d --name d1 busybox sleep 600 >/dev/null
D1=$(insp '{{.NetworkSettings.IPAddress}}' d1)
check_match "$D1" "^$A\.[0-9]+$" "a default-bridge container's address is in bip"
docker run -d --name d2 --link d1:dalias busybox sleep 600 >/dev/null
check_match "$(ex d2 cat /etc/hosts)" "$D1[[:space:]]+dalias" "--link: /etc/hosts names the linked container"
pings d2 dalias || check_fail "--link: ping by the link alias"
pings d2 d1 || check_fail "--link: ping by the linked container's name"
docker run -d --name d3 busybox sleep 600 >/dev/null
pings d3 d1 && check_fail "the default bridge resolves container names without a link"
pings d3 "$D1" || check_fail "containers on the default bridge reach each other by address"

step "rm of a network with a running container is refused; rm of an unused one"
run_capture docker network rm net1
check_eq "$RC" 1 "network rm of a network in use exit status"
check_contains "$OUT" "has active endpoints" "network rm of a network in use message"
run_capture docker network rm netauto
check_eq "$RC/$OUT" "0/netauto" "network rm netauto"
check_eq "$(docker network ls --filter name=netauto -q)" "" "network rm: gone from ls"

step "links berth did not make stay: a bridge it adopted, a link that is not a bridge"
ip link add "${BR}u" type bridge
defer "ip link del ${BR}u 2>/dev/null || true"
docker network create -o com.docker.network.bridge.name="${BR}u" adopted >/dev/null
docker network rm adopted >/dev/null
ip link show "${BR}u" >/dev/null 2>&1 || check_fail "network rm deleted a bridge the user had made"
ip link add "${BR}v" type veth peer name "${BR}w"
defer "ip link del ${BR}v 2>/dev/null || true"
run_capture docker network create -o com.docker.network.bridge.name="${BR}v" notabridge
check_eq "$RC" 1 "network create over a link that is not a bridge fails"
check_contains "$OUT" "is not a bridge" "network create over a veth: message"
ip link show "${BR}v" >/dev/null 2>&1 || check_fail "a failed network create deleted the user's veth"

# ---------------------------------------------------------------------------------------
step "published ports: -p H:C, -p IP:H:C, -p C, /udp, ranges, -P --expose; docker port, inspect, ps"
docker run -d --name pa -p $P1:80 -p $P4:81/udp busybox sh -c "$WWW" >/dev/null
docker run -d --name pb -p 127.0.0.1:$P2:80 busybox sh -c "$WWW" >/dev/null
docker run -d --name pc -p 80 busybox sh -c "$WWW" >/dev/null
docker run -d --name pd -p $P5-$P6:80-81 busybox sh -c "$WWW" >/dev/null
docker run -d --name pe -P --expose 80 busybox sh -c "$WWW" >/dev/null
wait_for 5 get -f http://127.0.0.1:$P1/index.html || true
check_eq "$(get http://127.0.0.1:$P1/index.html)" "hello-berth" "-p $P1:80 from 127.0.0.1"
check_eq "$(get "http://$HOSTIP:$P1/index.html")" "hello-berth" "-p $P1:80 from the host's address $HOSTIP"
check_eq "$(get http://127.0.0.1:$P2/index.html)" "hello-berth" "-p 127.0.0.1:$P2:80 from 127.0.0.1"
check_not_contains "$(get "http://$HOSTIP:$P2/index.html")" "hello-berth" "-p 127.0.0.1:$P2:80 does not answer on $HOSTIP"
pc_port=$(docker port pc 80 2>&1 | head -1)
check_match "$pc_port" '^0\.0\.0\.0:[0-9]+$' "docker port pc 80 (-p 80: a random host port)"
check_eq "$(get "http://127.0.0.1:${pc_port##*:}/index.html")" "hello-berth" "-p 80: the random host port answers"
check_eq "$(get http://127.0.0.1:$P5/index.html)/$(get "http://$HOSTIP:$P6/index.html")" "hello-berth/hello-berth" "-p $P5-$P6:80-81: both ports of the range"
pe_port=$(docker port pe 80/tcp 2>&1 | head -1)
check_match "$pe_port" '^0\.0\.0\.0:[0-9]+$' "-P --expose 80: docker port shows a host port"
check_eq "$(get "http://127.0.0.1:${pe_port##*:}/index.html")" "hello-berth" "-P --expose 80: the host port answers"
# berth is IPv4 only: dockerd's [::] twins of each binding are not asked for.
v4() { grep -v '\[::\]' || true; }
check_eq "$(docker port pa | v4 | sorted)" "80/tcp -> 0.0.0.0:$P1 81/udp -> 0.0.0.0:$P4 " "docker port pa"
check_eq "$(docker port pd | v4 | sorted)" "80/tcp -> 0.0.0.0:$P5 81/tcp -> 0.0.0.0:$P6 " "docker port of a range"
check_eq "$(insp '{{json .NetworkSettings.Ports}}' pb)" '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"'$P2'"}]}' "inspect NetworkSettings.Ports of -p 127.0.0.1:$P2:80"
pa_ports=$(insp '{{json .NetworkSettings.Ports}}' pa)
check_contains "$pa_ports" '"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"'$P1'"}' "inspect NetworkSettings.Ports of pa: 80/tcp"
check_contains "$pa_ports" '"81/udp":[{"HostIp":"0.0.0.0","HostPort":"'$P4'"}' "inspect NetworkSettings.Ports of pa: 81/udp"
pa_ports=$(docker ps --filter name=pa --format '{{.Ports}}')
check_contains "$pa_ports" "0.0.0.0:$P1->80/tcp" "ps --format {{.Ports}}: tcp"
check_contains "$pa_ports" "0.0.0.0:$P4->81/udp" "ps --format {{.Ports}}: udp"
check_match "$(docker ps --filter name=pb)" "PORTS.*"$'\n'".*127\.0\.0\.1:$P2->80/tcp +pb" "ps shows PORTS"
# busybox's nc has no -u: a datagram DNATed into the container meets no listener there, which
# the container's own netns counts as Udp NoPorts.
noports() { ex pa cat /proc/net/snmp | awk '/^Udp:/ {n++; if (n == 2) print $3}'; }
np0=$(noports)
echo x >/dev/udp/127.0.0.1/$P4 && echo y >"/dev/udp/$HOSTIP/$P4"
noports_grew_by() { (($(noports) - np0 >= $1)); }
wait_for 3 noports_grew_by 2 || true
check_eq "$(($(noports) - np0))" 2 "-p $P4:81/udp: datagrams to 127.0.0.1 and $HOSTIP reach the container"

step "a host port already in use: the run fails, nothing is left"
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$P7" &
py=$!
defer "kill $py 2>/dev/null"
wait_for 5 sh -c "ss -ltn | grep -q ':$P7 '" || check_fail "the python listener on $P7 did not start"
v_before=$(veths "$BR")
run_capture docker run -d --name pconf -p $P7:80 busybox sleep 600
check_eq "$RC" 125 "run -p <port a host process holds> exit status"
check_contains "$OUT" "$P7" "run -p <port in use>: the message names the port"
check_match "${OUT,,}" "already (allocated|in use)" "run -p <port in use>: the message says it is in use"
check_eq "$(docker ps -q --filter name=pconf)" "" "run -p <port in use>: no container running"
check_not_contains "$(nft_rules)" "dport $P7" "run -p <port in use>: no DNAT rule"
check_eq "$(veths "$BR")" "$v_before" "run -p <port in use>: no veth left"
run_capture docker run -d --name pconf2 -p $P1:80 busybox sleep 600
check_eq "$RC" 125 "run -p <another container's port> exit status"
check_contains "$OUT" "Bind for 0.0.0.0:$P1 failed: port is already allocated" "run -p <another container's port> message"
check_eq "$(docker ps -q --filter name=pconf2)" "" "run -p <another container's port>: not running"
check_eq "$(nft_rules | grep -c "dport $P1" || true)" 1 "run -p <another container's port>: only the first container's DNAT rule"
check_eq "$(get http://127.0.0.1:$P1/index.html)" "hello-berth" "the first container still answers on $P1"
docker rm -f pconf pconf2 >/dev/null 2>&1 || true
kill "$py" 2>/dev/null || true

# ---------------------------------------------------------------------------------------
step "kill -9 of berthd, then a restart: addresses, names and ports are kept"
pa_ip=$(insp '{{.NetworkSettings.IPAddress}}' pa)
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null || true
start_berthd n1 -b "$BR" --dns "$HOSTIP"
defer api_cleanup
check_eq "$(ip_of web1 net1)/$(ip_of web2 net1)/$(insp '{{.NetworkSettings.IPAddress}}' pa)" "$B.10/$IP2/$pa_ip" "inspect after the restart: the same addresses"
check_contains "$(ex web2 ip -o -4 addr show eth0)" "$IP2/24" "after the restart: the address inside is unchanged"
check_eq "$(ns_addrs web2 svc)" "$(printf '%s\n' "$IP1" "$IP2" | sorted)" "after the restart: the alias still resolves"
pings web2 web1 || check_fail "after the restart: ping web1 by name"
check_eq "$(get http://127.0.0.1:$P1/index.html)/$(get "http://$HOSTIP:$P1/index.html")" "hello-berth/hello-berth" "after the restart: the published port still answers"
check_eq "$(docker port pa 80 | v4)" "0.0.0.0:$P1" "after the restart: docker port"
# pa's namespace was one of the old daemon's spares: the new one must not take it for a
# leftover spare.
run_capture docker network connect net2 pa
check_eq "$RC/$OUT" "0/" "after the restart: network connect of a default-bridge container"
check_contains "$(ex pa ip -o -4 addr show eth1)" "inet $C." "after the restart: the connected network inside"
docker run -d --name web3 --network net1 busybox sleep 600 >/dev/null
IP3=$(ip_of web3 net1)
[[ "$IP3" =~ ^$B\.[0-9]+$ && "$IP3" != "$IP1" && "$IP3" != "$IP2" ]] || check_fail "a new container after the restart got $IP3 (in use: $IP1 $IP2)"
docker run -d --name pa2 busybox sleep 600 >/dev/null
[ "$(insp '{{.NetworkSettings.IPAddress}}' pa2)" != "$pa_ip" ] || check_fail "a new default-bridge container got pa's $pa_ip"
run_capture docker run -d --name dup2 -p $P1:80 busybox sleep 600
check_eq "$RC" 125 "after the restart: pa's host port is still reserved"

step "rm -f: the DNAT rules go; every address is free again"
check_contains "$(nft_rules)" "dport $P1" "the DNAT rule of pa while it runs"
docker rm -f pa >/dev/null
check_not_contains "$(nft_rules)" "dport $P1" "rm -f pa: its DNAT rule is gone"
check_not_contains "$(get http://127.0.0.1:$P1/index.html)" "hello-berth" "rm -f pa: $P1 answers no more"
remember_bridges
docker rm -f $(docker ps -aq) >/dev/null
check_eq "$(nft_rules | grep -c 'dnat to' || true)" 0 "no DNAT rule once every container is gone"
check_contains "$(docker run --rm --network net1 --ip "$B.10" busybox ip -o -4 addr show eth0 2>&1)" "$B.10/24" "web1's old --ip is free again"
check_contains "$(docker run --rm --network net1 --ip "$IP2" busybox ip -o -4 addr show eth0 2>&1)" "$IP2/24" "web2's old address is free again"
check_eq "$(docker network inspect -f '{{len .Containers}}' net1 2>&1)" "0" "network inspect: no container left on net1"

step "network prune -f removes the unused networks and their bridges"
docker network create --subnet "$H.0/24" --label keep=no netp >/dev/null
remember_bridges
run_capture docker network prune -f
check_eq "$RC" 0 "network prune -f exit status ($OUT)"
check_eq "$(grep -E '^net' <<<"$OUT" | sorted)" "net1 net2 netint netp " "network prune -f lists the networks it deleted"
check_eq "$(docker network ls --format '{{.Name}}' | sorted)" "bridge host none " "network prune keeps the predefined networks"
for b in $BRIDGES; do
  [ "$b" = "$BR" ] && continue
  ip link show "$b" >/dev/null 2>&1 && check_fail "bridge $b is left after its network was removed"
done
ip link show "$BR" >/dev/null 2>&1 || check_fail "the default bridge $BR is gone"

finish_checks "docker CLI against berthd (networks)"
