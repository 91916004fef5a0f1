# The GPU's idle gaps in a Kineto trace (bench_lm_train --trace FILE writes one per batch): the kernels' busy
# time against the span, each gap over 20 us with the kernels around it, the CUDA runtime calls and
# the host ops running in it. python3 .ci/trace_gaps.py TRACE.json
import json, sys, collections
ev = json.load(open(sys.argv[1]))["traceEvents"]
gpu = sorted([e for e in ev if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")], key=lambda e: e["ts"])
rt = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "cuda_runtime"]
ops = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "cpu_op"]
t0, t1 = gpu[0]["ts"], max(e["ts"] + e["dur"] for e in gpu)
print(f"GPU span {(t1 - t0) / 1e3:.2f} ms, busy {sum(e['dur'] for e in gpu) / 1e3:.2f} ms (sum of kernel times)")
end = gpu[0]["ts"] + gpu[0]["dur"]; prev = gpu[0]; gaps = []
for e in gpu[1:]:
    if e["ts"] > end + 20: gaps.append((e["ts"] - end, end, e["ts"], prev["name"], e["name"]))
    if e["ts"] + e["dur"] > end: end, prev = e["ts"] + e["dur"], e
print(f"idle gaps > 20 us: {len(gaps)}, {sum(g[0] for g in gaps) / 1e3:.2f} ms")
cat = collections.Counter()
for g in gaps:
    calls = collections.Counter(r["name"] for r in rt if r["ts"] < g[2] and r["ts"] + r["dur"] > g[1])
    cat[max(calls, key=calls.get) if calls else "-"] += g[0]
print("gap time by the runtime call most seen in it:", {k: round(v / 1e3, 2) for k, v in cat.most_common(8)})
for g in sorted(gaps, reverse=True)[:12]:
    calls = collections.Counter(r["name"] for r in rt if r["ts"] < g[2] and r["ts"] + r["dur"] > g[1])
    top = [o["name"] for o in ops if o["ts"] < g[2] and o["ts"] + o["dur"] > g[1]][:4]
    print(f"{g[0]:8.0f} us at {(g[1] - t0) / 1e3:7.2f} ms | after {g[3][:50]} | before {g[4][:50]} | {dict(calls.most_common(3))} | {top}")
