#!/usr/bin/env bash
# The GPU benchmark, in one call on the GPU machine; builds nothing there.
#
# Here (build, then bundle the binaries with the libraries the GPU machine lacks):
#   cmake -S . -B build-c -G Ninja -DENSOLVE_SERVER=ON && cmake --build build-c -j2
#   bench/gpu/bundle.sh            # writes .gpu-c/
# There (with .gpu-c carried along):
#   bench/gpu/run.sh [full|test|multi]
#     full  (default) the Lorenz table: ensolve kernel and Solve(), the hand-written ceiling,
#           end-to-end through ensolved (when it has a GPU worker), diffrax, torchdiffeq,
#           small-request latency; then report.py's table and plot
#     test  cuda_backend_test, then a short benchmark (N = 2^10..2^20)
#     multi the several-GPU speed-up at N = 2^23 (on a machine with 2+ GPUs)
# Logs and results go to $OUT (default /tmp/ensolve-bench): at most 8 files.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .gpu-c/env.sh
OUT=${OUT:-/tmp/ensolve-bench}
mkdir -p "$OUT"
mode=${1:-full}
# NVRTC is loaded at run time: the toolkit's, else any other copy on the machine.
[[ -e /usr/local/cuda/lib64/libnvrtc.so.13 ]] ||
  export ENSOLVE_NVRTC=$(find /usr /opt -name 'libnvrtc.so.1[23]' 2>/dev/null | head -1)
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
nvidia-smi --query-gpu=index,name,driver_version,memory.total,clocks.sm,clocks.max.sm \
  --format=csv > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
results=$OUT/results.tsv
: > "$results"

# End to end: ensolved with its GPU workers on loopback, the C++ client beside it.
e2e() {
  {
    port_file=$(mktemp)
    rm -f "$port_file"
    ensolved --address=127.0.0.1:0 --port_file="$port_file" --devices=gpu --metrics_port=-1 \
      --max_batch_size=8388608 --max_trajectories=100000000 --max_output_bytes=8589934592 \
      --log_format=kv >"$OUT/ensolved.err" 2>&1 &
    server=$!
    for _ in $(seq 100); do [[ -s $port_file ]] && break; sleep 0.1; done
    if [[ -s $port_file ]]; then
      ensolve-e2e-bench --server="127.0.0.1:$(cat "$port_file")" --batch_size=1048576 \
        --out="$results" "$@"
    else
      echo "e2e: skipped (ensolved --devices=gpu did not start)"; tail -5 "$OUT/ensolved.err"
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    rm -f "$OUT/ensolved.err"
  } > "$OUT/e2e.log" 2>&1
  cat "$OUT/e2e.log"
}

case $mode in
  test)
    cuda_backend_test 2>&1 | tee "$OUT/test.log" | grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure|error' 
    ensolve-gpu-bench --max_log2=20 --reps=3 --latency_requests=50 --out="$results" \
      2>&1 | tee "$OUT/ensolve.log"
    python3 -c "import diffrax, torchdiffeq, matplotlib; print('peers importable:', diffrax.__version__)"
    ;;
  multi)
    cuda_backend_test --gtest_filter='*EveryDevice*' 2>&1 | tee "$OUT/test.log" |
      grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure'
    ensolve-gpu-bench --only_multi_gpu --reps=5 --out="$results" 2>&1 | tee "$OUT/ensolve.log"
    e2e --min_log2=20 --max_log2=23 --reps=2 --latency_requests=20
    timeout 150 python3 bench/gpu/peers.py --system torchdiffeq --modes fixed --log2 14,17,20 \
      --reps 2 --cap 20 --budget 120 --out "$results" 2>&1 | tee "$OUT/peers.log"
    ;;
  full)
    cuda_backend_test 2>&1 | tee "$OUT/test.log" | grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure'
    ensolve-gpu-bench --multi_gpu --out="$results" 2>&1 | tee "$OUT/ensolve.log"
    e2e
    {
      timeout 200 python3 bench/gpu/peers.py --system diffrax --out "$results" --budget 140
      timeout 150 python3 bench/gpu/peers.py --system torchdiffeq --out "$results" --budget 100
    } > "$OUT/peers.log" 2>&1
    cat "$OUT/peers.log"
    ;;
esac
python3 bench/gpu/report.py "$results" --md "$OUT/table.md" --png "$OUT/performance.png"
