#!/usr/bin/env bash
# POST /commit racing the container's exit, against a berthd of this test's own: the container
# writes a file and exits while the commit pauses it and writes its layer. Each commit must
# either succeed with an image that holds the file, or fail with a 4xx and Docker's words;
# never a 500 (the runtime's pause of a container whose exit was not recorded yet gave one:
# "container not running", seen once in 12 commits before the fix).
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd commitrace
docker() { bdocker "$@"; }
defer remove_test_objects
docker import "$tarball" busybox >/dev/null
api() { curl -s --unix-socket "$BERTHD_SOCK" "$@"; }

ok=0 refused=0
for i in $(seq 1 12); do
  # The container exits when the test creates /sig/go (a bind mount, not in the layer),
  # from 0 to 22 ms after the commit request leaves: a different moment of the commit (its
  # pause, the layer's walk, the image's write) each time.
  delay=$(printf '0.%03d' $(((i - 1) * 2)))
  mkdir -p "$WORK/sig$i"
  cid=$(docker run -d -v "$WORK/sig$i:/sig" busybox sh -c \
    "echo run$i >/marker; while [ ! -e /sig/go ]; do usleep 1000; done")
  for _ in $(seq 200); do docker diff "$cid" 2>/dev/null | grep -q marker && break; sleep 0.01; done
  (sleep "$delay" && touch "$WORK/sig$i/go") &
  toucher=$!
  out=$(api -w '\n%{http_code}' -X POST "http://berthd/commit?container=$cid&repo=race&tag=t$i")
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  case $code in
    201)
      ok=$((ok + 1))
      got=$(docker run --rm "race:t$i" cat /marker 2>&1)
      check_eq "$got" "run$i" "commit $i: the image holds the container's file"
      ;;
    4*) refused=$((refused + 1)) ;;
    *) check_fail "commit $i (delay $delay): HTTP $code: $body" ;;
  esac
  wait "$toucher"
  docker rm -f "$cid" >/dev/null
done
echo "  $ok commits made, $refused refused"
# Once the container has exited, a commit is an ordinary one.
cid=$(docker run -d busybox sh -c 'echo done >/marker')
docker wait "$cid" >/dev/null
check_eq "$(api -o /dev/null -w '%{http_code}' -X POST "http://berthd/commit?container=$cid&repo=race&tag=after")" 201 "commit of an exited container"
check_eq "$(docker run --rm race:after cat /marker)" "done" "its image holds the file"

finish_checks api_commit_exiting
