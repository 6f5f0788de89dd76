#!/usr/bin/env bash
# Legacy links (`docker run --link NAME:ALIAS`) with the real docker CLI against a berthd of this
# test's own, checked against what Debian's dockerd 20.10 does with the same commands (its
# answers are written down here): on the default bridge the /etc/hosts entry and the
# ALIAS_NAME, ALIAS_PORT*, ALIAS_ENV_* variables (ranges of three or more ports too),
# HostConfig.Links recorded as "/target:/me/alias", `rm --link` and its refusals, a missing
# target; on a user-defined network the alias answered by the embedded DNS to the linking
# container only.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd links
docker() { bdocker "$@"; }
defer remove_test_objects
docker import -c 'ENV FOO=bar' "$tarball" busybox >/dev/null

# ---------------------------------------------------------------------------------------
step "default bridge: /etc/hosts and the link's environment"
docker run -d --name web-1 --expose 80 --expose 8080-8082/tcp --expose 53/udp \
  -e X=1 -e HOME=/h busybox sleep 600 >/dev/null
IP=$(insp '{{.NetworkSettings.IPAddress}}' web-1)
ID=$(insp '{{.Id}}' web-1)
out=$(docker run --rm --name me --link web-1:db -e DB_ENV_X=mine busybox sh -c 'env | grep ^DB_ | sort; cat /etc/hosts')
want="DB_ENV_FOO=bar
DB_ENV_X=mine
DB_NAME=/me/db
DB_PORT=udp://$IP:53
DB_PORT_53_UDP=udp://$IP:53
DB_PORT_53_UDP_ADDR=$IP
DB_PORT_53_UDP_PORT=53
DB_PORT_53_UDP_PROTO=udp
DB_PORT_8080_TCP=tcp://$IP:8080
DB_PORT_8080_TCP_ADDR=$IP
DB_PORT_8080_TCP_END=tcp://$IP:8082
DB_PORT_8080_TCP_PORT=8080
DB_PORT_8080_TCP_PORT_END=8082
DB_PORT_8080_TCP_PORT_START=8080
DB_PORT_8080_TCP_PROTO=tcp
DB_PORT_8080_TCP_START=tcp://$IP:8080
DB_PORT_8081_TCP=tcp://$IP:8081
DB_PORT_8081_TCP_ADDR=$IP
DB_PORT_8081_TCP_PORT=8081
DB_PORT_8081_TCP_PROTO=tcp
DB_PORT_8082_TCP=tcp://$IP:8082
DB_PORT_8082_TCP_ADDR=$IP
DB_PORT_8082_TCP_PORT=8082
DB_PORT_8082_TCP_PROTO=tcp
DB_PORT_80_TCP=tcp://$IP:80
DB_PORT_80_TCP_ADDR=$IP
DB_PORT_80_TCP_PORT=80
DB_PORT_80_TCP_PROTO=tcp"
# dockerd's list, but DB_ENV_X: the container's own -e wins over its link's.
check_eq "$(grep ^DB_ <<<"$out")" "$want" "--link web-1:db: the variables dockerd sets"
check_match "$out" "$IP[[:space:]]+db ${ID:0:12} web-1" "--link web-1:db: /etc/hosts as dockerd writes it"

# Two consecutive ports are no range; three of mixed protocols are (dockerd's rule).
docker run -d --name two --expose 7000-7001 --expose 9000/udp --expose 9001/udp --expose 9002/tcp \
  busybox sleep 600 >/dev/null
IP2=$(insp '{{.NetworkSettings.IPAddress}}' two)
out=$(docker run --rm --name me3 --link two busybox sh -c 'env | grep -E "^TWO_PORT(=|_7000|_9000)" | sort')
check_eq "$out" "TWO_PORT=tcp://$IP2:7000
TWO_PORT_7000_TCP=tcp://$IP2:7000
TWO_PORT_7000_TCP_ADDR=$IP2
TWO_PORT_7000_TCP_PORT=7000
TWO_PORT_7000_TCP_PROTO=tcp
TWO_PORT_9000_TCP_END=tcp://$IP2:9002
TWO_PORT_9000_TCP_PORT_END=9002
TWO_PORT_9000_UDP=udp://$IP2:9000
TWO_PORT_9000_UDP_ADDR=$IP2
TWO_PORT_9000_UDP_PORT=9000
TWO_PORT_9000_UDP_PORT_START=9000
TWO_PORT_9000_UDP_PROTO=udp
TWO_PORT_9000_UDP_START=udp://$IP2:9000" "--link two: port ranges as dockerd gives them"

# ---------------------------------------------------------------------------------------
step "HostConfig.Links and rm --link"
docker run -d --name me2 --link web-1 busybox sleep 600 >/dev/null
check_eq "$(docker inspect -f '{{json .HostConfig.Links}}' me2)" '["/web-1:/me2/web-1"]' "HostConfig.Links as dockerd records it"
check_eq "$(docker inspect -f '{{json .Config.Env}}' me2)" '["FOO=bar"]' "the links' variables are not in Config.Env"
run_capture docker rm --link me2/nosuch
check_eq "$RC:$OUT" "1:Error response from daemon: No such container: me2/nosuch" "rm --link of no link"
run_capture docker rm --link me2
check_eq "$RC:$OUT" "1:Error response from daemon: Conflict, cannot remove the default link name of the container" "rm --link of a container"
run_capture docker rm --link /me2/web-1
check_eq "$RC:$OUT" "0:/me2/web-1" "rm --link /me2/web-1"
check_eq "$(docker inspect -f '{{json .HostConfig.Links}}' me2)" 'null' "HostConfig.Links after rm --link"
check_eq "$(docker inspect -f '{{.State.Running}}' me2)" "true" "rm --link leaves the container running"
docker restart -t 0 me2 >/dev/null
check_eq "$(docker exec me2 sh -c 'env | grep -c ^WEB_1_ || true')" "0" "no link variables after rm --link and a restart"

run_capture docker create --name bad --link nosuch:x busybox true
check_eq "$RC:$OUT" "1:Error response from daemon: could not get container for nosuch: No such container: nosuch" "create --link to no container"
docker create --name stopped busybox true >/dev/null
run_capture docker run --rm --link stopped:s busybox true
check_eq "$RC" "125" "run --link to a stopped container fails"
check_contains "$OUT" "Cannot link to a non running container: /stopped AS /" "run --link to a stopped container: dockerd's words"
run_capture docker run --rm --network host --link web-1:w busybox true
check_contains "$OUT" "conflicting options: host type networking can't be used with links" "--network host --link"

# ---------------------------------------------------------------------------------------
step "rename and restart: links follow the target's name and address"
docker run -d --name tg -h tghost busybox sleep 600 >/dev/null
docker run -d --name lk --link tg:db --link tg busybox sleep 600 >/dev/null
TGIP=$(insp '{{.NetworkSettings.IPAddress}}' tg)
link_lines() { docker exec "$1" cat /etc/hosts | grep -P '\t(db|tg|tg2) ' | sort; }
# dockerd's lines: the alias, the target's hostname, and its name when that is not the alias.
check_eq "$(link_lines lk)" "$(printf '%s\tdb tghost tg\n%s\ttg tghost' "$TGIP" "$TGIP")" "/etc/hosts lines of two links"
docker rename tg tg2
docker rename lk lk2
check_eq "$(docker inspect -f '{{json .HostConfig.Links}}' lk2)" '["/tg2:/lk2/db","/tg2:/lk2/tg"]' \
  "HostConfig.Links after renaming both ends, as dockerd shows them"
docker restart -t 0 lk2 >/dev/null
check_eq "$(link_lines lk2)" "$(printf '%s\tdb tghost tg2\n%s\ttg tghost tg2' "$TGIP" "$TGIP")" "/etc/hosts after the renames and a restart"
# The target comes back with another address: its old one is taken while it is stopped.
docker stop -t 0 tg2 >/dev/null
for i in $(seq 20); do
  docker run -d --name "filler-$i" busybox sleep 600 >/dev/null
  [ "$(insp '{{.NetworkSettings.IPAddress}}' "filler-$i")" = "$TGIP" ] && break
done
check_eq "$(insp '{{.NetworkSettings.IPAddress}}' "filler-$i")" "$TGIP" "a filler took the stopped target's address"
docker start tg2 >/dev/null
NEWIP=$(insp '{{.NetworkSettings.IPAddress}}' tg2)
check_eq "$(link_lines lk2)" "$(printf '%s\tdb tghost tg2\n%s\ttg tghost tg2' "$NEWIP" "$NEWIP")" \
  "a running linker's /etc/hosts follows its target's new address, as Docker documents"

# ---------------------------------------------------------------------------------------
step "user-defined network: the link alias in the embedded DNS, for the linking container only"
TEST_NETS+=("$(docker network create linknet)")
docker run -d --name tgt --network linknet busybox sleep 600 >/dev/null
TIP=$(insp '{{.NetworkSettings.Networks.linknet.IPAddress}}' tgt)
docker run -d --name ul --network linknet --link tgt:tal busybox sleep 600 >/dev/null
check_eq "$(docker inspect -f '{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.linknet.Links}}' ul)" \
  'null ["tgt:tal"]' "a user network's links are the endpoint's, as dockerd records them"
lookup() { docker exec "$1" nslookup -type=a "$2" 2>&1 | awk '/^Name:/ {n = 1; next} n && /^Address/ {print $2}'; }
check_eq "$(lookup ul tal)" "$TIP" "nslookup of the link alias from the linking container"
check_eq "$(lookup ul TAL)" "$TIP" "the alias is matched without case"
check_eq "$(lookup ul tgt)" "$TIP" "the target's own name still resolves"
docker run -d --name other --network linknet busybox sleep 600 >/dev/null
check_eq "$(lookup other tal)" "" "another container of the network does not resolve the alias"
docker rename other other2
check_eq "$(lookup ul other2)" "$(insp '{{.NetworkSettings.Networks.linknet.IPAddress}}' other2)" "the DNS answers a renamed container's new name"
check_eq "$(lookup ul other)" "" "and no longer its old one"
check_eq "$(docker exec ul sh -c 'env | grep -c ^TAL_ || true')" "0" "no link variables on a user network (dockerd neither)"
# dockerd checks nothing here: the alias just resolves to nothing until the target exists.
run_capture docker run --rm --network linknet --link nosuch:x busybox true
check_eq "$RC" "0" "--link to no container on a user network"

finish_checks docker_cli_links
