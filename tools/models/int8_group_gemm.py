"""Micro-benchmark of the integer GEMMs a grouped int8 linear can use (Int8Options.groups,
group_layout), one thread, medians of interleaved rounds, against fp32 MatMul in the same run:
one u8s8 MatMulInteger [M, K] x [K, N] (prepacked weights), G per-group ones [M, K/G] x [K/G, N]
("loop"), one batched [G, M, K/G] x [G, K/G, N] ("batched": ONNX Runtime prepacks only 2-D
weights), and the same with int8 activations (s8s8, for symmetric rounding). Checks that the
batched sum over G equals the loop's and that s8s8 is exact.

  .cache/py/venv/bin/python tools/models/int8_group_gemm.py [--groups 8 --k 576 --n 1536 3072]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_kernels import reported_cpu_flags  # noqa: E402
from gemm_bench import interleaved_medians, op_session  # noqa: E402


def cases(G: int, K: int, N: int, rng) -> tuple[dict, np.ndarray]:
    """name -> (session, input kind), and the batched weights [G, K/G, N]."""
    kg = K // G
    w = rng.standard_normal((K, N)).astype(np.float32)
    wq = rng.integers(-127, 128, (K, N)).astype(np.int8)
    mm = [helper.make_node("MatMulInteger", ["x", "w"], ["y"])]
    loop, inits = [], {"ax": np.array([1])}
    for j in range(G):
        inits |= {f"w{j}": np.ascontiguousarray(wq[j * kg:(j + 1) * kg]), f"s{j}": np.array([j * kg]), f"e{j}": np.array([(j + 1) * kg])}
        loop += [helper.make_node("Slice", ["x", f"s{j}", f"e{j}", "ax"], [f"x{j}"]), helper.make_node("MatMulInteger", [f"x{j}", f"w{j}"], [f"y{j}"])]
        if j:
            loop.append(helper.make_node("Add", [f"y{j - 1}" if j == 1 else f"acc{j - 1}", f"y{j}"], ["y" if j == G - 1 else f"acc{j}"]))
    wb = np.ascontiguousarray(wq.reshape(G, kg, N))
    return {
        "fp32 MatMul": (op_session([helper.make_node("MatMul", ["x", "w"], ["y"])], T.FLOAT, {"w": w}), "f32"),
        "one u8s8 MatMulInteger": (op_session(mm, T.UINT8, {"w": wq}), "u8"),
        "one s8s8 MatMulInteger": (op_session(mm, T.INT8, {"w": wq}), "s8"),
        f"{G} per-group u8s8 (loop)": (op_session(loop, T.UINT8, inits), "u8"),
        f"one batched u8s8 [{G},M,{kg}]x[{G},{kg},N]": (op_session(mm, T.UINT8, {"w": wb}), "u8 batched"),
        "one batched s8s8": (op_session(mm, T.INT8, {"w": wb}), "s8 batched"),
    }, wb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--k", type=int, default=576)
    p.add_argument("--n", type=int, nargs="+", default=[1536, 3072], help="3072: two weight levels side by side")
    p.add_argument("--rows", type=int, nargs="+", default=[1, 16])
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    G, K = args.groups, args.k
    assert K % G == 0, "K must split into G equal groups"
    rng = np.random.default_rng(0)
    results = []
    for N in args.n:
        sessions, wb = cases(G, K, N, rng)
        for M in args.rows:
            shape = {"f32": (M, K), "u8": (M, K), "s8": (M, K), "u8 batched": (G, M, K // G), "s8 batched": (G, M, K // G)}
            feeds = {}
            for name, (sess, kind) in sessions.items():
                x = (rng.standard_normal(shape[kind]).astype(np.float32) if kind == "f32" else
                     rng.integers(0, 256, shape[kind]).astype(np.uint8) if kind.startswith("u8") else
                     rng.integers(-127, 128, shape[kind]).astype(np.int8))
                feeds[name] = {"x": x}
            medians = interleaved_medians({name: (lambda s=sess, f=feeds[name]: s.run(None, f)) for name, (sess, _) in sessions.items()},
                                          args.rounds, reps=200 if M == 1 else 50)
            base = medians["fp32 MatMul"]
            for name in sessions:
                med = medians[name]
                results.append({"N": N, "M": M, "op": name, "us": round(med * 1e6, 1), "speedup_vs_fp32": round(base / med, 2)})
                print(json.dumps(results[-1]), flush=True)
        x = rng.integers(0, 256, (G, args.rows[-1], K // G)).astype(np.uint8)
        batched = sessions[f"one batched u8s8 [{G},M,{K // G}]x[{G},{K // G},N]"][0].run(None, {"x": x})[0]
        loop = sessions[f"{G} per-group u8s8 (loop)"][0].run(None, {"x": np.concatenate(list(x), axis=1)})[0]
        assert np.array_equal(batched.sum(axis=0), loop), "batched sum over G differs from the loop"
        xs = rng.integers(-127, 128, x.shape).astype(np.int8)
        s8 = sessions["one batched s8s8"][0].run(None, {"x": xs})[0]
        assert np.array_equal(s8, np.matmul(xs.astype(np.int32), wb.astype(np.int32))), "s8s8 is not exact"
    print(json.dumps({"cpu_flags": reported_cpu_flags(), "onnxruntime": ort.__version__, "batched_sum_equals_loop": True, "s8s8_exact": True}))


if __name__ == "__main__":
    main()
