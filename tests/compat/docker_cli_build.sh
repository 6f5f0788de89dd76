#!/usr/bin/env bash
# The real docker CLI's classic builder (DOCKER_BUILDKIT=0) and `berth build` against a berthd
# of this test's own: step lines, the image config each instruction makes, the files COPY
# puts in the image (modes, owners, contents), the image runs, the cache (a hit on rebuild, a
# miss after a source changes, --no-cache, across a daemon restart), multi-stage builds with
# COPY --from, .dockerignore, and bad input that tags nothing and leaves no container.
# Every check prints what it does; failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd b1
B1_SOCK=$BERTHD_SOCK
docker() { DOCKER_BUILDKIT=0 DOCKER_HOST="unix://$B1_SOCK" "$DOCKER_CLI" "$@"; }
berth() { DOCKER_HOST="unix://$B1_SOCK" "$(dirname "$RUNTIME")/berth" "$@"; }
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1'
docker import "$tarball" busybox >/dev/null
no_containers() { check_eq "$(docker ps -aq | wc -l)" 0 "$1: no container is left"; }

# ---------------------------------------------------------------------------------------
step "a Dockerfile with every metadata instruction, COPY and RUN, through docker build"
ctx=$WORK/ctx1
mkdir -p "$ctx/dir/sub"
echo hello >"$ctx/hello.txt"
chmod 640 "$ctx/hello.txt"
echo one >"$ctx/dir/one"
echo two >"$ctx/dir/sub/two"
echo secret >"$ctx/secret.key"
printf '*.key\n' >"$ctx/.dockerignore"
cat >"$ctx/Dockerfile" <<'DF'
# syntax=docker/dockerfile:1
FROM busybox
ARG GREETING=hi
LABEL org.example.a="one two" b=2
ENV APP_HOME=/app \
    MODE=prod
ENV LEGACY the old form
WORKDIR $APP_HOME
COPY hello.txt ./
COPY dir /app/dir/
COPY --chown=1000:1000 --chmod=600 hello.txt /owned/hello
RUN echo "$GREETING from $MODE" > greeting && ls /app > listing
EXPOSE 8080 53/udp
VOLUME ["/data"]
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD wget -q -O- localhost:8080
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["sh", "-c"]
CMD ["cat /app/greeting"]
DF
run_capture docker build -t app:1 -t app:latest --build-arg GREETING=hey "$ctx"
check_eq "$RC" 0 "docker build exit status ($OUT)"
check_contains "$OUT" "Step 1/18 : FROM busybox" "the first step line"
check_contains "$OUT" "Step 10/18 : RUN echo \"\$GREETING from \$MODE\" > greeting && ls /app > listing" "the RUN step line"
check_contains "$OUT" " ---> Running in " "RUN runs in a container"
check_match "$OUT" "Successfully built [0-9a-f]{12}" "Successfully built"
check_contains "$OUT" "Successfully tagged app:1" "Successfully tagged app:1"
check_contains "$OUT" "Successfully tagged app:latest" "Successfully tagged app:latest"
no_containers "after a build"
check_eq "$(insp '{{json .Config.Cmd}}' app:1)" '["cat /app/greeting"]' "Config.Cmd"
check_eq "$(insp '{{json .Config.Entrypoint}}' app:1)" '["sh","-c"]' "Config.Entrypoint"
check_eq "$(insp '{{json .Config.Env}}' app:1)" '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_HOME=/app","MODE=prod","LEGACY=the old form"]' "Config.Env"
check_eq "$(insp '{{.Config.WorkingDir}}|{{.Config.User}}|{{.Config.StopSignal}}' app:1)" "/app|1000:1000|SIGTERM" "WorkingDir, User, StopSignal"
check_eq "$(insp '{{json .Config.ExposedPorts}}' app:1)" '{"53/udp":{},"8080/tcp":{}}' "ExposedPorts"
check_eq "$(insp '{{json .Config.Volumes}}' app:1)" '{"/data":{}}' "Volumes"
check_eq "$(insp '{{json .Config.Labels}}' app:1)" '{"b":"2","org.example.a":"one two"}' "Labels"
check_eq "$(insp '{{json .Config.Healthcheck}}' app:1)" '{"Test":["CMD-SHELL","wget -q -O- localhost:8080"],"Interval":30000000000,"Timeout":5000000000,"Retries":2}' "Healthcheck"
check_eq "$(insp '{{json .Config.Shell}}' app:1)" '["/bin/sh","-c"]' "Shell"
run_capture docker run --rm app:1
check_eq "$RC/$OUT" "0/hey from prod" "the image runs its CMD and saw the build arg and ENV"
run_capture docker run --rm --entrypoint ls app:1 -ln /app/hello.txt /owned/hello
check_match "$OUT" "-rw-r-----  *1 0  *0 .*/app/hello.txt" "COPY keeps the mode, owner root"
check_match "$OUT" "-rw-------  *1 1000  *1000 .*/owned/hello" "COPY --chown --chmod"
run_capture docker run --rm --entrypoint cat app:1 /app/dir/one /app/dir/sub/two /app/listing
check_eq "$OUT" "$(printf 'one\ntwo\ndir\ngreeting\nhello.txt\nlisting')" "a directory's contents copied, and RUN saw them"
run_capture docker run --rm --entrypoint ls app:1 /app/secret.key /secret.key
check_eq "$RC" 1 ".dockerignore'd file is not in the image"
hist=$(docker history --no-trunc --format '{{.CreatedBy}}' app:1)
check_contains "$hist" "/bin/sh -c #(nop)  CMD [\"cat /app/greeting\"]" "history: CMD as Docker writes it"
check_match "$hist" "/bin/sh -c #\(nop\) COPY file:[0-9a-f]{64} in /app/ " "history: COPY file:<hash>"
check_contains "$hist" "|1 GREETING=hey /bin/sh -c echo" "history: RUN with its build arg"

step "a rebuild uses the cache for every step; a changed source misses from its COPY on"
run_capture docker build -t app:2 --build-arg GREETING=hey "$ctx"
check_eq "$RC" 0 "rebuild exit status ($OUT)"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 17 "every step after FROM comes from the cache"
check_eq "$(insp '{{.Id}}' app:2)" "$(insp '{{.Id}}' app:1)" "the same image"
echo changed >"$ctx/dir/sub/two"
run_capture docker build -t app:3 --build-arg GREETING=hey "$ctx"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 6 "the steps before the changed COPY come from the cache"
check_eq "$(docker run --rm --entrypoint cat app:3 /app/dir/sub/two)" "changed" "the new content"
run_capture docker build -t app:4 --build-arg GREETING=other "$ctx"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 8 "another build arg misses at the RUN that sees it"
run_capture docker build --no-cache -t app:5 --build-arg GREETING=hey "$ctx"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 0 "--no-cache uses nothing"
no_containers "after rebuilds"

step "multi-stage: COPY --from a named stage and by index, --target, FROM scratch"
ms=$WORK/ms
mkdir -p "$ms"
echo src >"$ms/src.txt"
cat >"$ms/Dockerfile" <<'DF'
ARG BASE=busybox
FROM $BASE AS builder
COPY src.txt /work/
RUN cp /work/src.txt /work/built && echo extra >/work/extra
FROM scratch AS files
COPY --from=builder /work/built /out/
COPY --from=0 /work/extra /out/extra
FROM busybox
COPY --from=files /out /opt/
CMD ["cat", "/opt/built", "/opt/extra"]
DF
run_capture docker build -t ms:1 "$ms"
check_eq "$RC" 0 "multi-stage build ($OUT)"
check_eq "$(docker run --rm ms:1 | tr '\n' ' ')" "src extra " "files came through two stages"
OUT=$(docker build -q --target files -t ms:files "$ms" 2>/dev/null) && RC=0 || RC=$?
check_eq "$RC" 0 "--target files -q ($OUT)"
check_match "$OUT" "^sha256:[0-9a-f]{64}$" "-q prints only the image ID"
check_eq "$(insp '{{len .RootFS.Layers}}' ms:files)" 2 "the scratch stage has its two COPY layers"

step "berth build: -f outside the context, --label, --iidfile, ONBUILD in a child"
mkdir -p "$WORK/b2"
echo hi >"$WORK/b2/a"
cat >"$WORK/other.Dockerfile" <<'DF'
FROM busybox
COPY a /a
ONBUILD RUN echo triggered >/trigger
DF
run_capture berth build -f "$WORK/other.Dockerfile" --label team=x --iidfile "$WORK/iid" -t parent:1 "$WORK/b2"
check_eq "$RC" 0 "berth build ($OUT)"
check_contains "$OUT" "Successfully tagged parent:1" "berth build tags"
check_eq "$(cat "$WORK/iid")" "$(insp '{{.Id}}' parent:1)" "--iidfile"
check_eq "$(insp '{{.Config.Labels.team}}|{{json .Config.OnBuild}}' parent:1)" 'x|["RUN echo triggered >/trigger"]' "--label and OnBuild"
mkdir -p "$WORK/b3"
printf 'FROM parent:1\nRUN cat /trigger\n' >"$WORK/b3/Dockerfile"
run_capture berth build -t child:1 "$WORK/b3"
check_eq "$RC" 0 "a child of an ONBUILD image ($OUT)"
check_contains "$OUT" "# Executing 1 build trigger" "the trigger runs"
check_contains "$OUT" "triggered" "RUN output is streamed"
check_eq "$(insp '{{json .Config.OnBuild}}' child:1)" 'null' "triggers are not inherited"

step "berth build -f - and .dockerignore when berth packs the context"
printf 'FROM busybox\nCOPY . /ctx/\nRUN ls -a /ctx | tr "\\n" " "\n' | berth build -f - -t ign:1 "$ctx" >"$WORK/ign.out" 2>&1 && RC=0 || RC=$?
check_eq "$RC" 0 "berth build -f - ($(cat "$WORK/ign.out"))"
check_contains "$(cat "$WORK/ign.out")" ". .. Dockerfile dir hello.txt " "COPY . sees all but the .dockerignore'd secret.key, the sent Dockerfile and .dockerignore"

step "bad input: unknown instruction, missing file, ../x, failing RUN; nothing tagged, no container"
bad=$WORK/bad
mkdir -p "$bad"
printf 'FROM busybox\n\nFOO bar\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_eq "$RC" 1 "unknown instruction exit status"
check_contains "$OUT" "Dockerfile parse error on line 3: unknown instruction: FOO" "unknown instruction message"
printf 'FROM busybox\nCOPY missing.txt /\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_eq "$RC" 1 "COPY of a missing file exit status"
check_contains "$OUT" "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist" "missing file message"
printf 'FROM busybox\nCOPY ../x /\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_contains "$OUT" "forbidden path outside the build context: ../x" "../x is refused"
printf 'FROM busybox\nRUN echo about to fail && exit 3\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_eq "$RC" 1 "failing RUN exit status"
check_contains "$OUT" "about to fail" "the failing step's output is shown"
check_contains "$OUT" "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3" "failing RUN message"
printf 'FROM nosuchimage\n' >"$bad/Dockerfile"
run_capture docker build -t bad:1 "$bad"
check_eq "$RC" 1 "a missing base image exit status"
check_eq "$(docker images -q bad 2>&1)" "" "nothing was tagged"
no_containers "after failed builds"

step "ADD unpacks a local tar.gz; COPY --chown by name from the image's /etc/passwd"
ad=$WORK/add
mkdir -p "$ad/tree/sub"
echo packed >"$ad/tree/sub/file"
ln -s sub/file "$ad/tree/link"
tar -C "$ad/tree" -czf "$ad/files.tar.gz" --owner=7 --group=8 .
echo plain >"$ad/plain.txt"
printf 'FROM busybox\nRUN echo "app:x:4242:4343::/home/app:/bin/sh" >>/etc/passwd\nADD files.tar.gz /opt\nADD plain.txt /opt/\nCOPY --chown=app plain.txt /owned\n' >"$ad/Dockerfile"
run_capture docker build -t add:1 "$ad"
check_eq "$RC" 0 "ADD build ($OUT)"
check_eq "$(docker run --rm add:1 sh -c 'cat /opt/sub/file /opt/link /opt/plain.txt; stat -c %u:%g /opt/sub/file /owned' | tr '\n' ' ')" "packed packed plain 7:8 4242:4242 " "the archive is unpacked with its owners, a plain file copied, --chown=name"

step "the cache survives a daemon restart"
stop_pid "$BERTHD_PID" berthd
start_berthd b1
run_capture docker build -t app:6 --build-arg GREETING=hey "$ctx"
check_eq "$(grep -c ' ---> Using cache' <<<"$OUT")" 17 "every step comes from the cache after a restart"

finish_checks docker_cli_build
