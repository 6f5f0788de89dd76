#!/usr/bin/env bash
# The real docker CLI (DOCKER_HOST=unix://<berthd socket>) against a berthd of this test's own,
# for seccomp and --security-opt, checked against what Docker does: a container gets Docker's
# default profile (unshare of a user namespace is refused with EPERM, CAP_SYS_ADMIN lifts that
# rule), so do its execs; seccomp=unconfined and --privileged run without a filter; a profile
# file given to --security-opt seccomp= is applied; a bad one fails the create; docker info
# says so; no-new-privileges. Failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd sc1
docker() { bdocker "$@"; }
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1'
docker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null

# The seccomp mode of the container's process as the kernel reports it: 2 is a filter, 0 none.
seccomp_mode='grep Seccomp: /proc/self/status | cut -f2'
# unshare(CLONE_NEWUSER) needs no capability, only the profile's leave (it is one of the
# CAP_SYS_ADMIN rules), so it tells a filtered container from an unfiltered one.
userns='unshare -U true && echo unshared'

step "docker info lists the builtin seccomp profile"
check_contains "$(docker info -f '{{json .SecurityOptions}}')" '"name=seccomp,profile=builtin"' "info SecurityOptions"

step "default: Docker's profile is loaded; unshare -U is refused with EPERM"
run_capture docker run --rm busybox sh -c "$seccomp_mode"
check_eq "$RC/$OUT" "0/2" "default container: seccomp mode"
run_capture docker run --rm busybox sh -c "$userns"
check_contains "$OUT" "Operation not permitted" "default container: unshare -U"
check_not_contains "$OUT" "unshared" "default container: unshare -U"
run_capture docker run --rm busybox sh -c 'echo ok; uname -r >/dev/null; ls / >/dev/null'
check_eq "$RC/$OUT" "0/ok" "default container: ordinary commands work"

step "--cap-add SYS_ADMIN: still filtered, but the profile allows unshare"
run_capture docker run --rm --cap-add SYS_ADMIN busybox sh -c "$seccomp_mode; $userns"
check_eq "$RC/$OUT" $'0/2\nunshared' "cap-add SYS_ADMIN: seccomp mode and unshare -U"

step "--security-opt seccomp=unconfined: no filter"
run_capture docker run --rm --security-opt seccomp=unconfined busybox sh -c "$seccomp_mode; $userns"
check_eq "$RC/$OUT" $'0/0\nunshared' "seccomp=unconfined: seccomp mode and unshare -U"
check_eq "$(docker inspect -f '{{json .HostConfig.SecurityOpt}}' "$(docker create --security-opt seccomp=unconfined busybox)")" \
  '["seccomp=unconfined"]' "inspect HostConfig.SecurityOpt"

step "--privileged: no filter"
run_capture docker run --rm --privileged busybox sh -c "$seccomp_mode; $userns"
check_eq "$RC/$OUT" $'0/0\nunshared' "privileged: seccomp mode and unshare -U"

step "exec: the container's filter holds for its execs too"
docker run -d --name filtered busybox sleep 300 >/dev/null
docker run -d --name open --security-opt seccomp=unconfined busybox sleep 300 >/dev/null
run_capture docker exec filtered sh -c "$seccomp_mode"
check_eq "$RC/$OUT" "0/2" "exec in a default container: seccomp mode"
run_capture docker exec filtered sh -c "$userns"
check_contains "$OUT" "Operation not permitted" "exec in a default container: unshare -U"
run_capture docker exec open sh -c "$seccomp_mode; $userns"
check_eq "$RC/$OUT" $'0/0\nunshared' "exec in an unconfined container"
docker rm -f filtered open >/dev/null

step "--security-opt seccomp=FILE: the CLI sends the file's profile, which is applied"
cat >"$WORK/no-mkdir.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"name": "rmdir", "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
  ]
}
EOF
run_capture docker run --rm --security-opt "seccomp=$WORK/no-mkdir.json" busybox sh -c "$seccomp_mode; mkdir /tmp/d"
check_eq "$RC" 1 "custom profile: mkdir fails"
check_contains "$OUT" $'2\n' "custom profile: a filter is loaded"
check_contains "$OUT" "Permission denied" "custom profile: mkdir gets the profile's errno (EACCES)"
run_capture docker run --rm --security-opt "seccomp=$WORK/no-mkdir.json" busybox sh -c 'rmdir /tmp 2>&1; echo; unshare -U true && echo unshared'
check_contains "$OUT" "Operation not permitted" "custom profile: rmdir refused by its rule"
check_contains "$OUT" "unshared" "custom profile: nothing of the default profile"
run_capture docker run --rm --cap-add SYS_ADMIN --security-opt "seccomp=$WORK/no-mkdir.json" busybox rmdir /tmp/nonexistent
check_contains "$OUT" "No such file" "custom profile: an exclude by capability drops the rule"

step "a bad profile fails the create with 400 and says why; nothing is created"
n_before=$(docker ps -aq | wc -l)
echo '{"defaultAction": 5}' >"$WORK/bad-type.json"
run_capture docker create --security-opt "seccomp=$WORK/bad-type.json" busybox true
check_eq "$RC" 1 "bad profile (a number for defaultAction): docker create fails"
check_contains "$OUT" "Decoding seccomp profile failed: defaultAction: expected a string" "bad profile: message"
echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]}' >"$WORK/bad-action.json"
run_capture docker run --rm --security-opt "seccomp=$WORK/bad-action.json" busybox true
check_eq "$RC" 125 "bad profile (unknown action): docker run fails with 125"
check_contains "$OUT" 'unknown action "SCMP_ACT_BOGUS"' "bad profile (unknown action): message"
code=$(curl -s -o "$WORK/resp" -w '%{http_code}' --unix-socket "$BERTHD_SOCK" -H 'Content-Type: application/json' \
  -d '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"SecurityOpt": ["seccomp={not json"]}}' \
  http://berthd/containers/create)
check_eq "$code" 400 "invalid JSON profile through the API: status"
check_contains "$(cat "$WORK/resp")" "Decoding seccomp profile failed: (top level): not valid JSON" "invalid JSON profile: message"
run_capture docker create --security-opt bogus=1 busybox true
check_contains "$OUT" 'invalid --security-opt 2: "bogus=1"' "unknown security option"
check_eq "$(docker ps -aq | wc -l)" "$n_before" "no container left by the failed creates"

step "no-new-privileges"
run_capture docker run --rm busybox sh -c 'grep NoNewPrivs: /proc/self/status | cut -f2'
check_eq "$OUT" "0" "default: NoNewPrivs"
run_capture docker run --rm --security-opt no-new-privileges busybox sh -c "grep NoNewPrivs: /proc/self/status | cut -f2; $seccomp_mode"
check_eq "$OUT" $'1\n2' "no-new-privileges: NoNewPrivs set, and the filter still loaded"

finish_checks docker_cli_seccomp
