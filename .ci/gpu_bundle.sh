#!/usr/bin/env bash
# Packs what .ci/gpu_check.sh runs, built on this machine, into .gpu-bundle/ (ignored by git) so that a
# GPU call can skip its ~3.5-minute build: the CUDA kernels compile the same here (nvcc 13.0, sm_90a,
# the same pip LibTorch), only the run needs the GPU. The build folder must be configured with
# -DXLSTM_CUDA_ARCHS=90a (as in the README); the bundle holds the test and example binaries and the
# shared libraries they need that are neither LibTorch's nor the system's (libxlstm, yaml-cpp 0.7,
# the CUDA runtime they were linked with).
#   bash .ci/gpu_bundle.sh [BUILD_DIR]      then: run(command="bash .ci/gpu_check.sh --prebuilt .gpu-bundle",
#                                                     carry=[".gpu-bundle", ...])
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
grep -q '^XLSTM_CUDA_ARCHS:STRING=90a$' "$build/CMakeCache.txt" \
  || { echo "gpu_bundle: $build is not configured with -DXLSTM_CUDA_ARCHS=90a" >&2; exit 1; }
programs=(xlstm_demo bench_slstm_kernels bench_mlstm_kernels bench_lm_train xlstm_parity xlstm_mqar xlstm_formal)
flock /tmp/xlstm-build.lock cmake --build "$build" -j "$(nproc)" --target xlstm_tests "${programs[@]}"
rm -rf .gpu-bundle
mkdir -p .gpu-bundle/tests .gpu-bundle/examples .gpu-bundle/lib
cp "$build/tests/xlstm_tests" .gpu-bundle/tests/
for p in "${programs[@]}"; do cp "$build/examples/$p" .gpu-bundle/examples/; done
# Every library the binaries load from outside LibTorch's folder and the C/C++ runtime.
ldd .gpu-bundle/tests/xlstm_tests .gpu-bundle/examples/* | awk '/=> \// {print $3}' | sort -u \
  | grep -vE '/torch/lib/|/lib(c|m|dl|rt|pthread|util|gcc_s|stdc\+\+)\.so' \
  | while read -r lib; do cp -L "$lib" .gpu-bundle/lib/; done
cp "$build/CMakeCache.txt" .gpu-bundle/
du -sh .gpu-bundle
