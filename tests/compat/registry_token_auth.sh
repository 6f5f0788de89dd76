#!/usr/bin/env bash
# berth-registry with registry:2's auth.token: a token service of the test's own
# (registry_token_service.py on a 127.0.0.1 port) issues JWTs signed by an EC key whose
# certificate a CA of rootcertbundle signed (x5c), or by an RSA key of the bundle named by its
# libtrust kid. curl checks every refusal (no token, a bad signature, an untrusted chain,
# another audience or issuer, an expired token, too small a scope, the catalog's own scope),
# then the real clients go through the whole flow: skopeo, berthd (the docker CLI against it:
# login, push, pull) and Debian's dockerd (login, push, pull).
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

REGISTRY=${BERTH_REGISTRY:-$(dirname "$RUNTIME")/berth-registry}
[ -x "$REGISTRY" ] || fail "berth-registry not found at $REGISTRY"
python3 -c 'import cryptography' 2>/dev/null || fail "python3-cryptography is not installed"
command -v skopeo >/dev/null || fail "skopeo is not installed (scripts/setup.sh installs it)"
TOKENS="python3 $(dirname "$0")/registry_token_service.py"

step "a token service and berth-registry trusting its keys"
$TOKENS keys "$WORK/keys"
$TOKENS serve "$WORK/keys" "$WORK/token.port" berth-test-issuer \
  "alice:s3cret:pull,push,delete,catalog bob:b0b:pull" 2>"$WORK/tokens.log" &
TOKEN_PID=$!
defer "stop_pid $TOKEN_PID registry_token_service"
wait_for 20 test -e "$WORK/token.port" || fail "the token service did not start"
realm=http://127.0.0.1:$(cat "$WORK/token.port")/token
cat >"$WORK/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/data
http:
  addr: 127.0.0.1:0
auth:
  token:
    realm: $realm
    service: berth-test
    issuer: berth-test-issuer
    rootcertbundle: $WORK/keys/bundle.pem
    autoredirect: false
YML
"$REGISTRY" serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
defer "stop_pid $REG_PID berth-registry"
wait_for 10 grep -q 'listening on' "$WORK/registry.log" || {
  cat "$WORK/registry.log" >&2
  fail "berth-registry did not start"
}
check_contains "$(cat "$WORK/registry.log")" "auth.token.autoredirect is ignored" "autoredirect is warned about"
reg=127.0.0.1:$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$WORK/registry.log" | head -1)
R=http://$reg

step "curl: each check of a token"
pull_ab='[{"type":"repository","name":"a/b","actions":["pull"]}]'
push_ab='[{"type":"repository","name":"a/b","actions":["pull","push"]}]'
catalog='[{"type":"registry","name":"catalog","actions":["*"]}]'
mapfile -t tok < <(printf '%s\n' \
  "berth-test-issuer berth-test 60 x5c $pull_ab" \
  "berth-test-issuer berth-test 60 kid $pull_ab" \
  "berth-test-issuer berth-test 60 badsig $pull_ab" \
  "berth-test-issuer berth-test 60 stranger $pull_ab" \
  "berth-test-issuer other-service 60 x5c $pull_ab" \
  "someone-else berth-test 60 x5c $pull_ab" \
  "berth-test-issuer berth-test -120 x5c $pull_ab" \
  "berth-test-issuer berth-test -30 x5c $pull_ab" \
  "berth-test-issuer berth-test 60 x5c $push_ab" \
  "berth-test-issuer berth-test 60 x5c $catalog" | $TOKENS mint "$WORK/keys")
check_eq "${#tok[@]}" 10 "the token service minted the test's tokens"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
bearer() { echo "Authorization: Bearer $1"; }
hdrs=$(curl -si "$R/v2/a/b/manifests/latest" | tr -d '\r')
check_contains "$hdrs" "HTTP/1.1 401" "no token: 401"
check_contains "$hdrs" "WWW-Authenticate: Bearer realm=\"$realm\",service=\"berth-test\",scope=\"repository:a/b:pull\"" "the challenge names the realm, service and scope"
check_contains "$hdrs" '"code":"UNAUTHORIZED"' "the 401 body"
check_contains "$(curl -si -X POST "$R/v2/a/b/blobs/uploads/?mount=sha256:$(printf %064d 0)&from=c/d" | tr -d '\r')" 'scope="repository:a/b:pull,push repository:c/d:pull"' "a mount's challenge asks for its source too"
check_contains "$(curl -si "$R/v2/_catalog" | tr -d '\r')" 'scope="registry:catalog:*"' "the catalog's challenge"
check_contains "$(curl -si "$R/v2/" | tr -d '\r')" "WWW-Authenticate: Bearer realm=\"$realm\",service=\"berth-test\"" "the version check's challenge has no scope"
check_eq "$(code -H "$(bearer "${tok[0]}")" "$R/v2/a/b/manifests/latest")" 404 "an ES256 token with an x5c chain up to the bundle's CA"
check_eq "$(code -H "$(bearer "${tok[1]}")" "$R/v2/a/b/manifests/latest")" 404 "an RS256 token naming a bundle key by kid"
check_eq "$(code -H "$(bearer "${tok[0]}")" "$R/v2/")" 200 "the version check with any valid token"
check_eq "$(code -H "Authorization: Bearer not.a.jwt" "$R/v2/")" 401 "a malformed token"
for i in 2 3 4 5 6; do
  h=$(curl -si -H "$(bearer "${tok[$i]}")" "$R/v2/a/b/manifests/latest" | tr -d '\r')
  check_contains "$h" "HTTP/1.1 401" "token $i refused"
  check_contains "$h" 'error="invalid_token"' "token $i: invalid_token"
done
log=$(cat "$WORK/registry.log")
check_contains "$log" 'refused: invalid ES256 signature' "a bad signature is refused for its signature"
check_contains "$log" 'refused: x5c does not chain to rootcertbundle' "an untrusted chain is refused for its chain"
check_contains "$log" 'refused: token intended for another audience "other-service"' "another audience is refused for its aud"
check_contains "$log" 'refused: token from untrusted issuer "someone-else"' "another issuer is refused for its iss"
check_contains "$log" 'refused: token has expired' "an expired token is refused for its exp"
check_eq "$(code -H "$(bearer "${tok[7]}")" "$R/v2/a/b/manifests/latest")" 404 "a token expired 30 s ago is within the minute of leeway"
h=$(curl -si -X POST -H "$(bearer "${tok[0]}")" "$R/v2/a/b/blobs/uploads/" | tr -d '\r')
check_contains "$h" 'scope="repository:a/b:pull,push",error="insufficient_scope"' "a pull token cannot push"
check_eq "$(code -H "$(bearer "${tok[0]}")" "$R/v2/other/repo/tags/list")" 401 "a token for a/b does not open other/repo"
check_eq "$(code -X POST -H "$(bearer "${tok[8]}")" "$R/v2/a/b/blobs/uploads/")" 202 "a push token starts an upload"
check_eq "$(code -X DELETE -H "$(bearer "${tok[8]}")" "$R/v2/a/b/manifests/latest")" 401 "DELETE needs the delete action"
check_eq "$(code -H "$(bearer "${tok[0]}")" "$R/v2/_catalog")" 401 "the catalog needs registry:catalog:*"
check_eq "$(code -H "$(bearer "${tok[9]}")" "$R/v2/_catalog")" 200 "registry:catalog:* opens the catalog"

step "skopeo through the token flow"
tarball=$(busybox_tar)
mkdir -p "$WORK/layout/blobs/sha256"
python3 - "$tarball" "$WORK/layout" <<'PY'
import hashlib, json, sys
tar, out = sys.argv[1], sys.argv[2]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
ld, ls = put(open(tar, "rb").read())
cd, cs = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode())
md, ms = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
    open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
run_capture skopeo copy --preserve-digests --dest-creds alice:s3cret --dest-tls-verify=false \
  "oci:$WORK/layout:latest" "docker://$reg/sk/busybox:latest"
check_eq "$RC" 0 "skopeo copy to berth-registry with a token ($OUT)"
run_capture skopeo copy --dest-creds bob:b0b --dest-tls-verify=false \
  "oci:$WORK/layout:latest" "docker://$reg/sk/bob:latest"
check_eq "$RC" 1 "bob, who may only pull, cannot push"
run_capture skopeo inspect --creds bob:b0b --tls-verify=false "docker://$reg/sk/busybox:latest"
check_eq "$RC" 0 "bob pulls ($OUT)"
run_capture skopeo inspect --creds alice:wrong --tls-verify=false "docker://$reg/sk/busybox:latest"
check_eq "$RC" 1 "a wrong password at the token service"

step "berthd: login, push and pull through the token flow"
start_berthd b1
bdocker import --change 'CMD ["sh"]' "$tarball" "$reg/team/busybox:1" >/dev/null
run_capture bdocker push "$reg/team/busybox:1"
check_eq "$RC" 1 "berthd's push without login fails"
run_capture bdocker login -u alice -p wrong "$reg"
check_eq "$RC" 1 "berthd's login with a wrong password fails"
run_capture bdocker login -u alice -p s3cret "$reg"
check_eq "$RC" 0 "berthd's login ($OUT)"
run_capture bdocker push "$reg/team/busybox:1"
check_eq "$RC" 0 "berthd's push ($OUT)"
berth_digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' <<<"$OUT")
bdocker rmi "$reg/team/busybox:1" >/dev/null
run_capture bdocker pull "$reg/team/busybox:1"
check_eq "$RC" 0 "berthd's pull ($OUT)"
check_contains "$OUT" "Digest: $berth_digest" "berthd pulls what it pushed"
check_eq "$(bdocker run --rm --network none "$reg/team/busybox:1" echo pulled 2>&1)" pulled "berthd runs the pulled image"
bdocker logout "$reg" >/dev/null

step "dockerd: login, push and pull through the token flow"
bridge=brt$$
ip link add name "$bridge" type bridge
defer "ip link del $bridge"
ip addr add 10.252.$((RANDOM % 200)).1/24 dev "$bridge"
ip link set "$bridge" up
start_dockerd --bridge="$bridge" --iptables=false --ip6tables=false --ip-masq=false \
  --userland-proxy=false
run_capture ddocker login -u alice -p wrong "$reg"
check_eq "$RC" 1 "dockerd's login with a wrong password fails"
run_capture ddocker login -u alice --password-stdin "$reg" <<<s3cret
check_eq "$RC" 0 "dockerd's login ($OUT)"
ddocker import --change 'CMD ["sh"]' "$tarball" "$reg/docker/busybox:1" >/dev/null
run_capture ddocker push "$reg/docker/busybox:1"
check_eq "$RC" 0 "dockerd's push ($OUT)"
docker_digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' <<<"$OUT")
ddocker rmi "$reg/docker/busybox:1" >/dev/null
run_capture ddocker pull "$reg/docker/busybox:1"
check_eq "$RC" 0 "dockerd's pull ($OUT)"
check_contains "$OUT" "Digest: $docker_digest" "dockerd pulls what it pushed"
run_capture ddocker pull "$reg/team/busybox:1"
check_eq "$RC" 0 "dockerd pulls what berthd pushed ($OUT)"
check_contains "$(cat "$WORK/tokens.log")" 'scope=repository' "the clients asked the token service for scopes"

finish_checks registry_token_auth
