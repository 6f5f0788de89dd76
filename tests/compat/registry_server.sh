#!/usr/bin/env bash
# berth-registry against real clients: skopeo copies an image to it and back with htpasswd
# credentials (and is refused with a wrong password), curl walks every endpoint and error,
# a kill -9 in the middle of an upload leaves no blob (and a chunked upload goes on after
# the restart), garbage-collect frees what no manifest references, and TLS serves the same API. Everything listens on 127.0.0.1 ports
# of its own and lives under the test's temporary directory.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

REGISTRY=${BERTH_REGISTRY:-$(dirname "$RUNTIME")/berth-registry}
[ -x "$REGISTRY" ] || fail "berth-registry not found at $REGISTRY"
command -v skopeo >/dev/null || fail "skopeo is not installed (scripts/setup.sh installs it)"
command -v htpasswd >/dev/null || fail "htpasswd is not installed (apache2-utils)"

# start_registry NAME CONFIG: sets REG_PID and REG_PORT once it listens (on a free port, as
# the config's http.addr says 127.0.0.1:0).
start_registry() {
  local name=$1 config=$2
  "$REGISTRY" serve $config >"$WORK/$name.log" 2>&1 &
  REG_PID=$!
  defer "stop_pid $REG_PID berth-registry"
  wait_for 10 grep -q 'listening on' "$WORK/$name.log" || {
    cat "$WORK/$name.log" >&2
    fail "$name did not start"
  }
  REG_PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$WORK/$name.log" | head -1)
}

htpasswd -Bbn alice s3cret >"$WORK/htpasswd"
printf '%s\n' \
  'version: 0.1' \
  'log:' \
  '  level: info' \
  'storage:' \
  '  filesystem:' \
  "    rootdirectory: $WORK/data" \
  '  delete:' \
  '    enabled: true' \
  '  cache:' \
  '    blobdescriptor: inmemory' \
  'http:' \
  '  addr: 127.0.0.1:0' \
  '  headers:' \
  '    X-Content-Type-Options: [nosniff]' \
  'auth:' \
  '  htpasswd:' \
  '    realm: berth-test' \
  "    path: $WORK/htpasswd" >"$WORK/config.yml"

step "an OCI layout of busybox, the image to copy"
tarball=$(busybox_tar)
python3 - "$tarball" "$WORK/layout" <<'PY'
import hashlib, json, os, sys
tar, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
ld, ls = put(open(tar, "rb").read())
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
cd, cs = put(config)
manifest = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld,
                "size": ls}]}).encode()
md, ms = put(manifest)
json.dump({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
    "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
    open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
manifest_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$WORK/layout/index.json")
layer_digest=sha256:$(sha256sum "$tarball" | cut -d' ' -f1)

start_registry registry "$WORK/config.yml"
R=http://127.0.0.1:$REG_PORT
C=(-s -u alice:s3cret)

step "skopeo copy to berth-registry and back"
# --preserve-digests: skopeo would otherwise gzip the layer on the way, and the manifest
# would not be the layout's.
run_capture skopeo copy --preserve-digests --dest-creds alice:s3cret --dest-tls-verify=false \
  "oci:$WORK/layout:latest" "docker://127.0.0.1:$REG_PORT/test/busybox:latest"
check_eq "$RC" 0 "skopeo copy to berth-registry ($OUT)"
run_capture skopeo inspect --raw --creds alice:s3cret --tls-verify=false "docker://127.0.0.1:$REG_PORT/test/busybox:latest"
check_eq "$(printf %s "$OUT" | sha256sum | cut -d' ' -f1)" "${manifest_digest#sha256:}" "the manifest comes back byte for byte"
run_capture skopeo list-tags --creds alice:s3cret --tls-verify=false "docker://127.0.0.1:$REG_PORT/test/busybox"
check_contains "$OUT" '"latest"' "skopeo list-tags"
run_capture skopeo copy --preserve-digests --src-creds alice:s3cret --src-tls-verify=false \
  "docker://127.0.0.1:$REG_PORT/test/busybox:latest" "oci:$WORK/back:latest"
check_eq "$RC" 0 "skopeo copy from berth-registry ($OUT)"
check_eq "$(sha256sum "$WORK/back/blobs/sha256/${layer_digest#sha256:}" 2>&1 | cut -d' ' -f1)" "${layer_digest#sha256:}" "the layer comes back whole"
run_capture skopeo copy --src-creds alice:s3cret --src-tls-verify=false --dest-creds alice:s3cret \
  --dest-tls-verify=false "docker://127.0.0.1:$REG_PORT/test/busybox:latest" \
  "docker://127.0.0.1:$REG_PORT/other/busybox:copy"
check_eq "$RC" 0 "skopeo copy between two repositories of berth-registry ($OUT)"

step "a wrong password is refused"
run_capture skopeo copy --dest-creds alice:wrong --dest-tls-verify=false \
  "oci:$WORK/layout:latest" "docker://127.0.0.1:$REG_PORT/test/denied:latest"
check_eq "$RC" 1 "skopeo with a wrong password fails"
check_contains "$OUT" "unauthorized" "skopeo says why"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' -u alice:wrong "$R/v2/")" 401 "curl with a wrong password"
check_contains "$(curl -si "$R/v2/")" 'WWW-Authenticate: Basic realm="berth-test"' "the challenge names the realm"
check_contains "$(curl -s "$R/v2/_catalog")" '"code":"UNAUTHORIZED"' "the 401 body"
check_not_contains "$(curl "${C[@]}" "$R/v2/_catalog")" "denied" "nothing was written for the refused push"

step "curl against every endpoint"
check_contains "$(curl "${C[@]}" -i "$R/v2/")" "Docker-Distribution-API-Version: registry/2.0" "version check"
check_eq "$(curl "${C[@]}" "$R/v2/_catalog")" '{"repositories":["other/busybox","test/busybox"]}' "catalog"
check_contains "$(curl "${C[@]}" -i "$R/v2/_catalog?n=1")" '</v2/_catalog?last=other/busybox&n=1>; rel="next"' "catalog pagination"
check_eq "$(curl "${C[@]}" "$R/v2/test/busybox/tags/list")" '{"name":"test/busybox","tags":["latest"]}' "tags list"
hdrs=$(curl "${C[@]}" -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$R/v2/test/busybox/manifests/latest")
check_contains "$hdrs" "Docker-Content-Digest: $manifest_digest" "manifest HEAD digest"
check_contains "$hdrs" "Content-Type: application/vnd.oci.image.manifest.v1+json" "manifest HEAD type"
check_contains "$(curl "${C[@]}" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "$R/v2/test/busybox/manifests/latest")" MANIFEST_UNKNOWN "a manifest the client does not accept"
check_contains "$(curl "${C[@]}" -I "$R/v2/test/busybox/blobs/$layer_digest")" "Content-Length: $(stat -c %s "$tarball")" "blob HEAD"
check_eq "$(curl "${C[@]}" -r 0-99 "$R/v2/test/busybox/blobs/$layer_digest" | wc -c)" 100 "blob GET with Range"
loc=$(curl "${C[@]}" -D - -o /dev/null -X POST "$R/v2/test/busybox/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //p')
check_match "$loc" '^/v2/test/busybox/blobs/uploads/[0-9a-f-]{36}$' "upload Location"
check_contains "$(curl "${C[@]}" -i -X PATCH --data-binary 'chunk one,' -H 'Content-Range: 0-9' "$R$loc")" "Range: 0-9" "PATCH answers the Range"
check_contains "$(curl "${C[@]}" -i "$R$loc")" "Range: 0-9" "upload status"
check_contains "$(curl "${C[@]}" -i -X PATCH --data-binary 'x' -H 'Content-Range: 20-20' "$R$loc")" "416" "a chunk out of order"
d=sha256:$(printf 'chunk one,chunk two' | sha256sum | cut -d' ' -f1)
check_contains "$(curl "${C[@]}" -i -X PUT --data-binary 'chunk two' "$R$loc?digest=$d")" "201 Created" "PUT closes the upload"
check_eq "$(curl "${C[@]}" "$R/v2/test/busybox/blobs/$d")" "chunk one,chunk two" "the chunked blob"
check_contains "$(curl "${C[@]}" -X POST --data-binary 'abc' "$R/v2/test/busybox/blobs/uploads/?digest=$d")" DIGEST_INVALID "a wrong digest"
check_contains "$(curl "${C[@]}" -i -X POST "$R/v2/mounted/blobs/uploads/?mount=$layer_digest&from=test/busybox")" "201 Created" "cross-repository mount"
check_contains "$(curl "${C[@]}" --path-as-is -X POST "$R/v2/bad/../name/blobs/uploads/")" NAME_INVALID "a name with .."
check_contains "$(curl "${C[@]}" "$R/v2/test/busybox/manifests/nope")" MANIFEST_UNKNOWN "an unknown tag"
check_contains "$(curl "${C[@]}" "$R/v2/test/busybox/blobs/sha256:$(printf %064d 0)")" BLOB_UNKNOWN "an unknown blob"
check_contains "$(curl "${C[@]}" "$R/v2/nothing/tags/list")" NAME_UNKNOWN "an unknown repository"
bad_manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$(printf %064d 1)'","size":2},"layers":[]}'
check_contains "$(curl "${C[@]}" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$bad_manifest" "$R/v2/test/busybox/manifests/broken")" MANIFEST_BLOB_UNKNOWN "a manifest whose blobs are missing"
check_eq "$(curl "${C[@]}" "$R/v2/test/busybox/referrers/$manifest_digest")" '{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}' "referrers of an image without any"
check_eq "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' -X DELETE "$R/v2/other/busybox/manifests/copy")" 202 "tag DELETE"
check_contains "$(curl "${C[@]}" -i -X DELETE "$R/v2/mounted/blobs/$layer_digest")" "202 Accepted" "blob DELETE"
grep -q '"GET /v2/test/busybox/tags/list HTTP/1.1" 200' "$WORK/registry.log" || check_fail "access log line for the tags list"

step "kill -9 in the middle of an upload leaves no blob"
head -c 4M /dev/urandom >"$WORK/big"
big_digest=sha256:$(sha256sum "$WORK/big" | cut -d' ' -f1)
# A client that announces 4 MiB, sends 1 MiB and waits.
python3 - "$REG_PORT" "$big_digest" "$WORK/big" <<'PY' &
import base64, socket, sys, time
port, digest, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
s = socket.create_connection(("127.0.0.1", port))
auth = base64.b64encode(b"alice:s3cret").decode()
s.sendall((f"POST /v2/test/busybox/blobs/uploads/?digest={digest} HTTP/1.1\r\n"
           f"Host: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
           f"Content-Length: {len(data)}\r\n\r\n").encode() + data[: 1 << 20])
time.sleep(60)
PY
client_pid=$!
defer "kill $client_pid 2>/dev/null || true"
# And a chunked upload with a first chunk in, which must go on after the restart.
resume=$(curl "${C[@]}" -D - -o /dev/null -X POST "$R/v2/test/busybox/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //p')
head -c 1M "$WORK/big" | curl "${C[@]}" -o /dev/null -X PATCH --data-binary @- -H 'Content-Range: 0-1048575' "$R$resume"
partial_written() { [ "$(find "$WORK/data/blobs/tmp" -type f -size +500k | wc -l)" = 1 ]; }
wait_for 10 partial_written || check_fail "the upload did not start"
kill -9 "$REG_PID"
wait "$REG_PID" 2>/dev/null || true
kill "$client_pid"
[ ! -e "$WORK/data/blobs/sha256/${big_digest#sha256:}" ] || check_fail "a half blob is visible after kill -9"
start_registry registry2 "$WORK/config.yml"
R=http://127.0.0.1:$REG_PORT
check_eq "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' -I "$R/v2/test/busybox/blobs/$big_digest")" 404 "the half blob is unknown after a restart"
check_eq "$(find "$WORK/data/blobs/tmp" -type f | wc -l)" 0 "the partial upload is cleared at start"
check_eq "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' "$R/v2/test/busybox/manifests/latest")" 200 "what was pushed before is still there"
check_contains "$(curl "${C[@]}" -i "$R$resume" | tr -d '\r')" "Range: 0-1048575" "the chunked upload's status after kill -9 and a restart"
tail -c +1048577 "$WORK/big" | curl "${C[@]}" -o /dev/null -X PATCH --data-binary @- -H 'Content-Range: 1048576-4194303' "$R$resume"
check_contains "$(curl "${C[@]}" -i -X PUT "$R$resume?digest=$big_digest")" "201 Created" "the chunked upload ends after the restart"
check_eq "$(curl "${C[@]}" "$R/v2/test/busybox/blobs/$big_digest" | sha256sum | cut -d' ' -f1)" "${big_digest#sha256:}" "the resumed blob is whole"
curl "${C[@]}" -o /dev/null -X DELETE "$R/v2/test/busybox/blobs/$big_digest"

step "garbage-collect"
# test/busybox loses its manifest; other/busybox keeps the same manifest, untagged.
curl "${C[@]}" -o /dev/null -X DELETE "$R/v2/test/busybox/manifests/$manifest_digest"
stop_pid "$REG_PID" berth-registry
blob_file() { echo "$WORK/data/blobs/sha256/${1#sha256:}"; }
run_capture "$REGISTRY" garbage-collect --dry-run "$WORK/config.yml"
check_contains "$OUT" "blob eligible for deletion: $d" "dry run lists the chunked blob no manifest references"
[ -e "$(blob_file "$d")" ] || check_fail "dry run removed a blob"
run_capture "$REGISTRY" garbage-collect "$WORK/config.yml"
check_eq "$RC" 0 "garbage-collect ($OUT)"
[ ! -e "$(blob_file "$d")" ] || check_fail "garbage-collect left an unreferenced blob"
[ -e "$(blob_file "$layer_digest")" ] || check_fail "garbage-collect removed a layer that an untagged manifest references"
run_capture "$REGISTRY" garbage-collect --delete-untagged "$WORK/config.yml"
check_eq "$RC" 0 "garbage-collect --delete-untagged ($OUT)"
check_contains "$OUT" "manifest eligible for deletion $manifest_digest" "--delete-untagged names the untagged manifest"
[ ! -e "$(blob_file "$manifest_digest")" ] || check_fail "--delete-untagged left the untagged manifest"
[ ! -e "$(blob_file "$layer_digest")" ] || check_fail "--delete-untagged left the untagged manifest's layer"

step "TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
sed -e "s|^http:|http:\n  tls:\n    certificate: $WORK/tls.crt\n    key: $WORK/tls.key|" "$WORK/config.yml" >"$WORK/tls.yml"
start_registry tls "$WORK/tls.yml"
check_contains "$(curl "${C[@]}" --cacert "$WORK/tls.crt" -i "https://127.0.0.1:$REG_PORT/v2/")" "200 OK" "the version check over TLS"
check_eq "$(curl "${C[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REG_PORT/v2/")" 000 "no plain HTTP on a TLS registry"
run_capture skopeo copy --dest-creds alice:s3cret --dest-tls-verify=false \
  "oci:$WORK/layout:latest" "docker://127.0.0.1:$REG_PORT/tls/busybox:latest"
check_eq "$RC" 0 "skopeo copy over TLS ($OUT)"

step "no configuration file: the defaults and the environment's overrides"
export REGISTRY_HTTP_ADDR=127.0.0.1:0 REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$WORK/envdata
start_registry env ""
unset REGISTRY_HTTP_ADDR REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY
check_eq "$(curl -s "http://127.0.0.1:$REG_PORT/v2/_catalog")" '{"repositories":[]}' "a registry without a file serves, without auth"

finish_checks registry_server
