#!/usr/bin/env bash
# The real docker CLI (DOCKER_HOST=unix://<berthd socket>) against berthds of this test's own,
# for `docker run --init` (HostConfig.Init), checked against what Docker's docker-init does:
# it is PID 1 at /sbin/docker-init and runs the command as its child, forwards signals to it
# (docker stop, docker kill -s), reaps orphans, passes the command's exit status through (128+N
# for a signal), gives the child the terminal's foreground; daemon.json "init" as the default.
# Every check prints what it does; failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
# start NAME [FLAGS...]: a berthd with busybox imported; every container goes at exit.
start() {
  start_berthd "$@"
  defer "ids=\$(DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI ps -aq 2>/dev/null) && [ -n \"\$ids\" ] && DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI rm -f \$ids >/dev/null 2>&1"
  bdocker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null
}
start b1
docker() { bdocker "$@"; }
# zombies NAME: how many zombies the container has, seen from inside it.
zombies() { docker exec "$1" ps -o stat | grep -c Z || true; }

step "PID 1 is /sbin/docker-init, running the command as its child"
run_capture docker run --rm --init busybox ps -o pid,comm
check_eq "$RC" 0 "run --init ps: exit status ($OUT)"
check_match "$OUT" $'(^|\n) *1 docker-init(\n|$)' "run --init: PID 1 is docker-init"
check_match "$OUT" $'\n *[0-9]+ ps(\n|$)' "run --init: ps runs too"
check_not_contains "$OUT" $'\n    1 ps' "run --init: ps is not PID 1"
run_capture docker run --rm --init busybox sh -c 'tr "\0" " " </proc/1/cmdline'
check_eq "$OUT" "/sbin/docker-init -- sh -c tr \"\\0\" \" \" </proc/1/cmdline " "run --init: PID 1's command line is Docker's"
run_capture docker run --rm busybox ps -o pid,comm
check_match "$OUT" $'\n *1 ps(\n|$)' "run without --init: the command is PID 1"
docker create --name inspected --init busybox true >/dev/null
check_eq "$(insp '{{.HostConfig.Init}} {{.Path}} {{.Args}}' inspected)" "true true []" "inspect: HostConfig.Init set, Path and Args the command's"
check_eq "$(docker info -f '{{.InitBinary}}')" "docker-init" "info: InitBinary"
run_capture docker run --rm --init --read-only busybox ls -l /sbin/docker-init
check_eq "$RC" 0 "run --init --read-only: the init's mount point in a read-only rootfs ($OUT)"
run_capture docker run --rm --init --user 1000:1000 busybox id -u
check_eq "$RC/$OUT" "0/1000" "run --init --user: init and the command run as the user"

step "exit status of the command passed through"
run_capture docker run --rm --init busybox sh -c 'exit 3'
check_eq "$RC" 3 "run --init sh -c 'exit 3'"
run_capture docker run --rm --init busybox sh -c 'kill -9 $$'
check_eq "$RC" 137 "run --init: the command killed by SIGKILL gives 137"
run_capture docker run --rm --init busybox nosuchcmd
check_eq "$RC" 127 "run --init nosuchcmd: 127, from the init as docker-init gives it"
check_contains "$OUT" "nosuchcmd" "run --init nosuchcmd: the error names the command"
run_capture docker run --rm -i --init busybox sh -c 'cat; echo done' <<<"piped in"
check_eq "$RC/$OUT" $'0/piped in\ndone' "run -i --init: stdin reaches the command"

step "signals: docker stop and docker kill reach the command through the init"
docker run -d --name trapper --init busybox sh -c 'trap "exit 7" TERM; while :; do sleep 1; done' >/dev/null
sleep 0.5
t0=$SECONDS
run_capture docker stop -t 20 trapper
check_eq "$RC" 0 "stop of the trapping sh under --init ($OUT)"
((SECONDS - t0 < 5)) || check_fail "stop under --init took $((SECONDS - t0))s: the TERM did not reach the command"
check_eq "$(insp '{{.State.ExitCode}}' trapper)" 7 "stop under --init: the command's trap ran (exit 7)"
# sleep as PID 1 would ignore TERM; as the init's child it dies of it.
docker run -d --name sleeper --init busybox sleep 100 >/dev/null
sleep 0.3
t0=$SECONDS
docker stop -t 20 sleeper >/dev/null
((SECONDS - t0 < 5)) || check_fail "stop of sleep under --init took $((SECONDS - t0))s"
check_eq "$(insp '{{.State.ExitCode}}' sleeper)" 143 "stop of sleep under --init: killed by TERM, 143"
docker run -d --name usr --init busybox sh -c \
  'trap "echo got USR1" USR1; trap "echo got HUP; exit 9" HUP; while :; do sleep 0.1; done' >/dev/null
sleep 0.5
docker kill -s USR1 usr >/dev/null
sleep 0.5
docker kill -s HUP usr >/dev/null
check_eq "$(docker wait usr)" 9 "kill -s USR1 then HUP under --init: the command's traps ran"
check_eq "$(docker logs usr 2>&1)" $'got USR1\ngot HUP' "kill -s under --init: logs of the traps"
docker run -d --name killed --init busybox sleep 100 >/dev/null
sleep 0.3
docker kill killed >/dev/null
check_eq "$(docker wait killed)" 137 "kill (SIGKILL) of an --init container: 137"

step "zombies: orphans are reaped by the init"
run_capture docker run --rm --init busybox sh -c 'sh -c "sleep 0.1 &"; sleep 0.5; ps -o stat | grep -c Z'
check_eq "$OUT" 0 "run --init: the orphaned sleep is reaped"
# PID 1 exec'd into sleep never reaps: the same orphan stays a zombie without the init.
docker run -d --name noinit busybox sh -c 'sh -c "sleep 0.1 &"; exec sleep 100' >/dev/null
docker run -d --name withinit --init busybox sh -c 'sh -c "sleep 0.1 &"; exec sleep 100' >/dev/null
sleep 1
check_eq "$(zombies noinit)" 1 "without --init: the orphan stays a zombie under a PID 1 that does not reap"
check_eq "$(zombies withinit)" 0 "with --init: the orphan is reaped"
docker rm -f noinit withinit >/dev/null

step "a tty: the command's process group has the terminal's foreground"
if command -v script >/dev/null; then
  # script's stdin stays open (an EOF would be typed into the container's tty as ^D); exec
  # makes $! the sleep itself, which the ERR trap would otherwise keep in a subshell.
  exec {keep}< <(exec sleep 60)
  keep_pid=$!
  # /proc/self/stat: field 5 is the process group, field 8 the terminal's foreground group.
  run_capture env DOCKER_HOST="unix://$BERTHD_SOCK" script -qec \
    "$DOCKER_CLI run -it --rm --init busybox sh -c 'awk \"{print (\\\$5 == \\\$8) ? \\\"fg\\\" : \\\"bg\\\"}\" /proc/self/stat; ps -o pid,comm | grep -c docker-init; exit 5'" /dev/null <&$keep
  kill "$keep_pid" 2>/dev/null || true
  exec {keep}<&-
  check_eq "$RC" 5 "run -it --init: exit status"
  check_eq "$(tr -d '\r' <<<"$OUT")" $'fg\n1' "run -it --init: the command is in the foreground, init is there"
else
  check_fail "script (util-linux) is not installed: no tty check"
fi

step "daemon.json \"init\": true makes it the default; --init=false still says no"
mkdir -p "$WORK/b2" && echo '{"init": true}' >"$WORK/b2/daemon.json"
start b2
run_capture docker run --rm busybox ps -o pid,comm
check_match "$OUT" $'(^|\n) *1 docker-init(\n|$)' "daemon init: PID 1 is docker-init without --init"
run_capture docker run --rm --init=false busybox ps -o pid,comm
check_match "$OUT" $'\n *1 ps(\n|$)' "daemon init, run --init=false: the command is PID 1"
echo '{"init": "yes"}' >"$WORK/b3.json"
run_capture timeout 10 "$BERTHD" --config-file "$WORK/b3.json" --data-root "$WORK/b3" --exec-root "$WORK/b3x" -H "unix://$WORK/b3.sock"
check_eq "$RC" 1 "daemon.json init not a boolean: berthd refuses to start"
check_contains "$OUT" "init: expected true or false" "daemon.json init not a boolean: the error"

finish_checks "docker CLI against berthd (--init)"
