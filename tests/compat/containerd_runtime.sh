#!/usr/bin/env bash
# Debian's containerd 1.6 runs containers through its runc shim (containerd-shim-runc-v2)
# with berth-runtime as the shim's runc: BinaryName and Root in the runc options, which
# ctr's --runc-binary and --runc-root set. A containerd of the test's own (root, state,
# sockets and config under $WORK), never the system's; ctr run --rootfs, so no image store.
source "$(dirname "$0")/lib.sh"

for b in containerd ctr containerd-shim-runc-v2; do
  command -v $b >/dev/null || fail "$b is not installed (Debian's containerd package)"
done

NS=berthtest-$$
SOCK=$WORK/containerd.sock
RUNC_ROOT=$WORK/runc-root
cat >"$WORK/config.toml" <<EOF
version = 2
root = "$WORK/root"
state = "$WORK/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF

containerd --config "$WORK/config.toml" --log-level warn >"$WORK/containerd.log" 2>&1 &
CONTAINERD_PID=$!
# Last out: containerd goes after the containers and shims below are gone.
defer "kill $CONTAINERD_PID 2>/dev/null; wait $CONTAINERD_PID 2>/dev/null"
ctr() { command ctr --address "$SOCK" --namespace "$NS" "$@"; }
berth() { "$RUNTIME" --root "$RUNC_ROOT/$NS" "$@"; }

# Whatever a failed run left: containers (through berth-runtime itself), the shims of this
# containerd (found by its socket in their command line) and their sockets.
cleanup_containers() {
  local id pid
  for id in $(berth list -q 2>/dev/null); do berth delete -f "$id" >/dev/null 2>&1 || true; done
  for pid in $(pgrep -f "^containerd-shim-runc-v2 .*-address $SOCK( |$)" 2>/dev/null); do
    kill -9 "$pid" 2>/dev/null || true
  done
  for f in "$WORK"/state/io.containerd.runtime.v2.task/"$NS"/*/address; do
    [ -f "$f" ] && rm -f "$(sed 's|^unix://||' "$f")"
  done
  # ctr's cgroupsPath is /<namespace>/<id>; runtimes remove only the container's level.
  for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do
    [ -d "$d" ] && rmdir "$d"/* "$d" 2>/dev/null
  done
  return 0
}
defer cleanup_containers

for _ in $(seq 100); do
  ctr version >/dev/null 2>&1 && break
  kill -0 $CONTAINERD_PID 2>/dev/null || { cat "$WORK/containerd.log" >&2; fail "containerd exited"; }
  sleep 0.1
done
ctr version >/dev/null 2>&1 || fail "containerd did not answer on $SOCK"

"$REPO/scripts/make-busybox-bundle.sh" "$WORK/bb" "$RUNTIME" >/dev/null
ROOTFS=$WORK/bb/rootfs
run_opts=(--rootfs --runc-binary "$RUNTIME" --runc-root "$RUNC_ROOT")

step "ctr run --rm: the process's output and exit status"
out=$(ctr run --rm "${run_opts[@]}" "$ROOTFS" hi echo hi 2>&1)
check_eq "$out" "hi" "ctr run --rm output"
run_capture ctr run --rm "${run_opts[@]}" "$ROOTFS" st sh -c 'exit 3'
check_eq "$RC" 3 "exit status through the shim ($OUT)"
check_eq "$(ctr containers list -q)" "" "containers left after --rm"

step "a detached container is berth-runtime's: its state, exec, kill"
ctr run -d "${run_opts[@]}" "$ROOTFS" bg sleep 1000 >/dev/null
# berth-runtime reads it from the root the shim gave it; runc's own state has no start time.
check_eq "$(berth list -q)" "bg" "berth-runtime list in the shim's runc root"
check_contains "$(cat "$RUNC_ROOT/$NS/bg/state.json")" '"pidStartTime"' "berth-runtime's state file"
check_eq "$(berth state bg | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" "running" "state"
check_eq "$(ctr task exec --exec-id e1 bg sh -c 'echo $((6*7))')" "42" "ctr task exec"
ctr task kill -s SIGKILL bg
for _ in $(seq 100); do
  [[ "$(ctr task list 2>/dev/null)" == *STOPPED* ]] && break
  sleep 0.05
done
check_contains "$(ctr task list)" "STOPPED" "task stopped by kill"
ctr task delete bg >/dev/null
ctr containers delete bg
check_eq "$(berth list -q)" "" "berth-runtime state after task delete"

finish_checks "containerd with berth-runtime"
