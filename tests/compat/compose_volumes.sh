#!/usr/bin/env bash
# Debian's docker-compose 1.29 against a berthd of this test's own: a project with a named
# volume, an anonymous one and a bind mount comes up, its data persists across down/up and
# a recreate, the host's edits reach the bind mount, and down -v removes the volumes.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

compose_project compose volproj
defer 'compose down -v >/dev/null 2>&1 || true'

mkdir -p "$WORK/app/conf"
echo first >"$WORK/app/conf/setting"
cat >"$WORK/app/docker-compose.yml" <<'EOF'
version: "3.7"
services:
  app:
    image: busybox
    # A shell that ends on TERM, so that down does not wait out the stop timeout.
    command: sh -c 'trap "exit 0" TERM; date +%s%N >>/data/starts; sleep 600 & wait'
    volumes:
      - appdata:/data
      - ./conf:/conf:ro
      - /cache
volumes:
  appdata:
    labels:
      purpose: compat
EOF

step "up: the named volume is made with compose's name and labels, the bind is the project's directory"
run_capture compose up -d
check_eq "$RC" 0 "compose up ($OUT)"
check_eq "$(docker volume ls -q -f name=${P}_appdata)" "${P}_appdata" "the named volume exists"
check_eq "$(docker volume inspect -f '{{index .Labels "com.docker.compose.project"}} {{index .Labels "com.docker.compose.volume"}} {{.Labels.purpose}}' ${P}_appdata 2>&1)" "$P appdata compat" "the volume's labels"
wait_for 20 compose exec -T app test -s /data/starts || check_fail "the service wrote to its volume"
check_eq "$(compose exec -T app cat /conf/setting 2>&1)" "first" "the bind mount shows the project's file"
echo second >"$WORK/app/conf/setting"
check_eq "$(compose exec -T app cat /conf/setting 2>&1)" "second" "the host's edit reaches the container"
run_capture compose exec -T app sh -c 'echo x >/conf/setting'
check_contains "$OUT" "Read-only file system" "the :ro bind is read-only"
compose exec -T app sh -c 'echo persisted >/data/f; echo cached >/cache/c'
cid=$(compose ps -q app)
check_eq "$(docker inspect -f '{{range .Mounts}}{{.Destination}}={{.Type}};{{end}}' "$cid" | tr ';' '\n' | sort | tr '\n' ' ')" " /cache=volume /conf=bind /data=volume " "Mounts of the service's container"

step "a recreate keeps the anonymous volume's data, as compose carries it over"
anon=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/cache"}}{{.Name}}{{end}}{{end}}' "$cid")
run_capture compose up -d --force-recreate
check_eq "$RC" 0 "compose up --force-recreate ($OUT)"
cid2=$(compose ps -q app)
[ "$cid2" != "$cid" ] || check_fail "the container was recreated"
check_eq "$(compose exec -T app cat /cache/c 2>&1)" "cached" "the anonymous volume's data survives a recreate"
check_eq "$(compose exec -T app cat /data/f 2>&1)" "persisted" "the named volume's data survives a recreate"

step "down keeps volumes; up again finds the data"
run_capture compose down
check_eq "$RC" 0 "compose down ($OUT)"
check_eq "$(docker ps -aq --filter label=com.docker.compose.project=$P)" "" "down removes the containers"
check_eq "$(docker volume ls -q -f name=${P}_appdata)" "${P}_appdata" "down keeps the named volume"
run_capture compose up -d
check_eq "$RC" 0 "compose up after down ($OUT)"
check_eq "$(compose exec -T app cat /data/f 2>&1)" "persisted" "the data persists across down and up"
starts() { [ "$(docker run --rm -v ${P}_appdata:/d busybox sh -c 'wc -l </d/starts')" = "$1" ]; }
wait_for 20 starts 3 || true
check_eq "$(docker run --rm -v ${P}_appdata:/d busybox sh -c 'wc -l </d/starts')" "3" "every start appended to the same volume"

step "down -v removes the named and anonymous volumes"
anon=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/cache"}}{{.Name}}{{end}}{{end}}' "$(compose ps -q app)")
run_capture compose down -v
check_eq "$RC" 0 "compose down -v ($OUT)"
check_eq "$(docker volume ls -q -f name=${P}_appdata)" "" "down -v removes the named volume"
check_eq "$(docker volume ls -q -f name="$anon")" "" "down -v removes the anonymous volume"
check_eq "$(cat "$WORK/app/conf/setting")" "second" "the bind mount's host files stay"

finish_checks compose_volumes
