#!/usr/bin/env bash
# The seeds' four resource-limit experiments, with the real docker CLI against a berthd of this
# test's own and berth-stress (tests/tools) in the busybox image, measured from the containers'
# cgroup counters:
#   memory  -m 200M --memory-swap=300M keeps a 280 MB worker running (80 MB of it in swap) and
#           kills a 310 MB one (OOMKilled, an oom event);
#   cpu     --cpu-shares 2048 and 1024 on one core (--cpuset-cpus 0) share it about 2:1, and
#           the first has it all while the second is paused;
#   blkio   --device-write-bps 30MB caps O_DIRECT writes (dd oflag=direct, berth-stress --hdd)
#           near 30 MB/s on a loop device the test sets up;
#   pids    --pids-limit 20 stops a fork bomb.
# This host has no swap device: when none is on, the test turns on a 256 MiB swap file of its
# own for the memory experiment and turns it off again (the 280 MB worker needs swap to
# live under a 200 MB memory limit). Bounds are loose enough for a machine shared with builds.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

STRESS=${BERTH_STRESS:-$(dirname "$RUNTIME")/../../tests/berth-stress}
[ -x "$STRESS" ] || fail "berth-stress not found at $STRESS (build it: ninja berth-stress)"
busybox_tar >/dev/null
cp "$STRESS" "$WORK/bb/rootfs/bin/stress"
tar -C "$WORK/bb/rootfs" -cf "$WORK/stress.tar" .
start_berthd seeds
docker() { bdocker "$@"; }
docker import "$WORK/stress.tar" stress >/dev/null
defer 'docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true'

CG=/sys/fs/cgroup
[ -d $CG/memory ] || fail "these experiments read cgroup v1 counters; this host has none"
# cg CONTROLLER CONTAINER FILE: a counter of the container's cgroup.
cg() { cat "$CG/$1/berth/$(docker inspect -f '{{.Id}}' "$2")/$3"; }
logs_say() { docker logs "$1" 2>&1 | grep -q "$2"; }
mib() { echo $(($1 / 1048576)); }

step "memory: -m 200M --memory-swap=300M"
[ -e $CG/memory/memory.memsw.limit_in_bytes ] || fail "swap accounting is off on this kernel"
if [ "$(awk 'NR > 1' /proc/swaps | wc -l)" = 0 ]; then
  fallocate -l 256M "$WORK/swapfile"
  chmod 600 "$WORK/swapfile"
  mkswap "$WORK/swapfile" >/dev/null
  swapon "$WORK/swapfile"
  defer "[ ! -e '$WORK/swapfile' ] || swapoff '$WORK/swapfile'"
fi
docker run -d --name mem280 -m 200M --memory-swap=300M stress stress --vm 1 --vm-bytes 280M --timeout 60 >/dev/null
wait_for 15 logs_say mem280 "vm worker holds" || check_fail "the 280 MB worker wrote its memory: $(docker logs mem280 2>&1)"
check_eq "$(insp '{{.State.Status}}' mem280)" "running" "the 280 MB worker runs"
usage=$(cg memory mem280 memory.usage_in_bytes)
memsw=$(cg memory mem280 memory.memsw.usage_in_bytes)
echo "  280 MB worker: $(mib "$usage") MiB in memory, $(mib "$memsw") MiB with swap"
((usage <= 200 * 1048576)) || check_fail "memory stays under 200M: $(mib "$usage") MiB"
((memsw >= 280 * 1000000 && memsw <= 300 * 1048576)) || check_fail "memory+swap holds the worker: $(mib "$memsw") MiB"
# SIGALRM ends berth-stress's run early, as its timeout would: a success.
docker kill -s ALRM mem280 >/dev/null
check_eq "$(docker wait mem280)" "0" "the 280 MB run ends well"
check_eq "$(insp '{{.State.OOMKilled}}' mem280)" "false" "no OOM for 280 MB"
since=$(date +%s.%N)
docker run -d --name mem310 -m 200M --memory-swap=300M stress stress --vm 1 --vm-bytes 310M --timeout 20 >/dev/null
check_eq "$(docker wait mem310)" "1" "the 310 MB run fails"
check_contains "$(docker logs mem310 2>&1)" "got signal 9" "the worker was killed"
check_eq "$(insp '{{.State.OOMKilled}}' mem310)" "true" "OOMKilled for 310 MB"
check_eq "$(docker events --since "$since" --until "$(date +%s.%N)" --filter container=mem310 --filter event=oom --filter event=die --format '{{.Action}}' | tr '\n' ' ')" \
  "oom die " "oom then die"
docker rm mem280 mem310 >/dev/null
if [ -e "$WORK/swapfile" ]; then swapoff "$WORK/swapfile" && rm -f "$WORK/swapfile"; fi

step "cpu: --cpu-shares 2048 and 1024 on core 0"
docker run -d --name heavy --cpu-shares 2048 --cpuset-cpus 0 stress stress --cpu 1 --timeout 60 >/dev/null
docker run -d --name light --cpu-shares 1024 --cpuset-cpus 0 stress stress --cpu 1 --timeout 60 >/dev/null
wait_for 10 logs_say heavy "cpu worker" && wait_for 10 logs_say light "cpu worker" || check_fail "both spin"
check_eq "$(cg cpu heavy cpu.shares) $(cg cpuset light cpuset.cpus)" "2048 0" "the cgroups' shares and cpuset"
# cpu_use SECONDS C...: nanoseconds of CPU each container used over the window, from cpuacct.
cpu_use() {
  local s=$1 c a=() b=() i=0
  shift
  for c in "$@"; do a+=("$(cg cpuacct "$c" cpuacct.usage)"); done
  sleep "$s"
  for c in "$@"; do b+=("$(cg cpuacct "$c" cpuacct.usage)"); done
  for c in "$@"; do echo $((b[i] - a[i])); i=$((i + 1)); done
}
sleep 0.5 # both past their start
read -r -d '' h l < <(cpu_use 2 heavy light) || true
ratio=$(awk -v h="$h" -v l="$l" 'BEGIN {printf "%.2f", h / (l > 0 ? l : 1)}')
echo "  2 s on core 0: heavy $((h / 1000000)) ms, light $((l / 1000000)) ms, ratio $ratio"
awk -v r="$ratio" 'BEGIN {exit !(r >= 1.6 && r <= 2.5)}' || check_fail "2048:1024 shares give about 2:1, got $ratio"
both=$((h + l))
docker pause light >/dev/null
read -r -d '' h2 l2 < <(cpu_use 2 heavy light) || true
echo "  2 s with light paused: heavy $((h2 / 1000000)) ms, light $((l2 / 1000000)) ms (both together before: $((both / 1000000)) ms)"
((l2 < 20000000)) || check_fail "a paused container uses no CPU: $((l2 / 1000000)) ms"
((h2 * 100 >= both * 85)) || check_fail "heavy gets the whole share of the core: $((h2 / 1000000)) of $((both / 1000000)) ms"
docker unpause light >/dev/null
docker rm -f heavy light >/dev/null

step "blkio: --device-write-bps 30MB on a loop device of this test"
truncate -s 400M "$WORK/disk.img"
loop=$(losetup --find --show "$WORK/disk.img")
defer "losetup -d $loop"
mkfs.ext4 -q "$loop"
mkdir -p "$WORK/disk"
mount "$loop" "$WORK/disk"
defer "umount '$WORK/disk'"
docker run -d --name writer --device-write-bps "$loop:30MB" -v "$WORK/disk:/data" -w /data stress sleep 100 >/dev/null
majmin=$(printf '%d:%d' "$(stat -c '0x%t' "$loop")" "$(stat -c '0x%T' "$loop")")
check_eq "$(cg blkio writer blkio.throttle.write_bps_device)" "$majmin 31457280" "the cgroup's write limit"
start=$(date +%s%N)
run_capture docker exec writer dd if=/dev/zero of=/data/dd bs=1M count=60 oflag=direct
took=$((($(date +%s%N) - start) / 1000000))
check_eq "$RC" 0 "dd oflag=direct: $OUT"
rate=$(awk -v ms="$took" 'BEGIN {printf "%.1f", 60 * 1048576 / 1000000 / (ms / 1000)}')
echo "  dd oflag=direct 60 MiB: $took ms, $rate MB/s"
awk -v r="$rate" 'BEGIN {exit !(r >= 20 && r <= 36)}' || check_fail "dd near 31.5 MB/s (30 MiB/s), got $rate MB/s"
written() { cg blkio writer blkio.throttle.io_service_bytes | awk -v d="$majmin" '$1 == d && $2 == "Write" {print $3}'; }
w0=$(written)
docker exec -d writer stress --hdd 1 --hdd-bytes 32M --timeout 30
wait_for 10 bash -c "[ \"\$(cat $CG/blkio/berth/$(docker inspect -f '{{.Id}}' writer)/blkio.throttle.io_service_bytes | awk '\$1 == \"$majmin\" && \$2 == \"Write\" {print \$3}')\" != '$w0' ]" ||
  check_fail "berth-stress --hdd writes"
w1=$(written)
t1=$(date +%s%N)
sleep 2
w2=$(written)
t2=$(date +%s%N)
counted=$(awk -v b=$((w2 - w1)) -v ns=$((t2 - t1)) 'BEGIN {printf "%.1f", b / 1048576 / (ns / 1e9)}')
echo "  berth-stress --hdd for 2 s: $counted MiB/s written to $loop (blkio.throttle.io_service_bytes)"
awk -v r="$counted" 'BEGIN {exit !(r >= 20 && r <= 32)}' || check_fail "writes held near 30 MiB/s, got $counted"
docker rm -f writer >/dev/null

step "pids: --pids-limit 20 stops a fork bomb"
docker run -d --name bomb --pids-limit 20 stress sh -c 'bomb() { bomb | bomb & }; bomb; sleep 100' >/dev/null
check_eq "$(cg pids bomb pids.max)" "20" "the cgroup's limit"
wait_for 10 bash -c "awk '\$1 == \"max\" && \$2 > 0' $CG/pids/berth/$(docker inspect -f '{{.Id}}' bomb)/pids.events | grep -q ." ||
  check_fail "forks were refused"
peak=0
for _ in $(seq 10); do
  n=$(cg pids bomb pids.current)
  ((n > peak)) && peak=$n
  sleep 0.1
done
echo "  fork bomb: at most $peak processes seen, $(cg pids bomb pids.events | awk '{print $2}') forks refused"
((peak <= 20)) || check_fail "never more than 20 processes: $peak"
check_eq "$(insp '{{.State.Status}}' bomb)" "running" "the container lives on, held at its limit"
docker rm -f bomb >/dev/null
check_eq "$(docker ps -aq | wc -l)" "0" "the bomb is removed"

finish_checks seed_limits
