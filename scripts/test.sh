#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds, runs
# every test (GPU tests report themselves skipped where there is no GPU), then the fuzz
# targets under ASan and UBSan (scripts/sanitize.sh --ci).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)" --timeout 600)
scripts/sanitize.sh --ci
