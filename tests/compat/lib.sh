# Shared by the compatibility tests: a temp dir removed on exit, a busybox image tarball,
# assertions that name what was expected.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNTIME=${BERTH_RUNTIME:-$REPO/build/src/cmd/berth-runtime}
WORK=$(mktemp -d /tmp/berth-compat-XXXXXX)
cleanups=()
on_exit() {
  local rc=$?
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[$i]}" || true; done
  # Nothing a daemon mounted under $WORK may survive it, nor be deleted through.
  awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l || true
  rm -rf "$WORK"
  exit $rc
}
trap on_exit EXIT
defer() { cleanups+=("$1"); }

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { [[ "$1" == *"$2"* ]] || fail "$3: expected to contain '$2', got '$1'"; }

# A rootfs tarball of Debian's static busybox, the offline base image.
busybox_tar() {
  "$REPO/scripts/make-busybox-bundle.sh" "$WORK/bb" "$RUNTIME" >/dev/null
  tar -C "$WORK/bb/rootfs" -cf "$WORK/busybox.tar" .
  echo "$WORK/busybox.tar"
}

# ---- Checks that record a failure and keep going; finish_checks exits 1 if any failed.
FAILED_CHECKS=()
step() { echo "--- $*"; }
check_fail() {
  echo "  CHECK FAILED: $*" >&2
  FAILED_CHECKS+=("$*")
}
check_eq() { [ "$1" = "$2" ] || check_fail "$3: expected '$2', got '$1'"; }
check_contains() { [[ "$1" == *"$2"* ]] || check_fail "$3: expected to contain '$2', got '$1'"; }
check_not_contains() { [[ "$1" != *"$2"* ]] || check_fail "$3: expected not to contain '$2', got '$1'"; }
check_match() { [[ "$1" =~ $2 ]] || check_fail "$3: expected to match /$2/, got '$1'"; }
finish_checks() {
  if ((${#FAILED_CHECKS[@]})); then
    echo "FAILED: ${#FAILED_CHECKS[@]} check(s) of $1:" >&2
    printf '  - %s\n' "${FAILED_CHECKS[@]}" >&2
    exit 1
  fi
  echo "$1: ok"
}
# run_capture CMD...: sets OUT (stdout+stderr) and RC without tripping set -e.
run_capture() {
  set +e
  OUT=$("$@" 2>&1)
  RC=$?
  set -e
}

# ---- The real docker CLI, with its own config dir so it never reads or writes ~/.docker.
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker)
export DOCKER_CONFIG=$WORK/docker-config
# podman reads DOCKER_CONFIG too, and refuses a directory without a config.json.
mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
mkdir -p "$DOCKER_CONFIG"
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

# insp FORMAT NAME: docker inspect -f through the script's `docker`.
insp() { docker inspect -f "$1" "$2" 2>&1; }
# wait_for SECONDS CMD...: until CMD succeeds; returns 1 when time runs out.
wait_for() {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

# ---- berthd started by a test: its own data root, exec root, socket and log under $WORK/NAME.
BERTHD=${BERTHD:-$(dirname "$RUNTIME")/berthd}
# stop_pid PID NAME: TERM then KILL a daemon this test started, if it is still that daemon.
stop_pid() {
  local pid=$1 name=$2
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$name" || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# remove_berth_network BRIDGE [MORE BRIDGES...]: what a berthd with that default bridge left
# in the kernel: its nftables table, its iptables accept rules (they name every bridge it made),
# the bridges, and the other bridges named (those of its networks, when no rule names them).
remove_berth_network() {
  local table=berth_$1 links
  links=$(iptables -w -S FORWARD 2>/dev/null | awk -v c="\"berth:$table\"" '$0 ~ c {for (i = 1; i < NF; i++) if ($i == "-i" || $i == "-o") print $(i + 1)}' | sort -u)
  iptables -w -S FORWARD 2>/dev/null | grep -F "berth:$table" | sed 's/^-A /-D /' |
    while read -r rule; do eval "iptables -w $rule" || true; done
  nft delete table ip "$table" 2>/dev/null || true
  for l in "$@" $links; do ip link del "$l" 2>/dev/null || true; done
}
# start_berthd NAME [BERTHD FLAGS...]: sets BERTHD_PID, BERTHD_SOCK, BERTHD_DIR, BERTHD_BRIDGE;
# waits until /_ping answers. Each daemon gets a default bridge of its own unless -b is given.
berthd_count=0
start_berthd() {
  local name=$1
  shift
  BERTHD_DIR=$WORK/$name
  BERTHD_SOCK=$BERTHD_DIR/berthd.sock
  mkdir -p "$BERTHD_DIR"
  [ -x "$BERTHD" ] || fail "berthd not found at $BERTHD (build it: ninja -C build berthd)"
  local extra=("$@") a dns=""
  BERTHD_BRIDGE=""
  for ((i = 0; i < ${#extra[@]}; i++)); do
    a=${extra[$i]}
    case $a in
      -b | --bridge) BERTHD_BRIDGE=${extra[$((i + 1))]} ;;
      --bridge=*) BERTHD_BRIDGE=${a#--bridge=} ;;
      --dns | --dns=*) dns=given ;;
    esac
  done
  # Names no container knows must never reach the machine's own resolver: the upstream is
  # the host's loopback, where nothing answers, unless the test brings its own.
  [ -n "$dns" ] || extra+=(--dns 127.0.0.1)
  [ -z "$BERTHD_BRIDGE" ] || defer "remove_berth_network $BERTHD_BRIDGE"
  if [ -z "$BERTHD_BRIDGE" ]; then
    # A daemon started again on the same data root keeps its bridge.
    if [ -e "$BERTHD_DIR/bridge" ]; then
      BERTHD_BRIDGE=$(cat "$BERTHD_DIR/bridge")
    else
      berthd_count=$((berthd_count + 1))
      BERTHD_BRIDGE=bc$$x$berthd_count
      echo "$BERTHD_BRIDGE" >"$BERTHD_DIR/bridge"
      defer "remove_berth_network $BERTHD_BRIDGE"
    fi
    extra+=(-b "$BERTHD_BRIDGE")
  fi
  [ -e "$BERTHD_DIR/daemon.json" ] || echo '{}' >"$BERTHD_DIR/daemon.json"
  "$BERTHD" --data-root "$BERTHD_DIR/data" --exec-root "$BERTHD_DIR/exec" \
    -H "unix://$BERTHD_SOCK" --pidfile "$BERTHD_DIR/berthd.pid" -l info \
    --config-file "$BERTHD_DIR/daemon.json" "${extra[@]}" \
    >>"$BERTHD_DIR/berthd.log" 2>&1 &
  BERTHD_PID=$!
  defer "stop_pid $BERTHD_PID berthd"
  for _ in $(seq 200); do
    curl -sf --unix-socket "$BERTHD_SOCK" http://berthd/_ping >/dev/null 2>&1 && return 0
    [ -d "/proc/$BERTHD_PID" ] || break
    sleep 0.05
  done
  cat "$BERTHD_DIR/berthd.log" >&2
  fail "berthd ($name) did not start"
}
# bdocker ARGS: the docker CLI against the berthd last started.
bdocker() { DOCKER_HOST="unix://$BERTHD_SOCK" "$DOCKER_CLI" "$@"; }

# ---- Debian's dockerd started by a test, with a containerd of its own (dockerd 20.10 would use
# /run/containerd/containerd.sock whenever that exists, and only otherwise start a managed one;
# this way it never touches a system one). Everything lives under $WORK/dockerd.
# start_dockerd [DOCKERD FLAGS...]: sets DOCKERD_DIR, DOCKERD_SOCK; waits until it answers.
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
start_dockerd() {
  [ -x "$DOCKERD" ] || fail "dockerd is not installed (scripts/setup.sh installs docker.io)"
  command -v containerd >/dev/null || fail "containerd is not installed (comes with docker.io)"
  DOCKERD_DIR=$WORK/dockerd
  DOCKERD_SOCK=$DOCKERD_DIR/docker.sock
  local d=$DOCKERD_DIR
  mkdir -p "$d"
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd-root"
state = "$d/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
  containerd --config "$d/containerd.toml" >"$d/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  defer "stop_pid $CONTAINERD_PID containerd"
  for _ in $(seq 100); do [ -S "$d/containerd.sock" ] && break; sleep 0.1; done
  [ -S "$d/containerd.sock" ] || { cat "$d/containerd.log" >&2; fail "containerd did not start"; }
  "$DOCKERD" --data-root "$d/data" --exec-root "$d/exec" -H "unix://$DOCKERD_SOCK" \
    --pidfile "$d/docker.pid" --containerd "$d/containerd.sock" \
    --exec-opt native.cgroupdriver=cgroupfs --log-level=error "$@" >"$d/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  defer "stop_pid $DOCKERD_PID dockerd"
  for _ in $(seq 300); do ddocker version >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$d/dockerd.log" >&2
  fail "dockerd did not start"
}
# ddocker ARGS: the docker CLI against the dockerd start_dockerd started.
ddocker() { DOCKER_HOST="unix://$DOCKERD_SOCK" "$DOCKER_CLI" "$@"; }

# ---- At exit, what a test made on its berthd: every container, and the user networks whose
# ids it added to TEST_NETS (with their bridges, should berthd be gone by then).
TEST_NETS=()
remove_test_objects() {
  local ids n
  ids=$(bdocker ps -aq 2>/dev/null) && [ -n "$ids" ] && bdocker rm -f $ids >/dev/null 2>&1
  for n in "${TEST_NETS[@]}"; do
    bdocker network rm "$n" >/dev/null 2>&1 || remove_berth_network "br-${n:0:12}"
  done
  return 0
}

# ---- Debian's docker-compose 1.29 against a berthd of the test's own.
# compose_project DAEMON PROJECT: starts berthd DAEMON with busybox imported; then docker()
# talks to it and compose() runs PROJECT ($P) from $WORK/app/docker-compose.yml.
COMPOSE=${COMPOSE:-$(command -v docker-compose || true)}
compose_project() {
  [ -n "$COMPOSE" ] || fail "docker-compose is not installed (scripts/setup.sh installs it)"
  check_contains "$("$COMPOSE" version --short 2>&1)" "1.29" "the compose under test is Debian's 1.29"
  local tarball
  tarball=$(busybox_tar)
  start_berthd "$1"
  P=$2
  docker() { bdocker "$@"; }
  docker import "$tarball" busybox >/dev/null
  compose() {
    DOCKER_HOST="unix://$BERTHD_SOCK" "$COMPOSE" -p "$P" -f "$WORK/app/docker-compose.yml" "$@"
  }
}
