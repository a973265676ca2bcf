"""Activation statistics of a Llama decoder's linears, and SmoothQuant's folding of them
into the weights (Xiao et al. 2023, "SmoothQuant"), for the int8 graph of onnx_decoder.

SmolLM2's hidden states carry a few outlier channels (values tens of times the others).
Quantizing a row of activations to 8 bits with one scale rounds every other channel
coarsely. SmoothQuant divides activation channel j by s_j and multiplies the weights'
input column j by s_j, s_j = max|X_j|^alpha / max|W_j|^(1-alpha), moving the outliers
into the weights, which are quantized per output channel. The division is folded into what
produces X, so the fp32 model is unchanged:
  - q/k/v: input_layernorm's weight;       - gate/up: post_attention_layernorm's weight;
  - down_proj: up_proj's output rows (SiLU(gate) * up is linear in up);
  - o_proj: v_proj's output rows (attention mixes positions, not channels), with one s per
    key/value channel shared by the query heads of its group.
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from onnx_decoder import LlamaSpec, build_llama

LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def linear_names(spec: LlamaSpec) -> list[str]:
    return [f"model.layers.{i}.{part}" for i in range(spec.num_layers) for part in LINEARS]


def activation_stats(spec: LlamaSpec, weights: dict, prompts: list[list[int]], threads: int = 1) -> dict:
    """Per linear: its input's per-channel max |x| ("absmax", [in]) and overall range
    ("min", "max"), over every position of `prompts` run through the fp32 model."""
    model = build_llama(spec, weights)
    by_node = {n.name: n for n in model.graph.node}
    taps: dict[str, str] = {}
    for name in linear_names(spec):
        taps[name] = by_node[name.replace(".", "_")].input[0]
    for tensor in sorted(set(taps.values())):
        model.graph.output.append(helper.make_tensor_value_info(tensor, TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    del model
    wanted = sorted(set(taps.values()))
    absmax: dict[str, np.ndarray] = {}
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    for ids in prompts:
        n = len(ids)
        feed = {"input_ids": np.array([ids], np.int64), "attention_mask": np.ones((1, n), np.int64),
                "position_ids": np.arange(n, dtype=np.int64)[None]}
        for i in range(spec.num_layers):
            for kind in ("key", "value"):
                feed[f"past_key_values.{i}.{kind}"] = np.zeros((1, spec.num_kv_heads, 0, spec.head_dim), np.float32)
        for tensor, value in zip(wanted, sess.run(wanted, feed)):
            v = value.reshape(-1, value.shape[-1])
            a = np.abs(v).max(axis=0)
            absmax[tensor] = a if tensor not in absmax else np.maximum(absmax[tensor], a)
            lo[tensor] = min(lo.get(tensor, 0.0), float(v.min()))
            hi[tensor] = max(hi.get(tensor, 0.0), float(v.max()))
    return {name: {"absmax": absmax[t], "min": lo[t], "max": hi[t]} for name, t in taps.items()}


def _scales(x_absmax: np.ndarray, w_absmax: np.ndarray, alpha: float) -> np.ndarray:
    x = np.maximum(x_absmax, 1e-5)
    w = np.maximum(w_absmax, 1e-5)
    return np.clip(x ** alpha / w ** (1 - alpha), 1e-5, None).astype(np.float32)


def smooth(spec: LlamaSpec, weights: dict, stats: dict, alpha: float, parts: tuple[str, ...] = ("qkv", "gate_up", "down", "o")) -> dict:
    """The same fp32 model with activation outliers folded into the weights (module docstring)."""
    w = dict(weights)
    KV, D, rep = spec.num_kv_heads, spec.head_dim, spec.num_heads // spec.num_kv_heads

    def col_absmax(*names: str) -> np.ndarray:  # HF Linear weight [out, in]: max over out
        return np.max([np.abs(w[n + ".weight"]).max(axis=0) for n in names], axis=0)

    for i in range(spec.num_layers):
        p = f"model.layers.{i}"
        if "qkv" in parts:
            lin = [f"{p}.self_attn.{k}_proj" for k in "qkv"]
            s = _scales(stats[lin[0]]["absmax"], col_absmax(*lin), alpha)
            w[f"{p}.input_layernorm.weight"] = (w[f"{p}.input_layernorm.weight"] / s).astype(np.float32)
            for n in lin:
                w[n + ".weight"] = (w[n + ".weight"] * s[None, :]).astype(np.float32)
        if "gate_up" in parts:
            lin = [f"{p}.mlp.gate_proj", f"{p}.mlp.up_proj"]
            s = _scales(stats[lin[0]]["absmax"], col_absmax(*lin), alpha)
            w[f"{p}.post_attention_layernorm.weight"] = (w[f"{p}.post_attention_layernorm.weight"] / s).astype(np.float32)
            for n in lin:
                w[n + ".weight"] = (w[n + ".weight"] * s[None, :]).astype(np.float32)
        if "down" in parts:
            down, up = f"{p}.mlp.down_proj", f"{p}.mlp.up_proj"
            s = _scales(stats[down]["absmax"], col_absmax(down), alpha)
            w[up + ".weight"] = (w[up + ".weight"] / s[:, None]).astype(np.float32)
            w[down + ".weight"] = (w[down + ".weight"] * s[None, :]).astype(np.float32)
        if "o" in parts:
            o, v = f"{p}.self_attn.o_proj", f"{p}.self_attn.v_proj"
            x = stats[o]["absmax"].reshape(KV, rep, D).max(axis=1)
            wm = col_absmax(o).reshape(KV, rep, D).max(axis=1)
            s_kv = _scales(x, wm, alpha)  # [KV, D]
            w[v + ".weight"] = (w[v + ".weight"] / s_kv.reshape(-1)[:, None]).astype(np.float32)
            s_ctx = np.repeat(s_kv[:, None, :], rep, axis=1).reshape(-1)
            w[o + ".weight"] = (w[o + ".weight"] * s_ctx[None, :]).astype(np.float32)
    return w


def sorted_groups(stats: dict, n_groups: int, outliers: dict) -> dict:
    """Per linear, its input channels but the outliers, by calibrated max |x| (largest first),
    cut into n_groups groups of near-equal size: channels of like magnitude share a range."""
    out = {}
    for name, st in stats.items():
        if name == "lm_head":
            continue
        skip = set(outliers.get(name, np.zeros(0, np.int64)).tolist())
        order = [int(j) for j in np.argsort(-st["absmax"], kind="stable") if int(j) not in skip]
        out[name] = [np.sort(np.asarray(c, np.int64)) for c in np.array_split(np.asarray(order), n_groups)]
    return out


def pick_outliers(stats: dict, k: int, by: str = "absmax", weights: dict | None = None) -> dict:
    """Per linear, the k input channels of largest calibrated max |x| ("absmax"), or of
    largest max |x_j| * max |W_:,j| ("impact": what channel j can add to an output)."""
    out = {}
    for name, st in stats.items():
        if name == "lm_head" or k <= 0:
            continue
        score_j = st["absmax"]
        if by == "impact":
            score_j = score_j * np.abs(weights[name + ".weight"]).max(axis=0)
        out[name] = np.sort(np.argsort(-score_j)[:k])
    return out


def ranges(stats: dict) -> dict:
    """The per-linear (min, max) Int8Options(activations="static") takes."""
    return {name: (st["min"], st["max"]) for name, st in stats.items()}


def save_graph(model: onnx.ModelProto, path: str) -> None:
    onnx.checker.check_model(model)
    onnx.save(model, path)
