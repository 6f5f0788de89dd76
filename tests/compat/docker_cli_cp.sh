#!/usr/bin/env bash
# The real docker CLI's `cp` against a berthd of this test's own, and the archive API under it
# (HEAD/GET/PUT /containers/{id}/archive) with curl: both directions, running and stopped
# containers, -a, -L, trailing "/.", missing destinations, "-" for a tar on stdin and stdout,
# Docker's errors, the events; and hostile input (links in the container that point at / or
# climb with ../.., tars with ../ and absolute entries, hard links out, a symlink entry followed
# by an entry through it), each proved harmless by a canary directory on the host that must
# stay empty and untouched.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd b1
docker() { bdocker "$@"; }
# rm -f of every container this test made, before the daemon stops.
defer 'for c in $(bdocker ps -aq 2>/dev/null); do bdocker rm -f "$c" >/dev/null 2>&1; done'
docker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null

# api METHOD PATH [CURL ARGS]: the Engine API over the daemon's socket; prints the status
# line's code last, after the body.
api() {
  local method=$1 path=$2
  shift 2
  curl -s --unix-socket "$BERTHD_SOCK" -X "$method" -w '\n%{http_code}' "$@" "http://berthd/v1.44$path"
}
# stat_header CONTAINER PATH: the decoded X-Docker-Container-Path-Stat of a HEAD.
stat_header() {
  curl -s -I --unix-socket "$BERTHD_SOCK" "http://berthd/v1.44/containers/$1/archive?path=$2" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-docker-container-path-stat" {print $2}' | base64 -d
}

# The canary: a host directory that nothing a container does may write into.
CANARY=$WORK/canary
mkdir -p "$CANARY"
canary_untouched() {
  local what=$1 left
  left=$(find "$CANARY" -mindepth 1 2>/dev/null)
  check_eq "$left" "" "$what: nothing written into the host's canary $CANARY"
}

L=$WORK/local
mkdir -p "$L/src/sub" "$L/out"
echo hello >"$L/src/file.txt"
echo nested >"$L/src/sub/deep.txt"
ln -s file.txt "$L/src/link"
chmod 0640 "$L/src/file.txt"

docker run -d --name c1 busybox sleep 1000 >/dev/null
docker exec c1 sh -c 'mkdir -p /data/d && echo data >/data/d/f && echo top >/data/t && ln -s /data/t /data/lnk && ln /data/t /data/hard'

step "cp a local file into a running container's directory"
run_capture docker cp "$L/src/file.txt" c1:/tmp
check_eq "$RC" 0 "cp file c1:/tmp: $OUT"
check_eq "$(docker exec c1 cat /tmp/file.txt)" hello "the file's content in the container"
check_eq "$(docker exec c1 stat -c %a /tmp/file.txt)" 640 "the file's mode"

step "cp a local file to a new name, and onto an existing file"
docker cp "$L/src/file.txt" c1:/tmp/renamed.txt
check_eq "$(docker exec c1 cat /tmp/renamed.txt)" hello "cp file c1:/tmp/renamed.txt"
echo other >"$L/other.txt"
docker cp "$L/other.txt" c1:/tmp/renamed.txt
check_eq "$(docker exec c1 cat /tmp/renamed.txt)" other "cp onto an existing file replaces it"

step "cp a local directory: into an existing directory, and to a missing one (created)"
docker cp "$L/src" c1:/tmp
check_eq "$(docker exec c1 cat /tmp/src/sub/deep.txt)" nested "cp dir c1:/tmp -> /tmp/src/..."
check_eq "$(docker exec c1 readlink /tmp/src/link)" file.txt "a symlink copied as a symlink"
docker cp "$L/src" c1:/tmp/newdir
check_eq "$(docker exec c1 cat /tmp/newdir/sub/deep.txt)" nested "cp dir c1:/tmp/newdir (missing) -> its contents"
docker cp "$L/src/." c1:/tmp/newdir2/
check_eq "$(docker exec c1 cat /tmp/newdir2/file.txt)" hello "cp dir/. c1:/tmp/newdir2/"

step "missing and wrong destinations: Docker's errors"
run_capture docker cp "$L/src/file.txt" c1:/tmp/nope/
[ "$RC" != 0 ] || check_fail "cp file to a missing dir/ must fail"
check_contains "$OUT" "no such directory" "cp file c1:/tmp/nope/"
run_capture docker cp "$L/src" c1:/tmp/renamed.txt
[ "$RC" != 0 ] || check_fail "cp dir onto a file must fail"
check_contains "$OUT" "cannot copy directory" "cp dir c1:/file"
run_capture docker cp "$L/src/file.txt" c1:/no/such/parent/x
[ "$RC" != 0 ] || check_fail "cp into a missing parent must fail"
check_contains "$OUT" "Could not find the file /no/such/parent in container c1" "missing parent"
run_capture docker cp c1:/does/not/exist "$L/out/"
[ "$RC" != 0 ] || check_fail "cp of a missing container path must fail"
check_contains "$OUT" "Could not find the file /does/not/exist in container c1" "missing source"
run_capture docker cp "$L/src/file.txt" nosuch:/tmp
check_contains "$OUT" "No such container" "missing container"

step "cp out of a running container: a directory, its contents with /., a file, to - (tar)"
docker cp c1:/data "$L/out/"
check_eq "$(cat "$L/out/data/d/f")" data "cp c1:/data out/ -> out/data/d/f"
check_eq "$(readlink "$L/out/data/lnk")" /data/t "a symlink comes out as a symlink"
docker cp c1:/data "$L/out/renamed"
check_eq "$(cat "$L/out/renamed/t")" top "cp c1:/data out/renamed (missing) -> the directory renamed"
mkdir -p "$L/out/contents"
docker cp c1:/data/. "$L/out/contents"
check_eq "$(cat "$L/out/contents/d/f")" data "cp c1:/data/. -> the contents"
docker cp c1:/data/t "$L/out/t.txt"
check_eq "$(cat "$L/out/t.txt")" top "cp c1:/data/t out/t.txt"
check_eq "$(docker cp c1:/data - | tar -t | sort | tr '\n' ' ')" \
  "data/ data/d/ data/d/f data/hard data/lnk data/t " "cp c1:/data - : entries under the base name"
check_eq "$(docker cp c1:/data/. - | tar -t | sort | head -2 | tr '\n' ' ')" "./ ./d/ " \
  "cp c1:/data/. - : entries under ."
check_eq "$(docker cp c1:/data - | tar -tv | awk '$6 == "data/hard" || $6 == "data/t" {print substr($1, 1, 1)}' | sort | tr -d '\n')" \
  "-h" "two names of one file: the second is a hard link"

step "-L follows a symlink source; without it the link itself is copied"
docker cp c1:/data/lnk "$L/out/nolink"
[ -L "$L/out/nolink" ] || check_fail "cp c1:/data/lnk without -L must give a symlink"
docker cp -L c1:/data/lnk "$L/out/followed"
[ -f "$L/out/followed" ] && [ ! -L "$L/out/followed" ] || check_fail "cp -L must give a regular file"
check_eq "$(cat "$L/out/followed")" top "cp -L content"

step "- : a tar on stdin extracted into a directory"
tar -C "$L/src" -cf "$WORK/in.tar" file.txt sub
docker cp - c1:/tmp/fromstdin <"$WORK/in.tar" 2>/dev/null && check_fail "cp - into a missing dir must fail" || true
docker exec c1 mkdir /tmp/fromstdin
docker cp - c1:/tmp/fromstdin <"$WORK/in.tar"
check_eq "$(docker exec c1 cat /tmp/fromstdin/sub/deep.txt)" nested "cp - c1:/tmp/fromstdin"
gzip -c "$WORK/in.tar" >"$WORK/in.tar.gz"
docker exec c1 mkdir /tmp/gz
docker cp - c1:/tmp/gz <"$WORK/in.tar.gz"
check_eq "$(docker exec c1 cat /tmp/gz/file.txt)" hello "a gzip tar on stdin"

step "HEAD: X-Docker-Container-Path-Stat as Docker encodes it"
st=$(stat_header c1 /data)
check_eq "$(jq -r .name <<<"$st")/$(jq -r '.mode' <<<"$st")" "data/$((2147483648 + 0755))" "stat of a directory: ModeDir|0755"
st=$(stat_header c1 /data/lnk)
check_eq "$(jq -r .linkTarget <<<"$st")/$(($(jq -r .mode <<<"$st") & 134217728))" "/data/t/134217728" "stat of a symlink: ModeSymlink and its target"
check_eq "$(jq -r .size <<<"$(stat_header c1 /data/t)")" 4 "stat size of a file"
check_match "$(jq -r .mtime <<<"$(stat_header c1 /data/t)")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "stat mtime is RFC 3339"
out=$(api HEAD "/containers/c1/archive?path=/missing" -I)
check_contains "$out" "404" "HEAD of a missing path"
out=$(api GET "/containers/c1/archive")
check_contains "$out" "path cannot be empty" "GET without a path: 400"
check_eq "${out##*$'\n'}" 400 "GET without a path: status"

step "PUT: not a directory is a 400, a missing container a 404"
out=$(api PUT "/containers/c1/archive?path=/data/t" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 400 "PUT to a file: status"
check_contains "$out" "extraction point is not a directory" "PUT to a file: message"
out=$(api PUT "/containers/nosuch/archive?path=/tmp" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 404 "PUT into a missing container"
out=$(api PUT "/containers/c1/archive?path=/nowhere" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 404 "PUT into a missing path"
check_contains "$out" "Could not find the file /nowhere in container c1" "PUT into a missing path: message"

step "noOverwriteDirNonDir: a directory is not replaced by a file, nor the other way round"
docker exec c1 sh -c 'mkdir -p /tmp/now/file.txt'
out=$(api PUT "/containers/c1/archive?path=/tmp/now&noOverwriteDirNonDir=true" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 400 "a file over a directory with noOverwriteDirNonDir"
out=$(api PUT "/containers/c1/archive?path=/tmp/now" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 200 "the same without noOverwriteDirNonDir"
check_eq "$(docker exec c1 cat /tmp/now/file.txt)" hello "the directory was replaced by the file"

step "stopped containers: cp in and out"
docker create --name s1 busybox true >/dev/null
docker cp "$L/src" s1:/srv
check_eq "$(docker cp s1:/srv/sub/deep.txt - | tar -xO)" nested "cp into and out of a created container"
docker run --name s2 busybox sh -c 'echo exited >/exited' >/dev/null
docker cp s2:/exited "$L/out/exited"
check_eq "$(cat "$L/out/exited")" exited "cp out of an exited container"
docker cp "$L/src/file.txt" s2:/
docker start -a s2 >/dev/null
check_eq "$(docker cp s2:/file.txt - | tar -xO)" hello "cp into an exited container, seen after a restart"
mnt_left=$(awk -v w="$BERTHD_DIR" 'index($2, w) == 1 && $2 ~ /containers/ {print $2}' /proc/mounts | grep -c "$(docker inspect -f '{{.Id}}' s1)" || true)
check_eq "$mnt_left" 0 "no mount of the stopped container is left after the copies"

step "-a: files take the owner of the container's user; without it, the archive's"
docker create --name u1 --user 1234:5678 busybox true >/dev/null
docker cp "$L/src/file.txt" u1:/tmp/plain.txt
docker cp -a "$L/src/file.txt" u1:/tmp/archived.txt
docker cp u1:/tmp - | tar -tvf - >"$WORK/u1.lst"
check_contains "$(grep plain.txt "$WORK/u1.lst")" "0/0" "cp without -a: the local owner (root)"
check_contains "$(grep archived.txt "$WORK/u1.lst")" "1234/5678" "cp -a: Config.User's uid/gid"

step "read-only rootfs: 403 container rootfs is marked read-only"
docker run -d --name ro1 --read-only busybox sleep 1000 >/dev/null
run_capture docker cp "$L/src/file.txt" ro1:/tmp
[ "$RC" != 0 ] || check_fail "cp into a read-only rootfs must fail"
check_contains "$OUT" "container rootfs is marked read-only" "cp into --read-only"
out=$(api PUT "/containers/ro1/archive?path=/tmp" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 403 "PUT into a read-only rootfs: status"
docker stop -t 0 ro1 >/dev/null
out=$(api PUT "/containers/ro1/archive?path=/tmp" --data-binary @"$WORK/in.tar")
check_eq "${out##*$'\n'}" 403 "PUT into a stopped read-only container: status"

step "cut short: a truncated upload is a 400, an abandoned download leaves nothing behind"
head -c 3000 "$WORK/in.tar" >"$WORK/cut.tar"
docker exec c1 mkdir -p /tmp/cut
out=$(api PUT "/containers/c1/archive?path=/tmp/cut" --data-binary @"$WORK/cut.tar")
check_eq "${out##*$'\n'}" 400 "a truncated tar: status"
check_contains "$out" "invalid archive" "a truncated tar: message"
dd if=/dev/urandom of="$WORK/big.bin" bs=1M count=64 status=none
docker cp "$WORK/big.bin" s1:/big.bin
# A subshell of its own: head leaving early fails the pipeline (curl's SIGPIPE), on purpose.
(
  set +e +o pipefail
  curl -s --unix-socket "$BERTHD_SOCK" "http://berthd/v1.44/containers/s1/archive?path=/big.bin" | head -c 1000 >/dev/null
) || true
wait_for 10 sh -c "! grep -q $(docker inspect -f '{{.Id}}' s1) /proc/mounts" ||
  check_fail "the stopped container's root is unmounted once its download is abandoned"
check_eq "$(docker cp s1:/big.bin - | tar -xO | cmp - "$WORK/big.bin" && echo same)" same \
  "a download after an abandoned one: all of it"

step "events: archive-path and extract-to-dir"
since=$(date +%s)
docker cp c1:/data/t - >/dev/null
docker cp "$L/src/file.txt" c1:/tmp
until=$(($(date +%s) + 1))
ev=$(docker events --since "$since" --until "$until" --filter container=c1 --format '{{.Action}}' | tr '\n' ' ')
check_contains "$ev" "archive-path" "events: archive-path"
check_contains "$ev" "extract-to-dir" "events: extract-to-dir"

step "volumes and bind mounts inside the container: cp writes into them, running or stopped"
mkdir -p "$WORK/bind"
docker run -d --name v1 -v "$WORK/bind:/bind" -v cpvol:/vol -v /anon busybox sleep 1000 >/dev/null
docker cp "$L/src/file.txt" v1:/bind/
check_eq "$(cat "$WORK/bind/file.txt")" hello "cp into a bind mount lands in the host directory bound"
docker cp "$L/src/file.txt" v1:/vol/
docker cp "$L/src/file.txt" v1:/anon/x.txt
check_eq "$(docker exec v1 cat /vol/file.txt /anon/x.txt | tr '\n' ' ')" "hello hello " "cp into named and anonymous volumes"
docker stop -t 0 v1 >/dev/null
docker cp "$L/src/sub" v1:/vol/
docker cp "$L/src/file.txt" v1:/bind/stopped.txt
check_eq "$(cat "$WORK/bind/stopped.txt")" hello "cp into a stopped container's bind mount"
check_eq "$(docker cp v1:/vol - | tar -t | sort | tr '\n' ' ')" "vol/ vol/file.txt vol/sub/ vol/sub/deep.txt " \
  "cp out of a stopped container's volume"
docker create --name v2 -v cpvol:/data2 -v "$WORK/bind:/robind:ro" busybox true >/dev/null
check_eq "$(docker cp v2:/data2/sub/deep.txt - | tar -xO)" nested "the volume seen through another container"
run_capture docker cp "$L/src/file.txt" v2:/robind/
check_contains "$OUT" "mounted volume is marked read-only" "cp into a read-only bind mount"
docker start v1 >/dev/null

step "the berth CLI's cp: the same rules, the same results as docker's"
BERTH=${BERTH:-$(dirname "$RUNTIME")/berth}
berth() { "$BERTH" -H "unix://$BERTHD_SOCK" "$@"; }
B=$WORK/berth-out D=$WORK/docker-out
mkdir -p "$B" "$D"
for cli in berth docker; do
  out=$([ $cli = berth ] && echo "$B" || echo "$D")
  $cli cp c1:/data "$out/"
  $cli cp c1:/data "$out/renamed"
  mkdir -p "$out/contents"
  $cli cp c1:/data/. "$out/contents"
  $cli cp c1:/data/t "$out/t.txt"
  $cli cp c1:/data/lnk "$out/nolink"
  $cli cp -L c1:/data/lnk "$out/followed"
  $cli cp c1:/data - | tar -tv >"$out/listing"
  $cli cp "$L/src" "c1:/tmp/by-$cli"
  $cli cp "$L/src/." "c1:/tmp/by-$cli/"
  $cli cp "$L/src/file.txt" "c1:/tmp/by-$cli/sub/copied.txt"
  docker exec c1 mkdir "/tmp/stdin-$cli"
  $cli cp - "c1:/tmp/stdin-$cli" <"$WORK/in.tar"
  $cli cp -a "$L/src/file.txt" "u1:/tmp/a-$cli.txt"
done
check_eq "$(diff -r --no-dereference "$B" "$D" 2>&1)" "" "berth cp out: the same files, links and tar as docker cp"
check_eq "$(docker exec c1 sh -c 'cd /tmp/by-berth && find . | sort && cat sub/copied.txt')" \
  "$(docker exec c1 sh -c 'cd /tmp/by-docker && find . | sort && cat sub/copied.txt')" "berth cp in: what docker cp makes"
check_eq "$(docker exec c1 ls /tmp/stdin-berth)" "$(docker exec c1 ls /tmp/stdin-docker)" "berth cp - in"
check_contains "$(docker cp u1:/tmp - | tar -tvf - | grep a-berth.txt)" "1234/5678" "berth cp -a"
for args in "$L/src/file.txt c1:/tmp/nope/" "$L/src c1:/tmp/renamed.txt" "c1:/does/not/exist $L/out/" \
  "- c1:/tmp/renamed.txt" "c1:/a c1:/b" "a b"; do
  # shellcheck disable=SC2086
  run_capture docker cp $args </dev/null
  want="$RC ${OUT##*$'\n'}" # docker may log its tar goroutine's broken pipe first
  # shellcheck disable=SC2086
  run_capture berth cp $args </dev/null
  check_eq "$RC ${OUT##*$'\n'}" "$want" "berth cp $args: docker's exit status and error"
done

# ---- Hostile input. The container's links point at the host's canary path, at / and up
# through ../..; none of it may reach the host.
step "hostile: links in the container to / and ../.. are resolved inside it"
docker exec c1 sh -c "ln -s / /rootlink && mkdir -p /a/b && ln -s ../../../../../../../.. /a/b/up && ln -s $CANARY /canarylink"
docker cp "$L/src/file.txt" "c1:/rootlink$CANARY/" 2>/dev/null || true
docker cp "$L/src/file.txt" "c1:/a/b/up$CANARY/" 2>/dev/null || true
docker cp "$L/src/file.txt" c1:/canarylink/ 2>/dev/null || true
docker exec c1 mkdir -p "$CANARY"
docker cp "$L/src/file.txt" c1:/canarylink/
docker cp "$L/src/file.txt" "c1:/a/b/up$CANARY/up.txt"
check_eq "$(docker exec c1 cat "$CANARY/file.txt")" hello "through a link to the canary path: in the container's copy"
check_eq "$(docker exec c1 cat "$CANARY/up.txt")" hello "through ../..: in the container's root"
canary_untouched "cp through links in the container"
check_eq "$(docker cp c1:/a/b/up/etc/passwd - | tar -xO | head -1 | cut -d: -f1)" root \
  "a read through ../.. reads the container's /etc/passwd"
check_eq "$(docker cp "c1:/rootlink$CANARY/file.txt" - | tar -xO)" hello "a read through a link to / stays inside"
docker stop -t 0 c1 >/dev/null
docker cp "$L/src/file.txt" "c1:/a/b/up$CANARY/stopped.txt"
canary_untouched "cp through links in a stopped container"
docker start c1 >/dev/null

step "hostile tars: ../ entries, absolute entries, hard links out, symlink then write through"
python3 - "$WORK" "$CANARY" <<'EOF'
import io, sys, tarfile
work, canary = sys.argv[1], sys.argv[2]
def tar(name, entries):
    with tarfile.open(f"{work}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            info = tarfile.TarInfo(e[0])
            if e[1] == "file":
                data = b"pwned\n"
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            elif e[1] == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, e[2]
                t.addfile(info)
            elif e[1] == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, e[2]
                t.addfile(info)
            elif e[1] == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
up = "../" * 12
tar("dotdot", [("ok.txt", "file"), (up + canary.lstrip("/") + "/dotdot", "file")])
tar("dotdot_mid", [("a/../../" + up + canary.lstrip("/") + "/mid", "file")])
tar("absolute", [(canary + "/absolute", "file")])
tar("hardlink_out", [(f"hl", "hard", up + "etc/passwd")])
tar("hardlink_abs", [(f"hl", "hard", "/etc/passwd")])
tar("symlink_root", [("l", "sym", "/"), ("l" + canary + "/through", "file")])
tar("symlink_up", [("u", "sym", up), ("u" + canary + "/through_up", "file")])
tar("symlink_canary", [("c", "sym", canary), ("c/direct", "file")])
tar("symlink_dir_replaced", [("d", "dir"), ("d", "sym", canary), ("d/x", "file")])
EOF
docker exec c1 mkdir -p /x
for t in dotdot dotdot_mid hardlink_out; do
  out=$(api PUT "/containers/c1/archive?path=/x" --data-binary @"$WORK/$t.tar")
  check_eq "${out##*$'\n'}" 400 "$t.tar: a clear 400"
done
check_contains "$(api PUT "/containers/c1/archive?path=/x" --data-binary @"$WORK/dotdot.tar")" \
  "leaves the destination directory" "dotdot.tar: the message says why"
out=$(api PUT "/containers/c1/archive?path=/x" --data-binary @"$WORK/hardlink_abs.tar")
check_eq "${out##*$'\n'}" 400 "hardlink_abs.tar: an absolute hard link target is inside the destination, where there is none"
for t in absolute symlink_root symlink_up symlink_canary symlink_dir_replaced; do
  out=$(api PUT "/containers/c1/archive?path=/x" --data-binary @"$WORK/$t.tar")
  check_eq "${out##*$'\n'}" 200 "$t.tar: extracted inside the destination"
done
check_eq "$(docker exec c1 cat "/x$CANARY/absolute")" pwned "an absolute entry lands below the destination"
check_eq "$(docker exec c1 cat "/x$CANARY/through")" pwned "a symlink to / is followed as if the destination were the root"
check_eq "$(docker exec c1 cat "/x$CANARY/through_up")" pwned "a symlink up is stopped at the destination"
check_eq "$(docker exec c1 cat "/x$CANARY/direct")" pwned "a symlink to the canary path stays in the destination"
check_eq "$(docker exec c1 cat "/x$CANARY/x")" pwned "a directory replaced by a link, then written through"
check_eq "$(docker exec c1 cat /etc/passwd | head -1 | cut -d: -f1)" root "the container's /etc/passwd is intact"
# The same through the CLI's stdin path.
docker cp - c1:/x <"$WORK/dotdot.tar" 2>/dev/null && check_fail "docker cp - of a ../ tar must fail" || true
canary_untouched "hostile tars"
check_eq "$(stat -c %h /etc/passwd)" 1 "the host's /etc/passwd got no hard link"

step "races: the container swaps a directory for links out while cp reads and writes it"
echo HOSTSECRET >"$WORK/secret"
docker exec c1 sh -c "mkdir -p /race/d && echo inside >/race/d/f"
docker exec -d c1 sh -c "while :; do mv /race/d /race/real; ln -s $WORK /race/d; ln -sfn / /race/d; rm -f /race/d; mv /race/real /race/d; done"
python3 - "$WORK" <<'EOF'
import io, sys, tarfile
with tarfile.open(f"{sys.argv[1]}/race.tar", "w") as t:
    for i in range(300):
        data = b"raced\n"
        info = tarfile.TarInfo(f"d/f{i}")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
EOF
for _ in $(seq 15); do
  api PUT "/containers/c1/archive?path=/race" --data-binary @"$WORK/race.tar" >/dev/null
  docker cp c1:/race - 2>/dev/null | tar -xO 2>/dev/null | grep -c HOSTSECRET || true
done >"$WORK/race.out"
check_eq "$(sort -u "$WORK/race.out" | tr -d '\n')" 0 "a tar read during the swaps never holds a host file"
check_eq "$(find "$WORK" -maxdepth 1 -name 'f*' | head -3)" "" "no extraction during the swaps wrote next to the host's secret"
canary_untouched "races"
check_eq "$(cat "$WORK/secret")" HOSTSECRET "the host's file is intact"

finish_checks "docker CLI against berthd (cp and the archive API)"
