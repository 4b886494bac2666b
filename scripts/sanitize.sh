#!/usr/bin/env bash
# The unit and integration tests under AddressSanitizer and UndefinedBehaviorSanitizer
# (clang), and the libFuzzer targets of fuzz/ for a short fixed run, in build-asan/:
#   scripts/sanitize.sh           everything below (docs/reliability.md, "Sanitizers and fuzzing")
#   scripts/sanitize.sh --ci      what scripts/test.sh runs: the two fuzz targets
#   scripts/sanitize.sh --configure  only configure build-asan/ (scripts/fuzz.sh)
# Extra arguments after the mode go to cmake (-DCMAKE_CXX_COMPILER_LAUNCHER=ccache, say).
# One CPU instruction set (sse2), no benchmarks, no GPU tests: each solve_isa.cc build takes
# minutes, and the GPU code needs a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
case "${1:-}" in
  --ci | --configure)
    mode=${1#--}
    shift
    ;;
esac
build=build-asan
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g0 $san -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS_SANITIZE="$san" -DCMAKE_SHARED_LINKER_FLAGS_SANITIZE="$san" \
  -DENSOLVE_ENGINE_OPT=-O1 -DENSOLVE_CPU_ISA_OPT=-O0 -DENSOLVE_CPU_ISAS_ONLY=sse2 -DENSOLVE_BENCH=OFF -DENSOLVE_FUZZ=ON \
  -DENSOLVE_SERVER=ON "$@" >/dev/null
[[ $mode == configure ]] && exit 0

# Unit tests: the engine's (not the CUDA backend's), the server's and the client's.
engine_tests=$(cd engine && ls ./*_test.cc ./*/*_test.cc | grep -v '^./cuda/' | xargs -n1 basename | sed 's/\.cc$//')
server_tests=$(cd server && ls ./*_test.cc | xargs -n1 basename | sed 's/\.cc$//; s/^/server_/')
client_tests=$(cd client && ls ./*_test.cc | xargs -n1 basename | sed 's/\.cc$//; s/^/client_/')
# Integration tests that take seconds, not minutes: requests, results, errors, events, SDEs,
# sensitivities, reductions, budgets, detached jobs, the front door and the CLI. Left out:
# the long load and fairness runs (service_flow, attacks, load_fault, fairness, scale_out),
# those that wait out real timeouts (connection_age, sigterm) and TLS identity.
integration_tests="service_errors_test service_results_test service_events_test
  service_sde_test service_sensitivities_test reductions_test budgets_test
  detached_jobs_test front_door_test cli_test"
if [[ $mode == ci ]]; then
  # CI (scripts/test.sh): the two fuzz targets only, over the model path and request
  # validation (CI's time is short: the unit tests' sanitized builds stay in the full run).
  engine_tests=""
  server_tests=""
  client_tests=""
  integration_tests=""
fi
targets="$engine_tests $server_tests $client_tests $integration_tests fuzz_model fuzz_request"
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets

# Leaks are errors too; UBSan prints where.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
# Tests of binaries not built are listed as *_NOT_BUILT: left out.
ctest --output-on-failure -j"$(nproc)" --timeout 600 -L 'engine|server|client|integration|fuzz' \
  -E '_NOT_BUILT|^cpu_isa_symbols'
