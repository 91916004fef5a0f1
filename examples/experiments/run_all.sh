#!/usr/bin/env bash
# Runs the experiments of issue 7 and writes their result tables:
#   parity (configs/parity_xlstm{01,10,11}.yaml, the reference's configs unchanged) and
#   MQAR (configs/mqar_xlstm{10,01,11}.yaml at N = 16, 32, 64).
#
#   examples/experiments/run_all.sh [--build DIR] [--out DIR] [--only parity|mqar] [--quick] [--jobs N]
#                                   [--estimate STEPS] [--time-limit SECONDS] [--device cuda|cpu|auto]
#                                   [-- PROGRAM OPTIONS...]
#
#   --build       build folder with the examples (default: build)
#   --out         where runs and tables go (default: runs/experiments, or runs/experiments_quick)
#   --only        run one of the two experiments
#   --quick       the *_quick.yaml configs instead (CPU, under two minutes each; MQAR at N = 8 only)
#   --jobs N      run N configs at a time (default 1); the small models of these experiments leave most
#                 of a GPU idle, so several processes share one well (each run's log: <out>/<name>/log.txt)
#   --estimate N  run every config for N steps only (fewer validation examples) and print the projected
#                 wall time of the full runs from the measured step and evaluation times
#   --time-limit  stop after this many seconds (each run writes a checkpoint when it stops; the script
#                 started again resumes them and skips finished runs)
#   --device      training.device for every run (default: the configs' own, cuda for the full ones)
#   -- ...        passed on to every program call, e.g. -- --set training.num_steps=2000 (a run resumed
#                 later must get the same options: checkpoints refuse another config)
#
# Tables: <out>/parity.md and <out>/mqar.md (rebuilt from the finished runs after every run), each run
# in <out>/<name>/ (results.md, metrics.jsonl, checkpoint/, log.txt). Needs python3 for the tables.
set -euo pipefail

build=build
out=""
only=""
quick=0
estimate=0
time_limit=0
jobs=1
device=""
extra_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --estimate) estimate=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    --) shift; extra_args=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "--jobs takes a positive integer, got '$jobs'" >&2; exit 2; }
case "$only" in ""|parity|mqar) ;; *) echo "--only takes parity or mqar" >&2; exit 2 ;; esac
[[ -n "$out" ]] || out=runs/experiments$([[ $quick == 1 ]] && echo _quick || true)
[[ $estimate == 0 ]] || out=${out}_estimate
mkdir -p "$out"
started=$(date +%s)
suffix=$([[ $quick == 1 ]] && echo _quick || true)

# Every run: name, program, config, extra overrides.
runs=()
if [[ -z "$only" || "$only" == parity ]]; then
  for m in 01 10 11; do runs+=("parity_xlstm$m$suffix|parity|configs/parity_xlstm$m$suffix.yaml|"); done
fi
if [[ -z "$only" || "$only" == mqar ]]; then
  for m in 10 01 11; do
    if [[ $quick == 1 ]]; then
      runs+=("mqar_xlstm${m}_quick|mqar|configs/mqar_xlstm${m}_quick.yaml|")
    else
      for n in 16 32 64; do runs+=("mqar_xlstm${m}_n$n|mqar|configs/mqar_xlstm$m.yaml|dataset.kwargs.num_kv_pairs=$n"); done
    fi
  done
fi

tables() {
  python3 - "$out" "$estimate" <<'PY'
import glob, json, os, re, sys
out, estimate = sys.argv[1], int(sys.argv[2])
def rows(path):
    text = open(path).read()
    summary = text.splitlines()[0]
    table = [l for l in text.splitlines() if l.startswith('| ') and not l.startswith('| split')]
    return summary, [[c.strip() for c in l.strip('|').split('|')] for l in table]
def fmt(s):
    s = int(round(s)); return f"{s//3600}h{s%3600//60:02d}m" if s >= 3600 else f"{s//60}m{s%60:02d}s"
model = {'01': 'xLSTM[0:1] (sLSTM only)', '10': 'xLSTM[1:0] (mLSTM only)', '11': 'xLSTM[1:1]'}
for exp in ('parity', 'mqar'):
    lines, commands = [], []
    for run in sorted(glob.glob(f"{out}/{exp}_xlstm*/")):
        name = os.path.basename(run.rstrip('/'))
        m = re.match(rf"{exp}_xlstm(\d\d)(?:_n(\d+))?", name)
        cmd = open(run + 'command.txt').read().strip() if os.path.exists(run + 'command.txt') else ''
        if estimate:
            # Projection: time per train step (after the first step) and per evaluated example.
            recs = [json.loads(l) for l in open(run + 'metrics.jsonl')] if os.path.exists(run + 'metrics.jsonl') else []
            train = [r for r in recs if r['split'] == 'train']
            info = json.load(open(run + 'estimate.json')) if os.path.exists(run + 'estimate.json') else None
            if len(train) < 3 or info is None: continue
            step_s = (train[-1]['elapsed_s'] - train[0]['elapsed_s']) / (train[-1]['step'] - train[0]['step'])
            eval_s = max(info['wall_s'] - train[-1]['elapsed_s'], 0.0) / info['eval_examples']
            total = step_s * info['num_steps'] + eval_s * info['full_eval_examples']
            lines.append(f"| {name} | {step_s:.3f} s | {info['num_steps']} | {eval_s*1000:.2f} ms | {info['full_eval_examples']} | {fmt(total)} |")
            continue
        if not os.path.exists(run + 'results.md'): continue
        summary, table = rows(run + 'results.md')
        time = re.match(r"\d+ steps in ([^\s;]+)", summary).group(1)
        commands.append(f"- {name}: `{cmd}`")
        for r in table:
            n = re.search(r"N=(\d+)", r[1])
            label = model.get(m.group(1), m.group(1)) + (f" | {n.group(1)}" if exp == 'mqar' else '')
            lines.append(f"| {label} | {r[0]} | {r[1]} | {r[4]} | {r[5]} | {time} |")
    if not lines: continue
    if estimate:
        head = ["| run | s / train step | steps | ms / eval example | eval examples (all validations) | projected wall time |",
                "|---|---:|---:|---:|---:|---:|"]
    else:
        n = " | N" if exp == 'mqar' else ''
        head = [f"| model{n} | split | data | accuracy | rescaled accuracy | wall time |",
                "|---|" + ("---:|" if n else '') + "---|---|---:|---:|---:|"]
    lines += [''] + commands if commands else []
    open(f"{out}/{exp}.md", 'w').write('\n'.join(head + lines) + '\n')
    print(f"\n{out}/{exp}.md:\n" + '\n'.join(head + lines))
PY
}

# One run: $1 is its spec. Returns the program's status (124: stopped at the time limit, 125: the time
# limit was reached before it started).
run_one() {
  local name program config extra
  IFS='|' read -r name program config extra <<< "$1"
  local dir="$out/$name"
  local args=("$config" --out "$dir" --no-progress)
  [[ -z "$extra" ]] || args+=(--set "$extra")
  [[ -z "$device" ]] || args+=(--set "training.device=$device")
  args+=(${extra_args[@]+"${extra_args[@]}"})
  local full=""
  if [[ $estimate != 0 ]]; then
    rm -rf "$dir"
    # The full run's evaluation volume, read from the config before shortening it.
    full=$("$build/examples/xlstm_$program" "${args[@]}" --check)
    args+=(--set "training.num_steps=$estimate" --set training.lr_warmup_steps=0 --set training.log_every_step=1
           --set training.val_every_step=0 --set dataset.kwargs.count.validation=512 --set dataset.kwargs.count.test=0)
  else
    args+=(--set training.checkpoint_every_step=500 --resume)
  fi
  mkdir -p "$dir"
  echo "$build/examples/xlstm_$program ${args[*]}" > "$dir/command.txt"
  # The program stops itself at the time limit with a checkpoint (after the step in progress, or the
  # validation); `timeout` ends it a minute later if it does not.
  local limit=()
  if [[ $time_limit != 0 ]]; then
    local left=$(( time_limit - ($(date +%s) - started) ))
    if (( left <= 10 )); then echo "== time limit reached before $name"; return 125; fi
    [[ $estimate != 0 ]] || args+=(--time-limit "$left")
    limit=(timeout --signal=TERM "$(( left + 60 ))")
  fi
  echo "== $name: $(cat "$dir/command.txt")"
  local t0 status
  t0=$(date +%s.%N)
  set +e
  if [[ $jobs == 1 ]]; then
    "${limit[@]}" "$build/examples/xlstm_$program" "${args[@]}" 2>&1 | tee -a "$dir/log.txt"
    status=${PIPESTATUS[0]}
  else
    "${limit[@]}" "$build/examples/xlstm_$program" "${args[@]}" >> "$dir/log.txt" 2>&1
    status=$?
  fi
  set -e
  if [[ $estimate != 0 && $status == 0 ]]; then
    python3 - "$dir" "$t0" "$full" <<'PY'
import json, re, sys, time
d, t0, full = sys.argv[1], float(sys.argv[2]), sys.argv[3]
def field(section, key):
    m = re.search(rf"^{section}:\n(?:  .*\n)*?  {key}: (\S+)", full, re.M)
    return m.group(1)
steps = int(field('training', 'num_steps')); val_every = int(field('training', 'val_every_step'))
val = int(re.search(r"^    count:\n      train: \d+\n      validation: (\d+)\n      test: (\d+)", full, re.M).group(1))
test = int(re.search(r"^    count:\n      train: \d+\n      validation: (\d+)\n      test: (\d+)", full, re.M).group(2))
parts = max(1, len(re.findall(r"^      validation\S*:$", full, re.M)))
evals = (steps // val_every + (steps % val_every != 0)) if val_every else 1  # the last step's validation is the final one
json.dump({'num_steps': steps, 'wall_s': time.time() - t0, 'eval_examples': 512 * parts,
           'full_eval_examples': evals * val * parts + test}, open(d + '/estimate.json', 'w'))
PY
  fi
  # Stopped by its own time limit: no results.md yet.
  [[ $status != 0 || $estimate != 0 || -f "$dir/results.md" ]] || status=124
  case $status in
    0) echo "== $name: finished" ;;
    124) echo "== $name: stopped at the time limit (run the script again to resume)" ;;
    *) echo "== $name failed with status $status (log: $dir/log.txt)" >&2; [[ $jobs == 1 ]] || tail -5 "$dir/log.txt" >&2 ;;
  esac
  return "$status"
}

# The runs, up to --jobs at a time; the first failure stops the script once the runs in flight end.
failed=0
stopped=0
finish() {  # the status of a run that ended
  case $1 in
    0) tables > /dev/null ;;
    124|125) stopped=1 ;;
    *) failed=$1 ;;
  esac
}
for spec in "${runs[@]}"; do
  name=${spec%%|*}
  if [[ -f "$out/$name/results.md" ]]; then echo "== $name: done earlier"; continue; fi
  (( failed == 0 && stopped == 0 )) || break
  if [[ $jobs == 1 ]]; then
    status=0; run_one "$spec" || status=$?; finish "$status"
    continue
  fi
  while (( $(jobs -rp | wc -l) >= jobs )); do status=0; wait -n || status=$?; finish "$status"; done
  run_one "$spec" &
done
while (( $(jobs -rp | wc -l) > 0 )); do status=0; wait -n || status=$?; finish "$status"; done
tables
(( failed == 0 )) || exit "$failed"
