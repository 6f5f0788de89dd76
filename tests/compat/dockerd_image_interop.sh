#!/usr/bin/env bash
# docker save / docker load between Debian's dockerd 20.10 and berthd, both driven by the real
# docker CLI: an image made in one daemon loads into the other with the same ID, tags and
# RootFS.Layers, one image and two sharing a layer, both ways.
# dockerd runs with its own containerd (own root, state and socket), data root, exec root,
# socket and pidfile; an installed Docker's /var/lib/docker and /run/docker.sock are checked
# to be untouched.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

# What an installed Docker owns, to compare at the end.
host_state() {
  for p in /var/lib/docker /run/docker.sock /var/run/docker.sock /run/containerd; do
    if [ -e "$p" ]; then stat -c '%n %i %Y' "$p"; else echo "$p absent"; fi
  done
}
host_before=$(host_state)

step "start containerd and dockerd of this test's own"
start_dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  --userland-proxy=false
check_contains "$(ddocker version --format '{{.Server.Version}}')" "20.10" "the dockerd under test is Debian's 20.10"

start_berthd berthd
tarball=$(busybox_tar)
diffid=sha256:$(sha256sum "$tarball" | cut -d' ' -f1)

# agree DAEMON_A DAEMON_B REF...: both daemons report the same Id, RepoTags and RootFS.Layers.
agree() {
  local a=$1 b=$2 ref
  shift 2
  for ref in "$@"; do
    local fa fb
    fa=$($a image inspect -f '{{.Id}} {{json .RepoTags}} {{json .RootFS.Layers}}' "$ref" 2>&1) || true
    fb=$($b image inspect -f '{{.Id}} {{json .RepoTags}} {{json .RootFS.Layers}}' "$ref" 2>&1) || true
    check_eq "$fb" "$fa" "$ref: Id, RepoTags and RootFS.Layers in $b equal those in $a"
  done
}

# ---------------------------------------------------------------------------------------
step "dockerd -> berthd: one imported image"
d_id1=$(ddocker import --change 'CMD ["sh"]' -m 'from dockerd' "$tarball" fromd:1)
check_eq "$(ddocker image inspect -f '{{json .RootFS.Layers}}' fromd:1)" "[\"$diffid\"]" "dockerd import: layer is the tar's sha256"
ddocker save -o "$WORK/fromd1.tar" fromd:1
run_capture bdocker load -i "$WORK/fromd1.tar"
check_eq "$RC/$OUT" "0/Loaded image: fromd:1" "berthd loads dockerd's save of fromd:1"
check_eq "$(bdocker image inspect -f '{{.Id}}' fromd:1 2>&1)" "$d_id1" "fromd:1 keeps its ID in berthd"
agree ddocker bdocker fromd:1
check_eq "$(bdocker image inspect -f '{{json .Config.Cmd}} {{.Comment}}' fromd:1 2>&1)" '["sh"] from dockerd' "fromd:1 config in berthd"
check_eq "$(bdocker history -q --no-trunc fromd:1 2>&1)" "$d_id1" "fromd:1 history in berthd"

step "dockerd -> berthd: two images sharing a layer, several tags"
d_id2=$(ddocker import --change 'CMD ["true"]' - fromd:2 <"$tarball")
ddocker tag fromd:2 localhost:5000/team/fromd:2
ddocker save fromd:1 fromd:2 localhost:5000/team/fromd:2 >"$WORK/fromd12.tar"
bdocker rmi fromd:1 >/dev/null
run_capture bdocker load -i "$WORK/fromd12.tar"
check_eq "$RC" 0 "berthd loads dockerd's two-image save ($OUT)"
check_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "Loaded image: fromd:1 Loaded image: fromd:2 Loaded image: localhost:5000/team/fromd:2 " "berthd load output for the two-image save"
agree ddocker bdocker fromd:1 fromd:2 localhost:5000/team/fromd:2
check_eq "$(bdocker image inspect -f '{{.Id}}' fromd:2 2>&1)" "$d_id2" "fromd:2 keeps its ID in berthd"

# ---------------------------------------------------------------------------------------
step "berthd -> dockerd: one imported image"
b_id1=$(bdocker import --change 'CMD ["sh"]' --change 'ENV A=b' -m 'from berthd' "$tarball" fromb:1)
bdocker save -o "$WORK/fromb1.tar" fromb:1
run_capture ddocker load -i "$WORK/fromb1.tar"
check_eq "$RC/$OUT" "0/Loaded image: fromb:1" "dockerd loads berthd's save of fromb:1"
check_eq "$(ddocker image inspect -f '{{.Id}}' fromb:1 2>&1)" "$b_id1" "fromb:1 keeps its ID in dockerd"
agree bdocker ddocker fromb:1
check_eq "$(ddocker image inspect -f '{{json .Config.Cmd}} {{json .Config.Env}}' fromb:1 2>&1)" '["sh"] ["A=b"]' "fromb:1 config in dockerd"
check_eq "$(ddocker history -q --no-trunc fromb:1 2>&1)" "$b_id1" "fromb:1 history in dockerd"

step "berthd -> dockerd: two images sharing a layer, several tags (stdout save, stdin load)"
b_id2=$(bdocker import --change 'CMD ["true"]' - fromb:2 <"$tarball")
bdocker tag fromb:2 localhost:5000/team/fromb:2
ddocker rmi fromb:1 >/dev/null
bdocker save fromb:1 fromb:2 localhost:5000/team/fromb:2 >"$WORK/fromb12.tar"
run_capture ddocker load <"$WORK/fromb12.tar"
check_eq "$RC" 0 "dockerd loads berthd's two-image save ($OUT)"
check_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "Loaded image: fromb:1 Loaded image: fromb:2 Loaded image: localhost:5000/team/fromb:2 " "dockerd load output for the two-image save"
agree bdocker ddocker fromb:1 fromb:2 localhost:5000/team/fromb:2
check_eq "$(ddocker image inspect -f '{{.Id}}' fromb:2 2>&1)" "$b_id2" "fromb:2 keeps its ID in dockerd"

step "round trip: dockerd's image through berthd back into a fresh name in dockerd"
bdocker save fromd:1 >"$WORK/roundtrip.tar"
ddocker rmi fromd:1 >/dev/null
run_capture ddocker load -i "$WORK/roundtrip.tar"
check_eq "$RC/$OUT" "0/Loaded image: fromd:1" "dockerd loads berthd's save of dockerd's image"
check_eq "$(ddocker image inspect -f '{{.Id}}' fromd:1 2>&1)" "$d_id1" "fromd:1 keeps its ID after the round trip"

step "an image saved by ID from berthd loads into dockerd untagged"
bdocker save "$b_id2" >"$WORK/byid.tar"
ddocker rmi fromb:2 localhost:5000/team/fromb:2 >/dev/null
run_capture ddocker load -i "$WORK/byid.tar"
check_eq "$RC/$OUT" "0/Loaded image ID: $b_id2" "dockerd loads berthd's save by ID"

# ---------------------------------------------------------------------------------------
step "the host's Docker state is untouched"
stop_pid "$DOCKERD_PID" dockerd
stop_pid "$CONTAINERD_PID" containerd
check_eq "$(host_state)" "$host_before" "/var/lib/docker, /run/docker.sock, /run/containerd unchanged"

finish_checks "dockerd <-> berthd image save/load"
