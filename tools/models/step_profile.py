"""One decode step of a buffered-layout file at a large batch: its time against the cache's
length, and where it goes by operator (ONNX Runtime's profiler), one thread. Shows what a
long generation (128 new tokens) adds per step over a short one, and the compute share of
the linears, the LM head and attention.

  .cache/py/venv/bin/python tools/models/step_profile.py --model DIR [--file model_buffered.onnx] \
      [--batch 64] [--pasts 16,64,128,192] [--rounds 3] [--profile-past 128] [--top 10]

Prints JSON: ms per step at each past length (median of --rounds, lengths interleaved),
and per operator type its share and ms per step at --profile-past, with the CPU flags.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_kernels import reported_cpu_flags  # noqa: E402
from int8_experiment import empty_cache  # noqa: E402
from onnx_decoder import logits_to_keep_feed  # noqa: E402


def feeds_for(spec, sess, batch: int, past: int) -> dict:
    return {"input_ids": np.full((batch, 1), 42, np.int64), "attention_mask": np.ones((batch, past + 1), np.int64),
            "position_ids": np.full((batch, 1), past, np.int64), **empty_cache(spec, batch, past), **logits_to_keep_feed(sess)}


def options(profile_prefix: str | None = None) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return so


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--file", default="model_buffered.onnx")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--pasts", default="16,64,128,192")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--profile-past", type=int, default=128)
    p.add_argument("--top", type=int, default=10, help="how many operator types to list")
    args = p.parse_args()
    pasts = [int(x) for x in args.pasts.split(",")]
    if args.batch < 1 or args.rounds < 1 or args.profile_past < 1 or any(x < 1 for x in pasts):
        p.error("--batch, --rounds, --profile-past and every --pasts value must be positive")
    folder = Path(args.model)
    cfg = json.loads((folder / "config.json").read_text())
    spec = SimpleNamespace(num_layers=cfg["num_hidden_layers"], num_kv_heads=cfg["num_key_value_heads"],
                           head_dim=cfg["hidden_size"] // cfg["num_attention_heads"])
    path = str(folder / "onnx" / args.file)

    sess = ort.InferenceSession(path, options(), providers=["CPUExecutionProvider"])
    feeds = {past: feeds_for(spec, sess, args.batch, past) for past in pasts}
    for past in pasts:  # warm-up
        sess.run(None, feeds[past])
    times: dict = {past: [] for past in pasts}
    for _ in range(args.rounds):
        for past in pasts:
            t0 = time.perf_counter()
            sess.run(None, feeds[past])
            times[past].append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        prof = ort.InferenceSession(path, options(str(Path(tmp) / "step")), providers=["CPUExecutionProvider"])
        feed = feeds_for(spec, prof, args.batch, args.profile_past)
        runs = 4
        for _ in range(runs):
            prof.run(None, feed)
        events = json.loads(Path(prof.end_profiling()).read_text())
    by_op: collections.Counter = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"]
    total = sum(by_op.values())
    flags = reported_cpu_flags(extra=("avx512_bf16",))
    print(json.dumps({
        "cpu_flags": flags, "batch": args.batch, "file": args.file,
        "ms_per_step_by_past": {str(k): round(float(np.median(v)) * 1000, 1) for k, v in times.items()},
        "profile_past": args.profile_past,
        "ops": {op: {"share": round(d / total, 3), "ms_per_step": round(d / runs / 1000, 1)} for op, d in by_op.most_common(args.top)},
        "profiled_ms_per_step": round(total / runs / 1000, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
