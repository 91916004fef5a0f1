#!/usr/bin/env bash
# One call on the GPU machine: configure against the pip LibTorch (kernels for sm_90a only: the machine
# is an H100/H200), build what the GPU checks need with all cores, run the CUDA tests, compute-sanitizer
# on the mLSTM and sLSTM kernels, the demo on the GPU and the GPU benchmarks; logs and results go to
# $OUT. Every step runs under `timeout` (rc 124 in the summary), so that a kernel that hangs costs
# minutes, not the device session. The CPU tests are CI's (bash .ci/run); --full runs them here too.
#   bash .ci/gpu_check.sh [--full] [--skip-lm] [--prebuilt DIR] [--experiments DIR --deadline SECONDS
#                         [--experiments-only]]
#   (carry .deps when the machine lacks nlohmann-json)
#   --skip-lm   leave out bench_lm_train (the 164M model's training and generation throughput)
#   --prebuilt  run the binaries of a bundle built elsewhere (.ci/gpu_bundle.sh; carry it) instead of
#               building here; not with --full
#   --experiments  after the checks (when the CUDA tests pass), the full experiments of examples/experiments/run_all.sh into DIR
#               (resuming what a carried DIR holds), all configs at once, under MPS where it starts (the small
#               models leave the GPU idle between launches), until --deadline seconds after the script's
#               start; DIR then comes back as $OUT/experiments.tar.gz.* (parts of 15 MiB), without the
#               checkpoints of finished runs and, where they do not fit, of unfinished ones
#   --experiments-only  skip the tests and benchmarks (the experiments get the whole call)
# The build folder (build-gpu, or the bundle) is left in place for commands that follow in the same call.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/xlstm-gpu}
mkdir -p "$OUT"
full=0 lm=1 checks=1 prebuilt="" experiments="" deadline=0
started=$(date +%s)
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1 ;;
    --skip-lm) lm=0 ;;
    --experiments-only) checks=0 ;;
    --prebuilt) prebuilt=${2:?--prebuilt needs a folder}; shift ;;
    --experiments) experiments=${2:?--experiments needs a folder}; shift ;;
    --deadline) deadline=${2:?--deadline needs seconds}; shift ;;
    *) echo "usage: bash .ci/gpu_check.sh [--full] [--skip-lm] [--prebuilt DIR] [--experiments DIR --deadline S"\
            "[--experiments-only]]" >&2
       exit 2 ;;
  esac
  shift
done
[ -z "$prebuilt" ] || [ $full = 0 ] || { echo "gpu_check: --prebuilt runs no CPU tests; drop --full" >&2; exit 2; }
[ -z "$experiments" ] || [ "$deadline" -gt 0 ] || { echo "gpu_check: --experiments needs --deadline" >&2; exit 2; }
[ $checks = 1 ] || [ -n "$experiments" ] || { echo "gpu_check: --experiments-only needs --experiments" >&2; exit 2; }
[ $checks = 1 ] || [ $full = 0 ] || { echo "gpu_check: --experiments-only runs no tests; drop --full" >&2; exit 2; }
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
extra=()
[ -f /usr/include/nlohmann/json.hpp ] || extra+=("-DXLSTM_NLOHMANN_INCLUDE_DIR=$PWD/.deps/include")
{ nvidia-smi; nvcc --version; python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name())'; } \
  > "$OUT/env.txt" 2>&1
summary() { echo "$*" | tee -a "$OUT/summary.txt"; }
# The device tool returns at most 8 files from $OUT: on exit every log but the summary and the benchmark
# tables goes into one archive.
bundle() {
  (cd "$OUT" && ls | grep -vE '^(summary\.txt|bench_.*\.txt|logs\.tar\.gz|experiments\.(log|tar\.gz\...))$' \
     | tar czf logs.tar.gz --remove-files -T -)
}
trap bundle EXIT

benches=(bench_slstm_kernels bench_mlstm_kernels)
[ $lm = 1 ] && benches+=(bench_lm_train)
if [ -n "$prebuilt" ]; then
  build=$prebuilt
  export LD_LIBRARY_PATH="$PWD/$prebuilt/lib:$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export XLSTM_SOURCE_DIR=$PWD
  [ -d shared/fixtures ] && export XLSTM_SHARED_DIR=$PWD/shared
  summary "prebuilt binaries from $prebuilt ($(grep -m1 '^CMAKE_BUILD_TYPE' "$prebuilt/CMakeCache.txt"))"
else
  build=build-gpu
  t0=$(date +%s)
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DXLSTM_CUDA=ON \
    -DXLSTM_CUDA_ARCHS=90a "${extra[@]}" > "$OUT/configure.log" 2>&1 || { tail -40 "$OUT/configure.log"; exit 1; }
  targets=(xlstm_tests xlstm_demo xlstm_parity xlstm_mqar xlstm_formal "${benches[@]}")
  [ $full = 1 ] && targets=(all)
  cmake --build build-gpu -j "$(nproc)" --target "${targets[@]}" > "$OUT/build.log" 2>&1 \
    || { grep -m 20 -A 6 -E "error|Error" "$OUT/build.log"; exit 1; }
  summary "build: $(( $(date +%s) - t0 )) s on $(nproc) cores"
fi

rc=0
if [ $full = 1 ]; then
  t0=$(date +%s)
  timeout 900 ctest --test-dir "$build" --output-on-failure --timeout 300 -E consumer_subdirectory \
    > "$OUT/ctest.log" 2>&1 || rc=1
  summary "ctest (rc $rc, $(( $(date +%s) - t0 )) s): $(grep -E 'tests passed|tests failed' "$OUT/ctest.log")"
fi
if [ $checks = 1 ]; then
  t0=$(date +%s)
  timeout 420 "$build/tests/xlstm_tests" --gtest_filter='Cuda*:LargeCuda*' --gtest_output="xml:$OUT/cuda_tests.xml" \
    > "$OUT/cuda_tests.log" 2>&1 || rc=1
  summary "cuda tests ($(( $(date +%s) - t0 )) s): $(grep -E '^\[  (PASSED|FAILED)' "$OUT/cuda_tests.log" | tr '\n' ' ')"
  grep -E "^\[  FAILED|Failure|Timeout|timed out" "$OUT/cuda_tests.log" | head -20
  # The mLSTM and sLSTM kernels on small cases under compute-sanitizer: out-of-bounds/misaligned accesses, and
  # shared-memory races; the fused layer ops' and the loss's CUDA tests under memcheck. The sLSTM cluster case has its own racecheck line: racecheck does not follow the
  # mbarrier ordering of its vector hand-over and reports the buffer reuse as hazards (kernels/NOTES.md).
  sanitize() {  # tool log-name gtest-filter
    timeout 300 compute-sanitizer --tool "$1" --error-exitcode 9 "$build/tests/xlstm_tests" --gtest_filter="$3" \
      > "$OUT/sanitizer_$2.log" 2>&1
    summary "compute-sanitizer $2 (rc $?): $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer_$2.log" | tr '\n' ' ')"
  }
  small='CudaMlstmOps.SmallCaseForSanitizers:CudaSlstmOps.SmallCaseForSanitizers'
  sanitize memcheck memcheck "$small:CudaSlstmOps.SmallClusterCaseForSanitizers"
  sanitize racecheck racecheck "$small"
  sanitize racecheck racecheck_slstm_cluster CudaSlstmOps.SmallClusterCaseForSanitizers
  sanitize memcheck memcheck_fused_ops 'CudaConvQkv.*:CudaNormSkipGate.*:CudaLayerNorm.*:CudaCrossEntropy.*'
  timeout 120 "$build/examples/xlstm_demo" --config configs/xlstm_lm_readme.yaml --device cuda --batch 8 --seq 256 \
    > "$OUT/demo_cuda.log" 2>&1
  summary "demo on cuda (rc $?): $(grep -E 'forward|step' "$OUT/demo_cuda.log" | tr '\n' ';')"
  for name in "${benches[@]}"; do
    flags=(--device cuda)
    [ "$name" = bench_lm_train ] && flags+=(--profile-step)
    timeout 300 "$build/examples/$name" "${flags[@]}" > "$OUT/$name.txt" 2>&1
    summary "$name (rc $?)"
    cat "$OUT/$name.txt"
  done
fi
if [ -n "$experiments" ] && [ $rc != 0 ]; then
  summary "experiments: not run (the CUDA tests failed)"
elif [ -n "$experiments" ]; then
  mps=0
  if nvidia-cuda-mps-control -d > "$OUT/mps.log" 2>&1; then
    # A few steps under MPS first: where they fail, the runs go without it.
    # (a fresh folder: a machine kept warm between calls still holds the last probe's run)
    probe=$(mktemp -d)
    if timeout 60 "$build/examples/xlstm_parity" configs/parity_xlstm11_quick.yaml --out "$probe/run" --no-progress \
         --set training.device=cuda --set training.num_steps=3 --set training.lr_warmup_steps=0 >> "$OUT/mps.log" 2>&1
    then mps=1
    else echo quit | nvidia-cuda-mps-control; fi
  fi
  left=$(( deadline - ($(date +%s) - started) - 60 ))
  t0=$(date +%s)
  bash examples/experiments/run_all.sh --build "$build" --out "$experiments" --jobs 12 --time-limit "$left" \
    -- --threads 1 > "$OUT/experiments.log" 2>&1
  summary "experiments (rc $?, MPS $mps, $(( $(date +%s) - t0 )) s of $left): $(grep -c ': finished' "$OUT/experiments.log") finished"
  [ $mps = 1 ] && echo quit | nvidia-cuda-mps-control
  # Back to this machine in parts of 15 MiB (the device tool returns at most 8 files of 16 MiB): results
  # and logs, and the unfinished runs' checkpoints, smallest first, while they fit (the others restart).
  parts=$([ $checks = 1 ] && echo 1 || echo 3)
  budget=$(( parts * (15 << 20) - (2 << 20) ))
  for run in "$experiments"/*/; do [ -f "$run/results.md" ] && rm -rf "$run/checkpoint"; done
  for ckpt in $(du -sb "$experiments"/*/checkpoint 2>/dev/null | sort -n | cut -f2); do
    size=$(du -sb "$ckpt" | cut -f1)
    if [ "$size" -le "$budget" ]; then budget=$(( budget - size ))
    else rm -rf "$ckpt"; summary "experiments: $ckpt not returned (size)"; fi
  done
  tar czf - -C "$(dirname "$experiments")" "$(basename "$experiments")" | split -b 15M - "$OUT/experiments.tar.gz."
  summary "experiments returned in $(ls "$OUT"/experiments.tar.gz.* | wc -l) part(s): cat experiments.tar.gz.* | tar xz"
  cat "$experiments"/*.md 2>/dev/null
fi
cat "$OUT/summary.txt"
exit $rc
