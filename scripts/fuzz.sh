#!/usr/bin/env bash
# The libFuzzer targets of fuzz/ (ASan + UBSan, build-asan/) for longer than CI's short run:
#   scripts/fuzz.sh [SECONDS]     each target for SECONDS (default 600), both at once
# Extra arguments after SECONDS go to cmake. The corpus grows in build-asan/fuzz/long_*
# (kept between runs; the seeds of fuzz/corpus/ are read, never written); a crash is saved
# as build-asan/fuzz/crash-* and the script fails. Reproduce one with
#   build-asan/fuzz/fuzz_model build-asan/fuzz/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
[[ $# -gt 0 ]] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "fuzz.sh: SECONDS: '$seconds': expected a whole number of seconds >= 1" >&2
  exit 2
fi
scripts/sanitize.sh --configure "$@"
cmake --build build-asan -j"$(nproc)" --target fuzz_model fuzz_request
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pids=()
for target in model request; do
  dir=build-asan/fuzz/long_$target
  mkdir -p "$dir"
  build-asan/fuzz/fuzz_$target -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build-asan/fuzz/ "$dir" "fuzz/corpus/$target" \
    >"build-asan/fuzz/long_$target.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in 0 1; do
  wait "${pids[$i]}" || failed=1
done
for target in model request; do
  echo "== fuzz_$target ($seconds s): $(grep -E '^stat::number_of_executed_units' \
    "build-asan/fuzz/long_$target.log" | awk '{print $2}') inputs," \
    "$(find "build-asan/fuzz/long_$target" -type f | wc -l) in the corpus"
done
if ((failed)); then
  echo "fuzz.sh: a target failed; see build-asan/fuzz/long_*.log and build-asan/fuzz/crash-*" >&2
  exit 1
fi
