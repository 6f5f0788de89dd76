#!/usr/bin/env bash
# berthd against hostile or careless clients: requests that once killed it (100,000-deep JSON,
# a non-UTF-8 reference), types it once stored and then could not list, a host-global sysctl,
# headers past the limit, a client that stalls mid-request or never reads its export (which
# once blocked `stop` and `rm -f` of the container), and the modes of its state files. After
# each, the daemon still answers and the docker CLI still lists everything.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd hostile
docker() { bdocker "$@"; }
docker import "$tarball" busybox >/dev/null
defer 'docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true'
# post PATH BODY-FILE: sets CODE and BODY.
post() {
  BODY=$(curl -s -o - -w '\n%{http_code}' --unix-socket "$BERTHD_SOCK" -X POST \
    -H 'Content-Type: application/json' --data-binary "@$2" "http://berthd/v1.44$1")
  CODE=$(tail -1 <<<"$BODY")
  BODY=$(sed '$d' <<<"$BODY")
}
# tdocker ARGS: the docker CLI against this berthd, given 20 seconds.
tdocker() { timeout 20 env DOCKER_HOST="unix://$BERTHD_SOCK" "$DOCKER_CLI" "$@"; }
alive() { curl -sf --unix-socket "$BERTHD_SOCK" http://berthd/_ping >/dev/null; }

step "JSON nested 100,000 deep is refused at the door, and berthd lives"
python3 -c "print('{\"Image\":\"busybox\",\"Unknown\":' + '['*100000 + ']'*100000 + '}')" >"$WORK/deep.json"
post /containers/create "$WORK/deep.json"
check_eq "$CODE" 400 "status of a 100,000-deep body"
check_contains "$BODY" "exceeded max depth" "error of a 100,000-deep body"
alive || fail "berthd died on a deeply nested body"
python3 -c "print('{\"Name\":\"deepnet\",\"Options\":' + '{\"a\":'*20000 + '1' + '}'*20000 + '}')" >"$WORK/deep2.json"
post /networks/create "$WORK/deep2.json"
check_eq "$CODE" 400 "status of a deep network body"
alive || fail "berthd died on a deeply nested network body"

step "bytes that are not UTF-8, in a reference and in a body"
run_capture docker inspect $'\xff'
check_eq "$RC" 1 "inspect of a non-UTF-8 name fails"
check_contains "$OUT" "No such" "inspect of a non-UTF-8 name"
printf '{"Image":"busybox","Labels":{"a":"\xff"}}' >"$WORK/latin1.json"
post /containers/create "$WORK/latin1.json"
check_eq "$CODE" 400 "status of a body that is not UTF-8"
alive || fail "berthd died on a body that is not UTF-8"

step "wrong types are refused at create, as dockerd refuses them, and never stored"
for body in '{"Image":"busybox","Labels":{"a":1}}' '{"Image":"busybox","HostConfig":{"Memory":"20m"}}' \
  '{"Image":"busybox","ExposedPorts":["80/tcp"]}' '{"Image":"busybox","Env":"A=1"}'; do
  echo "$body" >"$WORK/typed.json"
  post /containers/create "$WORK/typed.json"
  check_eq "$CODE" 400 "status of $body"
  check_contains "$BODY" "cannot unmarshal" "error of $body"
done
check_eq "$(docker ps -aq | wc -l)" 0 "nothing was stored"
run_capture docker ps -a
check_eq "$RC" 0 "ps -a still lists"

step "a sysctl that is not namespaced is refused; one that is, is applied"
run_capture docker run --rm --sysctl kernel.core_pattern=/tmp/x busybox true
check_eq "$RC" 125 "host-global sysctl refused"
check_contains "$OUT" "kernel.core_pattern" "the refusal names the sysctl"
check_eq "$(docker run --rm --sysctl net.ipv4.ip_forward=1 busybox cat /proc/sys/net/ipv4/ip_forward)" 1 "a network sysctl is applied"

step "headers: 60 KiB in one field and 256 KiB in all are read; more in one field or past 1 MiB is 431"
big=$(head -c 60000 /dev/zero | tr '\0' a)
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" -H "X-Big: $big" http://berthd/_ping)" 200 "a 60 KiB header"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" -H "X-A: $big" -H "X-B: $big" -H "X-C: $big" -H "X-D: $big" http://berthd/_ping)" 200 "240 KiB of headers"
# raw_status HEADER-LINES...: the status line berthd answers to a GET /_ping with these headers.
raw_status() {
  python3 - "$BERTHD_SOCK" "$@" <<'EOF'
import socket, sys
req = 'GET /_ping HTTP/1.1\r\nHost: x\r\n' + ''.join(h + '\r\n' for h in sys.argv[2:]) + '\r\n'
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
try:
    s.sendall(req.encode())
except OSError:
    pass  # the server may answer and close before it has read everything
print(s.recv(200).decode(errors='replace').split('\r\n')[0])
EOF
}
check_eq "$(raw_status "X-Huge: $(head -c 70000 /dev/zero | tr '\0' a)")" "HTTP/1.1 431 Request Header Fields Too Large" "a 70 KiB field"
many=()
for i in $(seq 20); do many+=("X-$i: $big"); done
check_eq "$(raw_status "${many[@]}")" "HTTP/1.1 431 Request Header Fields Too Large" "1.2 MB of headers"
alive || fail "berthd died on a huge header"

step "a client that stalls mid-request blocks nobody"
python3 - "$BERTHD_SOCK" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"Ima')
time.sleep(30)
EOF
staller=$!
defer "kill $staller 2>/dev/null || true"
run_capture docker run --rm busybox echo served
check_eq "$OUT" "served" "a run while another client stalls"
kill $staller 2>/dev/null || true

# stall_reading PATH MARKER: in the background, a client that GETs PATH, reads the start of the
# answer (berthd is streaming it then), touches MARKER and reads no more.
stall_reading() {
  python3 - "$BERTHD_SOCK" "$1" "$2" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b'GET ' + sys.argv[2].encode() + b' HTTP/1.1\r\nHost: x\r\n\r\n')
s.recv(100)
open(sys.argv[3], 'w').close()
time.sleep(60)
EOF
}

step "an export nobody reads does not block stop and rm -f"
docker run -d --name exported busybox sleep 1000 >/dev/null
stall_reading /v1.44/containers/exported/export "$WORK/stalled"
reader=$!
defer "kill $reader 2>/dev/null || true"
wait_for 20 test -e "$WORK/stalled" || fail "the export did not begin"
run_capture tdocker stop -t 1 exported
check_eq "$RC" 0 "stop while an export stalls: $OUT"
run_capture tdocker start exported
check_eq "$RC" 0 "start while an export stalls: $OUT"
run_capture tdocker rm -f exported
check_eq "$RC" 0 "rm -f while an export stalls: $OUT"
kill $reader 2>/dev/null || true
docker create --name stopped busybox true >/dev/null
stall_reading "/v1.44/containers/stopped/archive?path=/bin" "$WORK/stalled2"
reader=$!
defer "kill $reader 2>/dev/null || true"
wait_for 20 test -e "$WORK/stalled2" || fail "the archive download did not begin"
run_capture tdocker start stopped
check_eq "$RC" 0 "start of a stopped container while its cp stalls: $OUT"
run_capture tdocker rm -f stopped
check_eq "$RC" 0 "rm -f while a cp stalls: $OUT"
kill $reader 2>/dev/null || true
alive || fail "berthd died"

step "/proc in a container is nosuid, nodev, noexec, as dockerd mounts it"
check_match "$(docker run --rm busybox grep '^proc /proc ' /proc/mounts)" '^proc /proc proc [^ ]*nosuid,nodev,noexec' "/proc's options"

step "state files are root's alone"
data=$BERTHD_DIR/data
check_eq "$(stat -c %a "$data")" 710 "data root mode"
for f in "$data"/berth.db "$data"/berth.db-wal "$data"/berth.db-shm; do
  [ -e "$f" ] && check_eq "$(stat -c %a "$f")" 600 "mode of $(basename "$f")"
done

step "daemon.json's TLS and group settings are refused until berthd applies them"
for setting in '"tlsverify": true' '"group": "docker"'; do
  mkdir -p "$WORK/refuse"
  echo "{$setting}" >"$WORK/refuse/daemon.json"
  run_capture timeout 20 "$BERTHD" --data-root "$WORK/refuse/data" --exec-root "$WORK/refuse/exec" \
    -H "unix://$WORK/refuse/s.sock" -b "${BERTHD_BRIDGE}r" --config-file "$WORK/refuse/daemon.json"
  check_eq "$RC" 1 "berthd with $setting exits"
  check_contains "$OUT" "not supported by berthd yet" "berthd with $setting says why"
done

step "a fatal signal leaves berthd's last words in its log"
kill -SEGV "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null || true
check_contains "$(cat "$BERTHD_DIR/berthd.log")" "berthd: fatal signal SEGV (Segmentation fault), backtrace:" "the log's last line"

finish_checks api_hostile_input
