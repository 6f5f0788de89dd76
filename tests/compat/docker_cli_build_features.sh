#!/usr/bin/env bash
# The Dockerfile features BuildKit brought, through the real docker CLI's classic builder
# (DOCKER_BUILDKIT=0, which sends the Dockerfile untouched) against a berthd of this test's
# own: heredocs, MAINTAINER's Author, COPY --exclude/--parents/--link, stages the target does
# not need left unbuilt, RUN output as it comes, RUN --mount (cache, tmpfs, bind) and
# --network; what is not there (type=secret) refused by name.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd bf
B_SOCK=$BERTHD_SOCK
B_DATA=$BERTHD_DIR/data
docker() { DOCKER_BUILDKIT=0 DOCKER_HOST="unix://$B_SOCK" "$DOCKER_CLI" "$@"; }
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1'
docker import "$tarball" busybox >/dev/null
no_containers() { check_eq "$(docker ps -aq | wc -l)" 0 "$1: no container is left"; }

# ---------------------------------------------------------------------------------------
step "heredocs: RUN <<EOF, RUN <<-EOF with a command, a #! script; COPY <<EOF files; MAINTAINER"
hd=$WORK/hd
mkdir -p "$hd"
{
  printf 'FROM busybox\nARG WHO=world\nMAINTAINER Jane Doe <jane@example.com>\n'
  printf 'RUN <<EOF\necho first > /run1\n# a shell comment, not the Dockerfile'"'"'s\necho "second $WHO" >> /run1\nEOF\n'
  printf 'RUN <<-EOF sh\n\techo "tabs stripped" > /run2\n\tEOF\n'
  printf 'RUN <<EOF\n#!/bin/sh\necho "script $0" > /run3\nEOF\n'
  printf 'COPY <<EOF /etc/greeting\nhello $WHO\nEOF\n'
  printf 'COPY <<one <<"two" /docs/\n1 $WHO\none\n2 $WHO\ntwo\n'
  printf 'CMD ["cat", "/run1", "/run2", "/run3", "/etc/greeting", "/docs/one", "/docs/two"]\n'
} >"$hd/Dockerfile"
run_capture docker build -t hd:1 "$hd"
check_eq "$RC" 0 "heredoc build ($OUT)"
run_capture docker run --rm hd:1
check_eq "$OUT" "$(printf 'first\nsecond world\ntabs stripped\nscript /dev/pipes/EOF\nhello world\n1 world\n2 $WHO')" "each heredoc ran or was written as BuildKit does"
check_eq "$(docker run --rm hd:1 stat -c '%a %u:%g' /etc/greeting /docs/one | tr '\n' ' ')" "644 0:0 644 0:0 " "heredoc files are 0644 root"
check_eq "$(insp '{{.Author}}' hd:1)" "Jane Doe <jane@example.com>" "MAINTAINER sets the Author"
run_capture docker build -t hd:2 "$hd"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 8 "a rebuild of heredocs is cached"

step "COPY --exclude, --parents, --link (the same files as a plain COPY; its layer cached whatever came before)"
cf=$WORK/cf
mkdir -p "$cf/dir/sub" "$cf/x/y"
echo a >"$cf/dir/a.txt"
echo b >"$cf/dir/b.md"
echo c >"$cf/dir/sub/c.txt"
echo d >"$cf/dir/sub/d.md"
echo z >"$cf/x/y/z.txt"
chmod 600 "$cf/dir/sub/c.txt"
cat >"$cf/Dockerfile" <<'DF'
FROM busybox
RUN mkdir -m 0750 /l /n && chown 5:6 /l /n
COPY --exclude=*.md --exclude=sub/c.txt dir /e/
COPY --exclude=**/*.md dir /e2/
COPY --parents x/y/z.txt dir/sub /p/
COPY --parents ./x/./y/z.txt /q/
COPY --link --chown=1:2 dir /l/
COPY --chown=1:2 dir /n/
DF
run_capture docker build -t cf:1 "$cf"
check_eq "$RC" 0 "COPY flags build ($OUT)"
check_eq "$(docker run --rm cf:1 find /e /e2 /p /q | sort | tr '\n' ' ')" "/e /e/a.txt /e/sub /e/sub/d.md /e2 /e2/a.txt /e2/sub /e2/sub/c.txt /p /p/dir /p/dir/sub /p/dir/sub/c.txt /p/dir/sub/d.md /p/x /p/x/y /p/x/y/z.txt /q /q/y /q/y/z.txt " "--exclude and --parents"
l=$(docker run --rm cf:1 sh -c 'cd /l && ls -lnR --full-time . && stat -c "%a %u:%g" /l')
n=$(docker run --rm cf:1 sh -c 'cd /n && ls -lnR --full-time . && stat -c "%a %u:%g" /n')
check_eq "$l" "$n" "COPY --link gives the files, modes, owners and times of a plain COPY"
check_contains "$l" "750 5:6" "the existing destination directory as a plain COPY leaves it"
sed -i 's|^RUN mkdir|RUN echo changed >/changed \&\& mkdir|' "$cf/Dockerfile"
run_capture docker build -t cf:2 "$cf"
check_eq "$RC" 0 "rebuild after an earlier step changed ($OUT)"
check_contains "$OUT" "Using cache (--link: the layer of" "the --link layer comes from the cache after a change before it"
check_eq "$(grep -c ' ---> Using cache$' <<<"$OUT")" 0 "the plain COPYs after the change are done again"
check_eq "$(docker run --rm cf:2 sh -c 'cat /changed; ls /l/sub')" "$(printf 'changed\nc.txt\nd.md')" "the reused layer sits on the new parent"
l1=$(insp '{{index .RootFS.Layers 6}}' cf:1)
l2=$(insp '{{index .RootFS.Layers 6}}' cf:2)
check_eq "$l2" "$l1" "the --link layer is the same layer in both images"

step "stages the target does not need are not built"
sk=$WORK/sk
mkdir -p "$sk"
cat >"$sk/Dockerfile" <<'DF'
FROM busybox AS broken
RUN echo "the broken stage ran" && exit 1
FROM busybox AS used
RUN echo used >/used
FROM busybox AS also-unused
RUN echo "the unused stage ran" && exit 1
FROM busybox
COPY --from=used /used /used
DF
run_capture docker build -t sk:1 "$sk"
check_eq "$RC" 0 "a build with a failing stage the target does not need ($OUT)"
check_not_contains "$OUT" "stage ran" "no RUN of a skipped stage ran"
check_contains "$OUT" "Step 1/4 : FROM busybox AS used" "steps counted over the stages built"
check_eq "$(docker run --rm sk:1 cat /used)" "used" "the needed stage was built"
run_capture docker build --target broken -t sk:2 "$sk"
check_eq "$RC" 1 "--target broken builds it ($OUT)"
check_contains "$OUT" "the broken stage ran" "and its RUN runs"
no_containers "after the stage builds"

step "RUN output reaches the client while the step runs"
lv=$WORK/lv
mkdir -p "$lv"
cat >"$lv/Dockerfile" <<'DF'
FROM busybox
RUN --mount=type=cache,id=live,target=/w echo "waiting-$((1 + 1))" && while [ ! -e /w/go ]; do sleep 0.05; done && echo "got-$((2 + 2))" && rm /w/go
DF
docker build --no-cache -t lv:1 "$lv" >"$WORK/lv.out" 2>&1 &
lv_pid=$!
defer "kill $lv_pid 2>/dev/null || true"
# The step line shows the command; its output is what the shell computed.
if wait_for 30 grep -q "^waiting-2" "$WORK/lv.out"; then
  check_not_contains "$(cat "$WORK/lv.out")" "got-4" "the line came before the step ended"
  for d in "$B_DATA"/build-cache-mounts/*/; do touch "$d/go"; done
else
  check_fail "the RUN's first line did not reach the client while it ran: $(cat "$WORK/lv.out")"
  for d in "$B_DATA"/build-cache-mounts/*/; do touch "$d/go"; done
fi
wait "$lv_pid" && RC=0 || RC=$?
check_eq "$RC" 0 "the live build finished ($(cat "$WORK/lv.out"))"
check_contains "$(cat "$WORK/lv.out")" "got-4" "the rest of the output"

step "RUN --mount: cache kept across builds, tmpfs, bind from the context and a stage; --network"
mt=$WORK/mt
mkdir -p "$mt/src"
echo from-context >"$mt/src/file"
cat >"$mt/Dockerfile" <<'DF'
FROM busybox AS stage
RUN echo from-stage >/made
FROM busybox
ARG N=1
RUN --mount=type=cache,target=/cache,sharing=locked echo "run $N" >>/cache/log && cat /cache/log >/cache-seen
RUN --mount=type=tmpfs,target=/scratch,size=1m grep -q "/scratch tmpfs" /proc/mounts && echo x >/scratch/y && echo tmpfs-ok >/tmpfs-seen
RUN --mount=type=bind,source=src,target=/ctx cat /ctx/file >/bind-seen && (echo nope >/ctx/file 2>/dev/null && echo writable || echo read-only) >>/bind-seen
RUN --mount=type=bind,source=src,target=/ctx,rw echo changed >/ctx/file && cat /ctx/file >/rw-seen
RUN --mount=from=stage,source=/made,target=/m cat /m >/stage-seen
RUN --network=none ip -o link | grep -vc ": lo:" >/net-none || true
RUN --network=host ip -o link | grep -c ": lo:" >/net-host
COPY src/file /after-rw
DF
run_capture docker build --build-arg N=1 -t mt:1 "$mt"
check_eq "$RC" 0 "mount build ($OUT)"
run_capture docker build --build-arg N=2 -t mt:2 "$mt"
check_eq "$RC" 0 "second mount build ($OUT)"
check_eq "$(docker run --rm mt:2 cat /cache-seen)" "$(printf 'run 1\nrun 2')" "the cache mount kept the first build's file"
check_eq "$(docker run --rm mt:2 sh -c 'cat /tmpfs-seen; ls -d /scratch /cache /ctx /m 2>&1 | grep -c "No such file"')" "$(printf 'tmpfs-ok\n4')" "tmpfs worked; the mount points are not in the image"
check_eq "$(docker run --rm mt:2 cat /bind-seen /rw-seen /stage-seen /after-rw | tr '\n' ' ')" "from-context read-only changed from-stage from-context " "bind mounts: read-only by default, rw writes thrown away, from a stage"
check_eq "$(docker run --rm mt:2 cat /net-none /net-host | tr '\n' ' ')" "0 1 " "--network=none has only lo; host sees the host's"
echo other >"$mt/src/file"
run_capture docker build --build-arg N=2 -t mt:3 "$mt"
check_contains "$OUT" "Step 7/12 : RUN --mount=type=bind,source=src,target=/ctx cat" "the bind step"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 4 "a changed bind source misses from its step on"
no_containers "after mount builds"

step "what berth's builder does not have is refused by name"
bad=$WORK/bad
mkdir -p "$bad"
printf 'FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_eq "$RC" 1 "type=secret exit status"
check_contains "$OUT" "RUN --mount=type=secret needs the secret sent by the client" "type=secret is refused clearly"
printf 'FROM busybox\nRUN --security=insecure true\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_contains "$OUT" "the --security option requires BuildKit" "--security is refused"
no_containers "after refusals"

finish_checks docker_cli_build_features
