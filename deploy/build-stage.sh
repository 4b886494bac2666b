#!/usr/bin/env bash
# The container's build stage (deploy/Dockerfile runs it; run it by hand to check it):
# configures like scripts/build.sh, builds ensolved, the ensolve CLI and kernel_compile_test
# into BUILD_DIR (default build-image), checks that the CUDA backend is the real one (the
# CUDA headers were found) and that NVRTC compiles its kernels, and stages what the runtime
# image needs in BUILD_DIR/stage: the two binaries and runtime-packages.txt, the packages
# that hold the shared libraries they link.
#   deploy/build-stage.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-image}
revision=${ENSOLVE_REVISION:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}

mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DENSOLVE_SERVER=ON \
  -DENSOLVE_REVISION="$revision" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
if grep -q "CUDA backend reports UNAVAILABLE" "$build/configure.log"; then
  echo "build-stage: no CUDA headers found: the CUDA backend would be a stub" >&2
  exit 1
fi
cmake --build "$build" -j"$(nproc)" --target ensolved ensolve kernel_compile_test
# The stub names no NVRTC entry point; the real backend loads them by name.
grep -qa nvrtcCompileProgram "$build/server/ensolved" || {
  echo "build-stage: $build/server/ensolved has no CUDA backend" >&2
  exit 1
}
"$build/engine/cuda/kernel_compile_test" --gtest_brief=1

stage="$build/stage"
rm -rf "$stage" && mkdir -p "$stage"
cp "$build/server/ensolved" "$build/client/ensolve" "$stage/"
strip "$stage/ensolved" "$stage/ensolve"
# The package of every shared library the binaries link (with /usr merged, dpkg may know a
# library by its /usr/lib or its /lib path).
for lib in $(ldd "$stage/ensolved" "$stage/ensolve" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
  sort -u); do
  dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")"
done | cut -d: -f1 | sort -u >"$stage/runtime-packages.txt"
echo "build-stage: staged in $stage:" $(cat "$stage/runtime-packages.txt") >&2
