#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, make a busybox bundle
# offline and run a real container in it with berth-runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
runtime=$PWD/build/src/cmd/berth-runtime
demo=$(mktemp -d /tmp/berth-demo-XXXXXX)
trap '"$runtime" --root "$demo/state" delete -f demo >/dev/null 2>&1 || true; rm -rf "$demo"' EXIT
scripts/make-busybox-bundle.sh "$demo/bundle" "$runtime"
python3 - "$demo/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["sh", "-c", "echo hello from berth-runtime: pid $$ on $(hostname)"]
json.dump(spec, open(path, "w"), indent=2)
PY
"$runtime" --root "$demo/state" run --bundle "$demo/bundle" demo
