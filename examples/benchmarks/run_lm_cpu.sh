#!/usr/bin/env bash
# Runs the C++ LM benchmark (bench_lm_cpu) and the reference Python one (reference_lm_cpu.py) back to
# back on this machine with the same settings, then prints one comparison table. Builds nothing.
#
#   bash examples/benchmarks/run_lm_cpu.sh [BUILD_DIR]        (BUILD_DIR default: build)
# Environment: REF_PYTHON (default /work/.venv-ref/bin/python, a python with xlstm 2.0.5 installed),
#   CONFIG (default configs/xlstm_lm_readme.yaml), BATCH (8), SEQ (256), WARMUP (2), ITERS (5),
#   THREADS (default: nproc). The two JSON results are written to BUILD_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD_DIR=${1:-build}
REF_PYTHON=${REF_PYTHON:-/work/.venv-ref/bin/python}
CONFIG=${CONFIG:-configs/xlstm_lm_readme.yaml}
BATCH=${BATCH:-8}
SEQ=${SEQ:-256}
WARMUP=${WARMUP:-2}
ITERS=${ITERS:-5}
NPROC=$(nproc)
THREADS=${THREADS:-$NPROC}

BENCH="$BUILD_DIR/examples/bench_lm_cpu"
[[ -x $BENCH ]] || BENCH=$(find "$BUILD_DIR" -name bench_lm_cpu -type f -perm -u+x 2>/dev/null | head -n 1 || true)
if [[ -z $BENCH || ! -x $BENCH ]]; then
  echo "run_lm_cpu.sh: no bench_lm_cpu under '$BUILD_DIR'; build it first:" >&2
  echo "  cmake -S . -B $BUILD_DIR -G Ninja -DCMAKE_BUILD_TYPE=Release -DXLSTM_CUDA=OFF" \
       "-DCMAKE_PREFIX_PATH=\$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')" \
       "&& cmake --build $BUILD_DIR --target bench_lm_cpu" >&2
  exit 1
fi
if [[ ! -x $REF_PYTHON ]] || ! "$REF_PYTHON" -c 'import xlstm, dacite, omegaconf' 2>/dev/null; then
  echo "run_lm_cpu.sh: '$REF_PYTHON' is not a python with the reference xlstm 2.0.5; install it with:" >&2
  echo "  python3 -m venv --system-site-packages /work/.venv-ref &&" \
       "/work/.venv-ref/bin/pip install xlstm==2.0.5 mlstm_kernels==2.0.2" >&2
  echo "or point REF_PYTHON at a python that has it." >&2
  exit 1
fi
if [[ ! -f $CONFIG ]]; then
  echo "run_lm_cpu.sh: config '$CONFIG' not found" >&2
  exit 1
fi

CPP_JSON="$BUILD_DIR/bench_lm_cpu.json"
REF_JSON="$BUILD_DIR/reference_lm_cpu.json"
COMMON=(--config "$CONFIG" --batch "$BATCH" --seq "$SEQ" --warmup "$WARMUP" --iters "$ITERS" --threads "$THREADS")

echo "== C++: $BENCH ${COMMON[*]}"
"$BENCH" "${COMMON[@]}" --json "$CPP_JSON"
echo
echo "== reference: $REF_PYTHON examples/benchmarks/reference_lm_cpu.py ${COMMON[*]}"
"$REF_PYTHON" examples/benchmarks/reference_lm_cpu.py "${COMMON[@]}" --json "$REF_JSON" \
  2> >(grep -v 'No CUDA runtime is found' >&2)
echo

"$REF_PYTHON" - "$CPP_JSON" "$REF_JSON" "$NPROC" <<'EOF'
import json
import sys

cpp, ref = (json.load(open(p)) for p in sys.argv[1:3])
nproc = sys.argv[3]
for key in ("batch", "seq", "warmup", "iters", "threads", "parameters"):
    if cpp[key] != ref[key]:
        sys.exit(f"run_lm_cpu.sh: the runs differ in {key}: C++ {cpp[key]}, reference {ref[key]}")
print(f"config {cpp['config']}  parameters {cpp['parameters']}  batch {cpp['batch']}  seq {cpp['seq']}  "
      f"warmup {cpp['warmup']}  iters {cpp['iters']} (median)")
print(f"torch: C++ (LibTorch) {cpp['torch_version']}, reference {ref['torch_version']}  "
      f"threads {cpp['threads']}  nproc {nproc}")
print(f"initial loss (random targets): C++ {cpp['loss']:.4f}, reference {ref['loss']:.4f}")
print()
print("| | C++ tokens/s | reference tokens/s | speed-up |")
print("|---|---:|---:|---:|")
for name, key in (("forward", "forward"), ("forward+backward", "forward_backward")):
    c, r = cpp[key]["tokens_per_s"], ref[key]["tokens_per_s"]
    print(f"| {name} | {c:.0f} | {r:.0f} | {c / r:.2f}x |")
print()
print("Bound: the LM head's GEMMs are the same library call in both; with everything else free, the")
print("largest possible speed-up is the reference's time over the head GEMMs' time:")
for name, key in (("forward", "forward"), ("forward+backward", "forward_backward")):
    head = ref["lm_head_" + key]["median_s"]
    print(f"  {name}: head GEMMs {head * 1e3:.1f} ms of the reference's {ref[key]['median_s'] * 1e3:.1f} ms "
          f"-> at most {ref[key]['median_s'] / head:.2f}x")
EOF
