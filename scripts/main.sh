#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, start berthd, make a busybox
# image offline from Debian's busybox-static, list it and run a container from it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
bin=$PWD/build/src/cmd
host=unix:///run/berth/berth.sock
berth() { "$bin/berth" -H "$host" "$@"; }

if ! berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  # berthd keeps running after this script: it is the daemon the user goes on using.
  setsid "$bin/berthd" >>/var/log/berthd.log 2>&1 </dev/null &
  for _ in $(seq 100); do
    berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
  berth version >/dev/null || { tail /var/log/berthd.log >&2; exit 1; }
fi

work=$(mktemp -d /tmp/berth-main-XXXXXX)
trap 'rm -rf "$work"' EXIT
scripts/make-busybox-bundle.sh "$work/bb" "$bin/berth-runtime" >/dev/null
tar -C "$work/bb/rootfs" -cf "$work/busybox.tar" .
berth import --change 'CMD ["sh"]' -m "busybox-static from Debian" "$work/busybox.tar" busybox:latest
berth images
berth run --rm busybox echo "hello from a berth container"
