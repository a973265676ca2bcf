"""One decode step of buffered-layout files of a model folder, timed interleaved (median of
--rounds, one thread, past 64, batch 1 and 16): each later file's speed-up over the first
(fp32), with the load of a shared machine hitting all alike.

  .cache/py/venv/bin/python tools/models/int8_speed.py --model DIR [--rounds 7] \
      [--files model_buffered.onnx model_buffered_int8.onnx OTHER.onnx ...]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_kernels import reported_cpu_flags  # noqa: E402
from int8_experiment import step_times  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--files", nargs="+", default=["model_buffered.onnx", "model_buffered_int8.onnx"],
                   help="the fp32 peer first, then the files timed against it")
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    if len(args.files) < 2 or len(set(args.files)) != len(args.files):
        p.error("--files takes the fp32 peer and at least one other file, each once")
    folder = Path(args.model)
    cfg = json.loads((folder / "config.json").read_text())
    spec = SimpleNamespace(num_layers=cfg["num_hidden_layers"], num_kv_heads=cfg["num_key_value_heads"],
                           head_dim=cfg["hidden_size"] // cfg["num_attention_heads"])
    base, *others = args.files
    t = step_times(spec, {f: onnx.load(str(folder / "onnx" / f)) for f in args.files}, rounds=args.rounds)
    flags = reported_cpu_flags()
    print(json.dumps({"cpu_flags": flags, "ms_per_step": {k: round(v * 1000, 2) for k, v in t.items()},
                      "speedup_vs_" + base: {f: {"batch1": round(t[f"{base}@1"] / t[f"{f}@1"], 2),
                                                "batch16": round(t[f"{base}@16"] / t[f"{f}@16"], 2)} for f in others}}))


if __name__ == "__main__":
    main()
