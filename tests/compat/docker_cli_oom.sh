#!/usr/bin/env bash
# A container that outgrows its memory, seen through the real docker CLI against a berthd of
# this test's own: the kernel kills it, inspect says OOMKilled, `docker events --filter
# event=oom` shows the oom before the die, and a restart policy sees each exit (137) and
# restarts it until its count runs out. A kill of a child process is an oom event at once,
# while PID 1 goes on running, and only one. A container that stays under its limit is not
# reported, nor is one whose kill came from `docker kill`.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd oom
docker() { bdocker "$@"; }
docker import "$tarball" busybox >/dev/null
defer 'docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true'
# A shell that holds 64 MiB in a variable: far beyond a 16 MiB limit without swap.
hog='a=$(head -c 67108864 /dev/zero | tr "\000" x); echo survived'
since=$(date +%s)

step "a hog under -m 16m --memory-swap 16m is killed by the kernel"
run_capture docker run --name hog -m 16m --memory-swap 16m busybox sh -c "$hog"
check_eq "$RC" 137 "docker run's exit status"
check_not_contains "$OUT" "survived" "the hog did not finish"
check_eq "$(insp '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}' hog)" "true 137 exited" "inspect's State"
events() {
  docker events --since "$since" --until "$(date +%s.%N)" --filter "container=$1" \
    --filter event=oom --filter event=die --filter event=start --format '{{.Action}}' | tr '\n' ' '
}
check_match "$(events hog)" '^start (oom )+die $' "oom comes before die"
# The kernel may take a second process of the pipeline before the first one's memory is freed:
# each kill is an event (the child step below holds them to the cgroup's own count).
check_eq "$(docker events --since "$since" --until "$(date +%s.%N)" --filter event=oom --format '{{.Type}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}}' | sort -u)" \
  "container hog busybox" "--filter event=oom alone"

step "the restart policy sees the OOM exit"
docker run -d --name again --restart on-failure:2 -m 16m --memory-swap 16m busybox sh -c "$hog" >/dev/null
wait_for 30 bash -c "[ \"\$(DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI inspect -f '{{.State.Status}} {{.RestartCount}}' again)\" = 'exited 2' ]" ||
  check_fail "on-failure:2 restarts twice then stops: $(insp '{{.State.Status}} {{.RestartCount}}' again)"
check_eq "$(insp '{{.State.OOMKilled}} {{.State.ExitCode}}' again)" "true 137" "the last run's State"
check_match "$(events again)" '^(start (oom )+die ){3}$' "three runs, each killed"

step "a child's kill is an oom event while the container runs on"
# PID 1, a shell, starts the hog as its child and waits; the OOM killer takes the hog, the
# biggest process in the cgroup.
docker run -d --name child -m 16m --memory-swap 16m -e HOG="$hog" busybox \
  sh -c 'sh -c "$HOG"; echo child-gone; sleep 1000' >/dev/null
wait_for 20 bash -c "DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI logs child 2>&1 | grep -q child-gone" ||
  check_fail "the hog in the child container was not killed: $(docker logs child 2>&1)"
# One oom per kill, as the cgroup's oom_kill counter counts them: under load the kernel may take
# a second process of the pipeline before the first one's memory is freed.
id=$(docker inspect -f '{{.Id}}' child)
cgroup_kills() {
  local f
  for f in "/sys/fs/cgroup/memory/berth/$id/memory.oom_control" "/sys/fs/cgroup/berth/$id/memory.events"; do
    [ -r "$f" ] && awk '$1 == "oom_kill" {print $2}' "$f" && return
  done
}
live_ooms() {
  docker events --since "$since" --until "$(date +%s.%N)" --filter event=oom --filter container=child \
    --format '{{.Action}} {{.Actor.Attributes.name}}'
}
one_per_kill() { local k; k=$(cgroup_kills); [ "${k:-0}" -ge 1 ] && [ "$(live_ooms | grep -c '^oom child$')" = "$k" ]; }
wait_for 10 one_per_kill || check_fail "oom events while it runs: '$(live_ooms)', the cgroup's kills: $(cgroup_kills)"
check_match "$(live_ooms)" $'^oom child(\noom child)*$' "oom events of the child's kills, before any exit"
kills=$(cgroup_kills)
check_eq "$(docker ps --filter name=child --format '{{.Names}} {{.State}}')" "child running" "docker ps while PID 1 lives"
check_eq "$(insp '{{.State.Running}} {{.State.OOMKilled}}' child)" "true true" "inspect says OOMKilled at once, as dockerd"
docker stop -t 1 child >/dev/null
check_eq "$(insp '{{.State.OOMKilled}}' child)" "true" "its run saw a kill"
check_eq "$(events child)" "start $(printf 'oom %.0s' $(seq "$kills"))die " "the exit does not report the kills again"

step "no OOM without one"
docker run --name fits -m 32m busybox sh -c 'a=$(head -c 4194304 /dev/zero | tr "\000" x); echo fits' >/dev/null
check_eq "$(insp '{{.State.OOMKilled}} {{.State.ExitCode}}' fits)" "false 0" "a container under its limit"
docker run -d --name killed -m 32m busybox sleep 100 >/dev/null
docker kill killed >/dev/null
docker wait killed >/dev/null
check_eq "$(insp '{{.State.OOMKilled}} {{.State.ExitCode}}' killed)" "false 137" "a SIGKILL from docker kill"
check_eq "$(events fits)$(events killed)" "start die start die " "no oom events for them"

finish_checks docker_cli_oom
