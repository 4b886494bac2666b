#!/usr/bin/env bash
# Bundles the GPU binaries from build-c (and ensolved, the CLI and the e2e client when built) into
# .gpu-c/ with ../shared/gpu/bundle.sh, for bench/gpu/run.sh on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build-c}
bins=("$build/engine/cuda/ensolve-gpu-bench" "$build/engine/cuda/ensolve-stiff-bench"
  "$build/engine/cuda/cuda_backend_test" "$build/engine/cuda/esdirk_gpu_test")
for b in "$build/server/ensolved" "$build/client/ensolve" "$build/ensolve-e2e-bench" \
  "$build/engine/cuda/reduce_gpu_test" "$build/engine/cuda/sde_gpu_test" \
  "$build/engine/cuda/events_gpu_test" "$build/engine/cuda/sensitivity_gpu_test" \
  "$build/bench/ensolve-reduce-bench"; do [[ -x $b ]] && bins+=("$b"); done
../shared/gpu/bundle.sh -o .gpu-c "${bins[@]}"
