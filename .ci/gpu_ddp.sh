#!/usr/bin/env bash
# Data-parallel check on a GPU machine: builds xlstm_ddp_lm and trains the 164M xLSTM[7:1] at context
# 2048 on synthetic tokens (nccl, bf16 autocast):
#   gpu1             1 GPU, a world of 1 through NCCL, PER_GPU_BATCH sequences a step
# and with 2 or more GPUs:
#   gpu2             2 GPUs, 2 x PER_GPU_BATCH (tokens/s against gpu1: the scaling efficiency)
#   gpu2_no_overlap  the same with the all-reduce after backward instead of during it
#   gpu1_batch2      1 GPU with gpu2's global batch (its loss curve against gpu2's, step by step)
# Logs, metrics.jsonl of each run and summary.txt go to $OUT.
#   bash .ci/gpu_ddp.sh [STEPS (50)] [PER_GPU_BATCH (8)]   (carry .deps when the machine lacks nlohmann-json)
# BUILD_DIR: the build folder (default: build-gpu of .ci/gpu_check.sh when it exists, else build-ddp).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/xlstm-ddp}
mkdir -p "$OUT"
steps=${1:-50}
batch=${2:-8}
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
extra=()
[ -f /usr/include/nlohmann/json.hpp ] || extra+=("-DXLSTM_NLOHMANN_INCLUDE_DIR=$PWD/.deps/include")
summary() { echo "$*" | tee -a "$OUT/summary.txt"; }

# The build of .ci/gpu_check.sh when there is one (only the program is built), else build-ddp.
build=${BUILD_DIR:-}
if [ -z "$build" ]; then
  if [ -f build-gpu/build.ninja ]; then build=build-gpu; else build=build-ddp; fi
fi
t0=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DXLSTM_CUDA=ON \
    -DXLSTM_CUDA_ARCHS="${XLSTM_CUDA_ARCHS:-90a}" -DXLSTM_BUILD_TESTS=OFF -DXLSTM_BUILD_TOOL=OFF -DXLSTM_INSTALL=OFF \
    "${extra[@]}" > "$OUT/configure.log" 2>&1 || { tail -40 "$OUT/configure.log"; exit 1; }
fi
cmake --build "$build" -j "$(nproc)" --target xlstm_ddp_lm > "$OUT/build.log" 2>&1 \
  || { grep -m 20 -A 6 -E "error|Error" "$OUT/build.log"; exit 1; }
summary "build ($build): $(( $(date +%s) - t0 )) s; $(nvidia-smi -L | head -4 | tr '\n' ' ')"

run() {
  local name=$1
  shift
  rm -rf "$OUT/$name"
  "$build/examples/xlstm_ddp_lm" --steps "$steps" --out "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1
  summary "$name (rc $?): $(grep -h -E '^(\[rank 0\] )?(model|done):' "$OUT/$name.log" | tr '\n' ' ')"
  cp "$OUT/$name/metrics.jsonl" "$OUT/$name.metrics.jsonl" 2>/dev/null
}

run gpu1 --nproc 1 --batch "$batch"
gpus=$(nvidia-smi -L | wc -l)
if [ "$gpus" -ge 2 ]; then
  run gpu2 --nproc 2 --batch $((2 * batch))
  run gpu2_no_overlap --nproc 2 --batch $((2 * batch)) --no-overlap
  run gpu1_batch2 --nproc 1 --batch $((2 * batch))
  python3 - "$OUT" <<'EOF' | tee -a "$OUT/summary.txt"
import json, statistics, sys
out = sys.argv[1]
def train(name):
    with open(f"{out}/{name}.metrics.jsonl") as f:
        return {r["step"]: r for r in map(json.loads, f) if r.get("split") == "train"}
def tokens_per_s(runs):
    return statistics.median(r["tokens_per_s"] for s, r in runs.items() if s > 5)
one, two, two_after, same = train("gpu1"), train("gpu2"), train("gpu2_no_overlap"), train("gpu1_batch2")
print(f"tokens/s (median after step 5): 1 GPU {tokens_per_s(one):.0f}, 2 GPUs {tokens_per_s(two):.0f} "
      f"(all-reduce after backward: {tokens_per_s(two_after):.0f}); "
      f"scaling efficiency {tokens_per_s(two) / (2 * tokens_per_s(one)):.3f}")
diffs = [abs(two[s]["loss"] - same[s]["loss"]) for s in sorted(two) if s in same]
print(f"loss, 2 GPUs against 1 GPU with the same global batch, {len(diffs)} steps: largest |difference| "
      f"{max(diffs):.4f}, mean {statistics.mean(diffs):.4f}")
for s in sorted(two):
    if s in same:
        print(f"  step {s:3d}  1 GPU {same[s]['loss']:.4f}  2 GPUs {two[s]['loss']:.4f}")
EOF
else
  summary "one GPU: the 2-GPU runs need a machine with two"
fi
cat "$OUT/summary.txt"
