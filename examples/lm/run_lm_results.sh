#!/usr/bin/env bash
# The language-model results of the README on a GPU machine: prepares the Brown Corpus, trains
# xLSTM[7:1] (configs/lm_brown.yaml), xLSTM[1:0] (configs/lm_brown_xlstm10.yaml) and the GPT-style
# Transformer baseline (configs/lm_brown_transformer.yaml) for the same token budget, prints a markdown
# table (model, parameters, tokens, validation loss and perplexity, tokens/s, run time) and a sample
# of the xLSTM[7:1] model.
#
#   bash examples/lm/run_lm_results.sh OUT_DIR [--work DIR] [--build DIR] [--only NAME[,NAME]]
#                                      [--time-limit SECONDS] [--steps N]
#
#   OUT_DIR       results.md (the table), sample.txt, <name>.log per run, data.log (small files only)
#   --work        run folders (checkpoints: ~230 MB per model) and the token files (default OUT_DIR/work)
#   --build       build folder with `xlstm` and `xlstm_lm_baseline`; built here when they are missing,
#                 configured first (CUDA when available; XLSTM_CUDA_ARCHS from the environment) when the
#                 folder has no build yet (default: build-gpu of .ci/gpu_check.sh when it exists, else build-lm)
#   --only        some of xlstm71, xlstm10, transformer (default: all three, in this order)
#   --time-limit  per run: the trainer stops after the step during which this many seconds passed
#                 (the row then says where it stopped) and `timeout` kills a run 60 s later (default 300)
#   --steps N     training.num_steps for every run (a quick check of the script; not the shared budget)
#
# Data: $XLSTM_SHARED_DIR/data/brown and .../data/gpt2, XLSTM_SHARED_DIR defaulting to ../shared
# beside the checkout, or shared/ inside it. A finished run (<work>/<name>/results.md) is kept and
# not run again; an unfinished one starts over.
set -uo pipefail
cd "$(dirname "$0")/../.."

[[ $# -ge 1 && $1 != -* ]] || { sed -n '2,24p' "$0"; exit 2; }
out=$1
shift
work="" build="" only="xlstm71,xlstm10,transformer" time_limit=300 steps=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n "$work" ]] || work=$out/work
mkdir -p "$out" "$work"
shared=${XLSTM_SHARED_DIR:-}
if [[ -z "$shared" ]]; then
  if [[ -d ../shared/data/brown ]]; then shared=../shared; else shared=shared; fi
fi
[[ -d $shared/data/brown && -d $shared/data/gpt2 ]] || { echo "no $shared/data/brown or $shared/data/gpt2 (set XLSTM_SHARED_DIR)" >&2; exit 1; }
gpt2=$(cd "$shared/data/gpt2" && pwd)

# The two programs, built when missing (in an existing build folder without configuring it again).
if [[ -z $build ]]; then
  if [[ -f build-gpu/build.ninja ]]; then build=build-gpu; else build=build-lm; fi
fi
if [[ ! -x $build/xlstm || ! -x $build/examples/xlstm_lm_baseline ]]; then
  t0=$(date +%s)
  if [[ ! -f $build/build.ninja ]]; then
    prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
    extra=()
    [[ -f /usr/include/nlohmann/json.hpp || ! -d .deps/include ]] || extra+=("-DXLSTM_NLOHMANN_INCLUDE_DIR=$PWD/.deps/include")
    [[ -z ${XLSTM_CUDA_ARCHS:-} ]] || extra+=("-DXLSTM_CUDA_ARCHS=$XLSTM_CUDA_ARCHS")
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DXLSTM_BUILD_TESTS=OFF \
      "${extra[@]}" > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
  fi
  cmake --build "$build" -j "$(nproc)" --target xlstm_cli xlstm_lm_baseline > "$out/build.log" 2>&1 ||
    { tail -30 "$out/build.log"; exit 1; }
  echo "build: $(( $(date +%s) - t0 )) s"
fi

# Token files.
data=$work/data/brown
if [[ ! -f $data/val.bin ]]; then
  mkdir -p "$(dirname "$data")"
  "$build/xlstm" prepare-data --corpus "$shared/data/brown" --tokenizer "$gpt2" --out "$data" > "$out/data.log" 2>&1 ||
    { cat "$out/data.log"; exit 1; }
fi
cat "$out/data.log" 2>/dev/null
sets=(--set "dataset.kwargs.train_file=$data/train.bin" --set "dataset.kwargs.validation_file=$data/val.bin"
      --set "dataset.kwargs.tokenizer=$gpt2")
# A quick check of the script: fewer steps, warm-up a tenth of them, validation at the end only.
[[ -z "$steps" ]] || sets+=(--set "training.num_steps=$steps" --set "training.lr_warmup_steps=$(( steps / 10 ))"
                           --set training.val_every_step=0 --set training.checkpoint_every_step=0)

# name | command (the config and the output folder are appended)
declare -A program=(
  [xlstm71]="$build/xlstm train --time-limit $time_limit --config configs/lm_brown.yaml --output"
  [xlstm10]="$build/xlstm train --time-limit $time_limit --config configs/lm_brown_xlstm10.yaml --output"
  [transformer]="$build/examples/xlstm_lm_baseline --time-limit $time_limit --config configs/lm_brown_transformer.yaml --output"
)
header="| model | parameters | tokens | validation loss | validation perplexity | tokens/s | run time |
|---|---:|---:|---:|---:|---:|---:|"
rows=""
for name in ${only//,/ }; do
  [[ -n ${program[$name]:-} ]] || { echo "--only: unknown run '$name' (xlstm71, xlstm10, transformer)" >&2; exit 2; }
  dir=$work/$name
  if [[ ! -f $dir/results.md ]]; then
    rm -rf "$dir"
    echo "== $name: ${program[$name]} $dir"
    # shellcheck disable=SC2086
    timeout $(( time_limit + 60 )) ${program[$name]} "$dir" "${sets[@]}" > "$out/$name.log" 2>&1
    rc=$?
    grep -E "^(model|train|validation|step [0-9]+ validation|stopped)" "$out/$name.log"
    [[ $rc == 0 ]] || echo "$name: exit status $rc (see $out/$name.log)"
  fi
  if [[ -f $dir/results.md ]]; then
    rows+="$(tail -n 1 "$dir/results.md")"$'\n'
  else
    rows+="| $name | not finished: $(grep -Eo 'stopped after step [0-9]+ of [0-9]+' "$out/$name.log" || echo "see $name.log") | | | | | |"$'\n'
  fi
done
printf '%s\n%s' "$header" "$rows" | tee "$out/results.md"

if [[ -f $work/xlstm71/results.md ]]; then
  device=cpu
  python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null && device=cuda
  echo
  "$build/xlstm" generate --checkpoint "$work/xlstm71" --prompt "The jury said" --max-new-tokens 80 \
    --temperature 0.8 --top-k 50 --seed 1 --device "$device" 2>&1 | tee "$out/sample.txt"
fi
