#!/usr/bin/env bash
# The real docker CLI (DOCKER_HOST=unix://<berthd socket>) against a berthd of this test's own,
# for every image command: version/info, import, images (+ filters), tag, rmi, history,
# image inspect, image prune, system df, save, load, events, bad input; then a second daemon
# on the same data root, and a kill -9 of berthd after a load followed by a restart.
# Every check prints what it does; failures are collected and the script exits 1 naming them.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

t_start=$(($(date +%s) - 1))
tarball=$(busybox_tar)
diffid=sha256:$(sha256sum "$tarball" | cut -d' ' -f1)
start_berthd b1
docker() { bdocker "$@"; }
api() { curl -s --unix-socket "$BERTHD_SOCK" "$@"; }
ids() { docker images -aq --no-trunc | sort -u; }
short() { echo "${1#sha256:}" | cut -c1-12; }

# ---------------------------------------------------------------------------------------
step "version: the Server section comes from berthd"
run_capture docker version
check_eq "$RC" 0 "docker version exit status"
check_contains "$OUT" "Server:" "docker version: Server section"
check_match "$(docker version --format '{{.Server.APIVersion}}')" '^1\.[0-9]+$' "docker version: server API version"

step "info: Server section, Images count on an empty daemon"
run_capture docker info
check_eq "$RC" 0 "docker info exit status"
check_contains "$OUT" "Server:" "docker info: Server section"
check_contains "$OUT" " Images: 0" "docker info: Images: 0 on an empty daemon"
check_eq "$(docker info --format '{{.Images}}')" 0 "docker info --format {{.Images}} on an empty daemon"

# ---------------------------------------------------------------------------------------
step "import from a file with --change 'CMD [\"sh\"]' --change 'ENV A=b' -m"
run_capture docker import --change 'CMD ["sh"]' --change 'ENV A=b' -m 'made by the test' "$tarball" bb:1
check_eq "$RC" 0 "import FILE exit status ($OUT)"
id1=$OUT
[[ "$id1" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "import FILE must print the new image ID, got '$id1'"
check_eq "$(docker image inspect -f '{{.Id}}' bb:1)" "$id1" "inspect bb:1 .Id equals the ID import printed"
check_eq "$(docker image inspect -f '{{json .Config.Cmd}}' bb:1)" '["sh"]' "import --change CMD: .Config.Cmd"
check_eq "$(docker image inspect -f '{{json .Config.Env}}' bb:1)" '["A=b"]' "import --change ENV: .Config.Env"
check_eq "$(docker image inspect -f '{{json .RootFS.Layers}}' bb:1)" "[\"$diffid\"]" "import: RootFS.Layers is the sha256 of the tar"
check_eq "$(docker image inspect -f '{{.Comment}}' bb:1)" 'made by the test' "import -m: image .Comment (dockerd sets the config's comment)"
check_eq "$(docker history --format '{{.Comment}}' bb:1)" 'made by the test' "import -m: history comment"
check_eq "$(docker image inspect -f '{{.Os}}/{{.Architecture}}' bb:1)" "linux/amd64" "import: Os/Architecture"

step "import from stdin (-) with a tag, and without one (dangling)"
run_capture docker import - bb:stdin <"$tarball"
check_eq "$RC" 0 "import - exit status ($OUT)"
id2=$OUT
[[ "$id2" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "import - must print the new image ID, got '$id2'"
check_eq "$(docker image inspect -f '{{json .RootFS.Layers}}' bb:stdin)" "[\"$diffid\"]" "import -: same layer as the file import"
check_eq "$(docker image inspect -f '{{json .Config.Cmd}}' bb:stdin)" 'null' "import - without --change: no Cmd"
check_eq "$(docker history --format '{{.Comment}}' bb:stdin)" 'Imported from -' "import - without -m: docker's default comment"
id3=$(docker import - <"$tarball")
[[ "$id3" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "import - without a name must print the new image ID, got '$id3'"
check_eq "$(docker image inspect -f '{{json .RepoTags}}' "$id3")" '[]' "import - without a name: no RepoTags"

step "the JSON message streams of import and load: one object per line, each ended by \\r\\n"
raw=$(api -X POST -H 'Content-Type: application/x-tar' --data-binary "@$tarball" "http://b/images/create?fromSrc=-&repo=bb&tag=raw" | od -An -c | tr -s ' \n' ' ')
check_match "$raw" '^ \{ " s t a t u s " : " s h a 2 5 6 : ([0-9a-f] ){64}" \} \\r \\n $' "import's answer, byte by byte"
docker save -o "$WORK/raw.tar" bb:raw
raw=$(api -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/raw.tar" "http://b/images/load" | od -An -c | tr -s ' \n' ' ')
check_match "$raw" '^ \{ " s t r e a m " : .* \} \\r \\n $' "load's answer, byte by byte"
docker rmi bb:raw >/dev/null

step "import with a LABEL change, and with an invalid change"
idl=$(docker import --change 'LABEL team=blue' "$tarball" lbl:1)
check_eq "$(docker image inspect -f '{{json .Config.Labels}}' lbl:1)" '{"team":"blue"}' "import --change LABEL"
run_capture docker import --change 'BOGUS x' "$tarball" bogus:1
check_eq "$RC" 1 "import --change 'BOGUS x' exit status"
check_contains "$OUT" "bogus is not a valid change command" "import --change 'BOGUS x': docker's message"

step "info: Images count equals the images listed"
check_eq "$(docker info --format '{{.Images}}')" "$(ids | wc -l)" "docker info Images count"
run_capture docker info
check_contains "$OUT" " Images: 4" "docker info: Images: 4"

# ---------------------------------------------------------------------------------------
step "images: default table, -q, -a, --no-trunc, --digests, --format, dangling <none>"
run_capture docker images
check_eq "$RC" 0 "docker images exit status"
check_match "$(head -1 <<<"$OUT")" '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$' "docker images header"
check_match "$OUT" "bb +1 +$(short "$id1") " "docker images row for bb:1"
check_match "$OUT" "<none> +<none> +$(short "$id3") " "docker images row for the dangling image"
check_eq "$(docker images -q | sort | tr '\n' ' ')" "$(for i in "$id1" "$id2" "$id3" "$idl"; do short "$i"; done | sort | tr '\n' ' ')" "docker images -q"
check_eq "$(docker images -a -q --no-trunc | sort | tr '\n' ' ')" "$(printf '%s\n' "$id1" "$id2" "$id3" "$idl" | sort | tr '\n' ' ')" "docker images -a -q --no-trunc"
check_contains "$(docker images --no-trunc)" "$id1" "docker images --no-trunc shows the full ID"
run_capture docker images --digests
check_match "$(head -1 <<<"$OUT")" '^REPOSITORY +TAG +DIGEST +IMAGE ID' "docker images --digests header"
check_match "$OUT" "bb +1 +<none> +$(short "$id1")" "docker images --digests row of an imported image"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "<none>:<none> bb:1 bb:stdin lbl:1 " "docker images --format {{.Repository}}:{{.Tag}}"
check_eq "$(docker images --format '{{.ID}}' bb:1)" "$(short "$id1")" "docker images REPOSITORY:TAG argument"

step "images --filter dangling, reference, before, since, label, until"
check_eq "$(docker images -q --no-trunc --filter dangling=true)" "$id3" "--filter dangling=true"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' --filter dangling=false | sort | tr '\n' ' ')" "bb:1 bb:stdin lbl:1 " "--filter dangling=false"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' --filter reference=bb:1)" "bb:1" "--filter reference=bb:1"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=bb:*' | sort | tr '\n' ' ')" "bb:1 bb:stdin " "--filter reference=bb:*"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' --filter 'reference=bb' | sort | tr '\n' ' ')" "bb:1 bb:stdin " "--filter reference=bb"
# Imported one after the other, often within the same second: docker compares full timestamps.
check_eq "$(docker images -q --no-trunc --filter before=bb:stdin)" "$id1" "--filter before=bb:stdin (imported right after bb:1)"
check_eq "$(docker images -q --no-trunc --filter since=lbl:1)" "" "--filter since=lbl:1 (the newest image)"
check_eq "$(docker images -q --no-trunc --filter since=bb:stdin | sort | tr '\n' ' ')" "$(printf '%s\n' "$id3" "$idl" | sort | tr '\n' ' ')" "--filter since=bb:stdin"
check_eq "$(docker images -q --no-trunc --filter label=team)" "$idl" "--filter label=team"
check_eq "$(docker images -q --no-trunc --filter label=team=blue)" "$idl" "--filter label=team=blue"
check_eq "$(docker images -q --no-trunc --filter label=team=red)" "" "--filter label=team=red"
check_eq "$(docker images -q --filter until=$t_start)" "" "--filter until=<unix time before the imports>"
check_eq "$(docker images -q --filter until=$(($(date +%s) + 60)) | wc -l)" 4 "--filter until=<unix time in a minute>"
run_capture docker images -q --filter until=1h
check_eq "$RC/$OUT" "0/" "--filter until=1h (a Go duration, as the API documents for until)"
run_capture docker images --filter bogus=1
check_eq "$RC" 1 "--filter bogus=1 exit status"
check_contains "${OUT,,}" "invalid filter 'bogus'" "--filter bogus=1 message"

# ---------------------------------------------------------------------------------------
step "tag: plain, host:port/user/app:tag, by short ID, moving a tag"
run_capture docker tag bb:1 localhost:5000/user/app:v1
check_eq "$RC" 0 "tag bb:1 localhost:5000/user/app:v1 ($OUT)"
check_eq "$(docker image inspect -f '{{.Id}}' localhost:5000/user/app:v1)" "$id1" "inspect localhost:5000/user/app:v1"
check_contains "$(docker images --format '{{.Repository}}:{{.Tag}}')" "localhost:5000/user/app:v1" "images lists localhost:5000/user/app:v1"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' --filter reference='bb:*' | sort | tr '\n' ' ')" "bb:1 bb:stdin " "--filter reference=bb:* lists only matching tags of a multi-tagged image"
check_eq "$(docker images --format '{{.Repository}}:{{.Tag}}' --filter reference='localhost:5000/user/app')" "localhost:5000/user/app:v1" "--filter reference=localhost:5000/user/app"
docker tag "$(short "$id1")" byid:1
check_eq "$(docker image inspect -f '{{.Id}}' byid:1)" "$id1" "tag by short ID"
docker tag bb:1 user/app
check_eq "$(docker image inspect -f '{{json .RepoTags}}' "$id1")" '["bb:1","byid:1","user/app:latest","localhost:5000/user/app:v1"]' "RepoTags after tagging (dockerd's order: sorted by fully qualified name)"
docker tag bb:stdin bb:extra
docker tag bb:1 bb:extra
check_eq "$(docker image inspect -f '{{.Id}}' bb:extra)" "$id1" "tag moved from bb:stdin's image to bb:1's"
check_eq "$(docker image inspect -f '{{json .RepoTags}}' bb:stdin)" '["bb:stdin"]' "the old image lost the moved tag"
run_capture docker tag bb:1 'a::b'
check_eq "$RC" 1 "tag bb:1 a::b exit status"
check_contains "$OUT" "invalid reference format" "tag bb:1 a::b message"
run_capture docker tag nosuch x:1
check_eq "$RC" 1 "tag nosuch x:1 exit status"
check_contains "$OUT" "No such image: nosuch:latest" "tag nosuch x:1 message"
# The CLI refuses UPPER:case itself; the daemon must too.
code=$(api -o "$WORK/tag.json" -w '%{http_code}' -X POST "http://b/v1.44/images/bb:1/tag?repo=UPPER&tag=case")
check_eq "$code" 400 "POST /images/bb:1/tag?repo=UPPER&tag=case status"
check_contains "$(cat "$WORK/tag.json")" '"message":"invalid reference format' "POST /images/bb:1/tag?repo=UPPER message"

# ---------------------------------------------------------------------------------------
step "rmi: a tag of a multi-tagged image untags only"
run_capture docker rmi byid:1
check_eq "$RC/$OUT" "0/Untagged: byid:1" "rmi byid:1"
run_capture docker rmi localhost:5000/user/app:v1
check_eq "$RC/$OUT" "0/Untagged: localhost:5000/user/app:v1" "rmi localhost:5000/user/app:v1"
check_eq "$(docker image inspect -f '{{.Id}}' bb:1)" "$id1" "the image stays after untagging"

step "rmi: by ID with tags in several repositories is refused without -f"
run_capture docker rmi "$(short "$id1")"
check_eq "$RC" 1 "rmi <id> with tags bb:1, bb:extra, user/app exit status"
check_eq "$OUT" "Error response from daemon: conflict: unable to delete $(short "$id1") (must be forced) - image is referenced in multiple repositories" "rmi <id> conflict message"
check_eq "$(docker image inspect -f '{{.Id}}' bb:1)" "$id1" "the image stays after a refused rmi"

step "rmi: by ID with tags of one repository untags them all and deletes"
docker tag bb:stdin bb:stdin2
run_capture docker rmi "$(short "$id2")"
check_eq "$RC" 0 "rmi <id> with tags bb:stdin, bb:stdin2 exit status ($OUT)"
check_contains "$OUT" "Untagged: bb:stdin"$'\n' "rmi <id>: Untagged bb:stdin"
check_contains "$OUT" "Untagged: bb:stdin2" "rmi <id>: Untagged bb:stdin2"
check_contains "$OUT" "Deleted: $id2" "rmi <id>: Deleted"
docker rmi -f "$id2" >/dev/null 2>&1 || true # so a failure above does not spill into later checks

step "rmi: the last tag deletes the image; -f deletes a multi-repository image"
id4=$(docker import - tmp:1 <"$tarball")
run_capture docker rmi tmp:1
check_eq "$RC/$OUT" "0/Untagged: tmp:1"$'\n'"Deleted: $id4" "rmi of an image's only tag"
id5=$(docker import - tmp:2 <"$tarball")
docker tag tmp:2 other/tmp:2
run_capture docker rmi -f "$(short "$id5")"
check_eq "$RC" 0 "rmi -f <id> exit status ($OUT)"
check_contains "$OUT" "Untagged: tmp:2" "rmi -f <id>: Untagged tmp:2"
check_contains "$OUT" "Untagged: other/tmp:2" "rmi -f <id>: Untagged other/tmp:2"
check_contains "$OUT" "Deleted: $id5" "rmi -f <id>: Deleted"
run_capture docker image inspect "$id5"
check_eq "$RC" 1 "inspect of a deleted image exit status"

step "rmi: unknown image and bad references"
run_capture docker rmi nosuch
check_eq "$RC/$OUT" "1/Error response from daemon: No such image: nosuch:latest" "rmi nosuch"
run_capture docker rmi 'a::b'
check_eq "$RC" 1 "rmi a::b exit status"
check_contains "$OUT" "invalid reference format" "rmi a::b message"
run_capture docker rmi 'UPPER:case'
check_eq "$RC" 1 "rmi UPPER:case exit status"
check_contains "$OUT" "invalid reference format" "rmi UPPER:case message"

# ---------------------------------------------------------------------------------------
step "history: table, --no-trunc, -q, --format"
run_capture docker history bb:1
check_eq "$RC" 0 "history exit status"
check_match "$(head -1 <<<"$OUT")" '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' "history header"
check_match "$(sed -n 2p <<<"$OUT")" "^$(short "$id1") .* made by the test\$" "history row"
check_eq "$(docker history -q bb:1)" "$(short "$id1")" "history -q"
check_eq "$(docker history -q --no-trunc bb:1)" "$id1" "history -q --no-trunc"
check_contains "$(docker history --no-trunc bb:1)" "$id1" "history --no-trunc"
check_eq "$(docker history --format '{{.ID}}|{{.CreatedBy}}|{{.Comment}}' bb:1)" "$(short "$id1")||made by the test" "history --format"
run_capture docker history nosuch
check_eq "$RC/$OUT" "1/Error response from daemon: No such image: nosuch:latest" "history nosuch"

# ---------------------------------------------------------------------------------------
step "image inspect: Id, RepoTags, RootFS.Layers, Config; several at once; unknown"
docker image inspect bb:1 >"$WORK/inspect.json"
run_capture python3 - "$WORK/inspect.json" "$id1" "$diffid" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 1, "not a one-element array"
i = doc[0]
assert i["Id"] == sys.argv[2], "Id %r" % i["Id"]
assert i["RepoTags"] == ["bb:1", "bb:extra", "user/app:latest"], "RepoTags %r" % i["RepoTags"]
assert i["RepoDigests"] == [], "RepoDigests %r" % i["RepoDigests"]
assert i["RootFS"] == {"Type": "layers", "Layers": [sys.argv[3]]}, "RootFS %r" % i["RootFS"]
assert i["Config"]["Cmd"] == ["sh"] and i["Config"]["Env"] == ["A=b"], "Config %r" % i["Config"]
assert i["Os"] == "linux", "Os"
assert isinstance(i["Size"], int) and i["Size"] > 1000000, "Size %r" % i["Size"]
assert i["Created"].endswith("Z") and "T" in i["Created"], "Created %r" % i["Created"]
PY
check_eq "$RC" 0 "image inspect JSON fields ($OUT)"
check_eq "$(docker image inspect -f '{{.Id}}' bb:1 lbl:1 | tr '\n' ' ')" "$id1 $idl " "image inspect of two images"
run_capture docker image inspect nosuch
check_eq "$RC" 1 "image inspect nosuch exit status"
check_contains "$OUT" "No such image: nosuch" "image inspect nosuch message"
run_capture docker image inspect 'a::b'
check_eq "$RC" 1 "image inspect a::b exit status"
check_contains "$OUT" "invalid reference format" "image inspect a::b message"

# ---------------------------------------------------------------------------------------
step "image prune: dangling only by default, -a with --filter label, --filter until"
run_capture docker image prune -f
check_eq "$RC" 0 "image prune -f exit status ($OUT)"
check_contains "$OUT" "deleted: $id3" "image prune -f deletes the dangling image"
check_eq "$(ids | tr '\n' ' ')" "$(printf '%s\n' "$id1" "$idl" | sort | tr '\n' ' ')" "images left after image prune -f"
run_capture docker image prune -a -f --filter label=team=blue
check_eq "$RC" 0 "image prune -a -f --filter label=team=blue exit status ($OUT)"
check_contains "$OUT" "untagged: lbl:1" "image prune -a --filter label: untagged lbl:1"
check_contains "$OUT" "deleted: $idl" "image prune -a --filter label: deleted lbl:1"
check_eq "$(ids)" "$id1" "images left after image prune -a --filter label=team=blue"
idd=$(docker import - <"$tarball")
run_capture docker image prune -f --filter until=24h
check_eq "$RC" 0 "image prune -f --filter until=24h exit status ($OUT)"
check_not_contains "$OUT" "$idd" "image prune --filter until=24h keeps a dangling image made just now"
run_capture docker image prune -f --filter "until=$(($(date +%s) + 60))"
check_contains "$OUT" "deleted: $idd" "image prune --filter until=<unix time in a minute> deletes it"
check_eq "$(ids)" "$id1" "images left after the prunes"

# ---------------------------------------------------------------------------------------
step "system df"
run_capture docker system df
check_eq "$RC" 0 "system df exit status"
check_match "$OUT" 'Images +1 +0 +1\.98[0-9]MB' "system df Images row"
check_eq "$(docker system df --format '{{.Type}}={{.TotalCount}}' | head -1)" "Images=1" "system df --format"
check_match "$(docker system df -v)" "bb +1 +$(short "$id1")" "system df -v lists bb:1"

# ---------------------------------------------------------------------------------------
step "save: two images sharing a layer, -o and stdout"
id6=$(docker import --change 'CMD ["true"]' - bb:two <"$tarball")
run_capture docker save -o "$WORK/two.tar" bb:1 bb:two
check_eq "$RC" 0 "save -o two images exit status ($OUT)"
run_capture python3 - "$WORK/two.tar" "$id1" "$id6" "$diffid" <<'PY'
import json, sys, tarfile, hashlib
t = tarfile.open(sys.argv[1])
names = t.getnames()
for want in ("manifest.json", "repositories", "index.json", "oci-layout"):
    assert want in names, "no %s in %s" % (want, names)
m = json.load(t.extractfile("manifest.json"))
assert len(m) == 2, "manifest.json has %d entries" % len(m)
by_tag = {e["RepoTags"][0]: e for e in m}
assert set(by_tag) == {"bb:1", "bb:two"}, "RepoTags %r" % list(by_tag)
for tag, want in (("bb:1", sys.argv[2]), ("bb:two", sys.argv[3])):
    cfg = t.extractfile(by_tag[tag]["Config"]).read()
    assert "sha256:" + hashlib.sha256(cfg).hexdigest() == want, "config of %s is not %s" % (tag, want)
    assert len(by_tag[tag]["Layers"]) == 1
    layer = t.extractfile(by_tag[tag]["Layers"][0]).read()
    assert "sha256:" + hashlib.sha256(layer).hexdigest() == sys.argv[4], "layer of %s" % tag
assert by_tag["bb:1"]["Layers"] == by_tag["bb:two"]["Layers"], "shared layer stored twice"
repos = json.load(t.extractfile("repositories"))
assert sorted(repos) == ["bb"] and sorted(repos["bb"]) == ["1", "two"], "repositories %r" % repos
for tag, v1id in repos["bb"].items():
    layer = by_tag["bb:" + tag]["Layers"][-1]
    assert v1id in layer or v1id + "/layer.tar" in names, "repositories bb:%s -> %s names no layer" % (tag, v1id)
idx = json.load(t.extractfile("index.json"))
assert len(idx["manifests"]) == 2, "index.json manifests %r" % idx
PY
check_eq "$RC" 0 "save -o: archive content ($OUT)"
docker save bb:1 >"$WORK/one.tar"
check_eq "$(tar -xOf "$WORK/one.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"])')" "['bb:1']" "save to stdout: manifest.json"
run_capture docker save nosuch
check_eq "$RC" 1 "save nosuch exit status"
check_contains "$OUT" "No such image: nosuch" "save nosuch message"

step "load: -i and stdin, -q, same IDs"
docker rmi bb:two bb:1 bb:extra user/app >/dev/null
check_eq "$(ids)" "" "no images before load"
run_capture docker load -i "$WORK/two.tar"
check_eq "$RC" 0 "load -i exit status ($OUT)"
check_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "Loaded image: bb:1 Loaded image: bb:two " "load -i output"
check_eq "$(docker image inspect -f '{{.Id}}' bb:1 bb:two | tr '\n' ' ')" "$id1 $id6 " "load -i: same IDs"
check_eq "$(docker image inspect -f '{{json .RootFS.Layers}}' bb:two)" "[\"$diffid\"]" "load -i: layers"
docker rmi bb:1 bb:two >/dev/null
run_capture docker load <"$WORK/two.tar"
check_eq "$RC" 0 "load from stdin exit status ($OUT)"
check_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "Loaded image: bb:1 Loaded image: bb:two " "load from stdin output"
docker rmi bb:two >/dev/null
run_capture docker load -q -i "$WORK/two.tar"
check_eq "$RC" 0 "load -q exit status ($OUT)"
check_eq "$(sort <<<"$OUT" | tr '\n' ' ')" "Loaded image: bb:1 Loaded image: bb:two " "load -q output"
docker save "$id6" >"$WORK/byid.tar"
docker rmi bb:two >/dev/null
run_capture docker load -i "$WORK/byid.tar"
check_eq "$RC/$OUT" "0/Loaded image ID: $id6" "load of an archive saved by ID"
check_eq "$(docker image inspect -f '{{json .RepoTags}}' "$id6")" '[]' "an image saved by ID loads without tags"
docker tag "$id6" bb:two

step "events --since/--until: import, tag, untag, delete, load"
sleep 1.1
t_end=$(date +%s)
run_capture timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" events --since "$t_start" --until "$t_end" \
  --format '{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}'
check_eq "$RC" 0 "events --since --until returns ($OUT)"
check_contains "$OUT" "image import $id1 " "events: import of bb:1"
check_contains "$OUT" "image tag $id1 bb:1" "events: tag bb:1"
check_contains "$OUT" "image tag $id1 localhost:5000/user/app:v1" "events: tag localhost:5000/user/app:v1"
check_contains "$OUT" "image untag $id1 " "events: untag (Actor.ID is the image ID, as dockerd sends it)"
check_contains "$OUT" "image delete $id2 " "events: delete"
check_contains "$OUT" "image load $id1 " "events: load"
check_contains "$OUT" "image load $id6 " "events: load of bb:two"
run_capture timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" events --since "$t_end" --until "$t_end"
check_eq "$RC/$OUT" "0/" "events in an empty window"
run_capture timeout 20 "$DOCKER_CLI" -H "unix://$BERTHD_SOCK" events --since "$t_start" --until "$t_end" --filter event=delete --format '{{.Action}}'
check_eq "$(sort -u <<<"$OUT")" "delete" "events --filter event=delete"

# Events live in memory, as dockerd's do: checked before the restart below.
step "kill -9 of berthd right after a load; restart; same images"
docker rmi bb:two >/dev/null
docker load -q -i "$WORK/two.tar" >/dev/null
before=$(docker images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort)
kill -9 "$BERTHD_PID"
wait "$BERTHD_PID" 2>/dev/null || true
start_berthd b1
after=$(docker images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort)
check_eq "$after" "$before" "images after kill -9 and restart"
check_eq "$(docker image inspect -f '{{.Id}} {{json .RootFS.Layers}}' bb:two)" "$id6 [\"$diffid\"]" "bb:two after restart"
docker save bb:1 bb:two | cmp -s - "$WORK/two.tar" ||
  check_eq "$(docker save bb:1 bb:two | tar -t | sort | tr '\n' ' ')" "$(tar -tf "$WORK/two.tar" | sort | tr '\n' ' ')" "save after restart has the same entries"

# ---------------------------------------------------------------------------------------
step "bad input: truncated tar to load, non-tar to import, malformed JSON"
n=$(ids | wc -l)
head -c $(($(stat -c %s "$WORK/two.tar") / 2)) "$WORK/two.tar" >"$WORK/truncated.tar"
docker rmi bb:1 bb:two >/dev/null
run_capture docker load -i "$WORK/truncated.tar"
check_eq "$RC" 1 "load of a truncated tar exit status ($OUT)"
check_eq "$(ids | wc -l)" 0 "no image registered from a truncated tar"
docker load -q -i "$WORK/two.tar" >/dev/null
echo 'this is not a tar archive' >"$WORK/notatar.txt"
run_capture docker import "$WORK/notatar.txt" nt:1
check_eq "$RC" 1 "import of a non-tar exit status ($OUT)"
check_eq "$(ids | wc -l)" "$n" "no image registered from a non-tar import"
run_capture docker load -i "$WORK/notatar.txt"
check_eq "$RC" 1 "load of a non-tar exit status ($OUT)"
for ep in "GET /v1.44/images/json" "POST /v1.44/images/prune" "GET /v1.44/events"; do
  code=$(api -o "$WORK/bad.json" -w '%{http_code}' -m 5 -X "${ep% *}" "http://b${ep#* }?filters=%7Bbad")
  check_eq "$code" 400 "$ep?filters={bad status"
  check_match "$(cat "$WORK/bad.json")" '^\{"message":"[^"]+' "$ep?filters={bad body"
done
code=$(api -o "$WORK/bad.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary '{"bad json' "http://b/v1.44/images/create?fromSrc=-&repo=badjson&changes=BOGUS")
check_eq "$code" 400 "POST /images/create with an invalid change status"
check_contains "$(cat "$WORK/bad.json")" '"message":' "POST /images/create with an invalid change body"

# ---------------------------------------------------------------------------------------
step "a second berthd on the same data root is refused with a clear message"
run_capture timeout 10 "$BERTHD" --data-root "$BERTHD_DIR/data" --exec-root "$WORK/exec2" -H "unix://$WORK/second.sock"
check_match "$RC" '^[1-9][0-9]*$' "second berthd on the same data root exit status"
[ "$RC" = 124 ] && check_fail "second berthd on the same data root did not exit"
check_contains "$OUT" "$BERTHD_DIR/data" "second berthd message names the data root"
check_contains "$OUT" "$BERTHD_PID" "second berthd message names the running daemon's pid"
check_eq "$(curl -s --unix-socket "$BERTHD_SOCK" http://b/_ping)" "OK" "the first berthd still answers"
run_capture timeout 10 "$BERTHD" --data-root "$WORK/d3" --exec-root "$WORK/exec3" -H "unix://$WORK/third.sock" --config-file "$WORK/nonexistent.json"
check_match "$RC" '^[1-9][0-9]*$' "berthd --config-file <missing file> exit status"
check_contains "$OUT" "$WORK/nonexistent.json" "berthd --config-file <missing file> message names the file"

finish_checks "docker CLI against berthd (images)"
