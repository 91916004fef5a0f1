#!/usr/bin/env python3
# CPU language-model benchmark of the reference Python xLSTM (PyPI `xlstm` 2.0.5): builds its
# xLSTMLMModel from the same YAML config as bench_lm_cpu (sLSTM backend forced to "vanilla", the
# reference's CUDA kernel needs a GPU), then times forward (eval, no_grad) and forward+backward
# (train, cross-entropy on random targets) and prints the same table / JSON as bench_lm_cpu.
#
# Install the reference into a virtualenv that reuses the system torch (pip keeps the system torch,
# which satisfies the packages' bare `torch` requirement; no other torch or triton is pulled in):
#   python3 -m venv --system-site-packages /work/.venv-ref
#   /work/.venv-ref/bin/pip install xlstm==2.0.5 mlstm_kernels==2.0.2
# Run:
#   /work/.venv-ref/bin/python examples/benchmarks/reference_lm_cpu.py \
#       [--config configs/xlstm_lm_readme.yaml] [--batch 8] [--seq 256] [--warmup 2] [--iters 5]
#       [--threads N] [--json FILE]
import argparse
import json
import math
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description="Time the reference xLSTM LM (xlstm 2.0.5) on the CPU.")
    p.add_argument("--config", default="configs/xlstm_lm_readme.yaml")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    p.add_argument("--json", default="", help="write the results to this file")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.batch < 1 or a.seq < 1 or a.warmup < 0 or a.iters < 1 or a.threads < 0:
        p.error("--batch, --seq and --iters must be >= 1, --warmup and --threads >= 0")
    return a


def build_model(config_path):
    from dacite import Config, from_dict
    from omegaconf import OmegaConf
    from xlstm import xLSTMLMModel, xLSTMLMModelConfig

    data = OmegaConf.to_container(OmegaConf.load(config_path), resolve=True)
    if data.get("slstm_block") is not None:
        data["slstm_block"].setdefault("slstm", {})["backend"] = "vanilla"
    config = from_dict(data_class=xLSTMLMModelConfig, data=data, config=Config(strict=True))
    model = xLSTMLMModel(config)
    model.reset_parameters()
    return model, config


def summarize(times, tokens):
    median = statistics.median(times)
    return {"median_s": median, "tokens_per_s": tokens / median, "times_s": times}


def main():
    args = parse_args()
    import torch
    import torch.nn.functional as F
    import xlstm

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model, config = build_model(args.config)
    params = sum(p.numel() for p in model.parameters())
    vocab = config.vocab_size
    ids = torch.randint(0, vocab, (args.batch, args.seq), dtype=torch.int64)
    targets = torch.randint(0, vocab, (args.batch, args.seq), dtype=torch.int64)
    tokens = args.batch * args.seq

    # Forward only: eval mode, no autograd graph.
    model.eval()
    fwd_times = []
    with torch.no_grad():
        for i in range(args.warmup + args.iters):
            t0 = time.perf_counter()
            logits = model(ids)
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                fwd_times.append(dt)
    if tuple(logits.shape) != (args.batch, args.seq, vocab):
        raise RuntimeError(f"unexpected logits shape {tuple(logits.shape)}")
    del logits

    # Forward + cross-entropy + backward: train mode, gradients cleared before each iteration.
    model.train()
    fb_times = []
    loss_value = float("nan")
    for i in range(args.warmup + args.iters):
        model.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        dt = time.perf_counter() - t0
        loss_value = loss.item()
        del logits, loss
        if i >= args.warmup:
            fb_times.append(dt)
    if not math.isfinite(loss_value):
        raise RuntimeError(f"non-finite loss {loss_value}")

    head_fwd, head_fb = time_lm_head(model, args, tokens)

    result = {
        "implementation": f"reference python xlstm {getattr(xlstm, '__version__', '2.0.5')} (sLSTM vanilla)",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": "cpu",
        "config": args.config,
        "parameters": params,
        "batch": args.batch,
        "seq": args.seq,
        "warmup": args.warmup,
        "iters": args.iters,
        "loss": loss_value,
        "forward": summarize(fwd_times, tokens),
        "forward_backward": summarize(fb_times, tokens),
        # The LM head's GEMMs alone (the same ones both implementations call): no implementation of this
        # config in this dtype can be faster than them, so ref_time / head_time bounds any speed-up.
        "lm_head_forward": summarize(head_fwd, tokens),
        "lm_head_forward_backward": summarize(head_fb, tokens),
    }
    print_table(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


def time_lm_head(model, args, tokens):
    """Times the LM head's matrix products alone: (B*S, E) x (E, V) forward, plus the two backward
    products (input and weight gradients) for forward+backward."""
    import torch

    weight = model.lm_head.weight.detach()
    x = torch.randn(tokens, weight.shape[1], dtype=weight.dtype)
    grad = torch.randn(tokens, weight.shape[0], dtype=weight.dtype)
    fwd, fb = [], []
    for i in range(args.warmup + args.iters):
        t0 = time.perf_counter()
        y = x @ weight.t()
        t1 = time.perf_counter()
        gx = grad @ weight
        gw = grad.t() @ x
        t2 = time.perf_counter()
        del y, gx, gw
        if i >= args.warmup:
            fwd.append(t1 - t0)
            fb.append(t2 - t0)
    return fwd, fb


def print_table(r):
    print(f"{r['implementation']}  torch {r['torch_version']}  threads {r['threads']}  device {r['device']}")
    print(f"config {r['config']}  parameters {r['parameters']}  batch {r['batch']}  seq {r['seq']}  "
          f"warmup {r['warmup']}  iters {r['iters']}  final loss {r['loss']:.4f}")
    print("| mode | median ms | tokens/s |")
    print("|---|---:|---:|")
    for name, key in (("forward", "forward"), ("forward+backward", "forward_backward")):
        m = r[key]
        print(f"| {name} | {m['median_s'] * 1e3:.1f} | {m['tokens_per_s']:.0f} |")
    for name, key in (("LM head GEMMs alone, forward", "lm_head_forward"),
                      ("LM head GEMMs alone, forward+backward", "lm_head_forward_backward")):
        m = r[key]
        print(f"| {name} | {m['median_s'] * 1e3:.1f} | {m['tokens_per_s']:.0f} |")


if __name__ == "__main__":
    try:
        main()
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as e:
        print(f"reference_lm_cpu.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
