# Shared by the compatibility tests: a temp dir removed on exit, a busybox image tarball,
# assertions that name what was expected.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNTIME=${BERTH_RUNTIME:-$REPO/build/src/cmd/berth-runtime}
WORK=$(mktemp -d /tmp/berth-compat-XXXXXX)
cleanups=()
on_exit() {
  local rc=$?
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[$i]}" || true; done
  rm -rf "$WORK"
  exit $rc
}
trap on_exit EXIT
defer() { cleanups+=("$1"); }

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { [[ "$1" == *"$2"* ]] || fail "$3: expected to contain '$2', got '$1'"; }

# A rootfs tarball of Debian's static busybox, the offline base image.
busybox_tar() {
  "$REPO/scripts/make-busybox-bundle.sh" "$WORK/bb" "$RUNTIME" >/dev/null
  tar -C "$WORK/bb/rootfs" -cf "$WORK/busybox.tar" .
  echo "$WORK/busybox.tar"
}
