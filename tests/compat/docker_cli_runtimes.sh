#!/usr/bin/env bash
# Other OCI runtimes beside the built-in one, with the real docker CLI against berthd: runc and
# crun from daemon.json `runtimes` (and --add-runtime, --default-runtime), `run --runtime`
# with output, exit codes, a terminal, exec, logs, top, pause, stop and rm; a runc container
# across a kill -9 of berthd (one that keeps running, one that exits meanwhile); the default
# staying the built-in runtime; dockerd's errors for bad names.
# Failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-/usr/bin/crun}
[ -x "$RUNC" ] || fail "runc is not installed at $RUNC (apt-get install runc)"
[ -x "$CRUN" ] || fail "crun is not installed at $CRUN (apt-get install crun)"
command -v script >/dev/null || fail "script (util-linux) is not installed: no tty checks"

tarball=$(busybox_tar)
crun_path=$CRUN
# crun refuses the hybrid cgroup layout when the cgroup2 hierarchy owns a controller (this
# machine's owns hugetlb): it is given a mount namespace without that hierarchy, through a
# wrapper, which also shows that any executable with runc's command line will do.
if grep -qs . /sys/fs/cgroup/unified/cgroup.controllers; then
  crun_path=$WORK/crun-without-unified
  cat >"$crun_path" <<EOF
#!/bin/sh
exec unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "\$0" "\$@"' "$CRUN" "\$@"
EOF
  chmod +x "$crun_path"
fi
mkdir -p "$WORK/rt"
cat >"$WORK/rt/daemon.json" <<EOF
{"runtimes": {"runc": {"path": "$RUNC"},
              "crun": {"path": "$crun_path", "runtimeArgs": ["--cgroup-manager=cgroupfs"]}}}
EOF
docker() { "$DOCKER_CLI" "$@"; }
insp() { docker inspect --format "$1" "$2"; }
# start_berthd, with the docker CLI pointed at the daemon, whose containers go before it does.
start_daemon() {
  start_berthd "$@"
  export DOCKER_HOST="unix://$BERTHD_SOCK"
  defer "DOCKER_HOST=$DOCKER_HOST; docker rm -f \$(docker ps -aq 2>/dev/null) >/dev/null 2>&1"
}
start_daemon rt
docker import --change 'CMD ["sh"]' "$tarball" busybox:latest >/dev/null

# Runs a docker command line under script (a pseudo-terminal), its stdin kept open: an EOF
# would be typed into the container's terminal as ^D.
in_tty() {
  exec {keep}< <(sleep 60)
  local keep_pid=$!
  run_capture script -qec "$1" /dev/null <&$keep
  kill "$keep_pid" 2>/dev/null || true
  exec {keep}<&-
}

step "info: Runtimes and DefaultRuntime"
check_eq "$(docker info --format '{{.DefaultRuntime}}')" "berth" "DefaultRuntime"
runtimes=$(docker info --format '{{json .Runtimes}}')
check_contains "$runtimes" '"berth"' "Runtimes: the built-in one"
check_contains "$runtimes" "\"runc\":{\"path\":\"$RUNC\"}" "Runtimes: runc"
check_contains "$runtimes" "\"crun\":{\"path\":\"$crun_path\",\"runtimeArgs\":[\"--cgroup-manager=cgroupfs\"]}" \
  "Runtimes: crun, with its runtimeArgs"

# Prints "started", then waits for SIGTERM, which ends it with 143.
waiter='trap "exit 143" TERM; echo started; sleep 300 & wait'

runtime_checks() {
  local rt=$1 root=$BERTHD_DIR/exec/runtimes/$1

  step "$rt: run --rm echo, exit codes"
  run_capture docker run --rm --runtime "$rt" busybox echo hi
  check_eq "$RC $OUT" "0 hi" "$rt: run --rm echo hi"
  run_capture docker run --rm --runtime "$rt" busybox sh -c 'echo out; echo err >&2; exit 3'
  check_eq "$RC" 3 "$rt: run exit 3"
  check_eq "$OUT" $'out\nerr' "$rt: run output of both streams"
  run_capture sh -c "echo data | $DOCKER_CLI run --rm -i --runtime $rt busybox cat"
  check_eq "$RC $OUT" "0 data" "$rt: run -i cat"
  run_capture docker run --rm --runtime "$rt" busybox nosuchcmd
  check_contains "$OUT" "nosuchcmd" "$rt: run nosuchcmd: the runtime's message"
  # The docker CLI makes 127 of runc's message; crun's ("No such file or directory",
  # capitalised) is a 125 to it, as under dockerd.
  [ "$rt" != runc ] || check_eq "$RC" 127 "$rt: run nosuchcmd exit status"

  step "$rt: run -it in a pseudo-terminal"
  in_tty "stty rows 31 cols 97; $DOCKER_CLI run -it --rm --runtime $rt busybox sh -c 'tty; stty size; exit 4'"
  check_eq "$RC" 4 "$rt: run -it exit status"
  check_match "$OUT" '/dev/pts/[0-9]+' "$rt: run -it: a terminal"
  check_contains "$OUT" "31 97" "$rt: run -it: the terminal's size"

  step "$rt: run -d, inspect, exec, logs, top, pause, stop, rm"
  local id
  id=$(docker run -d --name "d$rt" --runtime "$rt" busybox sh -c "$waiter")
  check_eq "$(insp '{{.HostConfig.Runtime}} {{.State.Status}}' "d$rt")" "$rt running" "$rt: inspect"
  [ -d "$root/$id" ] || check_fail "$rt: no state of the container under $root"
  [ ! -e "$BERTHD_DIR/exec/runtime/$id" ] || check_fail "$rt: the built-in runtime has state of it"
  run_capture docker exec "d$rt" echo from exec
  check_eq "$RC $OUT" "0 from exec" "$rt: exec echo"
  run_capture docker exec "d$rt" sh -c 'exit 5'
  check_eq "$RC" 5 "$rt: exec exit 5"
  run_capture sh -c "echo data | $DOCKER_CLI exec -i d$rt cat"
  check_eq "$RC $OUT" "0 data" "$rt: exec -i cat"
  run_capture docker exec "d$rt" nosuchcmd
  check_eq "$RC" 126 "$rt: exec nosuchcmd exit status (dockerd's 126)"
  in_tty "$DOCKER_CLI exec -it d$rt sh -c 'tty; exit 6'"
  check_eq "$RC" 6 "$rt: exec -it exit status"
  check_match "$OUT" '/dev/pts/[0-9]+' "$rt: exec -it: a terminal"
  run_capture docker exec -d "d$rt" sh -c 'echo detached >/tmp/x'
  check_eq "$RC" 0 "$rt: exec -d"
  run_capture docker logs "d$rt"
  check_eq "$OUT" "started" "$rt: logs"
  run_capture docker top "d$rt"
  check_contains "$OUT" "sleep 300" "$rt: top"
  check_contains "$OUT" "trap" "$rt: top shows the container's first process"
  docker pause "d$rt" >/dev/null
  check_eq "$(insp '{{.State.Status}}' "d$rt")" "paused" "$rt: pause"
  docker unpause "d$rt" >/dev/null
  run_capture docker exec "d$rt" echo unpaused
  check_eq "$OUT" "unpaused" "$rt: exec after unpause"
  run_capture docker stop "d$rt"
  check_eq "$RC" 0 "$rt: stop"
  check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' "d$rt")" "exited 143" "$rt: stopped by SIGTERM"
  [ ! -e "$root/$id" ] || check_fail "$rt: state of the stopped container left under $root"
  check_eq "$(docker rm -f "d$rt")" "d$rt" "$rt: rm"
}

runtime_checks runc
runtime_checks crun

step "the default: the built-in runtime"
run_capture docker run --rm busybox echo hi
check_eq "$RC $OUT" "0 hi" "default: run --rm echo hi"
id=$(docker run -d --name builtin busybox sleep 300)
check_eq "$(insp '{{.HostConfig.Runtime}}' builtin)" "berth" "default: HostConfig.Runtime"
[ -d "$BERTHD_DIR/exec/runtime/$id" ] || check_fail "default: no state under the built-in runtime's root"
docker rm -f builtin >/dev/null
id=$(docker run -d --name builtin2 --runtime berth busybox sleep 300)
[ -d "$BERTHD_DIR/exec/runtime/$id" ] || check_fail "--runtime berth: not the built-in runtime"
docker rm -f builtin2 >/dev/null

step "an unknown runtime: 400 with dockerd's message"
run_capture docker run --rm --runtime nosuch busybox true
check_eq "$RC" 125 "run --runtime nosuch: exit status"
check_contains "$OUT" "unknown or invalid runtime name: nosuch" "run --runtime nosuch: message"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" \
  -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"Runtime":"nosuch"}}' \
  http://berthd/containers/create)
check_eq "$code" 400 "create with an unknown runtime: HTTP status"

step "live restore: berthd killed while runc containers run"
lr=$(docker run -d --name lr --runtime runc busybox sh -c "$waiter")
# This one exits while berthd is away, when the file appears in its root file system.
docker run -d --name lr2 --runtime runc busybox \
  sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 7' >/dev/null
lr2_root=$(insp '{{.GraphDriver.Data.MergedDir}}' lr2)
lr2_id=$(insp '{{.Id}}' lr2)
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null || true
touch "$lr2_root/tmp/go"
for _ in $(seq 200); do [ -e "$BERTHD_DIR/exec/containers/$lr2_id/exit.json" ] && break; sleep 0.05; done
start_daemon rt
check_eq "$(insp '{{.State.Status}}' lr)" "running" "after restart: runc container still running"
run_capture docker exec lr echo alive
check_eq "$RC $OUT" "0 alive" "after restart: exec in the runc container"
run_capture docker stop lr
check_eq "$RC" 0 "after restart: stop"
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' lr)" "exited 143" "after restart: stopped"
[ ! -e "$BERTHD_DIR/exec/runtimes/runc/$lr" ] || check_fail "after restart: runc state left behind"
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' lr2)" "exited 7" \
  "after restart: the exit that happened meanwhile"
docker rm lr lr2 >/dev/null

step "--add-runtime and --default-runtime; runc names the built-in runtime when not configured"
stop_pid "$BERTHD_PID" berthd
start_daemon flags --add-runtime "crun=$crun_path" --default-runtime crun
docker import --change 'CMD ["sh"]' "$tarball" busybox:latest >/dev/null
check_eq "$(docker info --format '{{.DefaultRuntime}}')" "crun" "--default-runtime: DefaultRuntime"
id=$(docker run -d --name dflt busybox sleep 300)
check_eq "$(insp '{{.HostConfig.Runtime}}' dflt)" "crun" "--default-runtime crun: HostConfig.Runtime"
[ -d "$BERTHD_DIR/exec/runtimes/crun/$id" ] || check_fail "--default-runtime crun: not run by crun"
id=$(docker run -d --name asrunc --runtime runc busybox sleep 300)
check_eq "$(insp '{{.HostConfig.Runtime}}' asrunc)" "runc" "--runtime runc: HostConfig.Runtime"
[ -d "$BERTHD_DIR/exec/runtime/$id" ] || check_fail "--runtime runc without a runc configured: not the built-in runtime"
docker rm -f dflt asrunc >/dev/null

step "bad runtime configurations: berthd refuses to start, with dockerd's words"
bad() {
  run_capture "$BERTHD" --data-root "$WORK/bad/data" --exec-root "$WORK/bad/exec" \
    -H "unix://$WORK/bad/sock" --config-file "$WORK/bad/daemon.json" "$@"
}
mkdir -p "$WORK/bad"
echo '{}' >"$WORK/bad/daemon.json"
bad --add-runtime "berth=$RUNC"
check_eq "$RC" 1 "--add-runtime berth=...: exit status"
check_contains "$OUT" "runtime name 'berth' is reserved" "--add-runtime berth=...: message"
bad --default-runtime nosuch
check_contains "$OUT" "specified default runtime 'nosuch' does not exist" "--default-runtime nosuch"
bad --add-runtime "nopath"
check_contains "$OUT" "invalid runtime argument: nopath" "--add-runtime without a path"
echo "{\"runtimes\": {\"runc\": {\"path\": \"$RUNC\"}}}" >"$WORK/bad/daemon.json"
bad --add-runtime "crun=$CRUN"
check_contains "$OUT" "specified both as a flag and in the configuration file: runtimes" \
  "runtimes in daemon.json and --add-runtime"

finish_checks docker_cli_runtimes
