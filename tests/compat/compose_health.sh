#!/usr/bin/env bash
# Healthchecks as Debian's docker-compose 1.29 relies on them, against a berthd of this test's
# own: `depends_on: condition: service_healthy` starts the dependent service only once its
# dependency's probes pass, and refuses it when the dependency turns unhealthy. And a probe
# in flight is listed in inspect's ExecIDs and answers GET /exec/{id}/json, as dockerd's.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

compose_project chealth hcproj
defer 'compose down -t 0 >/dev/null 2>&1 || true'
defer remove_test_objects

mkdir -p "$WORK/app"
cat >"$WORK/app/docker-compose.yml" <<'EOF'
version: "2.4"
services:
  db:
    image: busybox
    # Ready two seconds after the start: the dependent must wait for it.
    command: sh -c 'trap "exit 0" TERM; sleep 2; touch /tmp/ready; sleep 600 & wait'
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 500ms
      timeout: 2s
      retries: 30
  app:
    image: busybox
    command: sh -c 'trap "exit 0" TERM; sleep 600 & wait'
    depends_on:
      db:
        condition: service_healthy
  sick:
    image: busybox
    command: sh -c 'trap "exit 0" TERM; sleep 600 & wait'
    healthcheck:
      test: ["CMD", "false"]
      interval: 300ms
      retries: 2
  needs_sick:
    image: busybox
    command: "true"
    depends_on:
      sick:
        condition: service_healthy
EOF

ns() { date -d "$1" +%s%N; }

step "service_healthy: app starts once db is healthy"
run_capture compose up -d app
check_eq "$RC" 0 "compose up -d app ($OUT)"
db=$(compose ps -q db)
app=$(compose ps -q app)
check_eq "$(docker inspect -f '{{.State.Health.Status}}' "$db")" "healthy" "db is healthy when up returns"
check_eq "$(docker inspect -f '{{.State.Running}}' "$app")" "true" "app runs"
# The first passing probe ended before app started.
healthy_at=$(docker inspect -f '{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End}} {{end}}{{end}}' "$db" | awk '{print $1}')
app_start=$(docker inspect -f '{{.State.StartedAt}}' "$app")
db_start=$(docker inspect -f '{{.State.StartedAt}}' "$db")
[ -n "$healthy_at" ] && (($(ns "$healthy_at") <= $(ns "$app_start"))) ||
  check_fail "app started ($app_start) before db was healthy ($healthy_at)"
(($(ns "$app_start") - $(ns "$db_start") >= 2000000000)) ||
  check_fail "app started less than 2 s after db ($db_start, $app_start)"

step "service_healthy of a dependency that turns unhealthy: up fails, the dependent does not run"
run_capture compose up -d needs_sick
check_eq "$RC" 1 "compose up -d needs_sick fails"
check_contains "$OUT" "is unhealthy" "compose says why"
check_eq "$(docker inspect -f '{{.State.Health.Status}}' "$(compose ps -q sick)")" "unhealthy" "sick is unhealthy"
ns_id=$(compose ps -a -q needs_sick 2>/dev/null || true)
[ -z "$ns_id" ] || check_eq "$(docker inspect -f '{{.State.StartedAt}}' "$ns_id")" "0001-01-01T00:00:00Z" "needs_sick never started"

step "a probe in flight is in ExecIDs and can be inspected"
docker run -d --name slowprobe --health-cmd 'sleep 2' --health-interval 300ms busybox sleep 600 >/dev/null
probe_listed() { [ "$(docker inspect -f '{{len .ExecIDs}}' slowprobe 2>/dev/null)" = 1 ]; }
wait_for 10 probe_listed || check_fail "the running probe is listed in ExecIDs ($(docker inspect -f '{{json .ExecIDs}}' slowprobe))"
eid=$(docker inspect -f '{{index .ExecIDs 0}}' slowprobe 2>/dev/null || true)
if [ -n "$eid" ]; then
  ej=$(curl -s --unix-socket "$BERTHD_SOCK" "http://berthd/exec/$eid/json")
  check_contains "$ej" '"Running":true' "GET /exec/{probe}/json while it runs"
  check_contains "$ej" '"arguments":["-c","sleep 2"]' "the probe's command in its exec inspect"
  gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" "http://berthd/exec/$eid/json")" = 404 ]; }
  wait_for 10 gone || check_fail "a finished probe is forgotten, as dockerd's"
fi
docker rm -f slowprobe >/dev/null

finish_checks compose_health
