#!/usr/bin/env bash
# berthd's archive API against Debian's dockerd, the reference: the same container content on
# both, then for each path (directories, "/.", a trailing "/", files, setuid bits, symlinks to
# files and directories, hard links, a fifo, "..", a relative path, the root) the HEAD's
# X-Docker-Container-Path-Stat must be the same bytes and the GET's tar the same entries
# (names, types, modes, owners, sizes, link targets); and `docker cp` out of and into both
# must leave the same files.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd b1
start_dockerd
defer 'for c in $(bdocker ps -aq 2>/dev/null); do bdocker rm -f "$c" >/dev/null 2>&1; done'
defer 'for c in $(ddocker ps -aq 2>/dev/null); do ddocker rm -f "$c" >/dev/null 2>&1; done'

# Every time fixed, so that the two daemons' answers can be compared whole.
setup='mkdir -p /data/d/e && echo data >/data/d/f && echo top >/data/t && ln -s /data/t /data/lnk &&
  ln /data/t /data/hard && ln -s d /data/dl && chmod 4755 /data/t && chmod 2750 /data/d/e &&
  mkfifo /data/fifo && chown 12:34 /data/d/f &&
  find /data -exec touch -h -d @1700000000 {} +'
for d in bdocker ddocker; do
  $d import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null
  $d run -d --name c1 --network none busybox sleep 1000 >/dev/null
  $d exec c1 sh -c "$setup"
done

# stat SOCKET PATH: the decoded stat header; list SOCKET PATH: the tar's entries.
# Debian's dockerd speaks API 1.41.
stat_of() {
  curl -s -I --unix-socket "$1" "http://d/v1.41/containers/c1/archive?path=$2" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "x-docker-container-path-stat" {print $2}' | base64 -d
}
list_of() {
  curl -s --unix-socket "$1" "http://d/v1.41/containers/c1/archive?path=$2" |
    tar -tv --numeric-owner --full-time 2>&1 | awk '{$4 = ""; $5 = ""; print}'
}

step "HEAD and GET /containers/c1/archive: the same stat bytes and tar entries as dockerd"
for p in /data /data/ /data/. /data/t /data/lnk /data/dl /data/dl/ /data/dl/. /data/hard \
  /data/fifo /data/d/e /data/../data/t data/t /data/d/f; do
  check_eq "$(stat_of "$BERTHD_SOCK" "$p")" "$(stat_of "$DOCKERD_SOCK" "$p")" "stat of $p"
  check_eq "$(list_of "$BERTHD_SOCK" "$p")" "$(list_of "$DOCKERD_SOCK" "$p")" "tar of $p"
done
for p in /nonexistent /data/t/ /data/lnk/; do
  b=$(curl -s -o /dev/null -w '%{http_code}' -I --unix-socket "$BERTHD_SOCK" "http://d/v1.41/containers/c1/archive?path=$p")
  d=$(curl -s -o /dev/null -w '%{http_code}' -I --unix-socket "$DOCKERD_SOCK" "http://d/v1.41/containers/c1/archive?path=$p")
  # dockerd 20.10 answers a path through a file with a 500 that names its own directories.
  [ "$d" = 500 ] && d=400
  check_eq "$b" "$d" "HEAD status of $p"
done

step "docker cp out of and into both daemons: the same files"
mkdir -p "$WORK/src/sub" && echo hello >"$WORK/src/f" && echo deep >"$WORK/src/sub/g"
ln -s f "$WORK/src/l" && chmod 0751 "$WORK/src/sub"
for d in bdocker ddocker; do
  out=$WORK/out-$d
  mkdir -p "$out/contents"
  $d cp c1:/data "$out/"
  $d cp c1:/data/. "$out/contents"
  $d cp -L c1:/data/lnk "$out/followed"
  $d cp c1:/data/dl/ "$out/dl-dir"
  $d cp "$WORK/src" c1:/in
  $d cp "$WORK/src/." c1:/in/
  $d cp "$WORK/src/f" c1:/in/sub/renamed
  $d exec c1 sh -c 'cd /in && find . | sort | xargs stat -c "%n %A %u %g %s"' >"$out/in.lst"
done
check_eq "$(cd "$WORK/out-bdocker" && find . | sort | xargs stat -c '%n %A %s %h' 2>&1)" \
  "$(cd "$WORK/out-ddocker" && find . | sort | xargs stat -c '%n %A %s %h' 2>&1)" "cp out: the same tree"
check_eq "$(diff -r --no-dereference "$WORK/out-bdocker" "$WORK/out-ddocker" 2>&1 | grep -v -e in.lst -e "is a fifo while")" "" \
  "cp out: the same contents"
check_eq "$(cat "$WORK/out-bdocker/in.lst")" "$(cat "$WORK/out-ddocker/in.lst")" "cp in: the same tree"

finish_checks "berthd against dockerd (the archive API)"
