#!/usr/bin/env bash
# Endpoint settings the docker CLI sends and dockerd 20.10 keeps, against a berthd of this
# test's own: IPAMConfig.LinkLocalIPs (`--link-local-ip`, at run and at connect) are given to
# the container's interface as /16s, as dockerd does, and shown in inspect; DriverOpts
# (`--driver-opt`) are kept and shown; a bad link-local address is refused with dockerd's
# words. (dockerd's answers for the same commands are written down here.)
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd netep
docker() { bdocker "$@"; }
defer remove_test_objects
docker import "$tarball" busybox >/dev/null
TEST_NETS+=("$(docker network create llnet)")
addrs() { docker exec "$1" ip -o -4 addr show "$2" | awk '{print $4}' | sort | tr '\n' ' '; }

step "--link-local-ip at run, on a user network and on the default bridge"
docker run -d --name c2 --network llnet --link-local-ip 169.254.10.11 busybox sleep 600 >/dev/null
IP=$(insp '{{.NetworkSettings.Networks.llnet.IPAddress}}' c2)
check_eq "$(addrs c2 eth0)" "$IP/$(insp '{{.NetworkSettings.Networks.llnet.IPPrefixLen}}' c2) 169.254.10.11/16 " "c2's eth0 holds the link-local address"
check_eq "$(docker inspect -f '{{json .NetworkSettings.Networks.llnet.IPAMConfig}} {{json .NetworkSettings.Networks.llnet.DriverOpts}}' c2)" \
  '{"LinkLocalIPs":["169.254.10.11"]} null' "IPAMConfig.LinkLocalIPs in inspect"
docker run -d --name c3 --link-local-ip 169.254.10.12 busybox sleep 600 >/dev/null
check_contains "$(addrs c3 eth0)" "169.254.10.12/16" "on the default bridge too, as dockerd"
docker restart -t 0 c3 >/dev/null
check_contains "$(addrs c3 eth0)" "169.254.10.12/16" "kept across a restart"

step "network connect --link-local-ip --driver-opt"
docker run -d --name c1 busybox sleep 600 >/dev/null
docker network connect --link-local-ip 169.254.10.10 --driver-opt com.example.x=1 llnet c1
check_contains "$(addrs c1 eth1)" "169.254.10.10/16" "c1's new eth1 holds the link-local address"
check_eq "$(docker inspect -f '{{json .NetworkSettings.Networks.llnet.IPAMConfig}} {{json .NetworkSettings.Networks.llnet.DriverOpts}}' c1)" \
  '{"LinkLocalIPs":["169.254.10.10"]} {"com.example.x":"1"}' "LinkLocalIPs and DriverOpts in inspect"
docker stop -t 0 c1 >/dev/null
docker start c1 >/dev/null
check_contains "$(addrs c1 eth1)" "169.254.10.10/16" "kept across a stop and start"
check_eq "$(docker inspect -f '{{json .NetworkSettings.Networks.llnet.DriverOpts}}' c1)" '{"com.example.x":"1"}' "DriverOpts kept"

step "refusals"
run_capture docker run --rm --link-local-ip 10.1.1.1 busybox true
check_eq "$RC" 125 "run --link-local-ip 10.1.1.1 fails"
check_contains "$OUT" "invalid link local IP address: 10.1.1.1" "dockerd's words"
# What dockerd 20.10 answers for addresses it cannot parse, at connect and at run.
run_capture docker network connect --link-local-ip bad --link-local-ip 169.254.1.1/16 llnet c3
check_eq "$RC:$OUT" "1:Error response from daemon: Invalid link-local IP address: [bad 169.254.1.1/16]" "connect --link-local-ip bad: dockerd's words"
run_capture docker run --rm --network llnet --link-local-ip bad busybox true
check_eq "$RC" 125 "run --link-local-ip bad fails"
check_contains "$OUT" "Invalid link-local IP address: [bad]" "run --link-local-ip bad: dockerd's words"
run_capture docker network connect --link-local-ip fe80::5 llnet c3
check_eq "$RC" 1 "an IPv6 link-local address is refused: IPv6 is off in berth's containers"
check_contains "$OUT" "IPv6 is off" "and says why"

finish_checks docker_cli_network_endpoints
