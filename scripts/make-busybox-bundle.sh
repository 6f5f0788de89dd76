#!/usr/bin/env bash
# Makes an OCI bundle with a busybox rootfs, offline, from Debian's busybox-static.
# usage: make-busybox-bundle.sh DIR [RUNTIME]
set -euo pipefail
dir=$1
runtime=${2:-berth-runtime}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-static is not installed (run scripts/setup.sh)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,tmp,etc,root,var}
cp "$busybox" "$dir/rootfs/bin/busybox"
for app in $("$busybox" --list); do
  [ "$app" = busybox ] || ln -s busybox "$dir/rootfs/bin/$app"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/rootfs/etc/group"
"$runtime" spec --bundle "$dir"
