"""A numpy Llama forward pass with int8 arithmetic emulated (fake quantization), for
int8_experiment.py's many accuracy variants: one set of fp32 weights, any choice of which
linears are int8, how their activations are rounded, and smoothing, without building an
ONNX graph for each. The rounding is ONNX Runtime's:
  - weights: int8, one symmetric scale per output channel (onnx_int8._int8_weight);
  - "asym": uint8 with a zero point over the row's [min, max] (0 included), as
    DynamicQuantizeLinear rounds a tensor; one decode step at batch 1 is one row, so this is
    DynamicQuantizeMatMul as the engine runs it alone, and Int8Options "row";
  - "sym": symmetric, 255 levels around 0;
  - "static": a fixed calibrated [min, max], clipping what falls outside.
Integer accumulation is exact where fp32 rounds; that difference is far below the
quantization error (int8_experiment.py checks a few variants against the real graphs).
"""
from __future__ import annotations

import numpy as np

from onnx_decoder import LlamaSpec


def quant_weight(w: np.ndarray) -> np.ndarray:
    """HF Linear weight [out, in] rounded to int8 per output channel, dequantized."""
    amax = np.abs(w).max(axis=1, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    return (np.clip(np.rint(w / scale), -127, 127) * scale).astype(np.float32)


def quant_weight_two(w: np.ndarray) -> np.ndarray:
    """Two int8 levels per output channel: W ~ s1 * Q1 + s2 * Q2, Q2 the rounded residual."""
    q1 = quant_weight(w)
    return (q1 + quant_weight(w - q1)).astype(np.float32)


def quant_act(x: np.ndarray, mode: str, rng: tuple[float, float] | None = None) -> np.ndarray:
    if mode == "fp32":
        return x
    if mode == "asym2":  # two uint8 levels: the row, then its rounding residual
        q1 = quant_act(x, "asym")
        return (q1 + quant_act(x - q1, "asym")).astype(np.float32)
    if mode.startswith("asym_g"):  # one uint8 range per row and group of G channels
        g = int(mode[6:])
        m, k = x.shape
        return quant_act(x.reshape(m * (k // g), g), "asym").reshape(m, k)
    if mode == "sym":
        s = np.maximum(np.abs(x).max(axis=-1, keepdims=True) / 127.0, 1e-12)
        return (np.clip(np.rint(x / s), -128, 127) * s).astype(np.float32)
    if mode == "static":
        lo, hi = np.float32(min(rng[0], 0.0)), np.float32(max(rng[1], 0.0))
    else:
        assert mode == "asym", mode
        lo = np.minimum(x.min(axis=-1, keepdims=True), 0)
        hi = np.maximum(x.max(axis=-1, keepdims=True), 0)
    scale = np.maximum((hi - lo) / 255.0, 1e-12).astype(np.float32)
    zp = np.clip(np.rint(-lo / scale), 0, 255)
    q = np.clip(np.rint(x / scale) + zp, 0, 255)
    return ((q - zp) * scale).astype(np.float32)


class Sim:
    """forward(seqs, plan) -> logits per sequence. plan: {"weights": {name: [out,in] fp32
    (smoothed or not)}, "int8": set of linear names, "act": mode, "ranges": {name: (lo, hi)},
    "head_int8": bool, "head_weight": [vocab, hidden] (smoothed copy, optional), "outliers":
    {name: input channel indices kept fp32, outside the integer GEMM}, "wq"/"aq": False keeps
    the weights / activations of the int8 linears fp32 (which side loses agreement); "wq":
    "two" rounds each weight to two int8 levels, W ~ s1 * Q1 + s2 * Q2; "groups": {name: index
    arrays}, each group of input channels rounded over its own range per row}."""

    def __init__(self, spec: LlamaSpec):
        self.spec = spec
        D = spec.head_dim
        self.inv_freq = (1.0 / spec.rope_theta ** (np.arange(0, D, 2) / D)).astype(np.float32)

    def forward(self, seqs: list[list[int]], plan: dict) -> list[np.ndarray]:
        spec, w = self.spec, plan["weights"]
        H, KV, D, eps = spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.rms_norm_eps
        cache: dict[str, np.ndarray] = plan.setdefault("_wq", {})

        stats = plan.get("collect")  # name -> {"absmax", "min", "max"} of each linear's input

        def record(x: np.ndarray, name: str) -> None:
            if stats is None:
                return
            st = stats.setdefault(name, {"absmax": np.zeros(x.shape[-1], np.float32), "min": 0.0, "max": 0.0})
            st["absmax"] = np.maximum(st["absmax"], np.abs(x).max(axis=0))
            st["min"], st["max"] = min(st["min"], float(x.min())), max(st["max"], float(x.max()))

        outliers = plan.get("outliers", {})  # name -> input channels kept fp32 (LLM.int8()-style)
        wq, aq = plan.get("wq", True), plan.get("aq", True)  # round weights / activations (error decomposition)

        def lin(x: np.ndarray, name: str) -> np.ndarray:
            record(x, name)
            if name not in plan["int8"]:
                return x @ w[name + ".weight"].T
            idx = outliers.get(name)
            if name not in cache:
                wt = w[name + ".weight"]
                if idx is not None and len(idx):  # the scales cover the integer columns only
                    wt = wt.copy()
                    wt[:, idx] = 0
                cache[name] = quant_weight_two(wt) if wq == "two" else quant_weight(wt) if wq else wt
            mode = plan["act"] if aq else "fp32"
            if mode.startswith("asym_g") and x.shape[-1] % int(mode[6:]):
                mode = "asym"
            groups = plan.get("groups", {}).get(name)
            if groups is not None:  # one range per row and group of channels (the outliers in none)
                xr = np.zeros_like(x)
                for c in groups:
                    xr[:, c] = quant_act(x[:, c], "asym" if aq else "fp32")
                out = xr @ cache[name].T
                return out if idx is None or not len(idx) else out + x[:, idx] @ w[name + ".weight"][:, idx].T
            if idx is None or not len(idx):
                return quant_act(x, mode, plan.get("ranges", {}).get(name)) @ cache[name].T
            rest = x.copy()
            rest[:, idx] = 0  # the row's range is then over the integer channels only
            return quant_act(rest, mode, plan.get("ranges", {}).get(name)) @ cache[name].T + x[:, idx] @ w[name + ".weight"][:, idx].T

        def rms(x: np.ndarray, name: str) -> np.ndarray:
            return (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w[name + ".weight"]).astype(np.float32)

        bounds = np.cumsum([0] + [len(s) for s in seqs])
        pos = np.concatenate([np.arange(len(s)) for s in seqs]).astype(np.float32)
        ang = pos[:, None] * self.inv_freq[None]
        cos = np.cos(np.concatenate([ang, ang], -1))[:, None, :]
        sin = np.sin(np.concatenate([ang, ang], -1))[:, None, :]

        def rope(x: np.ndarray) -> np.ndarray:  # [N, heads, D]
            return x * cos + np.concatenate([-x[..., D // 2:], x[..., : D // 2]], -1) * sin

        h = w["model.embed_tokens.weight"][np.concatenate(seqs)].astype(np.float32)
        N = h.shape[0]
        for i in range(spec.num_layers):
            p = f"model.layers.{i}"
            x = rms(h, f"{p}.input_layernorm")
            q = rope(lin(x, f"{p}.self_attn.q_proj").reshape(N, H, D))
            k = rope(lin(x, f"{p}.self_attn.k_proj").reshape(N, KV, D))
            v = lin(x, f"{p}.self_attn.v_proj").reshape(N, KV, D)
            ctx = np.empty((N, H, D), np.float32)
            for a, b in zip(bounds[:-1], bounds[1:]):
                n = b - a
                qs = q[a:b].transpose(1, 0, 2).reshape(KV, -1, n, D)  # [KV, rep, n, D]
                ks, vs = k[a:b].transpose(1, 0, 2)[:, None], v[a:b].transpose(1, 0, 2)[:, None]
                sc = qs @ ks.transpose(0, 1, 3, 2) / np.float32(np.sqrt(D))
                sc = sc + np.where(np.tril(np.ones((n, n), bool)), 0, -1e9).astype(np.float32)
                e = np.exp(sc - sc.max(-1, keepdims=True))
                att = e / e.sum(-1, keepdims=True)
                ctx[a:b] = (att @ vs).reshape(H, n, D).transpose(1, 0, 2)
            h = h + lin(ctx.reshape(N, H * D), f"{p}.self_attn.o_proj")
            x = rms(h, f"{p}.post_attention_layernorm")
            g = lin(x, f"{p}.mlp.gate_proj")
            act = (g / (1 + np.exp(-g)) * lin(x, f"{p}.mlp.up_proj")).astype(np.float32)
            h = h + lin(act, f"{p}.mlp.down_proj")
        x = rms(h, "model.norm")
        record(x, "lm_head")
        head = plan.get("head_weight", w["model.embed_tokens.weight"])
        if plan.get("head_int8"):
            if "_head" not in cache:
                cache["_head"] = quant_weight(head)
            logits = quant_act(x, plan["act"] if plan["act"] != "static" else "asym") @ cache["_head"].T
        else:
            logits = x @ head.T
        return [logits[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
