#!/usr/bin/env bash
# berthd killed with SIGKILL at random moments while clients create, start, stop and remove
# containers and long-lived containers log a counter; after each restart nothing is lost,
# stuck or leaked. CRASH_CYCLES sets the number of kills (CI runs a few; tests/stress/ runs
# the full hundred).
source "$(dirname "$0")/lib.sh"
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
CYCLES=${CRASH_CYCLES:-4}

# berthd leaves containers running when it stops: they are removed while the last berthd
# lives (this is deferred after each start, so it runs before that daemon is stopped), and
# what a berthd killed for good left is killed through the containers' cgroups.
remove_containers() {
  local ids
  ids=$(bdocker ps -aq 2>/dev/null) || true
  [ -z "$ids" ] || bdocker rm -f $ids >/dev/null 2>&1 || true
  local id cg
  for id in $(ls "$EXEC/containers" 2>/dev/null); do
    for cg in "/sys/fs/cgroup/pids/berth/$id" "/sys/fs/cgroup/berth/$id"; do
      [ -f "$cg/cgroup.procs" ] && xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null
    done
  done
  pkill -9 -f "berth-shim --id [0-9a-f]+ --bundle $EXEC/containers/" 2>/dev/null || true
}

start_berthd crash
DATA=$BERTHD_DIR/data
EXEC=$BERTHD_DIR/exec
defer remove_containers
bdocker import "$(busybox_tar)" busybox >/dev/null

# Long-lived: counters that must keep every line across crashes, and a container whose
# on-failure policy keeps it restarting (a kill mid-restart must not leave it stuck).
counter='i=0; while true; do echo "n $i"; i=$((i+1)); usleep 20000; done'
for n in 1 2 3; do
  bdocker run -d --name "keep$n" --restart always busybox sh -c "$counter" >/dev/null
done
bdocker run -d --name flap --restart on-failure busybox sh -c 'usleep 200000; exit 3' >/dev/null

# One client's churn: every step may fail once berthd is gone; the loop ends when told.
churn() {
  local c=$1 i=0
  while [ ! -e "$WORK/stop" ]; do
    i=$((i + 1))
    local name="churn$c-$i"
    bdocker create --name "$name" busybox sleep 100 >/dev/null 2>&1 || continue
    bdocker start "$name" >/dev/null 2>&1 || continue
    bdocker stop -t 0 "$name" >/dev/null 2>&1 || continue
    bdocker rm "$name" >/dev/null 2>&1 || continue
    bdocker run -d --name "$name-r" busybox sleep 100 >/dev/null 2>&1 || continue
    bdocker rm -f "$name-r" >/dev/null 2>&1 || true
  done
}

# Our containers' ids (berthd's records and whatever the kernel still holds for them).
known_ids() { bdocker ps -aq --no-trunc | sort; }
running_ids() { bdocker ps -q --no-trunc | sort; }

# Lines of a counter: "n 0" .. "n K" with none missing.
check_counter() {
  local name=$1 logs last
  logs=$(bdocker logs "$name" 2>&1 | awk '$1 == "n" {print $2}')
  last=$(echo "$logs" | tail -1)
  [ -n "$last" ] || { check_fail "$name logged nothing"; return; }
  # A restart of the container (never expected here: only berthd dies) starts again at 0.
  local from
  from=$(echo "$logs" | grep -n '^0$' | tail -1 | cut -d: -f1)
  local got expected
  got=$(echo "$logs" | tail -n +"$from" | wc -l)
  expected=$((last + 1))
  check_eq "$got" "$expected" "$name: lines n 0..n $last, none lost"
  [ "$from" = 1 ] || check_fail "$name restarted (its counter began again $((from - 1)) lines in)"
}

check_nothing_leaked() {
  local cycle=$1 ids running
  ids=$(known_ids)
  running=$(running_ids)
  # Shims: one per running container, none for the others.
  local shims
  shims=$(pgrep -f "berth-shim --id [0-9a-f]+ --bundle $EXEC/containers/" -a |
    sed -E 's/.*--id ([0-9a-f]+).*/\1/' | sort)
  check_eq "$shims" "$running" "cycle $cycle: shims are those of the running containers"
  # Root filesystems mounted: those of running containers.
  local mounted
  mounted=$(awk -v p="$DATA/overlay/containers/" 'index($2, p) == 1 && $2 ~ /\/merged$/ {print $2}' /proc/mounts |
    sed -E 's|.*/containers/([0-9a-f]+)/merged|\1|' | sort)
  check_eq "$mounted" "$running" "cycle $cycle: mounted roots are those of running containers"
  # Directories: one per container that exists, in the data root, the exec root and overlay.
  for d in "$DATA/containers" "$DATA/overlay/containers"; do
    local listed
    listed=$(ls "$d" | grep -E '^[0-9a-f]{64}$' | sort)
    check_eq "$listed" "$ids" "cycle $cycle: directories in $d are those of existing containers"
  done
  local bundles
  bundles=$(ls "$EXEC/containers" | sort)
  local extra
  extra=$(comm -23 <(echo "$bundles") <(echo "$ids") | grep . || true)
  check_eq "$extra" "" "cycle $cycle: no runtime directory without a container"
  # Cgroups: none for a container that is not running (berth's cgroups are shared with other
  # berthds on the machine: only our ids are looked at).
  local all_ids
  all_ids=$(cat "$WORK/created" 2>/dev/null | sort -u)
  for cg in /sys/fs/cgroup/pids/berth /sys/fs/cgroup/berth; do
    [ -d "$cg" ] || continue
    local stale
    stale=$(comm -12 <(ls "$cg" | sort) <(comm -23 <(echo "$all_ids") <(echo "$running")) | grep . || true)
    check_eq "$stale" "" "cycle $cycle: no cgroup left for a container that is not running"
  done
}

for cycle in $(seq "$CYCLES"); do
  rm -f "$WORK/stop"
  pids=()
  for c in 1 2 3; do
    churn "$c" &
    pids+=($!)
  done
  # A random moment of the churn: 0.3 to 1.5 s in.
  sleep "$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.3 + (r % 120) / 100}')"
  kill -9 "$BERTHD_PID"
  wait "$BERTHD_PID" 2>/dev/null || true
  touch "$WORK/stop"
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Ids that ever existed, read from the records of the next daemon below and kept for the
  # cgroup check.
  start_berthd crash
  defer remove_containers
  known_ids >>"$WORK/created"
  step "cycle $cycle: berthd killed and started again; $(known_ids | wc -l) containers"

  # Every container answers every command: churn ones are removed with rm -f in time.
  for name in $(bdocker ps -a --format '{{.Names}}' | grep '^churn' || true); do
    timeout 20 env DOCKER_HOST="unix://$BERTHD_SOCK" "$DOCKER_CLI" rm -f "$name" >/dev/null 2>&1 ||
      check_fail "cycle $cycle: rm -f $name failed or hung"
  done
  for n in 1 2 3; do
    check_eq "$(bdocker inspect -f '{{.State.Status}}' "keep$n")" running "cycle $cycle: keep$n running"
  done
  # The flapping container keeps restarting: its count goes up after the crash.
  before=$(bdocker inspect -f '{{.RestartCount}}' flap)
  ok=""
  for _ in $(seq 100); do
    now=$(bdocker inspect -f '{{.RestartCount}}' flap)
    [ "$now" -gt "$before" ] && { ok=1; break; }
    sleep 0.1
  done
  [ -n "$ok" ] || check_fail "cycle $cycle: flap is stuck ($(bdocker inspect -f '{{.State.Status}} {{.RestartCount}}' flap))"
  # A container that is started once more must start (no shim or runtime state in its way).
  bdocker run -d --name "probe$cycle" busybox sleep 100 >/dev/null ||
    check_fail "cycle $cycle: a new container does not start"
  bdocker rm -f "probe$cycle" >/dev/null || check_fail "cycle $cycle: rm -f probe$cycle"
  # Let the flapping container settle between two of its runs before counting what is left.
  bdocker stop -t 0 flap >/dev/null
  check_nothing_leaked "$cycle"
  bdocker start flap >/dev/null
done
for n in 1 2 3; do check_counter "keep$n"; done
remove_containers
check_eq "$(pgrep -f "berth-shim --id [0-9a-f]+ --bundle $EXEC/containers/" || true)" "" \
  "no shim left after the containers were removed"
finish_checks crash_restart
