#!/usr/bin/env bash
# The GPU run for issue 9 on the lent machine, from the bundle bench/gpu/bundle.sh makes
# (builds nothing): every GPU test of the engine (the CUDA backend, ESDIRK, SDEs, events,
# sensitivities, reductions), then the Monte Carlo benchmark (10^8 geometric Brownian
# motions, em, 100 save points, mean and variance, against full states), one line each.
#   . .gpu-c/env.sh; bench/gpu/issue9.sh
set -uo pipefail
[[ -e /usr/local/cuda/lib64/libnvrtc.so.13 ]] ||
  export ENSOLVE_NVRTC=$(find /usr /opt -name 'libnvrtc.so.1[23]' 2>/dev/null | head -1)
export ENSOLVE_TEST_SEED=${ENSOLVE_TEST_SEED:-$RANDOM}
echo "seed $ENSOLVE_TEST_SEED"
for t in cuda_backend_test esdirk_gpu_test sde_gpu_test events_gpu_test sensitivity_gpu_test \
  reduce_gpu_test; do
  start=$(date +%s)
  out=$($t 2>&1)
  [[ -n ${OUT:-} ]] && echo "$out" > "$OUT/$t.log"
  echo "$out" | grep -E "^\[  (FAILED|PASSED) |Failure|Expected|Which is|actual" | head -20
  echo "== $t: $(echo "$out" | grep -cE '^\[       OK') ok, $(echo "$out" | grep -cE '^\[  FAILED  \].*\(') failed, $(( $(date +%s) - start )) s"
done
cat > /tmp/gbm.ode <<'M'
state x = 0.5
param mu = 1, sigma = 1
x' = mu*x
noise x = sigma*x
M
ensolve-reduce-bench --devices=gpu --model=/tmp/gbm.ode --algorithm=em \
  --trajectories=100000000 --save_points=100 --states_trajectories=1000000 2>&1 | tail -15
