#!/usr/bin/env bash
# Debian's podman 4.3 runs containers through berth-runtime (--runtime PATH).
#
# podman raises RLIMIT_NOFILE and RLIMIT_NPROC past this machine's hard limits unless told
# otherwise, and the machine lacks CAP_SYS_RESOURCE, so any runtime (crun included) fails
# with EPERM. default_ulimits within the hard limits is the configuration that works here.
source "$(dirname "$0")/lib.sh"

command -v podman >/dev/null || fail "podman is not installed (scripts/setup.sh installs it)"
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n' >"$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
podman() {
  command podman --root "$WORK/storage" --runroot "$WORK/run" --cgroup-manager cgroupfs \
    --events-backend file --storage-driver vfs --runtime "$RUNTIME" "$@"
}
defer "command podman --root $WORK/storage --runroot $WORK/run --storage-driver vfs --runtime $RUNTIME rm -af -t 0 >/dev/null 2>&1; grep -o '$WORK[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"

podman import "$(busybox_tar)" localhost/bb >/dev/null 2>&1

out=$(podman run --rm --network none localhost/bb sh -c 'echo hello; echo pid=$$')
expect_contains "$out" "hello" "podman run output"
expect_contains "$out" "pid=1" "container pid"

set +e
podman run --rm --network none localhost/bb sh -c 'exit 5'
rc=$?
set -e
expect_eq "$rc" 5 "exit status through podman"

cid=$(podman run -d --network none localhost/bb sleep 1000)
expect_eq "$(podman inspect -f '{{.State.Running}}' "$cid")" true "detached container running"
expect_eq "$(podman exec "$cid" sh -c 'echo $((2*3))')" 6 "podman exec"
podman stop -t 1 "$cid" >/dev/null
expect_eq "$(podman inspect -f '{{.State.Running}}' "$cid")" false "stopped"
podman rm "$cid" >/dev/null

echo "podman with berth-runtime: ok"
