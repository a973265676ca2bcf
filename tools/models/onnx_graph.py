"""The graph being built, shared by the builders of onnx_decoder.py and onnx_int8.py: nodes
with generated names, initializers, and constants stored once."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"
F32 = TensorProto.FLOAT
I64 = TensorProto.INT64
I32 = TensorProto.INT32


@dataclass
class Graph:
    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    counter: int = 0
    const_cache: dict = field(default_factory=dict)
    # int8 "row" linears: each input quantized once for the linears sharing it (q/k/v,
    # gate/up), and one [B, S, N] shape per output width.
    row_quant: dict = field(default_factory=dict)
    bs: tuple | None = None
    out_shapes: dict = field(default_factory=dict)

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, name: str | None = None, **attrs):
        self.counter += 1
        base = name or f"{op_type}_{self.counter}"
        outs = [f"{base}_out{i}" if n_out > 1 else f"{base}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=base, **attrs))
        return outs if n_out > 1 else outs[0]

    def init(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, values, dtype=np.int64) -> str:
        arr = np.asarray(values, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.const_cache:
            self.const_cache[key] = self.init(f"const_{len(self.const_cache)}", arr)
        return self.const_cache[key]
