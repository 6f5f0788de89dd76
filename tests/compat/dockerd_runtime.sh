#!/usr/bin/env bash
# Debian's dockerd, with its own data root, exec root and socket, runs containers through
# berth-runtime (--add-runtime berth=...), driven by the docker CLI.
source "$(dirname "$0")/lib.sh"

command -v dockerd >/dev/null || fail "dockerd is not installed (scripts/setup.sh installs docker.io)"
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=/usr/local/bin/docker

sock=$WORK/docker.sock
dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" -H "unix://$sock" \
  --pidfile "$WORK/docker.pid" --bridge=none --iptables=false --ip6tables=false \
  --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
  --add-runtime "berth=$RUNTIME" --log-level=error >"$WORK/dockerd.log" 2>&1 &
dockerd_pid=$!
defer "kill $dockerd_pid; wait $dockerd_pid; grep -o '$WORK[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"
docker() { "$docker_cli" -H "unix://$sock" "$@"; }
for _ in $(seq 300); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
docker version >/dev/null || { cat "$WORK/dockerd.log"; fail "dockerd did not start"; }
defer "\"$docker_cli\" -H unix://$sock rm -f \$(\"$docker_cli\" -H unix://$sock ps -aq) >/dev/null 2>&1"

docker import "$(busybox_tar)" bb:latest >/dev/null
docker info --format '{{json .Runtimes}}' | grep -q '"berth"' || fail "berth runtime not registered"

out=$(docker run --rm --runtime berth --network none bb sh -c 'echo hello; echo pid=$$; hostname')
expect_contains "$out" "hello" "docker run output"
expect_contains "$out" "pid=1" "container pid"

set +e
docker run --rm --runtime berth --network none bb sh -c 'exit 42'
rc=$?
set -e
expect_eq "$rc" 42 "exit status through docker"

cid=$(docker run -d --runtime berth --network none --memory 64m --pids-limit 20 bb sleep 1000)
expect_eq "$(docker inspect -f '{{.State.Running}}' "$cid")" true "detached container running"
expect_eq "$(docker exec "$cid" cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || docker exec "$cid" cat /sys/fs/cgroup/pids.max)" 20 "pids limit"
expect_eq "$(docker exec "$cid" sh -c 'echo $((1+2))')" 3 "docker exec"
out=$(docker top "$cid")
expect_contains "$out" "sleep 1000" "docker top"
docker pause "$cid" >/dev/null
expect_eq "$(docker inspect -f '{{.State.Status}}' "$cid")" paused "paused"
docker unpause "$cid" >/dev/null
docker stop -t 1 "$cid" >/dev/null
expect_eq "$(docker inspect -f '{{.State.Running}}' "$cid")" false "stopped"
docker rm "$cid" >/dev/null

out=$(docker run --rm --runtime berth --network none -t bb tty)
expect_contains "$out" "/dev/pts/0" "docker run -t"

echo "dockerd with berth-runtime: ok"
