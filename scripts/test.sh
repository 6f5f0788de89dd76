#!/usr/bin/env bash
# Every test: installs dependencies, builds, runs unit and root integration tests with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "the tests create namespaces, mounts and cgroups: run as root" >&2; exit 1; }
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 300 -j1
