#!/usr/bin/env bash
# Installs the Debian 12 packages ensolve builds, tests and runs with, if any is missing.
# Safe to run again: it does nothing when everything is there.
#   scripts/install-deps.sh               everything (build, tests, deploy checks)
#   scripts/install-deps.sh --build-only  what building needs (the container's build stage)
set -euo pipefail
build=(
  cmake ninja-build g++ clang-format pkg-config  # pkg-config: gRPC's CMake config finds re2 with it
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  prometheus-cpp-dev
  libssl-dev libzip-dev  # SHA-256 (OpenSSL), .npz (libzip)
)
tests=(
  python3-grpcio python3-numpy python3-scipy python3-protobuf
  python3-pytest python3-xarray python3-matplotlib  # the Python client's tests and examples
  # tests/deploy_check.py: YAML, docker-compose config, promtool (Debian's prometheus)
  yamllint python3-yaml docker-compose prometheus
  clang  # scripts/check-code.sh: the thread-safety analysis of the lock annotations
  libclang-rt-14-dev  # scripts/sanitize.sh: ASan, UBSan and libFuzzer's runtimes
)
packages=("${build[@]}")
[[ ${1:-} == --build-only ]] || packages+=("${tests[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
