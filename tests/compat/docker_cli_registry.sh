#!/usr/bin/env bash
# The real docker CLI against a berthd of this test's own and Debian's docker-registry
# (distribution 2.8) on a free 127.0.0.1 port with htpasswd (bcrypt) auth: login (a wrong
# password refused with 401 and nothing written), push, rmi, pull back, run the pulled image,
# images --digests, a second push that finds its layers there, pull by digest, and Docker's
# errors for a missing tag and a missing repository; then the berth CLI the same way.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
[ -x "$REGISTRY_BIN" ] || fail "docker-registry is not installed (scripts/setup.sh installs it)"
BERTH=${BERTH:-$(dirname "$RUNTIME")/berth}

# ---- The registry: htpasswd auth, storage under $WORK, a port nobody holds.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
htpasswd -Bbn user pass >"$WORK/htpasswd"
cat >"$WORK/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry-data
  delete:
    enabled: true
http:
  addr: $REG
auth:
  htpasswd:
    realm: basic-realm
    path: $WORK/htpasswd
YML
"$REGISTRY_BIN" serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
defer "stop_pid $REGISTRY_PID docker-registry"
registry_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" = 401 ]; }
wait_for 30 registry_up || { cat "$WORK/registry.log" >&2; fail "docker-registry did not start"; }

start_berthd b1
docker() { bdocker "$@"; }
tarball=$(busybox_tar)
docker import --change 'CMD ["sh"]' "$tarball" bb:1 >/dev/null
# A second layer on top, from a container's change.
docker run --name layered bb:1 sh -c 'echo pushed-and-pulled >/greeting' >/dev/null
docker commit layered "$REG/test/bb:1" >/dev/null
docker rm layered >/dev/null
config_json() { cat "$DOCKER_CONFIG/config.json"; }

# ---------------------------------------------------------------------------------------
step "push before login: the registry's refusal"
run_capture docker push "$REG/test/bb:1"
check_eq "$RC" 1 "push without credentials exit status"
check_contains "$OUT" "unauthorized" "push without credentials: the registry's words"

step "login with a wrong password: 401 in Docker's words, nothing written"
run_capture docker login -u user -p wrong "$REG"
check_eq "$RC" 1 "login with a wrong password exit status"
check_contains "$OUT" "Error response from daemon: login attempt to http://$REG/v2/ failed with status: 401 Unauthorized" "wrong password message"
check_not_contains "$(config_json)" "$REG" "no credentials stored after a failed login"

step "login with --password-stdin"
run_capture sh -c "echo pass | DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI login -u user --password-stdin $REG"
check_eq "$RC" 0 "login exit status ($OUT)"
check_contains "$OUT" "Login Succeeded" "login output"
check_contains "$(config_json)" "$REG" "credentials stored by the docker CLI"

step "push: two layers, the config and the manifest"
run_capture docker push "$REG/test/bb:1"
check_eq "$RC" 0 "push exit status ($OUT)"
check_contains "$OUT" "The push refers to repository [$REG/test/bb]" "push: repository line"
check_contains "$OUT" "Pushed" "push: layers pushed"
check_match "$OUT" "1: digest: sha256:[0-9a-f]{64} size: [0-9]+" "push: digest line"
pushed_digest=$(grep -o 'digest: sha256:[0-9a-f]*' <<<"$OUT" | cut -d' ' -f2)
check_contains "$(curl -s -u user:pass "http://$REG/v2/test/bb/tags/list")" '"1"' "the registry lists the tag"
check_contains "$(docker image inspect -f '{{json .RepoDigests}}' "$REG/test/bb:1")" "$REG/test/bb@$pushed_digest" "push records RepoDigests"

step "push again: every layer already exists"
run_capture docker push "$REG/test/bb:1"
check_eq "$RC" 0 "second push exit status ($OUT)"
check_contains "$OUT" "Layer already exists" "second push: layers found"
check_not_contains "$OUT" "Pushed" "second push: nothing uploaded"
check_contains "$OUT" "1: digest: $pushed_digest" "second push: same manifest digest"

step "rmi, then pull back"
image_id=$(docker image inspect -f '{{.Id}}' "$REG/test/bb:1")
docker rmi "$REG/test/bb:1" >/dev/null
run_capture docker image inspect "$REG/test/bb:1"
check_eq "$RC" 1 "the image is gone before the pull"
run_capture docker pull "$REG/test/bb:1"
check_eq "$RC" 0 "pull exit status ($OUT)"
check_contains "$OUT" "1: Pulling from test/bb" "pull: Pulling from"
check_contains "$OUT" "Already exists" "pull: the base layer is still there (bb:1 has it)"
check_contains "$OUT" "Pull complete" "pull: the top layer pulled"
check_contains "$OUT" "Digest: $pushed_digest" "pull: digest line"
check_contains "$OUT" "Status: Downloaded newer image for $REG/test/bb:1" "pull: status line"
check_eq "$(docker image inspect -f '{{.Id}}' "$REG/test/bb:1")" "$image_id" "the pulled image has the pushed image's ID"
check_eq "$(docker run --rm "$REG/test/bb:1" cat /greeting)" "pushed-and-pulled" "run the pulled image"
check_contains "$(docker images --digests --format '{{.Repository}} {{.Digest}}')" "$REG/test/bb $pushed_digest" "images --digests"

step "pull again: up to date"
run_capture docker pull "$REG/test/bb:1"
check_eq "$RC" 0 "second pull exit status ($OUT)"
check_contains "$OUT" "Status: Image is up to date for $REG/test/bb:1" "second pull: up to date"

step "pull everything fresh: both layers downloaded, verified and unpacked"
docker rmi "$REG/test/bb:1" bb:1 >/dev/null
check_eq "$(docker images -q | wc -l)" 0 "no image left before the fresh pull"
run_capture docker pull "$REG/test/bb@$pushed_digest"
check_eq "$RC" 0 "pull by digest exit status ($OUT)"
check_eq "$(grep -c 'Pull complete' <<<"$OUT")" 2 "pull by digest: two layers pulled"
check_eq "$(docker run --rm "$REG/test/bb@$pushed_digest" cat /greeting)" "pushed-and-pulled" "run the image pulled by digest"
# --until is whole seconds and excludes what happened after it: the next second takes in
# every pull so far, which may all fall in the current one.
run_capture docker events --since 0 --until "$(($(date +%s) + 1))" --filter type=image --filter event=pull --format '{{.Action}} {{.Actor.Attributes.name}}'
check_contains "$OUT" "pull $REG/test/bb" "pull events"

step "errors: a missing tag, a missing repository"
run_capture docker pull "$REG/test/bb:nope"
check_eq "$RC" 1 "pull of a missing tag exit status"
check_contains "$OUT" "manifest for $REG/test/bb:nope not found: manifest unknown" "missing tag message"
run_capture docker pull "$REG/nothere/x:1"
check_eq "$RC" 1 "pull of a missing repository exit status"
check_contains "$OUT" "$REG/nothere/x" "missing repository message names it"

step "a layer that does not match its digest: refused, nothing of the pull left behind"
top_layer=$(curl -s -u user:pass -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REG/v2/test/bb/manifests/1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["layers"][-1]["digest"])')
hex=${top_layer#sha256:}
blob=$WORK/registry-data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
[ -f "$blob" ] || fail "the registry's blob file is not at $blob"
cp "$blob" "$WORK/blob.good"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 1]))' "$blob"
docker rmi "$REG/test/bb@$pushed_digest" >/dev/null
blobs_before=$(ls "$BERTHD_DIR/data/content/sha256" | sort)
run_capture docker pull "$REG/test/bb:1"
check_eq "$RC" 1 "pull of a corrupt layer exit status"
check_contains "$OUT" "filesystem layer verification failed for digest $top_layer" "corrupt layer message"
run_capture docker image inspect "$REG/test/bb:1"
check_eq "$RC" 1 "no image after the failed pull"
check_eq "$(ls "$BERTHD_DIR/data/content/sha256" | sort)" "$blobs_before" "no blob left by the failed pull"
cp "$WORK/blob.good" "$blob"
run_capture docker pull "$REG/test/bb@$pushed_digest"
check_eq "$RC" 0 "pull once the blob is good again ($OUT)"

step "login through Docker's token flow (a Bearer challenge, a token service asked with basic auth)"
# A stand-in for a token-auth registry: /v2/ wants a Bearer token that /token gives user:pass.
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/token_registry.py" <<'PY'
import base64, http.server, json, sys
port = int(sys.argv[1])
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if self.path.startswith("/token"):
            if auth == "Basic " + base64.b64encode(b"user:pass").decode() and "service=test" in self.path:
                return self.answer(200, {"token": "t0ken"})
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]})
        if auth == "Bearer t0ken":
            return self.answer(200, {})
        return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                           [("WWW-Authenticate", f'Bearer realm="http://127.0.0.1:{port}/token",service="test"')])
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$WORK/token_registry.py" "$tport" >"$WORK/token_registry.log" 2>&1 &
TOKEN_PID=$!
defer "stop_pid $TOKEN_PID token_registry"
token_up() { curl -s -o /dev/null "http://127.0.0.1:$tport/v2/"; }
wait_for 30 token_up || fail "the token registry did not start"
run_capture docker login -u user -p wrong "127.0.0.1:$tport"
check_eq "$RC" 1 "token flow login with a wrong password exit status"
check_contains "$OUT" "Error response from daemon: Get \"http://127.0.0.1:$tport/token\": unauthorized: incorrect username or password" "token flow: wrong password message"
run_capture docker login -u user -p pass "127.0.0.1:$tport"
check_eq "$RC" 0 "token flow login exit status ($OUT)"
check_contains "$OUT" "Login Succeeded" "token flow login output"

step "logout: the docker CLI forgets the credentials; pulls are refused again"
run_capture docker logout "$REG"
check_eq "$RC" 0 "logout exit status ($OUT)"
check_not_contains "$(config_json)" "$REG" "credentials removed"
run_capture docker pull "$REG/test/bb:1"
check_eq "$RC" 1 "pull without credentials exit status"
check_contains "$OUT" "pull access denied for $REG/test/bb" "pull without credentials: Docker's words"

# ---------------------------------------------------------------------------------------
# The berth CLI: its own config dir (~/.berth's format), the same registry.
export BERTH_CONFIG=$WORK/berth-config
berth() { "$BERTH" -H "unix://$BERTHD_SOCK" "$@"; }
docker tag "$REG/test/bb@$pushed_digest" "$REG/test/bb:1"

step "berth login: a wrong password refused, nothing written; then --password-stdin"
run_capture berth login -u user -p wrong "$REG"
check_eq "$RC" 1 "berth login with a wrong password exit status"
check_contains "$OUT" "401 Unauthorized" "berth login: wrong password message"
check_not_contains "$(cat "$BERTH_CONFIG/config.json" 2>/dev/null)" "$REG" "berth: nothing stored after a failed login"
run_capture sh -c "echo pass | $BERTH -H unix://$BERTHD_SOCK login -u user --password-stdin $REG"
check_eq "$RC" 0 "berth login exit status ($OUT)"
check_contains "$OUT" "Login Succeeded" "berth login output"
auth_of() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("auths", {}).get(sys.argv[2], {}).get("auth", "none"))' "$BERTH_CONFIG/config.json" "$REG"; }
check_eq "$(auth_of | base64 -d)" "user:pass" "berth login stores base64 user:pass in auths"

step "berth push to a new repository, rmi, pull back, run"
berth tag "$REG/test/bb:1" "$REG/other/bb:2"
run_capture berth push "$REG/other/bb:2"
check_eq "$RC" 0 "berth push exit status ($OUT)"
check_contains "$OUT" "The push refers to repository [$REG/other/bb]" "berth push: repository line"
check_match "$OUT" "2: digest: sha256:[0-9a-f]{64} size: [0-9]+" "berth push: digest line"
berth rmi "$REG/other/bb:2" "$REG/test/bb:1" >/dev/null
check_eq "$(docker images -q | wc -l)" 0 "no image left before berth pull"
run_capture berth pull "$REG/other/bb:2"
check_eq "$RC" 0 "berth pull exit status ($OUT)"
check_contains "$OUT" "2: Pulling from other/bb" "berth pull: Pulling from"
check_contains "$OUT" "Status: Downloaded newer image for $REG/other/bb:2" "berth pull: status line"
check_eq "$(berth run --rm "$REG/other/bb:2" cat /greeting)" "pushed-and-pulled" "run the image berth pulled"
run_capture berth pull -q "$REG/other/bb:2"
check_eq "$OUT" "$REG/other/bb:2" "berth pull -q prints the reference alone"
run_capture berth pull "$REG/other/bb:nope"
check_eq "$RC" 1 "berth pull of a missing tag exit status"
check_contains "$OUT" "manifest for $REG/other/bb:nope not found: manifest unknown" "berth: missing tag message"

step "berth run of an image not here pulls it with the stored credentials"
berth rmi "$REG/other/bb:2" >/dev/null
run_capture berth run --rm "$REG/other/bb:2" cat /greeting
check_eq "$RC" 0 "berth run of a missing image exit status ($OUT)"
check_contains "$OUT" "Unable to find image '$REG/other/bb:2' locally" "berth run: docker's notice"
check_contains "$OUT" "pushed-and-pulled" "berth run: the pulled image ran"

step "berth logout"
run_capture berth logout "$REG"
check_eq "$OUT" "Removing login credentials for $REG" "berth logout output"
check_eq "$(auth_of)" "none" "berth logout removes the entry"
run_capture berth pull "$REG/other/bb:2"
check_eq "$RC" 1 "berth pull after logout exit status"

# ---------------------------------------------------------------------------------------
# berth -> berth-registry -> berth: the same config file format, the same htpasswd file.
BERTH_REGISTRY=${BERTH_REGISTRY:-$(dirname "$RUNTIME")/berth-registry}
if [ -x "$BERTH_REGISTRY" ]; then
  step "berth-registry: berth login, push, rmi, pull back, run, push again"
  bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  BREG=127.0.0.1:$bport
  sed -e "s|$WORK/registry-data|$WORK/berth-registry-data|" -e "s|addr: $REG|addr: $BREG|" \
    "$WORK/registry.yml" >"$WORK/berth-registry.yml"
  "$BERTH_REGISTRY" serve "$WORK/berth-registry.yml" >"$WORK/berth-registry.log" 2>&1 &
  BERTH_REGISTRY_PID=$!
  defer "stop_pid $BERTH_REGISTRY_PID berth-registry"
  berth_registry_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$BREG/v2/")" = 401 ]; }
  wait_for 30 berth_registry_up || { cat "$WORK/berth-registry.log" >&2; fail "berth-registry did not start"; }
  run_capture sh -c "echo pass | $BERTH -H unix://$BERTHD_SOCK login -u user --password-stdin $BREG"
  check_eq "$RC" 0 "berth login to berth-registry exit status ($OUT)"
  berth tag "$REG/other/bb:2" "$BREG/mine/bb:1"
  run_capture berth push "$BREG/mine/bb:1"
  check_eq "$RC" 0 "berth push to berth-registry exit status ($OUT)"
  check_match "$OUT" "1: digest: sha256:[0-9a-f]{64} size: [0-9]+" "berth push to berth-registry: digest line"
  berth rmi "$BREG/mine/bb:1" "$REG/other/bb:2" >/dev/null
  check_eq "$(docker images -q | wc -l)" 0 "no image left before the pull from berth-registry"
  run_capture berth pull "$BREG/mine/bb:1"
  check_eq "$RC" 0 "berth pull from berth-registry exit status ($OUT)"
  check_eq "$(grep -c 'Pull complete' <<<"$OUT")" 2 "berth pull from berth-registry: two layers"
  check_eq "$(berth run --rm "$BREG/mine/bb:1" cat /greeting)" "pushed-and-pulled" "run the image pulled from berth-registry"
  run_capture berth push "$BREG/mine/bb:1"
  check_contains "$OUT" "Layer already exists" "push again to berth-registry: layers found"
else
  echo "--- berth-registry not built ($BERTH_REGISTRY): its part is left out"
fi

finish_checks docker_cli_registry
