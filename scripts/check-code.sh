#!/usr/bin/env bash
# Static checks of the C++ tree, run by ctest (lint_*):
#   scripts/check-code.sh format          clang-format: every tracked C++ file is formatted
#   scripts/check-code.sh thread-safety BUILD
#                                         clang's -Wthread-safety on the server's, the client's
#                                         and the CUDA backend's sources, where the Abseil lock
#                                         annotations are (GCC ignores them); BUILD is the build
#                                         directory (for the generated proto headers)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  format)
    git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror
    ;;
  thread-safety)
    build=${2:?the build directory}
    git ls-files 'server/*.cc' 'client/*.cc' 'engine/cuda/*.cc' | grep -v '_test\.cc$' |
      xargs -P "$(nproc)" -n 4 clang++ -std=c++17 -fsyntax-only -Wthread-safety \
        -Werror=thread-safety -I. -I"$build" -I"$build/proto/gen" \
        -isystem /usr/local/cuda/include -DENSOLVE_VERSION='"lint"' -DENSOLVE_REVISION='"lint"' \
        -DENSOLVE_BUILD_INFO='"lint"' -DENSOLVE_CUDA_TOOLKIT='"lint"'
    ;;
  *)
    echo "usage: $0 format | thread-safety BUILD" >&2
    exit 2
    ;;
esac
