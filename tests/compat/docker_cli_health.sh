#!/usr/bin/env bash
# Healthchecks with the real docker CLI against a berthd of this test's own: --health-* flags
# and an image's HEALTHCHECK, State.Health (status, streak, the last five results), ps's
# "(healthy)" and --filter health=, health_status events, a probe past its timeout, dockerd's
# bounds on the durations, the health kept across a berthd restart, and berth's own flags.
# Failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

BERTH=${BERTH:-$(dirname "$RUNTIME")/berth}
tarball=$(busybox_tar)
start_berthd health1
export DOCKER_HOST="unix://$BERTHD_SOCK"
docker() { "$DOCKER_CLI" "$@"; }
bberth() { "$BERTH" "$@"; }
health() { insp '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
health_is() { [ "$(health "$1")" = "$2" ]; }

docker import --change 'CMD ["sh"]' "$tarball" busybox:latest >/dev/null
docker import --change 'CMD ["sh"]' --change 'HEALTHCHECK CMD echo from-image' "$tarball" hc:latest >/dev/null
defer 'docker rm -f h1 h2 h3 h4 h5 >/dev/null 2>&1'
since=$(date +%s)

step "--health-cmd: starting, then healthy, then unhealthy after the retries"
# The start period keeps the failures before /tmp/ok exists from counting however slow the
# exec below is; once healthy, failures count (Docker's rule).
docker run -d --name h1 --health-cmd 'test -e /tmp/ok' --health-interval 300ms --health-retries 2 \
  --health-start-period 60s busybox sleep 600 >/dev/null
check_eq "$(health h1)" "starting" "health right after the start"
check_match "$(docker ps --filter name=h1 --format '{{.Status}}')" '^Up .* \(health: starting\)$' "ps while starting"
check_eq "$(docker ps --filter health=starting --format '{{.Names}}')" "h1" "ps --filter health=starting"
docker exec h1 touch /tmp/ok
wait_for 10 health_is h1 healthy || check_fail "h1 never became healthy: $(health h1)"
check_match "$(docker ps --filter name=h1 --format '{{.Status}}')" '^Up .* \(healthy\)$' "ps when healthy"
check_eq "$(docker ps --filter health=healthy --format '{{.Names}}')" "h1" "ps --filter health=healthy"
check_eq "$(insp '{{.State.Health.FailingStreak}}' h1)" "0" "streak when healthy"
docker exec h1 rm /tmp/ok
wait_for 10 health_is h1 unhealthy || check_fail "h1 never became unhealthy: $(health h1)"
check_match "$(docker ps --filter name=h1 --format '{{.Status}}')" '^Up .* \(unhealthy\)$' "ps when unhealthy"
check_eq "$(docker ps --filter health=unhealthy --format '{{.Names}}')" "h1" "ps --filter health=unhealthy"
check_match "$(insp '{{.State.Health.FailingStreak}}' h1)" '^[2-9]$' "streak when unhealthy"
# Probes go on every 300 ms: unhealthy can come after four results on a slow machine, five
# follow within a probe or two.
log_len() { docker inspect -f '{{len .State.Health.Log}}' h1; }
log_full() { [ "$(log_len)" -ge 5 ]; }
wait_for 10 log_full || check_fail "the log never held five results: $(log_len)"
log=$(docker inspect -f '{{json .State.Health.Log}}' h1)
check_eq "$(python3 -c 'import json,sys; l=json.loads(sys.argv[1]); print(len(l), l[-1]["ExitCode"], all(e["Start"] <= e["End"] for e in l))' "$log")" "5 1 True" "the log keeps the last five results"
check_eq "$(docker ps --filter health=none --format '{{.Names}}')" "" "ps --filter health=none leaves out checked containers"

step "health_status events, with docker's action text and its event=health_status filter"
events=$(docker events --since "$since" --until "$(date +%s.%N)" --filter container=h1 --filter event=health_status --format '{{.Action}}')
check_eq "$events" "health_status: healthy
health_status: unhealthy" "health_status events"
check_contains "$(docker events --since "$since" --until "$(date +%s.%N)" --filter container=h1 --format '{{.Action}}' | sort -u)" "exec_start: /bin/sh -c test -e /tmp/ok" "probes are execs, as dockerd's"

step "the image's HEALTHCHECK, its command kept when only the interval is given"
docker run -d --name h2 --health-interval 200ms hc:latest sleep 600 >/dev/null
check_eq "$(insp '{{json .Config.Healthcheck}}' h2)" '{"Test":["CMD-SHELL","echo from-image"],"Interval":200000000}' "merged Healthcheck"
wait_for 10 health_is h2 healthy || check_fail "h2 never became healthy: $(health h2)"
check_eq "$(insp '{{json (index .State.Health.Log 0).Output}}' h2)" '"from-image\n"' "the probe's output"

step "--no-healthcheck: no State.Health, health=none"
docker run -d --name h3 --no-healthcheck hc:latest sleep 600 >/dev/null
check_eq "$(docker inspect -f '{{json .State.Health}}' h3)" "null" "State.Health without a check"
check_eq "$(docker ps --filter health=none --format '{{.Names}}')" "h3" "ps --filter health=none"
check_match "$(docker ps --filter name=h3 --format '{{.Status}}')" '^Up [^(]*$' "ps without a check"

step "a probe past its timeout is killed and counted as -1"
docker run -d --name h4 --health-cmd 'sleep 30' --health-timeout 200ms --health-interval 100ms \
  --health-retries 1 busybox sleep 600 >/dev/null
wait_for 10 health_is h4 unhealthy || check_fail "h4 never became unhealthy: $(health h4)"
check_eq "$(insp '{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}' h4)" \
  "-1 Health check exceeded timeout (200ms)" "timeout result"
sleep 1
# One probe runs at a time; those past their timeout are gone.
check_match "$(docker top h4 | grep -c 'sleep 30' || true)" '^[01]$' "timed-out probes are killed"

step "dockerd's bounds on the durations"
run_capture docker run -d --health-cmd true --health-interval 500us busybox true
check_contains "$OUT" "Interval in Healthcheck cannot be less than 1ms" "an interval under 1ms"
check_eq "$RC" 125 "an interval under 1ms: exit status"

step "the health survives a berthd restart, and the checks go on"
stop_pid "$BERTHD_PID" berthd
start_berthd health1
# Again: the clean-ups run last first, so the one above would find this berthd stopped.
defer 'docker rm -f h1 h2 h3 h4 h5 >/dev/null 2>&1'
check_eq "$(health h1)" "unhealthy" "h1's health after the restart"
check_eq "$(docker inspect -f '{{len .State.Health.Log}}' h1)" "5" "h1's log after the restart"
docker exec h1 touch /tmp/ok
wait_for 10 health_is h1 healthy || check_fail "h1's checks did not go on after the restart: $(health h1)"

step "a stopped container is unhealthy; a start begins with starting again"
docker stop -t 1 h2 >/dev/null
check_eq "$(health h2)" "unhealthy" "health of a stopped container"
docker start h2 >/dev/null
check_eq "$(health h2)" "starting" "health after a new start"
wait_for 10 health_is h2 healthy || check_fail "h2 never became healthy again: $(health h2)"

step "berth run's flags"
run_capture bberth run -d --no-healthcheck --health-cmd true busybox true
check_contains "$OUT" "--no-healthcheck conflicts with --health-* options" "berth: --no-healthcheck with --health-cmd"
run_capture bberth run -d --health-interval 5 busybox true
check_contains "$OUT" 'invalid argument "5" for "--health-interval" flag' "berth: a duration without a unit"
bberth run -d --name h5 --health-cmd 'exit 0' --health-interval 200ms --health-start-period 10s \
  --health-start-interval 100ms --health-timeout 2s --health-retries 4 busybox sleep 600 >/dev/null
check_eq "$(insp '{{json .Config.Healthcheck}}' h5)" '{"Test":["CMD-SHELL","exit 0"],"Interval":200000000,"Timeout":2000000000,"StartPeriod":10000000000,"StartInterval":100000000,"Retries":4}' "berth: the Healthcheck sent"
wait_for 10 health_is h5 healthy || check_fail "h5 never became healthy: $(health h5)"
check_match "$(bberth ps --filter name=h5 --format '{{.Status}}')" '^Up .* \(healthy\)$' "berth ps"

finish_checks docker_cli_health
