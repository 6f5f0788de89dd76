#!/usr/bin/env bash
# The real docker CLI (DOCKER_HOST=unix://<berthd socket>) against a berthd of this test's own,
# for the container lifecycle, checked against what Docker does: run (output, exit codes,
# stdio, flags, missing command, missing image, a tty), create/start, ps (+ filters), logs,
# stop, kill, restart, pause, rm, wait, inspect, top, rename, prune, update, events, restart
# policies, and live restore across a kill -9 of berthd. After every rm nothing of the
# container may be left: no rootfs mount, no shim, no cgroup.
# Every check prints what it does; failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

CG=/sys/fs/cgroup
# ---- Cleanup of everything a container may leave, even when berthd itself failed: its
# processes (thawed first: a frozen task does not die), its shim, its cgroups; the mounts
# under $WORK go in lib.sh's on_exit.
container_ids() {
  { ls "$BERTHD_DIR/exec/containers" "$BERTHD_DIR/data/containers" 2>/dev/null || true; } |
    grep -E '^[0-9a-f]{64}$' | sort -u || true
}
shim_pids() { pgrep -f "berth-shim --id $1 " || true; }
hard_cleanup() {
  local id pid d
  for id in $(container_ids); do
    [ -f "$CG/freezer/berth/$id/freezer.state" ] && echo THAWED >"$CG/freezer/berth/$id/freezer.state" 2>/dev/null
    for pid in $(cat "$CG"/*/berth/"$id"/cgroup.procs 2>/dev/null | sort -u); do kill -9 "$pid" 2>/dev/null || true; done
    for pid in $(shim_pids "$id"); do kill -9 "$pid" 2>/dev/null || true; done
  done
  sleep 0.2
  for id in $(container_ids); do
    for d in "$CG"/*/berth/"$id"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  done
  return 0
}
defer hard_cleanup
BERTHD_DIR=$WORK/b1 # known to hard_cleanup before the daemon starts

tarball=$(busybox_tar)
start_berthd b1
docker() { bdocker "$@"; }
# While berthd lives: every container goes through the API first.
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1'
docker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null
t_start=$(date +%s)

state_is() { [ "$(insp '{{.State.Status}}' "$1")" = "$2" ]; }
# check_gone ID WHAT: nothing of a removed container is left behind.
check_gone() {
  local id=$1 what=$2
  wait_for 3 test -z "$(shim_pids "$id")" || true
  check_not_contains "$(cut -d' ' -f2 /proc/mounts)" "$BERTHD_DIR/data/overlay/$id/merged" "$what: no rootfs mount left"
  check_eq "$(shim_pids "$id")" "" "$what: no shim process left"
  check_eq "$(ls -d "$CG"/memory/berth/"$id" 2>/dev/null)" "" "$what: no memory cgroup left"
  check_eq "$(ls -d "$BERTHD_DIR/data/overlay/$id" "$BERTHD_DIR/data/containers/$id" "$BERTHD_DIR/exec/containers/$id" 2>/dev/null)" "" "$what: no directory left"
}

# ---------------------------------------------------------------------------------------
step "run --rm busybox echo hi: output, exit status 0, the container is gone"
n_before=$(docker ps -aq | wc -l)
run_capture docker run --rm busybox echo hi
check_eq "$RC/$OUT" "0/hi" "run --rm busybox echo hi"
check_eq "$(docker ps -aq | wc -l)" "$n_before" "run --rm: no container left in ps -a"

step "run: exit status 3 is docker run's; stdout and stderr stay apart; -i stdin"
run_capture docker run --name exit3 busybox sh -c 'exit 3'
check_eq "$RC" 3 "run sh -c 'exit 3' exit status"
set +e
out=$(docker run --rm busybox sh -c 'echo to-out; echo to-err >&2' 2>/dev/null)
err=$(docker run --rm busybox sh -c 'echo to-out; echo to-err >&2' 2>&1 >/dev/null)
set -e
check_eq "$out" "to-out" "run: stdout alone (2>/dev/null)"
check_eq "$err" "to-err" "run: stderr alone (>/dev/null)"
run_capture docker run --rm -i busybox sh -c 'cat; echo done' <<<"piped in"
check_eq "$RC/$OUT" $'0/piped in\ndone' "run -i with stdin piped"
run_capture docker run --rm busybox cat </dev/null
check_eq "$RC/$OUT" "0/" "run without -i: the container's stdin is empty"

step "run: -e, --env-file, -w, -u nobody, --entrypoint, -h, --label, --name"
printf 'FROM_FILE=1\n# a comment\nSPACED=two words\n' >"$WORK/env.list"
run_capture docker run --rm -e X=y --env-file "$WORK/env.list" busybox sh -c 'echo "$X|$FROM_FILE|$SPACED"'
check_eq "$RC/$OUT" "0/y|1|two words" "run -e X=y --env-file"
check_eq "$(docker run --rm -w /tmp busybox pwd 2>&1)" "/tmp" "run -w /tmp"
check_eq "$(docker run --rm -w /new/dir busybox pwd 2>&1)" "/new/dir" "run -w of a missing directory creates it"
check_eq "$(docker run --rm -u nobody busybox id 2>&1)" "uid=65534(nobody) gid=65534(nogroup)" "run -u nobody"
check_eq "$(docker run --rm -u 1234:5678 busybox sh -c 'id -u; id -g' 2>&1 | tr '\n' ' ')" "1234 5678 " "run -u 1234:5678"
check_eq "$(docker run --rm --entrypoint echo busybox via entrypoint 2>&1)" "via entrypoint" "run --entrypoint echo"
check_eq "$(docker run --rm -h myhost busybox hostname 2>&1)" "myhost" "run -h myhost"
docker run --name labelled --label team=blue --label empty busybox true
check_eq "$(insp '{{json .Config.Labels}}' labelled)" '{"empty":"","team":"blue"}' "run --label: Config.Labels"
check_eq "$(insp '{{.Name}}' labelled)" "/labelled" "run --name: inspect .Name"
id_lab=$(insp '{{.Id}}' labelled)
check_eq "$(insp '{{.Config.Hostname}}' labelled)" "${id_lab:0:12}" "default hostname is the short ID"
run_capture docker run --name labelled busybox true
check_eq "$RC" 125 "run --name of a taken name exit status"
check_contains "$OUT" "Conflict. The container name \"/labelled\" is already in use by container \"$id_lab\"" "run --name of a taken name message"

step "run: a missing command is 127 with docker's message; a missing image is 125"
run_capture docker run --rm busybox nosuchcmd
check_eq "$RC" 127 "run busybox nosuchcmd exit status"
check_contains "$OUT" 'docker: Error response from daemon: failed to create task for container: ' "run nosuchcmd: message start"
check_contains "$OUT" 'exec: "nosuchcmd": executable file not found in $PATH' "run nosuchcmd: message names the command"
check_eq "$(docker ps -aq | wc -l)" "$(docker ps -aq --filter name=exit3 --filter name=labelled | wc -l)" "run --rm nosuchcmd: no container left"
run_capture docker run --name nocmd busybox nosuchcmd
check_eq "$RC" 127 "run (no --rm) busybox nosuchcmd exit status"
# dockerd leaves a container that never started 'created', with the exit code and the error.
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' nocmd)" "created 127" "inspect of a container whose command is missing"
check_contains "$(insp '{{.State.Error}}' nocmd)" "executable file not found" "State.Error of a container whose command is missing"
# A registry on a loopback port where nothing listens: the pull fails without leaving the host.
noreg=127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_capture docker run --rm "$noreg/nosuchimage" true
check_eq "$RC" 125 "run nosuchimage exit status"
check_contains "$OUT" "Unable to find image '$noreg/nosuchimage:latest' locally" "run nosuchimage: the CLI's message"
check_contains "$OUT" "docker: Error response from daemon:" "run nosuchimage: the failed pull"
check_contains "$OUT" "$noreg" "run nosuchimage: the error names the registry"

step "a tty: run -it in a pseudo-terminal (script), with the terminal's size"
if command -v script >/dev/null; then
  # script's stdin stays open (an EOF would be typed into the container's tty as ^D).
  exec {keep}< <(sleep 60)
  keep_pid=$!
  run_capture env DOCKER_HOST="unix://$BERTHD_SOCK" script -qec \
    "stty rows 31 cols 97; $DOCKER_CLI run -it --rm busybox sh -c 'tty; stty size; exit 4'" /dev/null <&$keep
  kill "$keep_pid" 2>/dev/null || true
  exec {keep}<&-
  check_eq "$RC" 4 "run -it ... exit 4 under script: exit status"
  check_match "$OUT" '/dev/pts/[0-9]+' "run -it: tty names a pts"
  check_contains "$OUT" "31 97" "run -it: stty size is the terminal's (HostConfig.ConsoleSize)"
else
  check_fail "script (util-linux) is not installed: no tty check"
fi

# ---------------------------------------------------------------------------------------
step "create + start -a"
id_cr=$(docker create --name created busybox sh -c 'echo from created; exit 2')
check_match "$id_cr" '^[0-9a-f]{64}$' "create prints the full ID"
check_eq "$(insp '{{.State.Status}}' created)" "created" "a created container's status"
check_match "$(docker ps -a --filter name=created --format '{{.Status}}')" '^Created$' "ps STATUS of a created container"
run_capture docker start -a created
check_eq "$RC/$OUT" "2/from created" "start -a: output and exit status"
run_capture docker start created
check_eq "$RC/$OUT" "0/created" "start of an exited container prints its name"

step "run -d, then ps: columns, STATUS Up"
id_d=$(docker run -d --name runner busybox sleep 300)
check_match "$id_d" '^[0-9a-f]{64}$' "run -d prints the full ID"
run_capture docker ps
check_match "$(head -1 <<<"$OUT")" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$' "ps header"
check_match "$OUT" "${id_d:0:12} +busybox +\"sleep 300\" +(Less than a second|[0-9]+ seconds?) ago +Up (Less than a second|[0-9]+ seconds?) +runner" "ps row of a running container"
check_not_contains "$OUT" "exit3" "ps without -a hides exited containers"
check_eq "$(docker ps -a --no-trunc --filter name=created --format '{{.Command}}')" "\"sh -c 'echo from created; exit 2'\"" "ps COMMAND quotes arguments with spaces as dockerd does"
check_eq "$(docker ps -q)" "${id_d:0:12}" "ps -q"
check_eq "$(docker ps -q --no-trunc)" "$id_d" "ps -q --no-trunc"
check_contains "$(docker ps --no-trunc)" "$id_d" "ps --no-trunc"
check_eq "$(docker ps -l -q)" "${id_d:0:12}" "ps -l -q (the latest)"
check_eq "$(docker ps -a -n 2 --format '{{.Names}}' | tr '\n' ' ')" "runner created " "ps -a -n 2 (newest first)"
check_eq "$(docker ps -a -q | wc -l)" 5 "ps -a -q counts every container"

step "ps filters and --format"
check_eq "$(docker ps -a --filter status=exited --format '{{.Names}}' | sort | tr '\n' ' ')" "created exit3 labelled " "ps --filter status=exited"
check_eq "$(docker ps -a --filter status=created --format '{{.Names}}' | tr '\n' ' ')" "nocmd " "ps --filter status=created"
check_eq "$(docker ps -a --filter status=running --format '{{.Names}}')" "runner" "ps --filter status=running"
check_eq "$(docker ps -a --filter name=runn --format '{{.Names}}')" "runner" "ps --filter name= (a substring)"
check_eq "$(docker ps -a --filter name='^/exit3$' --format '{{.Names}}')" "exit3" "ps --filter name= (an anchored regexp)"
check_eq "$(docker ps -a --filter label=team --format '{{.Names}}')" "labelled" "ps --filter label=team"
check_eq "$(docker ps -a --filter label=team=blue --format '{{.Names}}')" "labelled" "ps --filter label=team=blue"
check_eq "$(docker ps -a --filter label=team=red --format '{{.Names}}')" "" "ps --filter label=team=red"
check_eq "$(docker ps -a --filter exited=3 --format '{{.Names}}')" "exit3" "ps --filter exited=3"
check_eq "$(docker ps -a --filter exited=2 --format '{{.Names}}')" "created" "ps --filter exited=2"
check_eq "$(docker ps -a --filter ancestor=busybox -q | wc -l)" 5 "ps --filter ancestor=busybox"
check_eq "$(docker ps -a --filter ancestor=busybox:latest -q | wc -l)" 5 "ps --filter ancestor=busybox:latest"
check_eq "$(docker ps -a --filter id="${id_d:0:12}" --format '{{.Names}}')" "runner" "ps --filter id=<short id>"
check_match "$(docker ps -a --filter name=exit3 --format '{{.Names}} {{.Status}}')" '^exit3 Exited \(3\) ([0-9]+ seconds|Less than a second) ago$' "ps --format '{{.Names}} {{.Status}}'"
check_eq "$(docker ps -a --filter name=exit3 --format '{{.Label "team"}}|{{.Image}}|{{.State}}')" "|busybox|exited" "ps --format .Label .Image .State"
run_capture docker ps --filter bogus=1
check_eq "$RC" 1 "ps --filter bogus=1 exit status"
check_contains "${OUT,,}" "invalid filter 'bogus'" "ps --filter bogus=1 message"

# ---------------------------------------------------------------------------------------
step "logs: both streams, --tail, -t, --since, -f"
docker run --name logger busybox sh -c 'echo one; echo two; echo err >&2; echo three' >/dev/null 2>&1
set +e
out=$(docker logs logger 2>/dev/null)
err=$(docker logs logger 2>&1 >/dev/null)
set -e
check_eq "$out" $'one\ntwo\nthree' "logs: stdout"
check_eq "$err" "err" "logs: stderr on stderr"
check_eq "$(docker logs --tail 2 logger 2>&1 | wc -l)" 2 "logs --tail 2 counts lines of both streams"
check_eq "$(docker logs --tail 0 logger 2>&1)" "" "logs --tail 0"
check_match "$(docker logs -t logger 2>/dev/null | head -1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z one$' "logs -t: RFC 3339 nanosecond timestamps"
check_eq "$(docker logs --since 10m logger 2>/dev/null | wc -l)" 3 "logs --since 10m"
check_eq "$(docker logs --since "$(($(date +%s) + 60))" logger 2>&1)" "" "logs --since <a minute ahead>"
check_eq "$(docker logs --until "$t_start" logger 2>&1)" "" "logs --until <before the container>"
docker run -d --name follower busybox sh -c 'echo first; sleep 1; echo second' >/dev/null
run_capture timeout 15 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" logs -f follower
check_eq "$RC/$OUT" $'0/first\nsecond' "logs -f of a container that prints then exits: every line, then it returns"
run_capture docker logs nosuch
check_eq "$RC/$OUT" "1/Error response from daemon: No such container: nosuch" "logs nosuch"

# ---------------------------------------------------------------------------------------
step "stop: a TERM handler stops fast with 0; PID 1 ignoring TERM gets SIGKILL after -t 1"
docker run -d --name trapper busybox sh -c 'trap "exit 0" TERM; sleep 100 & wait' >/dev/null
sleep 0.3 # the trap is set
t0=$(date +%s%N)
run_capture docker stop trapper
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "$RC/$OUT" "0/trapper" "stop of a container that traps TERM"
((ms < 3000)) || check_fail "stop of a container that traps TERM took ${ms} ms"
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' trapper)" "exited 0 false" "state after stop (TERM handled)"
docker run -d --name stubborn busybox sleep 100 >/dev/null
t0=$(date +%s%N)
run_capture docker stop -t 1 stubborn
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "$RC/$OUT" "0/stubborn" "stop -t 1 of sleep as PID 1"
((ms >= 900 && ms < 4000)) || check_fail "stop -t 1 of a container ignoring TERM took ${ms} ms (expected about 1 s)"
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' stubborn)" "exited 137" "stop -t 1: killed, exit code 137"
run_capture docker stop stubborn
check_eq "$RC/$OUT" "0/stubborn" "stop of a stopped container succeeds (304)"

step "kill, kill -s"
docker run -d --name killme busybox sleep 100 >/dev/null
run_capture docker kill killme
check_eq "$RC/$OUT" "0/killme" "kill"
wait_for 5 state_is killme exited || true
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' killme)" "exited 137" "kill: exited 137"
docker run -d --name usr1 busybox sh -c 'trap "exit 7" USR1; sleep 100 & wait' >/dev/null
sleep 0.3
run_capture docker kill -s USR1 usr1
check_eq "$RC/$OUT" "0/usr1" "kill -s USR1"
wait_for 5 state_is usr1 exited || true
check_eq "$(insp '{{.State.Status}} {{.State.ExitCode}}' usr1)" "exited 7" "kill -s USR1: the trap's exit code"
run_capture docker kill usr1
check_eq "$RC" 1 "kill of a stopped container exit status"
check_contains "$OUT" "is not running" "kill of a stopped container message"
run_capture docker kill -s BOGUS runner
check_eq "$RC" 1 "kill -s BOGUS exit status"
check_contains "$OUT" "Invalid signal: BOGUS" "kill -s BOGUS message"

step "restart: new process, RestartCount unchanged"
pid1=$(insp '{{.State.Pid}}' runner)
started1=$(insp '{{.State.StartedAt}}' runner)
docker exec runner sh -c 'echo written-before > /restart-mark' >/dev/null
run_capture docker restart -t 1 runner
check_eq "$RC/$OUT" "0/runner" "restart -t 1"
check_eq "$(docker exec runner cat /restart-mark 2>&1)" "written-before" "restart keeps the writable layer (remounted)"
check_eq "$(insp '{{.State.Status}} {{.RestartCount}}' runner)" "running 0" "after restart: running, RestartCount 0 (manual restarts do not count)"
[ "$(insp '{{.State.Pid}}' runner)" != "$pid1" ] || check_fail "restart: the Pid did not change ($pid1)"
[ "$(insp '{{.State.StartedAt}}' runner)" != "$started1" ] || check_fail "restart: StartedAt did not change"
run_capture docker restart created
check_eq "$RC/$OUT" "0/created" "restart of an exited container"
wait_for 5 state_is created exited || true
check_eq "$(docker logs created 2>&1 | tr '\n' ' ')" "from created from created from created " "restart of an exited container runs it again"

step "pause / unpause"
run_capture docker pause runner
check_eq "$RC/$OUT" "0/runner" "pause"
check_match "$(docker ps --filter name=runner --format '{{.Status}}')" '^Up .* \(Paused\)$' "ps STATUS of a paused container"
check_eq "$(insp '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' runner)" "paused true true" "inspect of a paused container"
check_eq "$(docker ps -q --filter status=paused)" "${id_d:0:12}" "ps --filter status=paused"
run_capture docker pause runner
check_eq "$RC" 1 "pause of a paused container exit status"
check_contains "$OUT" "is already paused" "pause of a paused container message"
run_capture docker rm runner
check_eq "$RC" 1 "rm of a paused container exit status"
check_contains "$OUT" "Error response from daemon: cannot remove container \"/runner\": container is paused and must be unpaused first" "rm of a paused container message"
run_capture docker unpause runner
check_eq "$RC/$OUT" "0/runner" "unpause"
check_match "$(docker ps --filter name=runner --format '{{.Status}}')" '^Up [^(]*$' "ps STATUS after unpause"
run_capture docker unpause runner
check_eq "$RC" 1 "unpause of a running container exit status"
check_contains "$OUT" "is not paused" "unpause of a running container message"

step "inspect: State, Name, Config.Cmd, HostConfig.RestartPolicy, RestartCount"
docker inspect runner >"$WORK/inspect.json"
run_capture python3 - "$WORK/inspect.json" "$id_d" <<'PY'
import json, sys, re
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 1, "not a one-element array"
c = doc[0]
assert c["Id"] == sys.argv[2], "Id %r" % c["Id"]
assert c["Name"] == "/runner", "Name %r" % c["Name"]
s = c["State"]
assert s["Status"] == "running" and s["Running"] is True and s["Paused"] is False, "State %r" % s
assert s["ExitCode"] == 0 and isinstance(s["Pid"], int) and s["Pid"] > 0, "State %r" % s
rfc = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
assert re.match(rfc, s["StartedAt"]), "StartedAt %r" % s["StartedAt"]
assert re.match(rfc, s["FinishedAt"]), "FinishedAt %r" % s["FinishedAt"]
assert c["Config"]["Cmd"] == ["sleep", "300"], "Config.Cmd %r" % c["Config"]["Cmd"]
assert c["Config"]["Image"] == "busybox", "Config.Image %r" % c["Config"]["Image"]
assert c["Path"] == "sleep" and c["Args"] == ["300"], "Path/Args %r %r" % (c["Path"], c["Args"])
assert c["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}, "RestartPolicy %r" % c["HostConfig"]["RestartPolicy"]
assert c["RestartCount"] == 0, "RestartCount %r" % c["RestartCount"]
assert c["Image"].startswith("sha256:"), "Image %r" % c["Image"]
assert re.match(rfc, c["Created"]), "Created %r" % c["Created"]
PY
check_eq "$RC" 0 "inspect JSON of a running container ($OUT)"
check_match "$(insp '{{.State.Pid}}' runner)" '^[1-9][0-9]*$' "inspect .State.Pid"
check_eq "$(cat "/proc/$(insp '{{.State.Pid}}' runner)/cmdline" 2>/dev/null | tr '\0' ' ')" "sleep 300 " "State.Pid is the container's process on the host"
check_eq "$(insp '{{.State.Pid}} {{.State.Running}} {{.State.ExitCode}}' exit3)" "0 false 3" "inspect of an exited container"
check_match "$(insp '{{.State.FinishedAt}}' exit3)" '^20[0-9]{2}-' "inspect FinishedAt of an exited container"
check_eq "$(insp '{{.State.StartedAt}}' nocmd)" "0001-01-01T00:00:00Z" "StartedAt of a container that never ran is Go's zero time"
check_eq "$(insp '{{json .Config.Cmd}}' exit3)" '["sh","-c","exit 3"]' "inspect .Config.Cmd"
check_eq "$(docker inspect -f '{{.Name}}' exit3 labelled | tr '\n' ' ')" "/exit3 /labelled " "inspect of two containers"
run_capture docker inspect nosuch
check_eq "$RC" 1 "inspect nosuch exit status"
check_contains "$OUT" "No such object: nosuch" "inspect nosuch message"
run_capture docker container inspect nosuch
check_eq "$RC" 1 "container inspect nosuch exit status"
check_contains "$OUT" "No such container: nosuch" "container inspect nosuch message"

step "top, rename, update --restart"
run_capture docker top runner
check_eq "$RC" 0 "top exit status ($OUT)"
check_match "$(head -1 <<<"$OUT")" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' "top header"
check_match "$(sed -n 2p <<<"$OUT")" '^root +[0-9]+ +[0-9]+ .* sleep 300$' "top row"
check_eq "$(docker top runner -o pid,comm | awk 'NR > 1 {print $2}')" "sleep" "top -o pid,comm"
run_capture docker top exit3
check_eq "$RC" 1 "top of a stopped container exit status"
check_contains "$OUT" "is not running" "top of a stopped container message"
run_capture docker rename runner sprinter
check_eq "$RC/$OUT" "0/" "rename"
check_eq "$(insp '{{.Name}}' "$id_d")" "/sprinter" "inspect after rename"
check_eq "$(docker ps --format '{{.Names}}')" "sprinter" "ps after rename"
run_capture docker rename sprinter exit3
check_eq "$RC" 1 "rename to a taken name exit status"
check_contains "$OUT" 'Conflict. The container name "/exit3" is already in use' "rename to a taken name message"
run_capture docker update --restart on-failure:3 sprinter
check_eq "$RC/$OUT" "0/sprinter" "update --restart on-failure:3"
check_eq "$(insp '{{json .HostConfig.RestartPolicy}}' sprinter)" '{"Name":"on-failure","MaximumRetryCount":3}' "RestartPolicy after update"
docker update --restart no sprinter >/dev/null

step "rm: running without -f is refused as by dockerd; rm -f; nothing left behind"
run_capture docker rm sprinter
check_eq "$RC" 1 "rm of a running container exit status"
check_eq "$OUT" "Error response from daemon: cannot remove container \"/sprinter\": container is running: stop the container before removing or force remove" "rm of a running container message"
run_capture docker rm -f sprinter
check_eq "$RC/$OUT" "0/sprinter" "rm -f of a running container"
check_gone "$id_d" "rm -f of a running container"
id_ex=$(insp '{{.Id}}' exit3)
run_capture docker rm exit3
check_eq "$RC/$OUT" "0/exit3" "rm of an exited container"
check_gone "$id_ex" "rm of an exited container"
run_capture docker rm nosuch
check_eq "$RC/$OUT" "1/Error response from daemon: No such container: nosuch" "rm nosuch"

step "wait"
docker run -d --name waited busybox sh -c 'sleep 0.5; exit 6' >/dev/null
run_capture docker wait waited
check_eq "$RC/$OUT" "0/6" "wait prints the exit code"
run_capture docker wait waited
check_eq "$RC/$OUT" "0/6" "wait of an exited container"
run_capture docker wait nosuch
check_eq "$RC" 1 "wait nosuch exit status"
check_contains "$OUT" "No such container: nosuch" "wait nosuch message"

step "diff and export of a stopped container"
docker run --name dx busybox sh -c 'echo a >/tmp/new; rm /bin/ls' >/dev/null
check_eq "$(docker diff dx | tr '\n' ' ')" "C /bin D /bin/ls C /tmp A /tmp/new " "diff: changed, deleted and added paths as docker prints them"
run_capture docker export -o "$WORK/dx.tar" dx
check_eq "$RC" 0 "export -o ($OUT)"
listing=$(tar -tf "$WORK/dx.tar")
check_contains "$listing" "tmp/new" "export holds the file the container wrote"
grep -qx 'bin/ls' <<<"$listing" && check_fail "export still holds the file the container deleted"
check_contains "$(docker export dx | tar -xOf - tmp/new)" "a" "export to stdout: the file's content"
docker rm dx >/dev/null
run_capture docker export nosuch
check_contains "$OUT" "No such container: nosuch" "export of a missing container"

step "container prune -f"
ids_exited=$(docker ps -aq --no-trunc --filter status=exited --filter status=created | sort)
docker run -d --name survivor busybox sleep 300 >/dev/null
run_capture docker container prune -f
check_eq "$RC" 0 "container prune -f exit status ($OUT)"
check_eq "$(grep -E '^[0-9a-f]{64}$' <<<"$OUT" | sort)" "$ids_exited" "container prune -f lists every stopped container it deleted"
check_contains "$OUT" "Total reclaimed space:" "container prune -f: reclaimed space line"
check_eq "$(docker ps -a --format '{{.Names}}')" "survivor" "container prune keeps the running container"
for id in $ids_exited; do check_gone "$id" "container prune (${id:0:12})"; done
docker rm -f survivor >/dev/null

# ---------------------------------------------------------------------------------------
step "events --since --until: create, start, die, destroy"
t_ev0=$(date +%s)
docker run --rm --name evented busybox true
sleep 1.1
t_ev1=$(date +%s)
run_capture timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" events --since "$t_ev0" --until "$t_ev1" \
  --filter container=evented --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}}'
check_eq "$RC" 0 "events --since --until returns ($OUT)"
check_eq "$(grep -E ' (create|start|die|destroy) ' <<<"$OUT" | cut -d' ' -f1,2 | tr '\n' ',')" \
  "container create,container start,container die,container destroy," "events of run --rm, in order"
check_contains "$OUT" "container die evented busybox" "events: Actor attributes name and image"
run_capture timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" events --since "$t_start" --until "$t_ev1" \
  --filter event=die --filter container=killme --format '{{.Action}} {{.Actor.Attributes.exitCode}}'
check_eq "$OUT" "die 137" "events --filter event=die: exitCode attribute"
run_capture timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" events --since "$t_start" --until "$t_ev1" \
  --filter container="$id_d" --filter event=pause --filter event=unpause --filter event=rename --format '{{.Action}}'
check_eq "$(tr '\n' ' ' <<<"$OUT")" "pause unpause rename " "events: pause, unpause, rename"

# ---------------------------------------------------------------------------------------
step "restart policies: on-failure:2, always, and docker stop suppressing restarts"
docker run -d --name onfail --restart on-failure:2 busybox sh -c 'exit 1' >/dev/null
rc_of() { [ "$(insp '{{.RestartCount}} {{.State.Status}}' "$1")" = "$2" ]; }
wait_for 15 rc_of onfail "2 exited" || true
sleep 1
check_eq "$(insp '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' onfail)" "2 exited 1" "on-failure:2 with exit 1: restarted twice, then exited"
check_eq "$(insp '{{json .HostConfig.RestartPolicy}}' onfail)" '{"Name":"on-failure","MaximumRetryCount":2}' "on-failure:2 RestartPolicy"
docker run -d --name onfail0 --restart on-failure busybox true >/dev/null
sleep 1
check_eq "$(insp '{{.RestartCount}} {{.State.Status}}' onfail0)" "0 exited" "on-failure with exit 0: no restart"
docker run -d --name always --restart always busybox sh -c 'sleep 0.3; exit 0' >/dev/null
count_at_least() { (($(insp '{{.RestartCount}}' "$1") >= $2)); }
wait_for 15 count_at_least always 2 || check_fail "--restart always with exit 0: RestartCount is $(insp '{{.RestartCount}}' always) after 15 s"
check_match "$(docker ps -a --filter name=always --format '{{.Status}}')" '^(Up|Restarting \(0\))' "ps STATUS of an always-restarting container"
run_capture docker stop -t 1 always
check_eq "$RC/$OUT" "0/always" "stop of an always-restarting container"
n=$(insp '{{.RestartCount}}' always)
sleep 1.5
check_eq "$(insp '{{.RestartCount}} {{.State.Status}}' always)" "$n exited" "docker stop suppresses further restarts"
run_capture docker run --rm --restart always busybox true
check_eq "$RC" 125 "run --rm --restart always exit status"
check_contains "${OUT,,}" "restart" "run --rm --restart always message names the conflict"
run_capture docker run -d --restart bogus busybox true
check_eq "$RC" 125 "run --restart bogus exit status"

# ---------------------------------------------------------------------------------------
step "live restore: kill -9 of berthd with containers running, exiting and killed meanwhile"
docker run -d --name ticker busybox sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done' >/dev/null
docker run -d --name alw --restart always busybox sleep 1000 >/dev/null
docker run -d --name unless --restart unless-stopped busybox sh -c 'trap "exit 0" TERM; sleep 1000 & wait' >/dev/null
sleep 0.3
docker stop unless >/dev/null
docker run -d --name five busybox sh -c 'sleep 1.5; exit 5' >/dev/null
alw_pid=$(insp '{{.State.Pid}}' alw)
ticks_before=$(docker logs ticker 2>&1 | wc -l)
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null || true
kill -9 "$alw_pid" # its process dies while berthd is down
sleep 2.5          # five exits meanwhile; ticker keeps printing
start_berthd b1
wait_for 5 state_is five exited || true
check_match "$(docker ps --filter name=ticker --format '{{.Status}}')" '^Up ' "after the restart: the running container is still Up"
check_eq "$(insp '{{.State.Status}} {{.State.Running}}' ticker)" "running true" "after the restart: inspect of the running container"
ticks=$(docker logs ticker 2>&1)
n_ticks=$(wc -l <<<"$ticks")
((n_ticks >= ticks_before + 8)) || check_fail "logs after the restart: $n_ticks lines, $ticks_before before the kill: the lines printed while berthd was down are missing"
check_eq "$(awk '{print $2}' <<<"$ticks" | awk '$1 != NR' | head -1)" "" "logs after the restart: every line, in order, none lost"
run_capture docker stop -t 1 ticker
check_eq "$RC/$OUT" "0/ticker" "stop of a container restored after the restart"
check_eq "$(insp '{{.State.Status}}' ticker)" "exited" "restored container stopped"
check_match "$(docker ps -a --filter name=five --format '{{.Status}}')" '^Exited \(5\) ' "ps: the container that exited while berthd was down shows Exited (5)"
check_eq "$(insp '{{.State.ExitCode}}' five)" "5" "inspect ExitCode of the container that exited while berthd was down"
alw_running() { [ "$(insp '{{.State.Running}}' alw)" = true ] && [ "$(insp '{{.State.Pid}}' alw)" != "$alw_pid" ]; }
wait_for 10 alw_running || true
check_eq "$(insp '{{.State.Status}}' alw)" "running" "--restart always container killed while berthd was down runs again"
[ "$(insp '{{.State.Pid}}' alw)" != "$alw_pid" ] || check_fail "--restart always: the same Pid $alw_pid after the restart"
sleep 0.5
check_eq "$(insp '{{.State.Status}}' unless)" "exited" "unless-stopped stopped by hand stays stopped across a daemon restart"

step "after the restart: rm -f of everything leaves nothing behind"
all_ids=$(docker ps -aq --no-trunc)
run_capture docker rm -f $all_ids
check_eq "$RC" 0 "rm -f of every container ($OUT)"
for id in $all_ids; do check_gone "$id" "rm -f after the daemon restart (${id:0:12})"; done
check_eq "$(docker ps -aq)" "" "no container left"
check_eq "$(container_ids | tr '\n' ' ')" "" "no container directory left in the data or exec root"

finish_checks "docker CLI against berthd (containers)"
