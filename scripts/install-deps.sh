#!/usr/bin/env bash
# Installs every Debian 12 package regd needs to build, test and run. Idempotent: does nothing
# when all packages are present. As non-root it names the missing packages and exits 1.
set -euo pipefail

build_pkgs=(
  cmake ninja-build g++ pkg-config
  libssl-dev nlohmann-json3-dev libcli11-dev libboost-dev libarchive-dev zlib1g-dev libcrypt-dev
  libjwt-dev  # regd's tokens (docs/security.md)
  libsystemd-dev
  prometheus-cpp-dev  # /metrics: prometheus-cpp's registry and text serializer
  libgtest-dev libgmock-dev libcpp-httplib-dev
  libpugixml-dev  # S3 answers (core/src/s3/client.cc)
  clang-format
)
test_pkgs=(
  curl jq skopeo umoci podman mandoc bash-completion zsh fish
  apache2-utils  # htpasswd -B for the auth tests
  docker-registry nginx haproxy uidmap
  glusterfs-server glusterfs-client python3-yaml  # tests/scale: GlusterFS volume, kubernetes.yaml check
  ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse ceph-common uuid-runtime  # tests/scale: CephFS (ceph_up.sh)
  radosgw  # tests/scale: S3 gateway (scale.s3_rgw)
  strace  # tests/e2e/log_syscalls.py: write(2) calls of the access log
  prometheus  # promtool: checks docs/examples/prometheus.yml, regd-alerts.yml and a real scrape
  man-db bsdextrautils systemd  # README's `man ./man/regd.8`, col for tests/docs, systemd-analyze/-sysusers
  dpkg-dev  # dpkg-shlibdeps: the Debian package's dependencies (scripts/build-deb.sh, tests/packaging)
  apache2-utils openssl python3-jwt python3-cryptography  # auth tests: htpasswd -B, keys, external issuer
  # tests/fuzz: libFuzzer. clang 16, not 14: libstdc++ 12's std::expected needs P0848 (docs/fuzzing.md).
  clang-16 libclang-rt-16-dev
)

bench_pkgs=(wrk apache2-utils skopeo docker-registry nginx curl iproute2 python3 jq openssl strace)

# --build-only: just what building needs; --bench: what bench/run needs; default: all
# that building and every test need.
want=("${build_pkgs[@]}")
case "${1:-}" in
  --build-only) ;;
  --bench) want+=("${bench_pkgs[@]}") ;;
  *) want+=("${test_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services from these packages must not start on the host: tests start their own on loopback.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
