#!/usr/bin/env bash
# A short check on the GPU machine, building nothing there (bundle first, as run.sh says):
# the GPU tests bundled, the kernel table for N = 2^20..2^23, and the README's main job
# (the seed example: Lorenz, 10,000 trajectories, t in [0, 100], saveat 0:1:100) through
# ensolved --devices=auto and the CLI, its result compared with the same request on the CPU.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .gpu-c/env.sh
OUT=${OUT:-/tmp/ensolve-smoke}
mkdir -p "$OUT"
[[ -e /usr/local/cuda/lib64/libnvrtc.so.13 ]] ||
  export ENSOLVE_NVRTC=$(find /usr /opt -name 'libnvrtc.so.1[23]' 2>/dev/null | head -1)

# Every test binary bundled (cuda_backend_test, the *_gpu_test files, raw_kernels_test),
# then the kernel table when the bench is bundled (the whole set can exceed the carry).
for t in .gpu-c/bin/*_test; do
  echo "== $(basename "$t")"
  "$t" 2>&1 | tee "$OUT/$(basename "$t").log" |
    grep -E '^\[ *(FAILED|SKIPPED|PASSED) |Failure|GPU vs CPU|worst'
done
if command -v ensolve-gpu-bench >/dev/null; then
  ensolve-gpu-bench --min_log2=20 --max_log2=23 --reps=3 --latency_requests=50 \
    >"$OUT/bench.log" 2>&1
  tail -30 "$OUT/bench.log"
fi

# serve DEVICES OUT.npy: ensolved on loopback, then the seed example through the CLI.
serve() {
  local port_file
  port_file=$(mktemp -u)
  ensolved --address=127.0.0.1:0 --port_file="$port_file" --devices="$1" --metrics_port=-1 \
    >"$OUT/ensolved-$1.log" 2>&1 &
  local server=$!
  for _ in $(seq 300); do [[ -s $port_file ]] && break; sleep 0.1; done
  local addr=127.0.0.1:$(cat "$port_file")
  echo "== ensolved --devices=$1"
  ensolve --server="$addr" info | head -4
  ensolve --server="$addr" solve .gpu-c/lorenz.ode \
    --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.6666666666666665' -n 10000 --t1 100 \
    --saveat 0:1:100 -o "$2"
  kill "$server"
  wait "$server" 2>/dev/null
}
serve auto /tmp/seed-gpu.npy
serve cpu /tmp/seed-cpu.npy
python3 - <<'PY'
import numpy as np
g, c = np.load("/tmp/seed-gpu.npy"), np.load("/tmp/seed-cpu.npy")
print("shape", g.shape, c.shape)
for k in (1, 10, 100):  # t = 1 agrees closely; chaotic trajectories part ways later
    d = np.abs(g[:, k] - c[:, k]).max(axis=1) / np.maximum(1, np.abs(c[:, k]).max(axis=1))
    print(f"t = {k:3d}: GPU vs CPU max relative difference {d.max():.2e}, median {np.median(d):.2e}")
PY
