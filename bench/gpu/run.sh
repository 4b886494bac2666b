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
#     e2e   tests, the engine table, and end to end in detail: batches of 2^20 and 2^18,
#           with the pinned memory and device sampling turned off in turn, the service
#           around an empty solve; the report merges .gpu-c/prev/*.tsv (earlier peer rows)
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
#   serve_e2e "ENV=..." "--server-flag ..." [ensolve-e2e-bench flags...]   (appends to e2e.log)
# The environment goes to both the server (ENSOLVE_CUDA_*) and the client (ENSOLVE_CLIENT_*).
serve_e2e() {
  local env_vars=$1 server_flags=$2
  shift 2
  {
    echo "== ensolved ${env_vars:+($env_vars) }$server_flags; e2e $*"
    port_file=$(mktemp)
    rm -f "$port_file"
    # shellcheck disable=SC2086
    env $env_vars ensolved --address=127.0.0.1:0 --port_file="$port_file" --devices=gpu \
      --metrics_port=-1 --max_batch_size=8388608 --max_trajectories=100000000 \
      --max_output_bytes=8589934592 --log_format=kv $server_flags >"$OUT/ensolved.err" 2>&1 &
    server=$!
    for _ in $(seq 100); do [[ -s $port_file ]] && break; sleep 0.1; done
    if [[ -s $port_file ]]; then
      # shellcheck disable=SC2086
      env $env_vars ensolve-e2e-bench --server="127.0.0.1:$(cat "$port_file")" --out="$results" "$@"
    else
      echo "e2e: skipped (ensolved --devices=gpu did not start)"; tail -5 "$OUT/ensolved.err"
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    grep -E 'level=(warning|error)' "$OUT/ensolved.err" | head -5
    rm -f "$OUT/ensolved.err"
  } >> "$OUT/e2e.log" 2>&1
}
e2e() {
  serve_e2e "" "" --batch_size=1048576 "$@"
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
  e2e)
    # The end-to-end path: tests, the engine table, then ensolved end to end with batches
    # of 2^20 and 2^18, each speed-up turned off in turn, the service's cost around an
    # empty solve. With E2E_ONLY=1, the tests and the engine table are left out (the
    # report then merges the earlier rows from .gpu-c/prev/).
    cat /sys/kernel/mm/transparent_hugepage/enabled >> "$OUT/gpu.txt" 2>&1
    if [[ -z ${E2E_ONLY:-} ]]; then
      cuda_backend_test 2>&1 | tee "$OUT/test.log" | grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure'
      ensolve-gpu-bench --out="$results" 2>&1 | tee "$OUT/ensolve.log"
    fi
    serve_e2e "" "" --batch_size=1048576
    serve_e2e "" "" --batch_size=262144 --tag=e2e-b18 --min_log2=19 --latency_requests=0
    one="--min_log2=18 --precisions=float32 --modes=fixed --latency_requests=0"
    for b in 1048576 262144; do
      serve_e2e "ENSOLVE_CUDA_DEVICE_SAMPLING=0" "" --batch_size=$b --tag=e2e-hostsample-$b $one
      serve_e2e "ENSOLVE_CUDA_DEVICE_SAMPLING=0 ENSOLVE_CUDA_PINNED=0" "" --batch_size=$b \
        --tag=e2e-nopin-$b $one
      serve_e2e "" "" --batch_size=$b --tag=e2e-overhead-$b --overhead --min_log2=18
    done
    serve_e2e "ENSOLVE_CLIENT_PREFAULT=0" "" --batch_size=262144 --tag=e2e-noprefault-262144 $one
    cat "$OUT/e2e.log"
    prev=(.gpu-c/prev/*.tsv)
    python3 bench/gpu/report.py "${prev[@]}" "$results" --md "$OUT/table.md" \
      --png "$OUT/performance.png"
    exit 0
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
