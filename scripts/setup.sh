#!/usr/bin/env bash
# Installs everything berth needs to build, test and benchmark, from Debian packages.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang-format
  # libraries (DESIGN.md)
  libboost-dev libsqlite3-dev libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev libseccomp-dev libcap-dev libspdlog-dev libfmt-dev libssl-dev libarchive-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnl-route-3-dev libnftables-dev
  # tests: the Engine API spec (YAML) read by the field-coverage test
  libyaml-cpp-dev
  # offline base image: a static busybox
  busybox-static
  # reference peers for compatibility tests and benchmarks
  runc crun docker.io docker-compose podman hyperfine wrk iptables
  # registry peers: Debian's registry:2, skopeo, the Docker SDK for Python; htpasswd files
  docker-registry skopeo python3-docker apache2-utils
  # registry token auth tests: a token service on loopback signs with python3-cryptography
  python3-cryptography
  # metrics: Debian's prometheus server scrapes berthd's metrics-addr (promtool checks the format)
  prometheus
  # used by tests
  iproute2 procps util-linux nftables
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Package scripts must not start daemons (docker.io, containerd) on this machine.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all dependencies present"
