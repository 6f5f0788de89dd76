#!/usr/bin/env bash
# berth-registry as a pull-through cache (registry:2's proxy.remoteurl) of another
# berth-registry with htpasswd auth (proxy.username/password), both on 127.0.0.1 ports of
# their own: skopeo and berthd pull through it, a push to it is refused as registry:2 refuses
# it, a tag moved upstream is followed, and once the upstream is gone what was pulled is
# still served from the cache's store. Then caches of Debian's docker-registry and of a
# berth-registry with token auth (the cache gets its tokens with proxy.username/password),
# and of one over TLS, whose certificate must be trusted.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

REGISTRY=${BERTH_REGISTRY:-$(dirname "$RUNTIME")/berth-registry}
[ -x "$REGISTRY" ] || fail "berth-registry not found at $REGISTRY"
command -v skopeo >/dev/null || fail "skopeo is not installed (scripts/setup.sh installs it)"
command -v htpasswd >/dev/null || fail "htpasswd is not installed (apache2-utils)"

# start_registry NAME CONFIG: sets REG_PID and REG_PORT once it listens.
start_registry() {
  local name=$1 config=$2
  "$REGISTRY" serve "$config" >"$WORK/$name.log" 2>&1 &
  REG_PID=$!
  defer "stop_pid $REG_PID berth-registry"
  wait_for 10 grep -q 'listening on' "$WORK/$name.log" || {
    cat "$WORK/$name.log" >&2
    fail "$name did not start"
  }
  REG_PORT=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$WORK/$name.log" | head -1)
}

# layout DIR TAG FILE: an OCI layout of busybox with FILE's content as a second layer.
layout() {
  python3 - "$tarball" "$1" "$2" "$3" <<'PY'
import hashlib, io, json, os, sys, tarfile
tar, out, tag, text = sys.argv[1:5]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
extra = io.BytesIO()
with tarfile.open(fileobj=extra, mode="w") as t:
    info = tarfile.TarInfo("greeting")
    info.size = len(text)
    t.addfile(info, io.BytesIO(text.encode()))
layers = [put(open(tar, "rb").read()), put(extra.getvalue())]
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": [d for d, _ in layers]}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s}
               for d, s in layers]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": tag}}]},
    open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
print(md)
PY
}

step "the upstream: a berth-registry with htpasswd auth and an image"
tarball=$(busybox_tar)
htpasswd -Bbn alice s3cret >"$WORK/htpasswd"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/upstream" \
  'http:' '  addr: 127.0.0.1:0' 'auth:' '  htpasswd:' '    realm: upstream' \
  "    path: $WORK/htpasswd" >"$WORK/upstream.yml"
start_registry upstream "$WORK/upstream.yml"
UP_PID=$REG_PID
up=127.0.0.1:$REG_PORT
v1=$(layout "$WORK/v1" latest "version one")
run_capture skopeo copy --preserve-digests --dest-creds alice:s3cret --dest-tls-verify=false \
  "oci:$WORK/v1:latest" "docker://$up/library/bb:latest"
check_eq "$RC" 0 "the image is pushed upstream ($OUT)"

step "the cache: proxy.remoteurl with the upstream's credentials"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/cache" \
  'http:' '  addr: 127.0.0.1:0' 'proxy:' "  remoteurl: http://$up" '  username: alice' \
  '  password: s3cret' '  ttl: 168h' >"$WORK/cache.yml"
start_registry cache "$WORK/cache.yml"
cache=127.0.0.1:$REG_PORT
check_contains "$(cat "$WORK/cache.log")" "proxy.ttl is ignored" "ttl is accepted with a warning"

step "skopeo pulls through the cache"
run_capture skopeo copy --preserve-digests --src-tls-verify=false \
  "docker://$cache/library/bb:latest" "oci:$WORK/pulled:latest"
check_eq "$RC" 0 "skopeo copy from the cache ($OUT)"
check_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$WORK/pulled/index.json")" "$v1" "the cache serves the upstream's manifest"
check_eq "$(ls "$WORK/cache/blobs/sha256" | wc -l)" 4 "the manifest, config and both layers are stored in the cache"
check_eq "$(curl -s "http://$cache/v2/library/bb/tags/list")" '{"name":"library/bb","tags":["latest"]}' "tags come from the upstream"
layer=sha256:$(sha256sum "$tarball" | cut -d' ' -f1)
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$cache/v2/elsewhere/bb/blobs/$layer")" 404 "a stored blob is not served for a repository the upstream does not have it in"

step "pushes are refused"
h=$(curl -si -X POST "http://$cache/v2/library/bb/blobs/uploads/" | tr -d '\r')
check_contains "$h" "HTTP/1.1 405" "an upload to the cache: 405"
check_contains "$h" '"code":"UNSUPPORTED"' "an upload to the cache: UNSUPPORTED"
run_capture skopeo copy --dest-tls-verify=false "oci:$WORK/v1:latest" "docker://$cache/mine/bb:latest"
check_eq "$RC" 1 "skopeo cannot push to the cache"

step "berthd pulls through the cache"
start_berthd b1
run_capture bdocker pull "$cache/library/bb:latest"
check_eq "$RC" 0 "berthd pulls from the cache ($OUT)"
check_contains "$OUT" "Digest: $v1" "berthd's pull names the upstream's digest"
check_eq "$(bdocker run --rm --network none "$cache/library/bb:latest" cat /greeting 2>&1)" "version one" "the pulled image runs"

step "a tag moved upstream is followed"
v2=$(layout "$WORK/v2" latest "version two")
run_capture skopeo copy --preserve-digests --dest-creds alice:s3cret --dest-tls-verify=false \
  "oci:$WORK/v2:latest" "docker://$up/library/bb:latest"
check_eq "$RC" 0 "a new image under the same tag upstream ($OUT)"
check_contains "$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$cache/v2/library/bb/manifests/latest" | tr -d '\r')" "Docker-Content-Digest: $v2" "the cache answers the tag's new manifest"
run_capture bdocker pull "$cache/library/bb:latest"
check_eq "$RC" 0 "berthd pulls the new image ($OUT)"
check_eq "$(bdocker run --rm --network none "$cache/library/bb:latest" cat /greeting 2>&1)" "version two" "the new image runs"

step "the upstream is gone: the cache serves what it stored"
stop_pid "$UP_PID" berth-registry
bdocker rmi "$cache/library/bb:latest" >/dev/null
run_capture bdocker pull "$cache/library/bb:latest"
check_eq "$RC" 0 "berthd pulls from the cache without its upstream ($OUT)"
check_contains "$OUT" "Digest: $v2" "the stored tag"
run_capture skopeo copy --src-tls-verify=false "docker://$cache/library/bb@$v1" "oci:$WORK/again:v1"
check_eq "$RC" 0 "skopeo copies the first image by digest without the upstream ($OUT)"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$cache/v2/library/other/manifests/latest")" 404 "what was never pulled is unknown"

step "a cache of Debian's docker-registry (distribution 2.8)"
DOCKER_REGISTRY=${DOCKER_REGISTRY:-/usr/bin/docker-registry}
[ -x "$DOCKER_REGISTRY" ] || fail "docker-registry is not installed (scripts/setup.sh installs it)"
dport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' 'version: 0.1' 'log:' '  level: warn' 'storage:' '  filesystem:' \
  "    rootdirectory: $WORK/distribution" 'http:' "  addr: 127.0.0.1:$dport" >"$WORK/distribution.yml"
"$DOCKER_REGISTRY" serve "$WORK/distribution.yml" >"$WORK/distribution.log" 2>&1 &
DIST_PID=$!
defer "stop_pid $DIST_PID docker-registry"
wait_for 30 curl -sf "http://127.0.0.1:$dport/v2/" || { cat "$WORK/distribution.log" >&2; fail "docker-registry did not start"; }
run_capture skopeo copy --preserve-digests --dest-tls-verify=false "oci:$WORK/v1:latest" "docker://127.0.0.1:$dport/dist/bb:1"
check_eq "$RC" 0 "the image is pushed to docker-registry ($OUT)"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/cache2" \
  'http:' '  addr: 127.0.0.1:0' 'proxy:' "  remoteurl: http://127.0.0.1:$dport" >"$WORK/cache2.yml"
start_registry cache2 "$WORK/cache2.yml"
run_capture skopeo copy --preserve-digests --src-tls-verify=false \
  "docker://127.0.0.1:$REG_PORT/dist/bb:1" "oci:$WORK/fromdist:1"
check_eq "$RC" 0 "skopeo copies from the cache of docker-registry ($OUT)"
check_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$WORK/fromdist/index.json")" "$v1" "the manifest docker-registry has"

step "a cache of a registry with token auth"
TOKENS="python3 $(dirname "$0")/registry_token_service.py"
$TOKENS keys "$WORK/keys"
$TOKENS serve "$WORK/keys" "$WORK/token.port" test-issuer "alice:s3cret:pull,push" \
  2>"$WORK/tokens.log" &
TOKEN_PID=$!
defer "stop_pid $TOKEN_PID registry_token_service"
wait_for 20 test -e "$WORK/token.port" || fail "the token service did not start"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/tokenup" \
  'http:' '  addr: 127.0.0.1:0' 'auth:' '  token:' \
  "    realm: http://127.0.0.1:$(cat "$WORK/token.port")/token" '    service: up' \
  '    issuer: test-issuer' "    rootcertbundle: $WORK/keys/bundle.pem" >"$WORK/tokenup.yml"
start_registry tokenup "$WORK/tokenup.yml"
tokenup=127.0.0.1:$REG_PORT
run_capture skopeo copy --preserve-digests --dest-creds alice:s3cret --dest-tls-verify=false \
  "oci:$WORK/v1:latest" "docker://$tokenup/tok/bb:1"
check_eq "$RC" 0 "the image is pushed to the token-auth registry ($OUT)"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/cache3" \
  'http:' '  addr: 127.0.0.1:0' 'proxy:' "  remoteurl: http://$tokenup" '  username: alice' \
  '  password: s3cret' >"$WORK/cache3.yml"
start_registry cache3 "$WORK/cache3.yml"
run_capture skopeo copy --preserve-digests --src-tls-verify=false \
  "docker://127.0.0.1:$REG_PORT/tok/bb:1" "oci:$WORK/fromtoken:1"
check_eq "$RC" 0 "skopeo copies from the cache of the token-auth registry ($OUT)"
check_contains "$(cat "$WORK/tokens.log")" "scope=repository%3Atok%2Fbb%3Apull" "the cache asked the token service for pull"

step "an upstream over TLS: its certificate is verified"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/tlsup" \
  'http:' '  addr: 127.0.0.1:0' '  tls:' "    certificate: $WORK/tls.crt" "    key: $WORK/tls.key" \
  >"$WORK/tlsup.yml"
start_registry tlsup "$WORK/tlsup.yml"
tlsup=127.0.0.1:$REG_PORT
run_capture skopeo copy --preserve-digests --dest-tls-verify=false "oci:$WORK/v1:latest" "docker://$tlsup/tls/bb:1"
check_eq "$RC" 0 "the image is pushed to the TLS registry ($OUT)"
printf '%s\n' 'version: 0.1' 'storage:' '  filesystem:' "    rootdirectory: $WORK/cache4" \
  'http:' '  addr: 127.0.0.1:0' 'proxy:' "  remoteurl: https://$tlsup" >"$WORK/cache4.yml"
start_registry untrusting "$WORK/cache4.yml"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REG_PORT/v2/tls/bb/manifests/1")" 404 "a certificate the system does not trust is refused"
check_contains "$(cat "$WORK/untrusting.log")" "certificate verify failed" "and the log says why"
# OpenSSL's default verify paths honour SSL_CERT_FILE.
SSL_CERT_FILE=$WORK/tls.crt start_registry trusting "$WORK/cache4.yml"
run_capture skopeo copy --preserve-digests --src-tls-verify=false \
  "docker://127.0.0.1:$REG_PORT/tls/bb:1" "oci:$WORK/fromtls:1"
check_eq "$RC" 0 "with the certificate trusted, the cache pulls over TLS ($OUT)"

finish_checks registry_proxy
