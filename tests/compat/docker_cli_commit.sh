#!/usr/bin/env bash
# The real docker CLI against a berthd of this test's own, for `docker commit`: a container's
# new, deleted and opaque-replaced files become a layer that runs; author, message, --change
# and the container's id land in the image; commit of a running container with and without
# pause; the errors docker prints; an unchanged container adds no layer; the committed image
# survives save and load into another berthd with the same ID.
# Every check prints what it does; failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd b1
B1_SOCK=$BERTHD_SOCK
docker() { DOCKER_HOST="unix://$B1_SOCK" "$DOCKER_CLI" "$@"; }
defer 'ids=$(docker ps -aq 2>/dev/null) && [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1'
docker import --change 'CMD ["sh"]' "$tarball" busybox >/dev/null
t_start=$(date +%s)

# ---------------------------------------------------------------------------------------
step "a first commit adds files that the second container deletes"
docker run --name base busybox sh -c 'mkdir -p /data/sub && echo a >/data/sub/a && echo b >/data/b && echo victim >/victim'
run_capture docker commit base base:1
check_eq "$RC" 0 "commit base base:1 ($OUT)"
check_match "$OUT" '^sha256:[0-9a-f]{64}$' "commit prints the new image's ID"
check_eq "$(docker run --rm base:1 cat /victim /data/b 2>&1 | tr '\n' ' ')" "victim b " "base:1 has the first container's files"

step "commit -a -m -c of a container that adds, deletes and replaces a directory"
docker run --name c1 base:1 sh -c 'echo hello >/hello && rm /victim && rm -rf /data && mkdir /data && echo new >/data/new'
c1_id=$(insp '{{.Id}}' c1)
run_capture docker commit -a me -m msg -c 'CMD ["cat","/hello"]' c1 repo:tag
check_eq "$RC" 0 "commit -a me -m msg -c CMD c1 repo:tag ($OUT)"
img_id=$OUT
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}' repo:tag)" "repo:tag ${img_id:7:12}" "images lists repo:tag"
run_capture docker run --rm repo:tag
check_eq "$RC/$OUT" "0/hello" "run --rm repo:tag runs the CMD of --change and sees the new file"
run_capture docker run --rm repo:tag ls /victim
check_eq "$RC" 1 "a file deleted in the container is gone from the image ($OUT)"
run_capture docker run --rm repo:tag ls /data
check_eq "$RC/$OUT" "0/new" "a directory removed and made again hides the old contents (opaque)"
check_eq "$(docker run --rm repo:tag cat /data/new 2>&1)" "new" "the new directory's file"

step "inspect and history of the committed image"
check_eq "$(insp '{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}' repo:tag)" 'me|msg|["cat","/hello"]' "inspect Author, Comment, Config.Cmd"
check_eq "$(insp '{{.Container}}' repo:tag)" "$c1_id" "inspect .Container is the committed container"
check_eq "$(insp '{{.Parent}}' repo:tag)" "$(insp '{{.Id}}' base:1)" "inspect .Parent is the container's image"
check_eq "$(insp '{{len .RootFS.Layers}}' repo:tag)" "$(($(insp '{{len .RootFS.Layers}}' base:1) + 1))" "one layer more than the parent"
hist=$(docker history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' repo:tag 2>&1)
check_eq "$(head -1 <<<"$hist")" "sh -c echo hello >/hello && rm /victim && rm -rf /data && mkdir /data && echo new >/data/new|msg" "history: the newest entry is the container's command, with the message"
check_eq "$(wc -l <<<"$hist")" "3" "history: import, first commit, second commit"
check_contains "$(docker history repo:tag 2>&1 | head -2)" "msg" "docker history shows the comment"

step "a change that is not a Dockerfile instruction, a missing container, a bad name"
run_capture docker commit -c 'BOGUS x' c1
check_eq "$RC" 1 "commit -c 'BOGUS x' exit status"
check_contains "$OUT" "Error response from daemon: bogus is not a valid change command" "commit -c BOGUS message"
run_capture docker commit nosuch x
check_eq "$RC" 1 "commit of a missing container exit status"
check_contains "$OUT" "Error response from daemon: No such container: nosuch" "commit of a missing container message"
api() { curl -s --unix-socket "$B1_SOCK" -X POST -o "$WORK/api.out" -w '%{http_code}' "http://berthd/v1.44$1"; }
check_eq "$(api '/commit?container=c1&repo=UPPER')" 400 "POST /commit repo=UPPER status"
check_contains "$(cat "$WORK/api.out")" "invalid reference format: repository name (library/UPPER) must be lowercase" "repo=UPPER message"
check_eq "$(api '/commit?container=c1&repo=ok&tag=bad:tag')" 400 "POST /commit tag=bad:tag status"
check_contains "$(cat "$WORK/api.out")" "invalid tag format" "tag=bad:tag message"
check_eq "$(api '/commit?container=nosuch')" 404 "POST /commit of a missing container status"

step "a running container: --pause=false, and the default pause that ends unpaused"
docker run -d --name live busybox sh -c 'echo live >/live; exec sleep 1000' >/dev/null
for _ in $(seq 50); do docker exec live test -e /live 2>/dev/null && break; sleep 0.1; done
run_capture docker commit --pause=false live live:1
check_eq "$RC" 0 "commit --pause=false of a running container ($OUT)"
check_eq "$(docker run --rm live:1 cat /live 2>&1)" "live" "the running container's file is in the image"
check_eq "$(insp '{{json .Config.Cmd}}' live:1)" '["sh","-c","echo live >/live; exec sleep 1000"]' "without --change the image keeps the container's command"
run_capture docker commit live live:2
check_eq "$RC" 0 "commit (pausing) of a running container ($OUT)"
check_eq "$(insp '{{.State.Status}}' live)" "running" "the container runs again after a pausing commit"
docker rm -f live >/dev/null

step "a container that changed nothing adds no layer (dockerd marks the history entry empty)"
docker create --name idle busybox true >/dev/null
run_capture docker commit idle idle:1
check_eq "$RC" 0 "commit of an unchanged container ($OUT)"
check_eq "$(insp '{{len .RootFS.Layers}}' idle:1)" "$(insp '{{len .RootFS.Layers}}' busybox)" "no layer added"
check_eq "$(docker run --rm idle:1 echo ok 2>&1)" "ok" "the image of an unchanged container runs"

step "events: commit of a container, with the image it made"
ev=$(docker events --since "$t_start" --until "$(($(date +%s) + 1))" --filter event=commit --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.imageRef}} {{.Actor.Attributes.comment}}' 2>&1)
check_contains "$ev" "c1 repo:tag msg" "a commit event for c1 naming repo:tag and the message"
ev=$(docker events --since "$t_start" --until "$(($(date +%s) + 1))" --filter type=container --filter container=live --format '{{.Action}}' 2>&1 | tr '\n' ' ')
check_contains "$ev" "pause unpause commit" "a pausing commit pauses, unpauses, then publishes commit"

step "save of the committed image, load into a fresh berthd: the same ID, the same files"
docker save repo:tag -o "$WORK/repo.tar"
start_berthd b2
run_capture bdocker load -i "$WORK/repo.tar"
check_eq "$RC" 0 "load into a fresh berthd ($OUT)"
check_eq "$(bdocker inspect -f '{{.Id}}' repo:tag 2>&1)" "$img_id" "the loaded image has the committed image's ID"
check_eq "$(bdocker run --rm repo:tag 2>&1)" "hello" "the loaded image runs"
run_capture bdocker run --rm repo:tag sh -c 'ls /victim; ls /data'
check_eq "$OUT" $'ls: /victim: No such file or directory\nnew' "after load: whiteouts still hide the deleted file and the old directory"

finish_checks "docker CLI against berthd (commit)"
