"""The fp16 and int8 variants of an fp32 decoder, under the names Optimum and
transformers.js give them: onnx/model_fp16.onnx and onnx/model_quantized.onnx.

fp16: weights are stored as float16, and the model's cache inputs, logits and cache
outputs are float16, which is all the engine sees of a model's precision. The arithmetic
stays fp32 (each weight and cache input is widened by a Cast): ONNX Runtime's CPU
provider lacks float16 kernels for several of the decoder's operators, and the tests
that use these files must run on the CPU.

int8: the linear layers as MatMulNBits, 8-bit weights in blocks of 32, as the SmolLM2
import writes them (import_gguf.quantize).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_gguf import quantize  # noqa: E402

# Scalars and short vectors (epsilons, the mask value, rotary tables' constants) keep fp32:
# the mask value would overflow float16 to -inf.
MIN_FP16_WEIGHT = 64


def _interface(name: str) -> bool:
    return name == "logits" or name.startswith(("past_key_values.", "present."))


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    widen: list[onnx.NodeProto] = []
    kept = []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and array.size >= MIN_FP16_WEIGHT:
            kept.append(numpy_helper.from_array(array.astype(np.float16), f"{init.name}.fp16"))
            widen.append(helper.make_node("Cast", [f"{init.name}.fp16"], [init.name], to=TensorProto.FLOAT))
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)

    # Cache inputs arrive as float16 and are widened for the fp32 graph.
    renamed: dict[str, str] = {}
    for value in graph.input:
        if _interface(value.name):
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
            renamed[value.name] = f"{value.name}.fp32"
            widen.append(helper.make_node("Cast", [value.name], [renamed[value.name]], to=TensorProto.FLOAT))
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]

    # Logits and cache outputs are computed in fp32 and narrowed on the way out.
    narrow: list[onnx.NodeProto] = []
    for value in graph.output:
        if _interface(value.name):
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
            inner = f"{value.name}.fp32"
            for node in graph.node:
                for i, name in enumerate(node.output):
                    if name == value.name:
                        node.output[i] = inner
                for i, name in enumerate(node.input):
                    if name == value.name:
                        node.input[i] = inner
            narrow.append(helper.make_node("Cast", [inner], [value.name], to=TensorProto.FLOAT16))

    nodes = widen + list(graph.node) + narrow
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model


def write_variants(onnx_dir: Path) -> None:
    """Writes model_fp16.onnx and model_quantized.onnx next to onnx_dir/model.onnx."""
    fp32 = onnx_dir / "model.onnx"
    onnx.save(to_fp16(onnx.load(str(fp32))), str(onnx_dir / "model_fp16.onnx"))
    quantize(fp32, onnx_dir / "model_quantized.onnx")
