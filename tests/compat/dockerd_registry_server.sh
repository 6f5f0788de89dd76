#!/usr/bin/env bash
# Debian's dockerd 20.10 -> berth-registry -> dockerd: `docker login` against htpasswd, push
# of an imported image (and of a second repository that mounts its layer), removal, pull
# back with the same image ID, and a wrong password refused. dockerd runs with its own
# containerd, data root, socket and a bridge of its own (--bridge=none would delete a
# docker0 another Docker may use); berth-registry listens on a free 127.0.0.1 port, which
# dockerd treats as an insecure (plain HTTP) registry by default.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

REGISTRY=${BERTH_REGISTRY:-$(dirname "$RUNTIME")/berth-registry}
[ -x "$REGISTRY" ] || fail "berth-registry not found at $REGISTRY"
command -v htpasswd >/dev/null || fail "htpasswd is not installed (apache2-utils)"

step "berth-registry with htpasswd auth"
htpasswd -Bbn alice s3cret >"$WORK/htpasswd"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/data" \
  'http:' '  addr: 127.0.0.1:0' 'auth:' '  htpasswd:' '    realm: berth-test' \
  "    path: $WORK/htpasswd" >"$WORK/config.yml"
"$REGISTRY" serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
defer "stop_pid $REG_PID berth-registry"
wait_for 10 grep -q 'listening on' "$WORK/registry.log" || {
  cat "$WORK/registry.log" >&2
  fail "berth-registry did not start"
}
port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$WORK/registry.log" | head -1)
reg=127.0.0.1:$port

step "dockerd of this test's own, on a bridge of its own"
bridge=brr$$
ip link add name "$bridge" type bridge
defer "ip link del $bridge"
ip addr add 10.251.$((RANDOM % 200)).1/24 dev "$bridge"
ip link set "$bridge" up
start_dockerd --bridge="$bridge" --iptables=false --ip6tables=false --ip-masq=false \
  --userland-proxy=false

step "login"
run_capture ddocker login -u alice -p wrong "$reg"
check_eq "$RC" 1 "login with a wrong password fails"
check_contains "$OUT" "401" "the refusal says 401"
run_capture ddocker login -u alice --password-stdin "$reg" <<<s3cret
check_eq "$RC" 0 "login ($OUT)"

step "push"
tarball=$(busybox_tar)
id=$(ddocker import --change 'CMD ["sh"]' "$tarball" "$reg/team/busybox:1")
run_capture ddocker push "$reg/team/busybox:1"
check_eq "$RC" 0 "push to berth-registry ($OUT)"
pushed_digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' <<<"$OUT")
check_match "$pushed_digest" '^sha256:[0-9a-f]{64}$' "push prints the manifest digest"
ddocker tag "$reg/team/busybox:1" "$reg/other/busybox:2"
run_capture ddocker push "$reg/other/busybox:2"
check_eq "$RC" 0 "push of a second repository ($OUT)"
check_contains "$OUT" "Mounted from team/busybox" "the layer is mounted from the first repository"
check_eq "$(curl -s -u alice:s3cret "http://$reg/v2/_catalog")" '{"repositories":["other/busybox","team/busybox"]}' "catalog after the pushes"

step "pull back"
ddocker rmi "$reg/team/busybox:1" "$reg/other/busybox:2" >/dev/null
run_capture ddocker pull "$reg/team/busybox:1"
check_eq "$RC" 0 "pull from berth-registry ($OUT)"
check_contains "$OUT" "Digest: $pushed_digest" "pull names the pushed digest"
check_eq "$(ddocker image inspect -f '{{.Id}}' "$reg/team/busybox:1" 2>&1)" "$id" "the pulled image has the pushed ID"
check_eq "$(ddocker image inspect -f '{{json .RepoDigests}}' "$reg/team/busybox:1" 2>&1)" "[\"$reg/team/busybox@$pushed_digest\"]" "RepoDigests"
check_eq "$(ddocker run --rm --network none "$reg/team/busybox:1" echo pulled 2>&1)" pulled "the pulled image runs"

step "logout"
ddocker logout "$reg" >/dev/null
run_capture ddocker pull "$reg/team/busybox:1"
check_eq "$RC" 1 "pull without credentials fails"
check_contains "$OUT" "no basic auth credentials" "and says why"

finish_checks dockerd_registry_server
