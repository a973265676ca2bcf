"""What the GEMM micro-benchmarks (int8_gemm_kinds.py, int8_group_gemm.py) share: a session of
one ONNX op on one thread, and interleaved timing against a peer in the same run."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from onnx_graph import MS_DOMAIN


def op_session(nodes: list, x_type: int, inits: dict) -> ort.InferenceSession:
    """Input `x` of `x_type`, output `y` (float for a float input, else int32), one thread."""
    graph = helper.make_graph(nodes, "gemm", [helper.make_tensor_value_info("x", x_type, None)],
                              [helper.make_tensor_value_info("y", T.FLOAT if x_type == T.FLOAT else T.INT32, None)],
                              [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS_DOMAIN, 1)], ir_version=8)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def interleaved_medians(runs: dict[str, Callable[[], object]], rounds: int, reps: int) -> dict[str, float]:
    """Seconds per call of each run, the median over `rounds`; each round times every run once
    (`reps` calls), so a change of the machine's load falls on all of them alike."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(reps):
                run()
            times[name].append((time.perf_counter() - start) / reps)
    return {name: float(np.median(t)) for name, t in times.items()}
