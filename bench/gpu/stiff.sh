#!/usr/bin/env bash
# The algorithm table on the GPU, in one call on the GPU machine (bundle first, as run.sh
# says; builds nothing there): the CUDA backend's tests (every method against the CPU
# backend on fresh random ensembles, the stiff ones on Robertson, output selection), the
# ESDIRK GPU tests, the stiff-ensemble benchmark (Robertson, 2^16..2^20, every stiff method,
# float64, GPU beside the host's CPU cores), and ensolved's GPU metrics through NVML.
set -uo pipefail
cd "$(dirname "$0")/../.."
. .gpu-c/env.sh
OUT=${OUT:-/tmp/ensolve-stiff}
mkdir -p "$OUT"
[[ -e /usr/local/cuda/lib64/libnvrtc.so.13 ]] ||
  export ENSOLVE_NVRTC=$(find /usr /opt -name 'libnvrtc.so.1[23]' 2>/dev/null | head -1)

for t in cuda_backend_test esdirk_gpu_test; do
  "$t" 2>&1 | tee "$OUT/$t.log" | grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure|GPU vs CPU'
done
ensolve-stiff-bench --min_log2=16 --max_log2=20 --cpu_max_log2=18 2>&1 | tee "$OUT/stiff-bench.txt"

# ensolved on the GPU: the operator's GPU series come from NVML.
port_file=$(mktemp -u)
metrics_file=$(mktemp -u)
ensolved --address=127.0.0.1:0 --port_file="$port_file" --devices=auto --metrics_port=0 \
  --metrics_port_file="$metrics_file" >"$OUT/ensolved.log" 2>&1 &
server=$!
for _ in $(seq 300); do [[ -s $port_file && -s $metrics_file ]] && break; sleep 0.1; done
ensolve --server=127.0.0.1:$(cat "$port_file") solve .gpu-c/lorenz.ode \
  --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.6666666666666665' -n 10000 --t1 100 \
  --saveat 0:1:100 --alg rodas5p -o "$OUT/seed-rodas5p.npy" 2>&1 | tail -4
python3 - "$(cat "$metrics_file")" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode()
for line in text.splitlines():
    if line.startswith(("ensolve_gpu_", "ensolve_build_info", "ensolve_trajectories_total")):
        print(line)
PY
kill "$server"
wait "$server" 2>/dev/null
