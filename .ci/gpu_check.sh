#!/usr/bin/env bash
# One call on the GPU machine: configure against the pip LibTorch, build with all cores, run every
# test (CUDA ones included), compute-sanitizer on the mLSTM kernels, the demo on the GPU, and the
# benchmarks; logs and results go to $OUT. Every step runs under `timeout` (rc 124 in the summary), so
# that a kernel that hangs costs minutes, not the device session.
#   bash .ci/gpu_check.sh [ctest regex to exclude]      (carry .deps when the machine lacks nlohmann-json)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/xlstm-gpu}
mkdir -p "$OUT"
exclude=${1:-consumer_subdirectory}
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
extra=()
[ -f /usr/include/nlohmann/json.hpp ] || extra+=("-DXLSTM_NLOHMANN_INCLUDE_DIR=$PWD/.deps/include")
{ nvidia-smi; nvcc --version; python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'; } \
  > "$OUT/env.txt" 2>&1
summary() { echo "$*" | tee -a "$OUT/summary.txt"; }

t0=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DXLSTM_CUDA=ON \
  "${extra[@]}" > "$OUT/configure.log" 2>&1 || { tail -40 "$OUT/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" > "$OUT/build.log" 2>&1 || { grep -m 20 -A 6 -E "error|Error" "$OUT/build.log"; exit 1; }
summary "build: $(( $(date +%s) - t0 )) s on $(nproc) cores"

t0=$(date +%s)
timeout 900 ctest --test-dir build-gpu --output-on-failure --timeout 300 -E "$exclude" > "$OUT/ctest.log" 2>&1
rc=$?
summary "ctest (rc $rc, $(( $(date +%s) - t0 )) s): $(grep -E 'tests passed|tests failed' "$OUT/ctest.log")"
timeout 300 build-gpu/tests/xlstm_tests --gtest_filter='Cuda*' --gtest_output="xml:$OUT/cuda_tests.xml" > "$OUT/cuda_tests.log" 2>&1
summary "cuda tests (rc $?): $(grep -E '^\[  (PASSED|FAILED)' "$OUT/cuda_tests.log" | tr '\n' ' ')"
# The mLSTM and sLSTM kernels on small cases under compute-sanitizer: out-of-bounds/misaligned accesses, and
# shared-memory races.
for tool in memcheck racecheck; do
  timeout 300 compute-sanitizer --tool "$tool" --error-exitcode 9 build-gpu/tests/xlstm_tests \
    --gtest_filter='CudaMlstmOps.SmallCaseForSanitizers:CudaSlstmOps.SmallCaseForSanitizers' > "$OUT/sanitizer_$tool.log" 2>&1
  summary "compute-sanitizer $tool (rc $?): $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer_$tool.log" | tr '\n' ' ')"
done
timeout 120 build-gpu/examples/xlstm_demo --config configs/xlstm_lm_readme.yaml --device cuda --batch 8 --seq 256 \
  > "$OUT/demo_cuda.log" 2>&1
summary "demo on cuda (rc $?): $(grep -E 'forward|step' "$OUT/demo_cuda.log" | tr '\n' ';')"
for bench in build-gpu/examples/bench_*; do
  [ -x "$bench" ] || continue
  name=$(basename "$bench")
  timeout 240 "$bench" --device cuda > "$OUT/$name.txt" 2>&1
  summary "$name (rc $?)"
  cat "$OUT/$name.txt"
done
grep -E "FAILED|Failure" "$OUT/ctest.log" | head -40
cat "$OUT/summary.txt"
exit $rc
