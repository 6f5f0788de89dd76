#!/usr/bin/env bash
# The real docker CLI's `stats` against a berthd of this test's own: the table of running
# containers, --all with a stopped one, --format, -m's limit as the limit shown, a memory hog's
# usage rising, a busy container's CPU, its processes; and the endpoint itself: a stream of a
# frame a second whose precpu is the frame before, stream=false (a second one pairing with
# the first), one-shot, a stopped container's empty answer, a missing container's 404, a
# stream ended by the container's removal. berth's own `stats` shows the same containers.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

BERTH=${BERTH:-$(dirname "$RUNTIME")/berth}
tarball=$(busybox_tar)
start_berthd stats
docker() { bdocker "$@"; }
docker import "$tarball" busybox >/dev/null
defer 'docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true'
api() { curl -s --unix-socket "$BERTHD_SOCK" "http://berthd/v1.44$1"; }
# json_get FILTER: a python expression over `j`, the JSON on stdin.
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

docker run -d --name plain busybox sleep 1000 >/dev/null
docker run -d --name capped -m 64m busybox sleep 1000 >/dev/null
docker run -d --name busy busybox sh -c 'while :; do :; done' >/dev/null
docker run -d --name three busybox sh -c 'sleep 1000 & sleep 1000 & wait' >/dev/null
docker create --name idle busybox true >/dev/null

step "stats --no-stream: docker's header and a row for each running container"
run_capture docker stats --no-stream
check_eq "$RC" 0 "stats --no-stream exit status"
check_match "$(head -1 <<<"$OUT")" '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$' "header"
check_eq "$(tail -n +2 <<<"$OUT" | awk '{print $2}' | sort | tr '\n' ' ')" "busy capped plain three " "running containers listed"
check_match "$(grep ' plain ' <<<"$OUT")" '^[0-9a-f]{12} +plain +[0-9]+\.[0-9]{2}% +[0-9.]+[KMG]?i?B / [0-9.]+[KMG]iB +[0-9]+\.[0-9]{2}% +[0-9.]+k?B / [0-9.]+k?B +[0-9.]+[kM]?B / [0-9.]+[kM]?B +1$' "a row's columns"

step "--format, and -m 64m's limit as the container's limit"
check_match "$(docker stats --no-stream --format '{{.Name}}: {{.MemUsage}}' capped)" '^capped: [0-9.]+[KM]iB / 64MiB$' "-m 64m shows as the limit"
mem_perc=$(docker stats --no-stream --format '{{.MemPerc}}' capped)
check_match "$mem_perc" '^[0-9]+\.[0-9]{2}%$' "MemPerc"
check_match "$(docker stats --no-stream --format '{{.Name}} {{.PIDs}}' three)" '^three 3$' "three processes"
check_eq "$(docker stats --no-stream --no-trunc --format '{{.ID}}' plain)" "$(docker inspect -f '{{.Id}}' plain)" "--no-trunc keeps the whole id"
check_eq "$(docker stats --no-stream --format '{{.Container}}' plain)" "plain" "Container is the name given"
check_eq "$(docker stats --no-stream --format json plain | json_get 'j["Name"]')" "plain" "--format json"
busy_cpu=$(docker stats --no-stream --format '{{.CPUPerc}}' busy)
check_match "$busy_cpu" '^[0-9]+\.[0-9]{2}%$' "CPUPerc"
awk -v p="${busy_cpu%\%}" 'BEGIN {exit !(p > 1)}' || check_fail "a busy loop uses the CPU: $busy_cpu"
check_eq "$(docker stats --no-stream --format '{{.CPUPerc}}' plain)" "0.00%" "a sleeping container uses none"

step "a memory hog's usage rises"
mem_mib() { docker stats --no-stream --format '{{.MemUsage}}' capped | awk '{v=$1; u=v; sub(/[0-9.]+/, "", u); sub(/[KMG]iB|B/, "", v); m = u=="GiB" ? v*1024 : u=="MiB" ? v : u=="KiB" ? v/1024 : v/1048576; print int(m)}'; }
before=$(mem_mib)
docker exec capped dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null
after=$(mem_mib)
((after >= before + 38)) || check_fail "40 MB in /dev/shm shows: ${before}MiB before, ${after}MiB after"
awk -v p="$(docker stats --no-stream --format '{{.MemPerc}}' capped)" 'BEGIN {exit !(p+0 > 58)}' || check_fail "MemPerc of 40 of 64 MiB"

step "--all shows a container that is not running, with zeros"
check_match "$(docker stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.PIDs}}' | grep '^idle ')" '^idle 0\.00% 0B / 0B 0B / 0B 0$' "a created container"
docker stop -t 0 plain >/dev/null
check_eq "$(docker stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' plain)" "plain 0B / 0B 0" "a stopped container by name"
check_not_contains "$(docker stats --no-stream --format '{{.Name}}')" "plain" "a stopped container leaves the default list"

step "a missing container"
run_capture docker stats --no-stream nosuch
check_eq "$RC" 1 "exit status"
check_contains "$OUT" "No such container: nosuch" "message"

step "the endpoint: stream=false (twice), one-shot, a stopped container, a 404"
one=$(api "/containers/capped/stats?stream=false")
# Asked again within 2 s, the sample of the answer before is the precpu: no wait for a new one.
two=$(api "/containers/capped/stats?stream=false")
check_eq "$(python3 -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(b["preread"] == a["read"], b["precpu_stats"] == a["cpu_stats"], b["read"] != a["read"])
' "$one" "$two")" "True True True" "a second stream=false pairs with the first"
check_eq "$(json_get 'j["name"], j["id"] == "'"$(docker inspect -f '{{.Id}}' capped)"'"' <<<"$one")" "/capped True" "name and id"
check_eq "$(json_get 'j["memory_stats"]["limit"]' <<<"$one")" "67108864" "memory_stats.limit"
check_eq "$(json_get 'j["preread"] != "0001-01-01T00:00:00Z" and j["precpu_stats"]["system_cpu_usage"] < j["cpu_stats"]["system_cpu_usage"]' <<<"$one")" "True" "stream=false carries a previous sample"
check_eq "$(json_get 'sorted(j["networks"].keys())' <<<"$one")" "['eth0']" "networks by interface"
check_eq "$(json_get 'j["networks"]["eth0"]["rx_bytes"] > 0' <<<"$one")" "True" "eth0 received something"
check_eq "$(json_get '"usage" in j["memory_stats"] and "stats" in j["memory_stats"] and j["pids_stats"]["current"] > 0' <<<"$one")" "True" "memory and pids"
shot=$(api "/containers/capped/stats?stream=false&one-shot=true")
check_eq "$(json_get 'j["preread"], "system_cpu_usage" in j["precpu_stats"]' <<<"$shot")" "0001-01-01T00:00:00Z False" "one-shot has no previous sample"
stopped=$(api "/containers/plain/stats?stream=false")
check_eq "$(json_get 'j["read"], j["memory_stats"], j["pids_stats"], j["name"]' <<<"$stopped")" "0001-01-01T00:00:00Z {} {} /plain" "a stopped container's empty answer"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" http://berthd/v1.44/containers/nosuch/stats)" "404" "missing container"

step "the stream: a frame a second, each with the one before as precpu, until the container goes"
api "/containers/busy/stats" >"$WORK/stream" &
stream_pid=$!
defer "kill $stream_pid 2>/dev/null || true"
wait_for 10 bash -c "[ \$(wc -l <'$WORK/stream') -ge 3 ]" || check_fail "three frames within 10 s"
check_eq "$(python3 -c '
import json, sys
f = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[:3]]
print(f[0]["preread"], f[1]["precpu_stats"] == f[0]["cpu_stats"], f[2]["preread"] == f[1]["read"])
' "$WORK/stream")" "0001-01-01T00:00:00Z True True" "precpu and preread follow the frames"
docker rm -f busy >/dev/null
wait_for 5 bash -c "! kill -0 $stream_pid 2>/dev/null" || check_fail "the stream ends when the container is removed"

step "docker stats streaming: the table redrawn with the daemon's frames"
run_capture timeout -s KILL 3 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" stats --format '{{.Name}} {{.MemUsage}}' capped
check_match "$OUT" $'\e\\[Hcapped [0-9.]+[KM]iB / 64MiB' "a frame of the live table"

step "berth stats shows what docker stats shows"
check_eq "$(BERTH_HOST="unix://$BERTHD_SOCK" "$BERTH" stats --no-stream --format '{{.Name}}' | sort | tr '\n' ' ')" \
  "$(docker stats --no-stream --format '{{.Name}}' | sort | tr '\n' ' ')" "the same containers"
check_match "$(BERTH_HOST="unix://$BERTHD_SOCK" "$BERTH" stats --no-stream --format '{{.MemUsage}}' capped)" ' / 64MiB$' "the same limit"

finish_checks docker_cli_stats
