"""Micro-benchmark of the integer GEMM kinds an int8 linear can run on, against fp32 MatMul in
the same run, one thread, medians of interleaved rounds, on one linear's shape [M, K] x [K, N]
(default SmolLM2's MLP, 576 x 1536) at each of --rows:
  - MatMulInteger, uint8 activations times int8 weights (u8s8), 8-bit weights ("s8") and
    7-bit ones ("s7", in [-63, 63]);
  - MatMulInteger with uint8 weights, zero point 128 (u8u8);
  - MatMulNBits (block-wise weights, the kind model_quantized.onnx uses), 8 and 4 bits,
    blocks of 32, accuracy_level 4 (int8 activations per block) and 0 (fp32 compute).
Each integer kind is checked against numpy's exact int32 product (`exact`): on AVX2 without
VNNI, u8s8 with 8-bit weights adds pairs of products in saturating int16 and is not; 7-bit
weights keep a pair within int16 (2 x 255 x 63 < 32,767). MatMulNBits gives its relative
error against fp32 on its own dequantized weights (accuracy_level 4 rounds the activations).

  .cache/py/venv/bin/python tools/models/int8_gemm_kinds.py [--k 576 --n 1536 --rows 1,16,64 --rounds 7]

Prints JSON: per rows and kind, microseconds and the speed against fp32, with the CPU flags.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_kernels import reported_cpu_flags  # noqa: E402
from gemm_bench import interleaved_medians, op_session  # noqa: E402
from onnx_graph import MS_DOMAIN  # noqa: E402

NBITS_BLOCK = 32


def _nbits(w: np.ndarray, bits: int) -> tuple[dict, np.ndarray]:
    """MatMulNBits' inputs for w [K, N] (blocks along K, symmetric, the default zero point
    2^(bits-1)) and the weights they dequantize to."""
    K, N = w.shape
    blocks = w.T.reshape(N, K // NBITS_BLOCK, NBITS_BLOCK)
    zero = 2 ** (bits - 1)
    amax = np.abs(blocks).max(axis=2, keepdims=True)
    scale = np.where(amax > 0, amax / (zero - 1), 1).astype(np.float32)
    q = (np.clip(np.rint(blocks / scale), 1 - zero, zero - 1) + zero).astype(np.uint8)
    packed = q if bits == 8 else (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    dequantized = ((q.astype(np.float32) - zero) * scale).reshape(N, K).T
    return {"b": packed, "s": scale.reshape(-1)}, dequantized


def _exact(q: np.ndarray) -> Callable:
    """The check of an integer kind: its int32 sums equal numpy's."""
    return lambda x, y: {"exact": bool(np.array_equal(y, x.astype(np.int32) @ q.astype(np.int32)))}


def kinds(K: int, N: int, rng) -> dict:
    """name -> (session, input kind "f32" or "u8", check): check(x, y) gives {"exact": bool} or {"rel_err": float}."""
    w = (rng.standard_normal((K, N)) * 0.05).astype(np.float32)
    out = {"fp32 MatMul": (op_session([helper.make_node("MatMul", ["x", "w"], ["y"])], T.FLOAT, {"w": w}), "f32", None)}
    matmul_integer = [helper.make_node("MatMulInteger", ["x", "w"], ["y"])]
    for name, q in (("u8s8, 8-bit weights", rng.integers(-127, 128, (K, N))), ("u8s8, 7-bit weights", rng.integers(-63, 64, (K, N)))):
        q = q.astype(np.int8)
        out[name] = (op_session(matmul_integer, T.UINT8, {"w": q}), "u8", _exact(q))
    q = rng.integers(-127, 128, (K, N)).astype(np.int16)
    u8u8 = [helper.make_node("MatMulInteger", ["x", "w", "", "wz"], ["y"])]
    out["u8u8"] = (op_session(u8u8, T.UINT8, {"w": (q + 128).astype(np.uint8), "wz": np.uint8(128)}), "u8", _exact(q))
    for bits in (8, 4):
        inits, dequantized = _nbits(w, bits)
        for level in (4, 0):
            node = helper.make_node("MatMulNBits", ["x", "b", "s"], ["y"], domain=MS_DOMAIN, K=K, N=N, bits=bits,
                                    block_size=NBITS_BLOCK, accuracy_level=level)
            check = (lambda x, y, d=dequantized: {"rel_err": float(f"{np.abs(y - x @ d).max() / np.abs(x @ d).max():.3g}")})
            out[f"MatMulNBits, {bits} bits, accuracy_level {level}"] = (op_session([node], T.FLOAT, inits), "f32", check)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--k", type=int, default=576)
    p.add_argument("--n", type=int, default=1536)
    p.add_argument("--rows", default="1,16,64")
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    if args.k % NBITS_BLOCK:
        p.error(f"--k must be a multiple of {NBITS_BLOCK} (MatMulNBits' block), got {args.k}")
    rows = [int(r) for r in args.rows.split(",")]
    if not rows or min(rows) < 1:
        p.error(f"--rows: expected positive counts separated by commas, got {args.rows!r}")
    rng = np.random.default_rng(0)
    cases = kinds(args.k, args.n, rng)
    report = {"onnxruntime": ort.__version__, "cpu_flags": reported_cpu_flags(), "shape": [args.k, args.n], "threads": 1,
              "rounds": args.rounds, "rows": {}}
    for m in rows:
        feeds = {"f32": {"x": rng.standard_normal((m, args.k)).astype(np.float32)},
                 "u8": {"x": rng.integers(0, 256, (m, args.k)).astype(np.uint8)}}
        medians = interleaved_medians({name: (lambda s=sess, f=feeds[kind]: s.run(None, f)) for name, (sess, kind, _) in cases.items()},
                                      args.rounds, reps=max(5, 3000 // m))
        fp32 = medians["fp32 MatMul"]
        entry = {}
        for name, (sess, kind, check) in cases.items():
            entry[name] = {"us": round(medians[name] * 1e6, 1), "speed_vs_fp32": round(fp32 / medians[name], 2)}
            if check is not None:
                entry[name] |= check(feeds[kind]["x"], sess.run(None, feeds[kind])[0])
        report["rows"][str(m)] = entry
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
