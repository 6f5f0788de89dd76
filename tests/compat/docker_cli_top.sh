#!/usr/bin/env bash
# `docker top` with ps options, the real docker CLI against a berthd of this test's own and
# against Debian's dockerd, the same container in each: the same titles, the same processes
# (only the container's, the command's arguments in the last column), the same refusals
# (a table without PID, another column renamed PID, ps's own failure), and the top event.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd top
start_dockerd
bdocker import "$tarball" busybox >/dev/null
ddocker import "$tarball" busybox >/dev/null
defer 'ddocker rm -f $(ddocker ps -aq) >/dev/null 2>&1 || true'
defer 'bdocker rm -f $(bdocker ps -aq) >/dev/null 2>&1 || true'
for d in bdocker ddocker; do
  $d run -d --name tp busybox sh -c 'sleep 1000 & sleep 999 & wait' >/dev/null
  $d create --name idle busybox true >/dev/null
done
since=$(date +%s.%N)

# cells TOP-OUTPUT COLUMN...: the named columns of each row, rows sorted.
cells() {
  awk -v cols="$2" 'NR == 1 {n = split(cols, want, ","); for (i = 1; i <= NF; i++) at[$i] = i; next}
    {line = ""; for (j = 1; j <= n; j++) {c = at[want[j]]; v = c == NF + 0 && want[j] ~ /CMD|COMMAND/ ? substr($0, index($0, $c)) : $c; line = line (j > 1 ? "|" : "") v} print line}' <<<"$1" | sort
}
for args in "" "-o pid,comm" "aux" "-eo pid,user,args" "x" "-o pid=PID" "-L" "-o pid,ppid,args"; do
  step "docker top tp $args"
  run_capture bdocker top tp $args
  b=$OUT brc=$RC
  run_capture ddocker top tp $args
  check_eq "$brc" "$RC" "exit status"
  check_eq "$(head -1 <<<"$b" | tr -s ' ')" "$(head -1 <<<"$OUT" | tr -s ' ')" "titles"
  check_eq "$(($(wc -l <<<"$b") - 1))" "3" "the container's three processes"
  last=$(head -1 <<<"$b" | awk '{print $NF}')
  [ "$last" = PID ] || check_eq "$(cells "$b" "$last")" "$(cells "$OUT" "$last")" "the $last column"
done

step "pids are the host's, and only the container's"
pid1=$(bdocker inspect -f '{{.State.Pid}}' tp)
check_eq "$(bdocker top tp -o pid,comm | awk 'NR > 1 && $2 == "sh" {print $1}')" "$pid1" "the first process is State.Pid"

step "what both refuse"
for args in "-o comm" "-o user=PID" "f"; do
  run_capture bdocker top tp $args
  b=$OUT brc=$RC
  run_capture ddocker top tp $args
  check_eq "$brc $b" "$RC $OUT" "docker top tp $args"
done
run_capture bdocker top idle
check_eq "$RC" 1 "a container that is not running"
check_match "$OUT" "^Error response from daemon: Container [0-9a-f]{64} is not running$" "its message"
run_capture bdocker top nosuch
check_eq "$OUT" "Error response from daemon: No such container: nosuch" "a missing container"

step "each top is an event"
check_eq "$(bdocker events --since "$since" --until "$(date +%s.%N)" --filter event=top --format '{{.Actor.Attributes.name}}' | sort -u)" "tp" "top events"

finish_checks docker_cli_top
