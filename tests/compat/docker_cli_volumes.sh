#!/usr/bin/env bash
# The real docker CLI against a berthd of this test's own, for data that outlives containers
# (issue 16): bind mounts of directories and single files, named and anonymous volumes,
# --mount, --tmpfs, --volumes-from, an image's VOLUME with copy-up, the volume commands,
# Mounts in inspect, rm -v, system df, volume events; the seeds' scenarios (a directory shared
# by several containers, a volume container, a data-packed volume container, backup, restore,
# migration, removal); bad input in Docker's words, compared with Debian's dockerd where it is
# installed; and kill -9 of berthd in the middle of creating and removing volume users.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

tarball=$(busybox_tar)
start_berthd vols
docker() { bdocker "$@"; }
docker import "$tarball" busybox >/dev/null
defer 'docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true'
VOLROOT=$BERTHD_DIR/data/volumes
HEX64='^[0-9a-f]{64}$'
t_start=$(date +%s)
cd "$WORK"

# vol_names: the volumes berthd lists, one line, sorted.
vol_names() { docker volume ls -q | sort | tr '\n' ' '; }
# mounts_of CONTAINER: "Type Name Destination RW" for each of its mounts, one line, sorted.
mounts_of() { docker inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}};{{end}}' "$1" | tr ';' '\n' | sed '/^$/d' | sort | tr '\n' ';'; }

# ---------------------------------------------------------------------------------------
step "volume create, ls, inspect: names, drivers, labels, options, filters"
check_eq "$(docker volume create vol1)" "vol1" "volume create NAME prints the name"
check_eq "$(docker volume create --name vol2 --label team=a --label tier)" "vol2" "volume create --name"
anon=$(docker volume create)
check_match "$anon" "$HEX64" "volume create without a name makes a 64-hex name"
check_eq "$(docker volume create -d local vol1)" "vol1" "creating an existing volume again answers its name"
run_capture docker volume create --name x1 x2
check_eq "$RC/$OUT" "1/conflicting options: cannot specify a volume-name through both --name and as a positional arg" "--name and a positional name"
check_eq "$(docker volume ls | head -1)" "DRIVER    VOLUME NAME" "volume ls header"
check_contains "$(docker volume ls)" "local     vol1" "volume ls row"
check_eq "$(vol_names)" "$anon vol1 vol2 " "volume ls -q"
check_eq "$(docker volume ls --format '{{.Name}}:{{.Driver}}:{{.Scope}}:{{.Label "team"}}' -f name=vol2)" "vol2:local:local:a" "volume ls --format and -f name="
check_eq "$(docker volume ls -q -f label=team=a)" "vol2" "volume ls -f label=k=v"
check_eq "$(docker volume ls -q -f label=tier)" "vol2" "volume ls -f label=k"
check_eq "$(docker volume ls -q -f driver=local | wc -l)" "3" "volume ls -f driver=local"
check_eq "$(docker volume ls -q -f driver=nosuch)" "" "volume ls -f driver=nosuch"
check_eq "$(docker volume ls -q -f name=vol | sort | tr '\n' ' ')" "vol1 vol2 " "volume ls -f name= matches a part of the name"
run_capture docker volume ls -f bogus=1
check_eq "$RC/$OUT" "1/Error response from daemon: Invalid filter 'bogus'" "volume ls -f bogus=1"
run_capture docker volume ls -f dangling=maybe
check_eq "$RC/$OUT" "1/Error response from daemon: Invalid filter 'dangling=[maybe]'" "volume ls -f dangling=maybe"
check_eq "$(docker volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}}' vol1)" "vol1 local local $VOLROOT/vol1/_data" "volume inspect -f"
check_eq "$(docker volume inspect -f '{{json .Labels}}' vol2)" '{"team":"a","tier":""}' "volume inspect labels"
check_match "$(docker volume inspect -f '{{.CreatedAt}}' vol1)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}' "volume inspect CreatedAt is RFC 3339"
[ -d "$VOLROOT/vol1/_data" ] || check_fail "vol1 has its directory under the data root"
run_capture docker volume inspect vol1 nosuch
check_eq "$RC" 1 "volume inspect of a missing one exit status"
check_contains "$OUT" '"Name": "vol1"' "volume inspect prints what it found"
check_contains "$OUT" "Error response from daemon: get nosuch: no such volume" "volume inspect of a missing one"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" http://b/volumes/nosuch)" "404" "GET /volumes/nosuch is a 404"

step "volume create -o: tmpfs and bind-backed local volumes"
mkdir -p "$WORK/backing" && echo backed >"$WORK/backing/f"
check_eq "$(docker volume create -o type=tmpfs -o device=tmpfs -o o=size=1m,mode=0750 tv)" "tv" "volume create of a tmpfs volume"
check_eq "$(docker volume inspect -f '{{json .Options}}' tv)" '{"device":"tmpfs","o":"size=1m,mode=0750","type":"tmpfs"}' "tmpfs volume options"
check_match "$(docker run --rm -v tv:/t busybox grep ' /t ' /proc/mounts)" '^tmpfs /t tmpfs rw.*size=1024k' "a tmpfs volume is a tmpfs of that size"
check_eq "$(docker run --rm -v tv:/t busybox stat -c %a /t)" "750" "a tmpfs volume has its mode"
docker volume create -o type=none -o device="$WORK/backing" -o o=bind bv >/dev/null
check_eq "$(docker run --rm -v bv:/b busybox cat /b/f)" "backed" "a bind-backed volume shows its device's files"
docker run --rm -v bv:/b busybox sh -c 'echo from-ctr >/b/g'
check_eq "$(cat "$WORK/backing/g")" "from-ctr" "a bind-backed volume writes to its device"
run_capture docker volume create -o bogus=1 badopt
check_eq "$RC/$OUT" '1/Error response from daemon: create badopt: invalid option: "bogus"' "volume create -o bogus"
run_capture docker volume create -o type=tmpfs badopt
check_eq "$RC/$OUT" '1/Error response from daemon: create badopt: missing required option: "device"' "volume create -o type without device"
run_capture docker volume create -d nosuchdriver badopt
check_eq "$RC" 1 "volume create -d nosuchdriver exit status"
check_contains "$OUT" 'plugin "nosuchdriver" not found' "volume create -d nosuchdriver"
check_eq "$(docker volume ls -q -f name=badopt)" "" "refused creates leave no volume"
docker volume rm tv bv >/dev/null
check_eq "$(cat "$WORK/backing/f")" "backed" "removing a bind-backed volume keeps its device's files"

# ---------------------------------------------------------------------------------------
step "bind mounts: directories, single files, read-only, a missing host directory"
mkdir -p "$WORK/www" && echo v1 >"$WORK/www/index.html"
check_eq "$(docker run --rm -v "$WORK/www:/www" busybox cat /www/index.html)" "v1" "-v /host/dir:/ctr"
docker run --rm -v "$WORK/www:/www" busybox sh -c 'echo written >/www/new'
check_eq "$(cat "$WORK/www/new")" "written" "a container's write reaches the host"
check_eq "$(docker run --rm -v "$WORK/www/index.html:/etc/index.html:ro" busybox cat /etc/index.html)" "v1" "-v of a single file"
run_capture docker run --rm -v "$WORK/www:/www:ro" busybox sh -c 'echo x >/www/ro'
check_contains "$OUT" "Read-only file system" "-v :ro is read-only"
[ ! -e "$WORK/www/ro" ] || check_fail "a read-only bind took a write"
check_eq "$(docker run --rm -v "$WORK/www:/www:rw,z" busybox cat /www/index.html)" "v1" "-v :rw,z"
docker run --rm -v "$WORK/created/deep:/c" busybox true
[ -d "$WORK/created/deep" ] || check_fail "-v of a missing host directory creates it, as Docker does"
(cd "$WORK/www" && docker run --rm -v ./:/here busybox cat /here/index.html) >"$WORK/rel.out" 2>&1 || true
check_eq "$(cat "$WORK/rel.out")" "v1" "-v ./ is the client's directory"
check_eq "$(docker run --rm --mount "type=bind,source=$WORK/www,target=/w,readonly" busybox sh -c 'cat /w/index.html; touch /w/x 2>&1 | grep -c Read-only')" "v1
1" "--mount type=bind,readonly"
run_capture docker run --rm --mount "type=bind,source=$WORK/nosuch,target=/w" busybox true
check_eq "$RC" 125 "--mount of a missing bind source exit status"
check_contains "$OUT" "invalid mount config for type \"bind\": bind source path does not exist: $WORK/nosuch" "--mount of a missing bind source"
[ ! -e "$WORK/nosuch" ] || check_fail "--mount does not create a missing source"
# rshared and rslave need a source on a shared mount, as the host's are under systemd.
mkdir -p "$WORK/prop" && mount --bind "$WORK/prop" "$WORK/prop" && mount --make-shared "$WORK/prop"
check_contains "$(docker run --rm --mount "type=bind,source=$WORK/prop,target=/p,bind-propagation=rshared" busybox grep ' /p ' /proc/self/mountinfo)" "shared:" "bind-propagation=rshared"
# A mount inside the source: binds are recursive, and read-only ones recursively so (Docker 25
# on a kernel with mount_setattr), unless bind-recursive says otherwise.
mkdir -p "$WORK/rec/sub" && mount -t tmpfs -o size=1m berthrec "$WORK/rec/sub" && echo sub >"$WORK/rec/sub/f"
check_eq "$(docker run --rm --mount "type=bind,src=$WORK/rec,dst=/r" busybox cat /r/sub/f 2>&1)" "sub" "a bind brings the mounts under its source"
check_eq "$(docker run --rm --mount "type=bind,src=$WORK/rec,dst=/r,bind-recursive=disabled" busybox ls /r/sub 2>&1)" "" "bind-recursive=disabled leaves them out"
check_contains "$(docker run --rm --mount "type=bind,src=$WORK/rec,dst=/r,readonly" busybox touch /r/sub/x 2>&1)" "Read-only file system" "a readonly bind is read-only below too"
check_eq "$(docker run --rm --mount "type=bind,src=$WORK/rec,dst=/r,readonly,bind-recursive=writable" busybox sh -c 'touch /r/sub/x && echo wrote' 2>&1)" "wrote" "bind-recursive=writable keeps the mounts below writable"
check_eq "$(docker run --rm -v "$WORK/www:/www:Z" busybox cat /www/index.html)" "v1" "-v :Z"
id=$(docker create --mount "type=bind,source=$WORK/prop,target=/p,bind-propagation=rslave" -v "$WORK/www:/www:ro" busybox true)
check_eq "$(docker inspect -f '{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}};{{end}}' "$id" | tr ';' '\n' | sort | tr '\n' ';')" ";bind $WORK/prop /p  true rslave;bind $WORK/www /www ro false rprivate;" "Mounts of binds in inspect"
check_eq "$(docker inspect -f '{{json .HostConfig.Binds}}' "$id")" "[\"$WORK/www:/www:ro\"]" "HostConfig.Binds kept as sent"
docker rm "$id" >/dev/null

step "shared directory: several web containers see a change on the host at once"
for i in 1 2 3; do docker run -d --name web$i -v "$WORK/www:/usr/share/www:ro" busybox sleep 600 >/dev/null; done
echo v2 >"$WORK/www/index.html"
for i in 1 2 3; do check_eq "$(docker exec web$i cat /usr/share/www/index.html)" "v2" "web$i sees the host's change"; done
docker rm -f web1 web2 web3 >/dev/null

# ---------------------------------------------------------------------------------------
step "named volumes: created on first use, kept by rm -v and run --rm, shared"
docker run --rm -v auto1:/data busybox sh -c 'echo kept >/data/f'
check_eq "$(docker volume ls -q -f name=auto1)" "auto1" "-v name:/ctr creates the volume"
check_eq "$(docker run --rm -v auto1:/elsewhere busybox cat /elsewhere/f)" "kept" "migration: the same volume mounted elsewhere"
id=$(docker run -d -v auto1:/data -v /anon1 busybox sleep 600)
anon1=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination "/anon1"}}{{.Name}}{{end}}{{end}}' "$id")
check_match "$anon1" "$HEX64" "-v /ctr makes an anonymous volume"
check_eq "$(mounts_of "$id")" "$(printf 'volume %s /anon1 true\nvolume auto1 /data true\n' "$anon1" | sort | tr '\n' ';')" "Mounts in inspect"
check_eq "$(docker inspect -f '{{range .Mounts}}{{if eq .Name "auto1"}}{{.Driver}} {{.Source}} {{.Mode}} {{.Propagation}}{{end}}{{end}}' "$id")" "local $VOLROOT/auto1/_data z " "a named volume's mount fields"
check_eq "$(docker inspect -f '{{json .Config.Volumes}}' "$id")" '{"/anon1":{}}' "Config.Volumes holds -v /ctr"
check_eq "$(docker ps -q --no-trunc --filter volume=auto1)" "$id" "ps --filter volume=NAME"
check_eq "$(docker ps -q --no-trunc --filter volume=/anon1)" "$id" "ps --filter volume=DESTINATION"
check_eq "$(docker ps -q --filter volume=vol1)" "" "ps --filter volume= of a volume no container uses"
run_capture docker volume rm auto1
check_eq "$RC/$OUT" "1/Error response from daemon: remove auto1: volume is in use - [$id]" "volume rm of a volume in use"
run_capture docker volume rm -f auto1
check_eq "$RC" 1 "volume rm -f of a volume in use is refused too"
check_eq "$(docker volume ls -q -f name=auto1)" "auto1" "a volume in use stays"
check_eq "$(docker volume ls -q -f dangling=true | grep -c -x -e auto1 -e "$anon1")" "0" "volumes in use are not dangling"
check_eq "$(docker volume ls -q -f dangling=false | grep -c -x -e auto1 -e "$anon1")" "2" "volume ls -f dangling=false lists volumes in use"
check_eq "$(docker volume ls -q -f dangling=true -f name=vol1)" "vol1" "an unused volume is dangling"
docker rm -f -v "$id" >/dev/null
check_eq "$(docker volume ls -q -f name="$anon1")" "" "rm -v removes the anonymous volume"
check_eq "$(docker volume ls -q -f name=auto1)" "auto1" "rm -v keeps the named volume"
docker run --rm -v auto1:/data -v /anon2 busybox sh -c 'ls /data >/anon2/list'
check_eq "$(docker volume ls -q | grep -c -v -x -e vol1 -e vol2 -e auto1 -e "$anon")" "0" "run --rm removes its anonymous volume"
id=$(docker create -v /kept busybox true)
anonk=$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$id")
docker rm "$id" >/dev/null
check_eq "$(docker volume ls -q -f name="$anonk")" "$anonk" "rm without -v keeps the anonymous volume"
docker run -d --name two1 -v shared2:/s busybox sh -c 'echo one >/s/one; sleep 600' >/dev/null
wait_for 10 docker exec two1 test -e /s/one || check_fail "two1 wrote its file"
check_eq "$(docker run --rm -v shared2:/s busybox cat /s/one)" "one" "two containers share a named volume at once"
docker rm -f two1 >/dev/null

step "--mount type=volume, volume-nocopy, volume-subpath, volume-opt; --tmpfs and type=tmpfs"
docker run --rm --mount type=volume,source=mv,target=/m busybox sh -c 'mkdir -p /m/sub && echo deep >/m/sub/f'
check_eq "$(docker run --rm --mount type=volume,source=mv,target=/m,volume-subpath=sub busybox cat /m/f)" "deep" "volume-subpath mounts a directory of the volume"
run_capture docker run --rm --mount type=volume,source=mv,target=/m,volume-subpath=nosuch busybox true
check_eq "$RC" 125 "volume-subpath of a missing directory exit status"
check_eq "$(docker run --rm --mount type=volume,target=/m,volume-opt=type=tmpfs,volume-opt=device=tmpfs busybox sh -c 'grep -c " /m tmpfs" /proc/mounts')" "1" "volume-opt makes a tmpfs volume for an anonymous mount"
check_eq "$(docker run --rm --mount type=volume,source=mv,target=/m,readonly busybox sh -c 'touch /m/x 2>&1 | grep -c Read-only')" "1" "--mount type=volume,readonly"
check_match "$(docker run --rm --tmpfs /t:size=1m,mode=1777 busybox sh -c 'grep " /t " /proc/mounts; stat -c %a /t' | tr '\n' ' ')" '^tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k.* 1777 $' "--tmpfs /t:size=1m,mode=1777"
check_match "$(docker run --rm --mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700 busybox sh -c 'grep " /t " /proc/mounts; stat -c %a /t' | tr '\n' ' ')" '^tmpfs /t tmpfs .*size=1024k,mode=700.* 700 $' "--mount type=tmpfs,tmpfs-size,tmpfs-mode"
id=$(docker create --tmpfs /run:size=2m busybox true)
check_eq "$(docker inspect -f '{{json .HostConfig.Tmpfs}}' "$id")" '{"/run":"size=2m"}' "HostConfig.Tmpfs in inspect"
docker rm "$id" >/dev/null

# ---------------------------------------------------------------------------------------
step "copy-up: an empty volume over image content gets a copy, owners, modes, links and xattrs kept"
mkdir -p "$WORK/img/rootfs" && tar -C "$WORK/img/rootfs" -xf "$tarball"
mkdir -p "$WORK/img/rootfs/data/sub"
echo seed >"$WORK/img/rootfs/data/seed"
echo deep >"$WORK/img/rootfs/data/sub/deep"
chown 1234:2345 "$WORK/img/rootfs/data/seed" && chmod 0640 "$WORK/img/rootfs/data/seed"
chown 42:43 "$WORK/img/rootfs/data" && chmod 0751 "$WORK/img/rootfs/data"
ln -s seed "$WORK/img/rootfs/data/link"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.berth", b"kept")' "$WORK/img/rootfs/data/seed" 2>/dev/null && xattrs=1 || xattrs=0
tar --xattrs --xattrs-include='user.*' -C "$WORK/img/rootfs" -cf "$WORK/img.tar" .
docker import --change 'VOLUME /data' --change 'CMD ["sh"]' "$WORK/img.tar" seeded >/dev/null
check_eq "$(docker image inspect -f '{{json .Config.Volumes}}' seeded)" '{"/data":{}}' "import --change VOLUME sets Config.Volumes"
docker run --rm -v cu:/data seeded true
d=$VOLROOT/cu/_data
check_eq "$(cat "$d/seed" 2>&1)" "seed" "copy-up into a named volume"
check_eq "$(cat "$d/sub/deep" 2>&1)" "deep" "copy-up of subdirectories"
check_eq "$(stat -c '%u:%g %a' "$d/seed" 2>&1)" "1234:2345 640" "copy-up keeps owner and mode"
check_eq "$(stat -c '%u:%g %a' "$d" 2>&1)" "42:43 751" "copy-up gives the volume root the directory's owner and mode"
check_eq "$(readlink "$d/link" 2>&1)" "seed" "copy-up keeps symlinks"
if ((xattrs)); then
  check_eq "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.berth").decode())' "$d/seed" 2>&1)" "kept" "copy-up keeps xattrs"
fi
docker run --rm -v cu:/data busybox sh -c 'rm /data/seed'
docker run --rm -v cu:/data seeded true
[ ! -e "$d/seed" ] || check_fail "copy-up happens only into an empty volume, once"
check_eq "$(docker run --rm -v nc:/data:nocopy seeded ls -A /data)" "" "-v :nocopy copies nothing"
check_eq "$(docker run --rm --mount type=volume,src=nc2,dst=/data,volume-nocopy seeded ls -A /data)" "" "volume-nocopy copies nothing"
id=$(docker create seeded)
img_anon=$(docker inspect -f '{{range .Mounts}}{{.Name}} {{.Destination}}{{end}}' "$id")
check_match "$img_anon" '^[0-9a-f]{64} /data$' "the image's VOLUME gives the container an anonymous volume"
docker start "$id" >/dev/null
check_eq "$(docker run --rm --volumes-from "$id" busybox cat /data/seed)" "seed" "the image's VOLUME volume has the image's content"
docker run --rm --volumes-from "$id" busybox sh -c 'echo volume-only >/data/late'
docker commit "$id" seeded2 >/dev/null
check_eq "$(docker image inspect -f '{{json .Config.Volumes}}' seeded2)" '{"/data":{}}' "commit keeps the image's VOLUME"
check_eq "$(docker run --rm --entrypoint cat seeded2 /data/late 2>&1 | grep -c 'No such file')" "1" "commit leaves what was written to the volume out of the image"
docker rm -f -v "$id" >/dev/null
check_eq "$(docker volume ls -q -f name="${img_anon% *}")" "" "rm -v removes the image VOLUME's volume"
check_eq "$(docker run --rm -v "$WORK/www:/data" seeded cat /data/index.html)" "v2" "a bind over an image VOLUME replaces it"

# ---------------------------------------------------------------------------------------
step "volume containers: --volumes-from, :ro, a data-packed container from commit -c VOLUME"
docker create --name vc_data -v /dbdata busybox true >/dev/null
docker run --rm --volumes-from vc_data busybox sh -c 'echo row1 >/dbdata/table'
check_eq "$(docker run --rm --volumes-from vc_data busybox cat /dbdata/table)" "row1" "--volumes-from shares the volume container's volume"
check_eq "$(docker run --rm --volumes-from vc_data:ro busybox sh -c 'touch /dbdata/x 2>&1 | grep -c Read-only')" "1" "--volumes-from :ro"
id=$(docker create --volumes-from vc_data busybox true)
check_eq "$(docker inspect -f '{{json .HostConfig.VolumesFrom}}' "$id")" '["vc_data"]' "HostConfig.VolumesFrom"
check_eq "$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$id")" "$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' vc_data)" "--volumes-from mounts the same volume"
docker rm "$id" >/dev/null
docker run --name packer busybox sh -c 'mkdir /data && echo packed >/data/payload' >/dev/null
docker commit -c 'VOLUME /data' packer datapacked >/dev/null
docker rm packer >/dev/null
check_eq "$(docker image inspect -f '{{json .Config.Volumes}}' datapacked)" '{"/data":{}}' "commit -c VOLUME sets Config.Volumes"
docker create --name dp datapacked true >/dev/null
check_eq "$(docker run --rm --volumes-from dp busybox cat /data/payload)" "packed" "a data-packed volume container serves its image's data"

step "backup, restore, migration, removal"
mkdir -p "$WORK/backup"
docker run --rm --volumes-from dp -v "$WORK/backup:/backup" busybox tar cf /backup/b.tar /data
check_contains "$(tar -tf "$WORK/backup/b.tar" 2>&1)" "data/payload" "backup: the tar holds the volume's files"
docker create --name restored -v /data busybox true >/dev/null
docker run --rm --volumes-from restored -v "$WORK/backup:/backup" busybox sh -c 'cd / && tar xf /backup/b.tar'
check_eq "$(docker run --rm --volumes-from restored busybox cat /data/payload)" "packed" "restore into a new container's volume"
docker run --rm -v migrated:/new -v "$WORK/backup:/backup" busybox sh -c 'tar xf /backup/b.tar -C /new'
check_eq "$(docker run --rm -v migrated:/srv/app busybox cat /srv/app/data/payload)" "packed" "migration into a named volume used elsewhere"
dp_vol=$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' dp)
restored_vol=$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' restored)
docker rm -v dp restored vc_data >/dev/null
check_eq "$(docker volume ls -q | grep -c -x -e "$dp_vol" -e "$restored_vol")" "0" "rm -v removes the volume containers' volumes"
check_eq "$(docker volume rm migrated)" "migrated" "volume rm of an unused volume"
[ ! -e "$VOLROOT/migrated" ] || check_fail "volume rm removes the volume's directory"

# ---------------------------------------------------------------------------------------
step "volume rm and prune: docker's lines and statuses"
docker volume create keepme >/dev/null
run_capture docker volume rm nosuch1 keepme nosuch2
check_eq "$RC" 1 "volume rm with missing names exit status"
check_eq "$OUT" "keepme
Error response from daemon: get nosuch1: no such volume
Error response from daemon: get nosuch2: no such volume" "volume rm prints each error"
run_capture docker volume rm -f nosuch1
check_eq "$RC/$OUT" "0/nosuch1" "volume rm -f of a missing volume"
docker volume create named_unused >/dev/null
docker volume create --label prune=me labelled >/dev/null
anon_unused=$(docker volume create)
docker run -d --name holder -v /held busybox sleep 600 >/dev/null
held=$(docker inspect -f '{{range .Mounts}}{{.Name}}{{end}}' holder)
run_capture sh -c "echo n | DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI volume prune"
check_eq "$RC/$OUT" "0/WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue? [y/N] " "volume prune answered no"
check_eq "$(docker volume ls -q -f name=named_unused)" "named_unused" "a refused prune removes nothing"
# Docker 23+ and API 1.42: volumes made with a name are never anonymous, even by volume create.
out=$(docker volume prune -f --filter label=prune=me)
check_eq "$out" "Total reclaimed space: 0B" "volume prune --filter label= leaves named volumes"
out=$(echo y | docker volume prune)
check_contains "$out" "Deleted Volumes:" "volume prune -> Deleted Volumes"
check_contains "$out" "$anon_unused" "volume prune removes an unused anonymous volume"
check_contains "$out" "Total reclaimed space:" "volume prune reports the space"
check_not_contains "$out" "named_unused" "volume prune keeps named volumes"
check_not_contains "$out" "$held" "volume prune keeps a volume in use"
out=$(docker volume prune -af --filter label=prune=me)
check_eq "$(head -3 <<<"$out" | tr '\n' ';')" "Deleted Volumes:;labelled;;" "volume prune -a --filter label="
run_capture docker volume prune -af --filter all=1
check_eq "$RC/$OUT" "1/conflicting options: cannot specify both --all and --filter all=1" "volume prune -a --filter all=1"
out=$(docker volume prune -af)
check_contains "$out" "named_unused" "volume prune -a removes unused named volumes"
check_not_contains "$out" "$held" "volume prune -a keeps a volume in use"
check_eq "$(docker volume ls -q)" "$held" "only the volume in use is left"

step "system df counts volumes"
check_eq "$(docker system df --format '{{.Type}} {{.TotalCount}} {{.Active}}' | grep 'Local Volumes')" "Local Volumes 1 1" "system df: volumes and active ones"
check_contains "$(docker system df -v)" "$held   1" "system df -v: the volume with its links"
docker rm -f -v holder >/dev/null

# ---------------------------------------------------------------------------------------
step "events: create, mount, unmount, destroy"
t_ev=$(date +%s)
docker volume create evol >/dev/null
docker run --rm -v evol:/e busybox true
docker volume rm evol >/dev/null
ev=$(docker events --since "$t_ev" --until "$(($(date +%s) + 1))" --filter type=volume --filter volume=evol --format '{{.Action}} {{.Actor.Attributes.driver}}' 2>&1 | tr '\n' ';' || true)
check_eq "$ev" "create local;mount local;unmount local;destroy local;" "volume events in order"
ev=$(docker events --since "$t_ev" --until "$(($(date +%s) + 1))" --filter type=volume --filter event=mount --filter volume=evol --format '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "destination"}} {{index .Actor.Attributes "read/write"}} {{index .Actor.Attributes "container"}}' 2>&1 || true)
check_match "$ev" '^mount evol /e true [0-9a-f]{64}$' "a mount event names the container and destination"
ev=$(docker events --since "$t_ev" --until "$(($(date +%s) + 1))" --filter volume=evol --format '{{.Type}} {{.Action}}' 2>&1 | tr '\n' ';' || true)
check_eq "$ev" "volume create;volume mount;volume unmount;volume destroy;" "events --filter volume= alone shows that volume's events only"

# ---------------------------------------------------------------------------------------
step "bad input: Docker's status and wording, nothing changed on the host"
BR=dv$$
if [ -x "$DOCKERD" ] && command -v containerd >/dev/null; then
  # dockerd gets a bridge of its own, so that it never touches docker0 or the firewall.
  ip link add "$BR" type bridge && ip addr add 10.254.$((RANDOM % 200 + 20)).1/24 dev "$BR" && ip link set "$BR" up
  defer "ip link del $BR 2>/dev/null || true"
  start_dockerd --bridge "$BR" --iptables=false --ip-masq=false --ip6tables=false
  ddocker import "$tarball" busybox >/dev/null
else
  echo "  (no dockerd: checked against Docker's wording only)"
fi
# The answer with IDs and this run's paths masked, as both daemons word them.
norm() { sed -E -e 's/[0-9a-f]{64}/<id>/g' -e "s#$WORK#<work>#g" <<<"$1"; }
# refused LABEL STATUS PHRASE ARGS...: berthd refuses with STATUS and PHRASE, and says what
# dockerd says when there is one.
refused() {
  local label=$1 status=$2 phrase=$3
  shift 3
  run_capture bdocker "$@"
  local brc=$RC bout=$OUT
  check_eq "$brc" "$status" "$label: exit status"
  check_contains "$bout" "$phrase" "$label: message"
  if [ -n "${DOCKERD_SOCK:-}" ]; then
    run_capture ddocker "$@"
    check_eq "$(norm "$bout")" "$(norm "$OUT")" "$label: as dockerd says it"
  fi
}
before=$(vol_names)
refused "relative host path" 125 '"rel/path" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path' run --rm -v rel/path:/x busybox true
[ ! -e "$WORK/rel" ] || check_fail "a relative host path creates nothing"
refused "--mount of a relative bind source" 125 "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute" run --rm --mount type=bind,src=rel,dst=/x busybox true
refused "relative container path" 125 "invalid volume specification: '$WORK/www:relative': invalid mount config for type \"bind\": invalid mount path: 'relative' mount path must be absolute" run --rm -v "$WORK/www:relative" busybox true
refused "invalid mode" 125 "invalid mode: bogus" run --rm -v "$WORK/www:/x:bogus" busybox true
refused "conflicting modes" 125 "invalid mode: ro,rw" run --rm -v "$WORK/www:/x:ro,rw" busybox true
refused "nocopy on a bind" 125 "field VolumeOptions must not be specified" run --rm -v "$WORK/www:/x:nocopy" busybox true
refused "illegal volume name" 1 'Error response from daemon: create bad$name: "bad$name" includes invalid characters for a local volume name' volume create 'bad$name'
refused "illegal volume name in -v" 125 'create bad$name: "bad$name" includes invalid characters' run --rm -v 'bad$name:/x' busybox true
refused "a one-letter volume name" 1 "create a: volume name is too short, names should be at least two alphanumeric characters" volume create a
refused "bind target /" 125 "invalid volume specification: '$WORK/newroot:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'" run --rm -v "$WORK/newroot:/" busybox true
[ ! -e "$WORK/newroot" ] || check_fail "a refused bind creates no host directory"
refused "volume target /" 125 "invalid volume specification: 'tgtroot:/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'" run --rm -v tgtroot:/ busybox true
refused "--mount target /" 125 "invalid mount config for type \"bind\": invalid specification: destination can't be '/'" run --rm --mount "type=bind,src=$WORK/www,dst=/" busybox true
refused "duplicate mount point" 125 "Duplicate mount point: /x" run --rm -v "$WORK/www:/x" -v "$WORK/backup:/x" busybox true
refused "duplicate mount point, -v and --tmpfs" 125 "Duplicate mount point: /x" run --rm -v "$WORK/www:/x" --tmpfs /x busybox true
refused "duplicate mount point, -v and --mount" 125 "Duplicate mount point: /x" run --rm -v "$WORK/www:/x" --mount type=volume,dst=/x busybox true
refused "tmpfs with a source" 125 'invalid mount config for type "tmpfs": field Source must not be specified' run --rm --mount type=tmpfs,src=foo,dst=/x busybox true
refused "--volumes-from a missing container" 125 "No such container: nosuch" run --rm --volumes-from nosuch busybox true
docker create --name vcbad -v /d busybox true >/dev/null
[ -z "${DOCKERD_SOCK:-}" ] || ddocker create --name vcbad -v /d busybox true >/dev/null
refused "--volumes-from with a bad mode" 125 "invalid mode: bogus" run --rm --volumes-from vcbad:bogus busybox true
docker rm -v vcbad >/dev/null
[ -z "${DOCKERD_SOCK:-}" ] || ddocker rm -v vcbad >/dev/null
docker run -d --name inuse -v busyvol:/b busybox sleep 600 >/dev/null
[ -z "${DOCKERD_SOCK:-}" ] || ddocker run -d --name inuse -v busyvol:/b busybox sleep 600 >/dev/null
refused "rm of a volume in use" 1 "Error response from daemon: remove busyvol: volume is in use - [" volume rm busyvol
refused "rm of a missing volume" 1 "Error response from daemon: get nosuch: no such volume" volume rm nosuch
docker rm -f inuse >/dev/null && docker volume rm busyvol >/dev/null
[ -z "${DOCKERD_SOCK:-}" ] || { ddocker rm -f inuse >/dev/null && ddocker volume rm busyvol >/dev/null; }
# The API itself, whatever the client: a Bind the CLI would not send.
check_contains "$(curl -s --unix-socket "$BERTHD_SOCK" -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"Binds":["/tmp:/x:rw,ro"]}}' http://b/containers/create)" "invalid mode: rw,ro" "the API refuses a bad mode"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" -H 'Content-Type: application/json' -d '{"Name":"bad/name"}' http://b/volumes/create)" "400" "POST /volumes/create of an illegal name is a 400"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$BERTHD_SOCK" -X DELETE http://b/volumes/nosuch)" "404" "DELETE /volumes/nosuch is a 404"
check_eq "$(vol_names)" "$before" "refused requests made no volume"
if [ -n "${DOCKERD_SOCK:-}" ]; then
  stop_pid "$DOCKERD_PID" dockerd
  stop_pid "$CONTAINERD_PID" containerd
  unset DOCKERD_SOCK
fi

# ---------------------------------------------------------------------------------------
step "kill -9 of berthd while containers that use volumes are created and removed"
# After each kill: every volume that was acknowledged is there with its data, every container
# names only volumes that exist, a volume in use cannot be removed, and one not in use can.
for v in kv1 kv2 kv3; do docker run --rm -v $v:/d busybox sh -c "echo $v >/d/mark"; done
churn() { # $1: round; creates and removes containers with a named and an anonymous volume
  local i=0
  while :; do
    i=$((i + 1))
    bdocker create --name "k$1_$i" -v "kv$((i % 3 + 1)):/d" -v /anon busybox true >/dev/null 2>&1 &&
      echo "created k$1_$i" >>"$WORK/acked" || return 0
    if ((i % 2 == 0)); then
      # A removal cut short may or may not have happened: it is noted before it is asked for.
      echo "removing k$1_$((i - 1))" >>"$WORK/acked"
      bdocker rm -v "k$1_$((i - 1))" >/dev/null 2>&1 || return 0
    fi
  done
}
acked_at_least() { [ "$(wc -l <"$WORK/acked")" -ge "$1" ]; }
: >"$WORK/acked"
for round in 1 2 3 4 5; do
  churn "$round" &
  churn_pid=$!
  # Each round kills at a different point of the stream of requests.
  target=$((round * 3 + $(wc -l <"$WORK/acked")))
  wait_for 60 acked_at_least "$target" || check_fail "round $round: the churn made progress"
  sleep "0.0$((RANDOM % 10))"
  kill -9 "$BERTHD_PID"
  wait "$churn_pid" 2>/dev/null || true
  wait "$BERTHD_PID" 2>/dev/null || true
  start_berthd vols
  echo "  round $round: killed after $(grep -c '^created' "$WORK/acked") acknowledged creates; $(docker ps -aq | wc -l) containers, $(docker volume ls -q | wc -l) volumes"
  for v in kv1 kv2 kv3; do
    check_eq "$(docker run --rm -v $v:/d busybox cat /d/mark 2>&1)" "$v" "round $round: $v kept its data"
  done
  for c in $(awk '$1 == "created" {print $2}' "$WORK/acked"); do
    grep -qx "removing $c" "$WORK/acked" && continue
    check_eq "$(docker inspect -f '{{.Name}}' "$c" 2>&1)" "/$c" "round $round: acknowledged container $c is there"
  done
  used=" "
  for c in $(docker ps -aq); do
    for v in $(docker inspect -f '{{range .Mounts}}{{.Name}} {{end}}' "$c"); do
      used+="$v "
      check_eq "$(docker volume inspect -f '{{.Name}}' "$v" 2>&1)" "$v" "round $round: volume $v of container $c exists"
    done
  done
  for v in $(docker volume ls -q); do
    if [[ "$used" == *" $v "* ]]; then
      run_capture docker volume rm "$v"
      check_contains "$OUT" "volume is in use" "round $round: volume $v in use cannot be removed"
      check_eq "$(docker volume ls -q -f dangling=true | grep -cx "$v")" "0" "round $round: volume $v in use is not dangling"
    elif [[ $v =~ $HEX64 ]]; then
      # An anonymous volume no container uses (a create cut short) is the daemon's to drop or
      # prune: it must be removable.
      run_capture docker volume rm "$v"
      check_eq "$RC" 0 "round $round: unused volume $v can be removed ($OUT)"
    fi
  done
done
docker rm -f -v $(docker ps -aq) >/dev/null 2>&1 || true
for v in kv1 kv2 kv3; do
  run_capture docker volume rm "$v"
  check_eq "$RC/$OUT" "0/$v" "after the churn, $v is free and removable"
done
check_eq "$(docker volume ls -q)" "" "nothing is left once the containers are gone"
grep -q 'panic\|Assertion' "$BERTHD_DIR/berthd.log" && check_fail "berthd logged a crash"

finish_checks docker_cli_volumes
