#!/usr/bin/env bash
# The real docker CLI against a berthd of this test's own, for the logging drivers: json-file
# and local with rotation (max-size, max-file) and compression (rotated files as .gz, the live
# one plain), `docker logs` with --tail, -t, --since, --until and -f across rotations; the
# none driver; bad drivers and options refused at create in dockerd's words; daemon.json's
# log-driver and log-opts as defaults; and no line lost while berthd is killed -9 and
# started again.
# Every check prints what it does; failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

CG=/sys/fs/cgroup
# What a container may leave when berthd itself failed: its processes and its shim.
hard_cleanup() {
  local id pid
  for id in $(ls "$BERTHD_DIR/data/containers" 2>/dev/null | grep -E '^[0-9a-f]{64}$'); do
    for pid in $(cat "$CG"/*/berth/"$id"/cgroup.procs 2>/dev/null | sort -u); do kill -9 "$pid" 2>/dev/null || true; done
    for pid in $(pgrep -f "berth-shim --id $id " || true); do kill -9 "$pid" 2>/dev/null || true; done
  done
  return 0
}
defer hard_cleanup
BERTHD_DIR=$WORK/b1

tarball=$(busybox_tar)
start_berthd b1
docker() { bdocker "$@"; }
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1'
docker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null

# contiguous PREFIX TEXT: the lines of TEXT are "PREFIX n" with n going up by one.
contiguous() {
  awk -v p="$1" '$1 != p || (NR > 1 && $2 != prev + 1) {bad = 1} {prev = $2} END {exit bad}' <<<"$2"
}
# log_dir DRIVER ID: where the driver keeps the container's log files.
log_file() {
  if [ "$1" = local ]; then
    echo "$BERTHD_DIR/data/containers/$2/local-logs/container.log"
  else
    echo "$BERTHD_DIR/data/containers/$2/$2-json.log"
  fi
}

for driver in json-file local; do
  # ---------------------------------------------------------------------------------------
  step "$driver: max-size=1k max-file=3 compress=true: two rotated .gz files and the live one"
  id=$(docker run -d --name "rot-$driver" --log-driver "$driver" --log-opt max-size=1k \
    --log-opt max-file=3 --log-opt compress=true busybox \
    sh -c 'i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo "line $i"; done')
  check_eq "$(docker wait "rot-$driver")" 0 "$driver: the writer exited"
  f=$(log_file "$driver" "$id")
  check_eq "$(cd "$(dirname "$f")" && ls | grep "^$(basename "$f")" | tr '\n' ' ')" \
    "$(basename "$f") $(basename "$f").1.gz $(basename "$f").2.gz " "$driver: the files beside the log"
  for gz in "$f.1.gz" "$f.2.gz"; do
    gzip -t "$gz" 2>/dev/null || check_fail "$driver: $gz is not a whole gzip file"
  done
  gzip -t "$f" 2>/dev/null && check_fail "$driver: the live file $f is compressed"
  check_eq "$(insp '{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Config.compress}}' "rot-$driver")" \
    "$driver true" "$driver: inspect LogConfig"
  if [ "$driver" = json-file ]; then
    check_eq "$(insp '{{.LogPath}}' "rot-$driver")" "$f" "json-file: inspect LogPath"
  else
    check_eq "$(insp '{{.LogPath}}' "rot-$driver")" "" "local: no LogPath in inspect, as dockerd"
  fi

  step "$driver: docker logs reads the compressed files then the live one, in order"
  out=$(docker logs "rot-$driver" 2>&1)
  n=$(wc -l <<<"$out")
  contiguous line "$out" || check_fail "$driver: logs are not consecutive lines: $(head -3 <<<"$out" | tr '\n' '|')..."
  check_eq "$(tail -1 <<<"$out")" "line 500" "$driver: the last line"
  ((n > 20 && n < 500)) || check_fail "$driver: $n lines kept of 500 with three 1k files"
  if [ "$driver" = json-file ]; then
    check_eq "$n" "$( (zcat "$f.2.gz" "$f.1.gz"; cat "$f") | wc -l)" "json-file: as many lines as the files hold"
  else
    # local's records are far smaller than json-file's lines: more of them fit in 3k.
    ((n > $(docker logs rot-json-file 2>&1 | wc -l))) || check_fail "local: $n lines kept, not more than json-file's"
  fi
  check_eq "$(docker logs --tail 3 "rot-$driver" 2>&1 | tr '\n' ' ')" "line 498 line 499 line 500 " "$driver: --tail 3"
  check_eq "$(docker logs --tail $((n - 1)) "rot-$driver" 2>&1)" "$(tail -n +2 <<<"$out")" \
    "$driver: --tail reaching into the compressed files"
  check_eq "$(docker logs --tail 0 "rot-$driver" 2>&1)" "" "$driver: --tail 0"
  check_match "$(docker logs -t --tail 1 "rot-$driver" 2>&1)" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z line 500$' "$driver: -t"
  check_eq "$(docker logs --since 10m "rot-$driver" 2>&1 | wc -l)" "$n" "$driver: --since 10m"
  check_eq "$(docker logs --since "$(($(date +%s) + 60))" "rot-$driver" 2>&1)" "" "$driver: --since ahead"
  check_eq "$(docker logs --until 1 "rot-$driver" 2>&1)" "" "$driver: --until long ago"
  check_eq "$(docker logs --until "$(($(date +%s) + 60))" "rot-$driver" 2>&1 | wc -l)" "$n" "$driver: --until ahead"

  # ---------------------------------------------------------------------------------------
  step "$driver: logs -f follows across rotations, nothing lost or doubled"
  docker run -d --name "slow-$driver" --log-driver "$driver" --log-opt max-size=2k \
    --log-opt max-file=3 busybox \
    sh -c 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "tick $i"; [ $((i % 10)) = 0 ] && sleep 0.05; done' >/dev/null
  run_capture timeout 60 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" logs -f "slow-$driver"
  check_eq "$RC" 0 "$driver: logs -f returns once the container exits"
  contiguous tick "$OUT" || check_fail "$driver: logs -f lines not consecutive: $(tr '\n' '|' <<<"$OUT" | head -c 300)"
  check_eq "$(tail -1 <<<"$OUT")" "tick 400" "$driver: logs -f: the last line"
  kept=$(docker logs "slow-$driver" 2>&1 | wc -l)
  (($(wc -l <<<"$OUT") > kept)) || check_fail "$driver: logs -f gave $(wc -l <<<"$OUT") lines, no more than the $kept the files keep: it did not cross a rotation"
done

# ---------------------------------------------------------------------------------------
step "local defaults as dockerd's: 20m, 5 files, compressed"
docker create --name local-defaults --log-driver local busybox true >/dev/null
check_eq "$(insp '{{.HostConfig.LogConfig.Type}}' local-defaults)" "local" "local: inspect Type"
docker start -a local-defaults >/dev/null
check_eq "$(docker logs local-defaults 2>&1)" "" "local: an empty log"

# ---------------------------------------------------------------------------------------
step "none: nothing kept; docker logs says so in dockerd's words"
docker run -d --name quiet --log-driver none busybox echo hi >/dev/null
docker wait quiet >/dev/null
run_capture docker logs quiet
check_eq "$RC" 1 "logs of a none container: exit status"
check_contains "$OUT" "configured logging driver does not support reading" "logs of a none container: message"
check_eq "$(insp '{{.LogPath}}' quiet)" "" "none: no LogPath"

# ---------------------------------------------------------------------------------------
step "bad drivers and options: refused at create, nothing left"
before=$(docker ps -aq | wc -l)
bad() {
  local what=$1 msg=$2
  shift 2
  run_capture docker create "$@" busybox true
  check_eq "$RC" 1 "$what: exit status"
  check_contains "$OUT" "$msg" "$what: message"
}
bad "unknown driver" "logger: no log driver named 'bogus' is registered" --log-driver bogus
bad "unknown json-file option" "unknown log opt 'max-sise' for json-file log driver" --log-opt max-sise=1m
bad "bad max-size" "invalid size: 'abc'" --log-opt max-size=abc
bad "bad max-file" "strconv.Atoi: parsing \"x\": invalid syntax" --log-opt max-size=1m --log-opt max-file=x
bad "compress without rotation" "compress cannot be true when max-file is less than 2 or max-size is not set" --log-opt compress=true
bad "unknown local option" "unknown log opt 'foo' for log driver local" --log-driver local --log-opt foo=1
bad "local max-file 1 compressed" "compression cannot be enabled when max file count is 1" --log-driver local --log-opt max-file=1
run_capture docker run --rm --log-driver bogus busybox true
check_eq "$RC" 125 "run with an unknown driver: exit status"
check_eq "$(docker ps -aq | wc -l)" "$before" "no container left by the refused creates"

# ---------------------------------------------------------------------------------------
step "kill -9 of berthd while a local-driver container logs and rotates: no line lost"
docker run -d --name ticker --log-driver local --log-opt max-size=1k --log-opt max-file=10 busybox \
  sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.02; done' >/dev/null
sleep 0.5
before=$(docker logs ticker 2>&1 | wc -l)
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null || true
sleep 2
start_berthd b1
ticks=$(docker logs ticker 2>&1)
contiguous tick "$ticks" || check_fail "local: logs after the restart not consecutive: $(tr '\n' '|' <<<"$ticks" | head -c 300)"
(($(wc -l <<<"$ticks") > before + 20)) || check_fail "local: $(wc -l <<<"$ticks") lines after the restart, $before before: the lines written while berthd was down are missing"
id=$(docker inspect -f '{{.Id}}' ticker)
ls "$(dirname "$(log_file local "$id")")" | grep -q '\.gz$' || check_fail "local: rotated files compressed while berthd was down"
timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" logs -f --tail 2 ticker >"$WORK/follow.out" 2>&1 &
follower=$!
sleep 1
docker stop -t 1 ticker >/dev/null
wait $follower || check_fail "local: logs -f of the restored container did not end with it"
followed=$(cat "$WORK/follow.out")
contiguous tick "$followed" || check_fail "local: logs -f after the restart not consecutive: $(tr '\n' '|' <<<"$followed" | head -c 300)"
(($(wc -l <<<"$followed") > 10)) || check_fail "local: logs -f after the restart gave only: $followed"
docker rm -f ticker >/dev/null

# ---------------------------------------------------------------------------------------
step "daemon.json log-driver and log-opts are the defaults"
stop_pid "$BERTHD_PID" berthd
echo '{"log-driver": "local", "log-opts": {"max-size": "1k", "max-file": "2", "compress": "false"}}' \
  >"$BERTHD_DIR/daemon.json"
start_berthd b1
check_eq "$(docker info --format '{{.LoggingDriver}}')" "local" "info: LoggingDriver"
docker create --name dflt busybox true >/dev/null
check_eq "$(insp '{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Config}}' dflt)" \
  "local map[compress:false max-file:2 max-size:1k]" "a container naming no driver gets the default one and its options"
docker create --name own-size --log-driver local --log-opt max-size=5k busybox true >/dev/null
check_eq "$(insp '{{.HostConfig.LogConfig.Config}}' own-size)" \
  "map[compress:false max-file:2 max-size:5k]" "the container's own options win over the defaults"
docker create --name other --log-driver json-file busybox true >/dev/null
check_eq "$(insp '{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Config}}' other)" \
  "json-file map[]" "another driver does not get the default driver's options"
stop_pid "$BERTHD_PID" berthd
echo '{"log-driver": "local", "log-opts": {"max-size": "huge"}}' >"$BERTHD_DIR/daemon.json"
run_capture timeout 10 "$BERTHD" --data-root "$BERTHD_DIR/data" --exec-root "$BERTHD_DIR/exec" \
  -H "unix://$BERTHD_DIR/bad.sock" --config-file "$BERTHD_DIR/daemon.json"
check_eq "$RC" 1 "berthd refuses bad log-opts in daemon.json"
check_contains "$OUT" "invalid value for max-size: huge" "berthd: the bad option is named"
echo '{}' >"$BERTHD_DIR/daemon.json"
start_berthd b1

finish_checks "docker CLI against berthd (logs)"
