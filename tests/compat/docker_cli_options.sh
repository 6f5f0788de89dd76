#!/usr/bin/env bash
# The real docker CLI against a berthd of this test's own, for what create takes beyond the
# command: every option is applied, refused with Docker's error, or answered with a warning;
# none is dropped without a word. Namespaces (--pid, --ipc, --uts, --userns), devices
# (--device, --device-cgroup-rule, --privileged), --group-add, --sysctl, --shm-size, --ulimit,
# --oom-score-adj, --cgroup-parent, resource limits (-m, --cpus, --pids-limit) and their
# update, mounts without a warning, /info's claims, loopback under --network none, HOME, the exit
# statuses of commands that cannot run, ps filters, system df and prune, a missing network
# at run, update of a missing container, and names on a user-defined network joined later.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

CG=/sys/fs/cgroup
PARENT=berthopt$$
# Containers of this test's own cgroup parent go with it, even when berthd failed.
remove_parent_cgroups() {
  local d
  for d in "$CG"/*/"$PARENT"; do
    [ -d "$d" ] || continue
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}
defer remove_parent_cgroups

tarball=$(busybox_tar)
start_berthd opts
docker() { bdocker "$@"; }
docker import "$tarball" busybox >/dev/null
defer 'docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true'
host_ns() { readlink "/proc/self/ns/$1"; }

step "--pid, --ipc, --uts host share the host's namespaces; private ones do not"
check_eq "$(docker run --rm --pid host busybox readlink /proc/self/ns/pid)" "$(host_ns pid)" "--pid host"
check_eq "$(docker run --rm --ipc host busybox readlink /proc/self/ns/ipc)" "$(host_ns ipc)" "--ipc host"
check_eq "$(docker run --rm --uts host busybox readlink /proc/self/ns/uts)" "$(host_ns uts)" "--uts host"
check_eq "$(docker run --rm --uts host busybox hostname)" "$(hostname)" "--uts host keeps the host's name"
[ "$(docker run --rm busybox readlink /proc/self/ns/pid)" != "$(host_ns pid)" ] || check_fail "a container has a pid namespace of its own"
check_eq "$(docker run --rm --userns host busybox echo ok)" "ok" "--userns host"
run_capture docker run --rm --pid nosuch busybox true
check_eq "$RC" 125 "--pid nosuch exit status"

step "--pid and --ipc container:NAME join another container's namespaces"
docker run -d --name donor --ipc shareable busybox sleep 600 >/dev/null
docker run -d --name private busybox sleep 600 >/dev/null
donor_pid=$(docker exec donor readlink /proc/self/ns/pid)
check_eq "$(docker run --rm --pid container:donor busybox readlink /proc/self/ns/pid)" "$donor_pid" "--pid container:donor"
check_contains "$(docker run --rm --pid container:donor busybox ps)" "sleep 600" "--pid container:donor sees the donor's processes"
check_eq "$(docker run --rm --ipc container:donor busybox readlink /proc/self/ns/ipc)" "$(docker exec donor readlink /proc/self/ns/ipc)" "--ipc container:donor"
docker exec donor sh -c 'echo shared >/dev/shm/mark'
check_eq "$(docker run --rm --ipc container:donor busybox cat /dev/shm/mark)" "shared" "--ipc container:donor shares /dev/shm"
run_capture docker run --rm --ipc container:private busybox true
check_contains "$OUT" "non-shareable IPC" "--ipc container: of a private donor is refused"
check_eq "$(docker run --rm --ipc none busybox sh -c '[ -d /dev/shm ] && mountpoint -q /dev/shm && echo mounted || echo none')" "none" "--ipc none has no /dev/shm"

step "--device, --device-cgroup-rule, --privileged"
check_contains "$(docker run --rm --device /dev/null:/dev/mynull busybox ls -l /dev/mynull)" "1,   3" "--device makes the node"
# /dev/kmsg (1:11) is not among Docker's default devices: only the permissions given apply.
# (Writing to it adds one line to the kernel's log; reading needs CAP_SYSLOG.)
check_eq "$(docker run --rm --device /dev/kmsg:/dev/k:w busybox sh -c 'echo berth-compat-device-check >/dev/k && echo wrote')" "wrote" "--device with w can be written"
check_contains "$(docker run --rm --device /dev/kmsg:/dev/k:r busybox sh -c 'echo x >/dev/k' 2>&1)" "Operation not permitted" "--device with r only cannot be written"
run_capture docker run --rm --device /dev/nosuch busybox true
check_eq "$RC" 125 "--device of a missing node exit status"
check_contains "$OUT" 'error gathering device information while adding custom device "/dev/nosuch"' "--device of a missing node message"
check_contains "$(docker run --rm busybox sh -c 'mknod /tmp/n c 42 1 && cat /tmp/n 2>&1')" "Operation not permitted" "an unlisted device is denied"
check_not_contains "$(docker run --rm --device-cgroup-rule 'c 42:* rmw' busybox sh -c 'mknod /tmp/n c 42 1 && cat /tmp/n 2>&1')" "Operation not permitted" "--device-cgroup-rule allows the device"
if [ -c /dev/kmsg ]; then
  check_contains "$(docker run --rm --privileged busybox ls /dev)" "kmsg" "--privileged sees the host's devices"
  check_not_contains "$(docker run --rm busybox ls /dev)" "kmsg" "an unprivileged container does not"
fi
check_eq "$(docker run --rm --privileged busybox sh -c 'grep ^Seccomp: /proc/self/status' | awk '{print $2}')" "0" "--privileged has no seccomp filter"
check_eq "$(docker run --rm --privileged busybox sh -c 'grep ^CapEff: /proc/self/status' | awk '{print $2}')" "$(grep ^CapBnd: /proc/self/status | awk '{print $2}')" "--privileged has every capability"

step "--group-add, --sysctl, --shm-size, --ulimit, --oom-score-adj"
check_contains " $(docker run --rm --group-add 1234 --group-add nogroup busybox id -G) " " 1234 " "--group-add by id"
check_contains " $(docker run --rm --group-add nogroup busybox id -G) " " 65534" "--group-add by name"
run_capture docker run --rm --group-add nosuchgroup busybox true
check_contains "$OUT" "unable to find group nosuchgroup" "--group-add of a missing group"
check_eq "$(docker run --rm --sysctl net.ipv4.ip_forward=1 busybox cat /proc/sys/net/ipv4/ip_forward)" "1" "--sysctl of the network namespace"
check_eq "$(docker run --rm --sysctl kernel.msgmax=65536 busybox cat /proc/sys/kernel/msgmax)" "65536" "--sysctl of the IPC namespace"
run_capture docker run --rm --sysctl kernel.pid_max=9999 busybox true
check_eq "$RC" 125 "--sysctl of the host's kernel is refused"
check_contains "$OUT" "sysctl 'kernel.pid_max" "--sysctl refusal names it"
# The CLI checks its flag; the API refuses the same for any client.
check_contains "$(curl -s --unix-socket "$BERTHD_SOCK" -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"Sysctls":{"kernel.pid_max":"9999"}}}' http://b/containers/create)" "sysctl 'kernel.pid_max' is not allowed" "the API refuses a host sysctl"
check_contains "$(docker run --rm --shm-size 2m busybox df -k /dev/shm)" " 2048 " "--shm-size"
check_eq "$(docker run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n; ulimit -Hn' | tr '\n' ' ')" "100 200 " "--ulimit"
check_eq "$(docker run --rm --oom-score-adj 500 busybox cat /proc/self/oom_score_adj)" "500" "--oom-score-adj"

step "--cgroup-parent and resource limits"
id=$(docker run -d --cgroup-parent "/$PARENT" -m 20m --cpus 0.5 --pids-limit 10 busybox sleep 600)
check_contains "$(cat "$CG/memory/$PARENT/$id/cgroup.procs")" "$(docker inspect -f '{{.State.Pid}}' "$id")" "--cgroup-parent places the container"
check_eq "$(cat "$CG/memory/$PARENT/$id/memory.limit_in_bytes")" "20971520" "-m 20m sets the memory limit"
check_eq "$(cat "$CG/cpu/$PARENT/$id/cpu.cfs_quota_us") $(cat "$CG/cpu/$PARENT/$id/cpu.cfs_period_us")" "50000 100000" "--cpus 0.5"
check_eq "$(cat "$CG/pids/$PARENT/$id/pids.max")" "10" "--pids-limit 10"
check_eq "$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' "$id")" "20971520 500000000" "inspect shows the limits"
docker rm -f "$id" >/dev/null
run_capture docker run --rm -m 20m busybox sh -c 'x=$(head -c 60000000 /dev/zero | tr "\0" a); echo survived'
check_eq "$RC" 137 "a 60 MB allocation under -m 20m is killed"
check_not_contains "$OUT" "survived" "a 60 MB allocation under -m 20m does not survive"
run_capture docker run --rm -m 1m busybox true
check_contains "$OUT" "Minimum memory limit allowed is 6MB" "-m below 6MB is refused"
check_contains "$(curl -s --unix-socket "$BERTHD_SOCK" -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"KernelMemory":10485760}}' http://b/containers/create)" "kernel memory limits are not supported" "KernelMemory is refused"
step "mounts are applied, without a warning (docker_cli_volumes.sh has the rest)"
mkdir -p "$WORK/bind" && echo seen >"$WORK/bind/f"
run_capture docker run --rm -v "$WORK/bind:/x:ro" busybox cat /x/f
check_eq "$RC/$OUT" "0/seen" "run -v mounts the host directory, and says nothing else"
run_capture docker run --rm --mount type=tmpfs,target=/t busybox sh -c 'grep " /t " /proc/mounts | cut -d" " -f3'
check_eq "$RC/$OUT" "0/tmpfs" "run --mount type=tmpfs mounts a tmpfs"
check_eq "$(docker info --format '{{json .Plugins.Volume}}')" '["local"]' "/info offers the local volume driver"

step "update: limits of a running container change in its cgroups, inspect shows them"
docker run -d --name upd -m 64m busybox sleep 600 >/dev/null
upd=$(docker inspect -f '{{.Id}}' upd)
memcg=$(find "$CG/memory" -maxdepth 3 -type d -name "$upd" | head -1)
pidcg=$(find "$CG/pids" -maxdepth 3 -type d -name "$upd" | head -1)
run_capture docker update -m 128m --memory-swap 256m --pids-limit 10 upd
check_eq "$RC/$OUT" "0/upd" "update -m --memory-swap --pids-limit"
check_eq "$(cat "$memcg/memory.limit_in_bytes" "$memcg/memory.memsw.limit_in_bytes" | tr '\n' ' ')" "134217728 268435456 " "update writes memory and swap into the cgroup"
check_eq "$(cat "$pidcg/pids.max")" "10" "update writes pids.max"
check_eq "$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}}' upd)" "134217728 268435456 10" "inspect shows the updated limits"
docker update --pids-limit -1 upd >/dev/null
check_eq "$(cat "$pidcg/pids.max")" "max" "update --pids-limit -1 lifts the limit"
run_capture docker update -m 512m upd
check_contains "$OUT" "Memory limit should be smaller than already set memoryswap limit" "update -m above the swap limit alone is refused"
docker update --cpus 0.5 upd >/dev/null
run_capture docker update --cpu-period 50000 upd
check_contains "$OUT" "CPU Period cannot be updated as NanoCPUs has already been set" "update --cpu-period after --cpus is refused"
run_capture docker update -m 1k upd
check_contains "$OUT" "Minimum memory limit allowed is 6MB" "update -m 1k is refused"
docker stop -t 0 upd >/dev/null
docker update -m 32m --memory-swap 64m upd >/dev/null
docker start upd >/dev/null
memcg=$(find "$CG/memory" -maxdepth 3 -type d -name "$upd" | head -1)
check_eq "$(cat "$memcg/memory.limit_in_bytes")" "33554432" "a stopped container's update applies at its next start"
check_match "$(docker events --since 0 --until "$(($(date +%s) + 1))" --filter container=upd --filter event=update --format '{{.Action}}' | sort -u)" "^update$" "update publishes update events"
docker rm -f upd >/dev/null
check_eq "$(docker info --format '{{.MemoryLimit}} {{.PidsLimit}}')" "true true" "/info claims the limits this kernel has"

step "--network none keeps loopback; HOME from passwd"
check_contains "$(docker run --rm --network none busybox ping -c1 -W2 127.0.0.1 2>&1)" "1 packets received" "--network none: ping 127.0.0.1"
check_eq "$(docker run --rm busybox sh -c 'echo $HOME')" "/root" "HOME of root"
check_eq "$(docker run --rm --user 65534 busybox sh -c 'echo $HOME')" "/" "HOME of nobody"
check_eq "$(docker run --rm -e HOME=/mine busybox sh -c 'echo $HOME')" "/mine" "HOME given by the user"

step "exit statuses of commands that cannot run, as the docker CLI derives them"
run_capture docker run --rm busybox nosuchcmd
check_eq "$RC" 127 "a command not in PATH"
run_capture docker run --rm busybox /nosuch/cmd
check_eq "$RC" 127 "a path that does not exist"
check_contains "$OUT" "no such file or directory" "a path that does not exist: message"
run_capture docker run --rm busybox /etc/passwd
check_eq "$RC" 126 "a file that is not executable"
check_contains "$OUT" "permission denied" "a file that is not executable: message"

step "ps filters: network, publish, expose, health, volume"
docker network create optnet >/dev/null
defer 'docker network rm optnet >/dev/null 2>&1 || true'
docker run -d --name onnet --network optnet --expose 7000 busybox sleep 600 >/dev/null
docker run -d --name pub -p 127.0.0.1:18081:80 busybox sleep 600 >/dev/null
check_eq "$(docker ps --filter network=optnet --format '{{.Names}}')" "onnet" "ps --filter network"
check_eq "$(docker ps --filter publish=18081 --format '{{.Names}}')" "pub" "ps --filter publish"
check_eq "$(docker ps --filter expose=7000 --format '{{.Names}}')" "onnet" "ps --filter expose"
check_eq "$(docker ps --filter health=none --format '{{.Names}}' | sort | tr '\n' ' ')" "donor onnet private pub " "ps --filter health=none"
check_eq "$(docker ps --filter volume=x --format '{{.Names}}')" "" "ps --filter volume"
run_capture docker ps --filter health=bad
check_contains "$OUT" "Unrecognised filter value for health" "ps --filter health=bad"

step "names on a user-defined network joined after start"
docker run -d --name late busybox sleep 600 >/dev/null
docker network connect optnet late
check_contains "$(docker exec late nslookup onnet 2>&1)" "Address" "a default-bridge container resolves names of a network it joined"

step "system df and prune; run --network nosuch leaves nothing; update of a missing container"
check_match "$(docker system df --format '{{.Type}} {{.Active}}' | grep Containers)" "^Containers [1-9]" "system df counts running containers"
before=$(docker ps -aq | wc -l)
run_capture docker run --network nosuch busybox true
check_eq "$RC" 125 "run --network nosuch exit status"
check_eq "$(docker ps -aq | wc -l)" "$before" "run --network nosuch leaves no container"
run_capture docker update --restart always nosuch
check_eq "$RC" 1 "update of a missing container fails"
check_contains "$OUT" "No such container" "update of a missing container says so"
docker create --name stale busybox true >/dev/null
run_capture docker system prune -f
check_eq "$RC" 0 "system prune exit status"
check_not_contains "$(docker ps -a --format '{{.Names}}')" "stale" "system prune removed the stopped container"

finish_checks docker_cli_options
