#!/usr/bin/env bash
# `docker exec` with the real docker CLI against a berthd of this test's own: output, exit
# codes, stdin, env, workdir, user, a missing command, detached execs, a stopped container,
# a terminal, exec inspect and events; then the same checks through `berth exec`.
# Failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

BERTH=${BERTH:-$(dirname "$RUNTIME")/berth}
tarball=$(busybox_tar)
start_berthd exec1
# Both clients (the docker CLI and berth) talk to this daemon, in pipes and under script too.
export DOCKER_HOST="unix://$BERTHD_SOCK"
api() { curl -s --unix-socket "$BERTHD_SOCK" "$@"; }
bberth() { DOCKER_HOST="unix://$BERTHD_SOCK" "$BERTH" "$@"; }

bdocker import --change 'CMD ["sh"]' "$tarball" busybox:latest >/dev/null
bdocker run -d --name ex busybox sleep 300 >/dev/null
defer "bdocker rm -f ex >/dev/null 2>&1"

# The checks, with the client as $1 (the docker CLI or berth).
exec_checks() {
  local c=$1 who=$2

  step "$who: exec echo hi"
  run_capture "$c" exec ex echo hi
  check_eq "$RC" 0 "$who exec echo: exit status"
  check_eq "$OUT" "hi" "$who exec echo: output"

  step "$who: exit status of the command"
  run_capture "$c" exec ex sh -c 'exit 7'
  check_eq "$RC" 7 "$who exec sh -c 'exit 7'"

  step "$who: stdout and stderr"
  set +e
  out=$("$c" exec ex sh -c 'echo out; echo err >&2' 2>/dev/null)
  err=$("$c" exec ex sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)
  set -e
  check_eq "$out" "out" "$who exec: stdout"
  check_eq "$err" "err" "$who exec: stderr"

  step "$who: stdin with -i, closed at its end"
  run_capture sh -c "echo data | $c exec -i ex cat"
  check_eq "$RC" 0 "$who exec -i cat: exit status"
  check_eq "$OUT" "data" "$who exec -i cat: output"

  step "$who: without -i the command's stdin is empty"
  run_capture sh -c "echo data | $c exec ex cat"
  check_eq "$OUT" "" "$who exec cat without -i"

  step "$who: -e, -w, -u"
  run_capture "$c" exec -e A=b ex sh -c 'echo $A'
  check_eq "$OUT" "b" "$who exec -e A=b"
  run_capture "$c" exec ex sh -c 'echo $PATH'
  check_eq "$OUT" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$who exec: PATH"
  run_capture "$c" exec -w /tmp ex pwd
  check_eq "$OUT" "/tmp" "$who exec -w /tmp pwd"
  run_capture "$c" exec -u nobody ex id -u
  check_eq "$OUT" "65534" "$who exec -u nobody id -u"
  run_capture "$c" exec ex id -u
  check_eq "$OUT" "0" "$who exec id -u"

  step "$who: capabilities as the container's, all with --privileged"
  run_capture "$c" exec ex sh -c 'grep CapEff /proc/self/status'
  check_eq "$OUT" "CapEff:	00000000a80425fb" "$who exec: default capabilities"
  run_capture "$c" exec --privileged ex sh -c 'grep CapEff /proc/self/status'
  # All that berthd holds (a restricted test environment may lack some).
  check_eq "$OUT" "CapEff:	$(awk '/^CapBnd:/ {print $2}' /proc/self/status)" "$who exec --privileged: all capabilities"

  step "$who: a missing command"
  run_capture "$c" exec ex nosuch
  [[ "$RC" == 126 || "$RC" == 127 ]] || check_fail "$who exec nosuch: exit status 126/127, got $RC"
  check_contains "$OUT" 'exec: "nosuch": executable file not found in $PATH' "$who exec nosuch: message"

  step "$who: -d runs in the background"
  "$c" exec ex rm -f /tmp/f >/dev/null 2>&1 || true
  run_capture "$c" exec -d ex sh -c 'touch /tmp/f'
  check_eq "$RC" 0 "$who exec -d: exit status"
  check_eq "$OUT" "" "$who exec -d: prints nothing"
  for _ in $(seq 50); do "$c" exec ex test -e /tmp/f 2>/dev/null && break; sleep 0.05; done
  run_capture "$c" exec ex ls /tmp/f
  check_eq "$OUT" "/tmp/f" "$who exec -d touch, then ls"

  step "$who: a terminal (-it under script)"
  run_capture script -qec "$c exec -it ex sh -c 'tty; exit 3'" /dev/null
  check_eq "$RC" 3 "$who exec -it: exit status"
  check_match "$OUT" "/dev/pts/[0-9]+" "$who exec -it: tty"
  run_capture script -qec "$c exec -t ex sh -c 'echo \$TERM'" /dev/null
  check_contains "$OUT" "xterm" "$who exec -t: TERM"
}

exec_checks "$DOCKER_CLI" docker
step "docker: exec output stays out of the container's log"
check_eq "$(bdocker logs ex 2>&1)" "" "docker logs after execs"

step "docker: exec create, start, inspect through the API"
id=$(api -X POST -H 'Content-Type: application/json' -d '{"Cmd":["sh","-c","exit 5"],"AttachStdout":true}' http://b/containers/ex/exec | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
check_match "$id" '^[0-9a-f]{64}$' "exec create: Id"
insp=$(api "http://b/exec/$id/json")
check_contains "$insp" '"Running":false' "exec inspect before start: Running"
check_contains "$insp" '"ExitCode":null' "exec inspect before start: ExitCode"
api -X POST -H 'Content-Type: application/json' -d '{"Detach":true}' "http://b/exec/$id/start" >/dev/null
for _ in $(seq 50); do
  insp=$(api "http://b/exec/$id/json")
  [[ "$insp" == *'"ExitCode":5'* ]] && break
  sleep 0.05
done
check_contains "$insp" '"ExitCode":5' "exec inspect after the exit: ExitCode"
check_contains "$insp" '"entrypoint":"sh"' "exec inspect: ProcessConfig.entrypoint"
check_contains "$insp" '"CanRemove":false' "exec inspect: CanRemove"
code=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"Detach":true}' "http://b/exec/$id/start")
check_eq "$code" 409 "exec start twice: 409"
code=$(api -o /dev/null -w '%{http_code}' "http://b/exec/nosuch/json")
check_eq "$code" 404 "exec inspect of a missing exec: 404"
code=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"Cmd":[]}' http://b/containers/ex/exec)
check_eq "$code" 400 "exec create without a command: 400"

step "exec framing follows the start request's Tty, as dockerd's (docker-py starts tty execs so)"
# exec_bytes CREATE-BODY START-BODY: the first bytes of the hijacked answer's body, in hex.
exec_bytes() {
  local eid
  eid=$(api -X POST -H 'Content-Type: application/json' -d "$1" http://b/containers/ex/exec | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
  api -X POST -H 'Content-Type: application/json' -d "$2" "http://b/exec/$eid/start" | head -c 8 | od -An -tx1 | tr -d ' \n'
}
check_eq "$(exec_bytes '{"Cmd":["echo","hi"],"Tty":true,"AttachStdout":true}' '{"Detach":false,"Tty":false}')" \
  "0100000000000004" "exec created with Tty, started without: a stdout frame of 4 bytes (hi\r\n)"
check_eq "$(exec_bytes '{"Cmd":["echo","hi"],"Tty":true,"AttachStdout":true}' '{"Detach":false,"Tty":true}')" \
  "68690d0a" "exec created and started with Tty: raw bytes"
check_eq "$(exec_bytes '{"Cmd":["echo","hi"],"AttachStdout":true}' '{"Detach":false,"Tty":true}')" \
  "68690a" "exec without a pty, started with Tty: raw bytes"

check_eq "$(exec_bytes '{"cmd":["echo","hi"],"tty":true,"attachStdout":true,"detachKeys":"ctrl-x"}' '{"detach":false,"tty":true}')" \
  "68690d0a" "field names matched without case, as Go's decoder matches them"

step "docker: exec events"
ev=$(bdocker events --since 0 --until "$(($(date +%s) + 1))" --filter event=exec_die --format '{{.Action}} {{index .Actor.Attributes "execID"}} {{index .Actor.Attributes "exitCode"}}')
check_contains "$ev" "exec_die $id 5" "events: exec_die with execID and exitCode"

if [ -x "$BERTH" ]; then exec_checks "$BERTH" berth; fi

step "docker: the exec's HOME, as dockerd sets it"
check_eq "$(bdocker exec ex sh -c 'echo $HOME')" "/root" "exec: HOME of the container's user"
check_eq "$(bdocker exec -u 65534 ex sh -c 'echo $HOME $(id -u)')" "/ 65534" "exec -u: HOME of the exec's user"
check_eq "$(bdocker exec -u nobody -e HOME=/mine ex sh -c 'echo $HOME')" "/mine" "exec -e HOME wins"

step "exec in a stopped container"
bdocker stop -t 0 ex >/dev/null
run_capture bdocker exec ex echo hi
check_eq "$RC" 1 "docker exec on a stopped container: exit status"
check_contains "$OUT" "is not running" "docker exec on a stopped container: message"
code=$(api -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"Cmd":["true"]}' http://b/containers/ex/exec)
check_eq "$code" 409 "exec create on a stopped container: 409"
if [ -x "$BERTH" ]; then
  run_capture bberth exec ex echo hi
  check_eq "$RC" 1 "berth exec on a stopped container: exit status"
  check_contains "$OUT" "is not running" "berth exec on a stopped container: message"
fi

finish_checks docker_cli_exec
