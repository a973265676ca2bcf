"""The int8 linears of onnx_decoder.build_llama (`int8=Int8Options(...)`): weights int8 per
output channel, activations rounded at run time by tensor, by row or from calibrated ranges,
on ONNX Runtime's integer GEMMs (DynamicQuantizeMatMul, MatMulInteger, MatMulIntegerToFloat).
README "int8" and "int8 on CPUs without VNNI" measure the variants."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from onnx import TensorProto

from onnx_graph import F32, I32, MS_DOMAIN, Graph


@dataclass
class Int8Options:
    """How the int8 linears quantize their activations at run time (weights: int8, one
    symmetric scale per output channel):
      - "tensor": ONNX Runtime's DynamicQuantizeMatMul, one uint8 range over the whole input
        tensor, so at batch > 1 a row's rounding depends on the other rows;
      - "row": one uint8 range per row (token), computed in the graph, then MatMulInteger:
        the rounding of DynamicQuantizeMatMul at batch 1, but batch-invariant at any batch,
        as the fp32 model is;
      - "static": calibrated per-tensor ranges (`ranges`: linear name -> (min, max)),
        QuantizeLinear + MatMulIntegerToFloat; values outside the range are clipped;
      - "row_symmetric": per row too, over [-max|x|, max|x|] with zero point 128, so one
        zero point serves the tensor and MatMulIntegerToFloat applies it and the weights'
        scales in its kernel (README "int8 on CPUs without VNNI": faster, less exact).
    `fp32_linears`: linears kept fp32, by name suffix ("mlp.down_proj", "layers.29.mlp.down_proj")."""
    activations: str = "row"
    fp32_linears: tuple[str, ...] = ()
    ranges: dict = field(default_factory=dict)
    # The LM head as an int8 linear too ("tensor"/"row" activations), from `head_weight`
    # ([vocab, hidden], e.g. smoothed; default the tied embedding), which then is stored twice.
    head: bool = False
    head_weight: np.ndarray | None = None
    # With `head`: the `head_exact_top` highest int8 logits of each row computed again in fp32
    # from the fp32 table (TopK, Gather, one small MatMul, ScatterElements), so the next token
    # greedy decoding picks is fp32's wherever fp32's best is among them; the other logits
    # stay int8. 0: every logit int8.
    head_exact_top: int = 0
    # "row" only. `outliers`: linear name -> input channels kept fp32 (LLM.int8()'s mixed
    # decomposition: x[:, idx] @ W[idx, :] in fp32, added to the integer GEMM of the other
    # channels, whose row ranges and weight scales then leave the outliers out).
    # `weight_levels` 2: W ~ s1 * Q1 + s2 * Q2 (Q2 the rounded residual), both in one
    # MatMulInteger of twice the width.
    outliers: dict = field(default_factory=dict)
    weight_levels: int = 1
    # With weight_levels 2: the linears (by name suffix, as fp32_linears) that keep one level.
    one_level_linears: tuple[str, ...] = ()
    # "row" only: linear name -> groups of input channels (index arrays covering every channel
    # but the outliers), each rounded over its own per-row range.
    groups: dict = field(default_factory=dict)
    # How grouped linears are laid out, all with the same rounding and the same sums:
    #   - "loop": per group a Gather of its channels, its own row ranges, a MatMulInteger, a rescale;
    #   - "batched": one Gather by the groups' permutation, the ranges of every (group, row) at
    #     once, ONE MatMulInteger [G, rows, K/G] x [G, K/G, N], one rescale, one Sum over G
    #     (ONNX Runtime prepacks only 2-D weights, so this one packs its weights on every run:
    #     fewer ops win at batch 1, the packing loses at 16; README "int8" has the figures).
    group_layout: str = "loop"
    # "row" and "row_symmetric": how the integer GEMM's weights are stored (s8 and u8 give the same sums):
    #   - "s8": int8 (MLAS u8s8). Exact on VNNI and AMX; on AVX2 or AVX-512 without VNNI its
    #     kernel adds u8*s8 pairs in saturating int16 (vpmaddubsw), which clips large sums;
    #   - "u8": uint8 = int8 + 128 with weight zero point 128 (MLAS u8u8), exact on every CPU;
    #   - "s7": int8 rounded to [-63, 63] (7 bits, onnxruntime's `reduce_range`), MLAS u8s8:
    #     a pair of products then stays within int16 (2 * 255 * 63 < 32767), so it is exact
    #     on every CPU and runs u8s8's faster kernel on AVX2, at half the weights' resolution.
    weight_type: str = "s8"
    # "row", ungrouped: how a row's zero point leaves the integer sums, y = scale_r * s_w * (q @ W - zp_r * colsum(W)):
    #   - "int32": Sub in int32 (exact), then Cast, Mul by s_w, Mul by scale_r: five passes over [M, N];
    #   - "fp32": MatMulIntegerToFloat applies s_w in its GEMM's epilogue, one rank-1 Gemm
    #     subtracts zp_r * (s_w * colsum(W)) in fp32, one Mul by scale_r: two passes over [M, N].
    zero_point_term: str = "int32"
    # "row", ungrouped, zero_point_term "fp32": 2 rounds each row twice, x ~ scale_r1 * (q1 - zp_r1)
    # + scale_r2 * (q2 - zp_r2) with q2 the row's rounding residual, both in one GEMM of twice
    # the rows (16 bits in effect, at twice the integer work and no more weight traffic).
    activation_levels: int = 1

    def __post_init__(self):
        if self.group_layout not in GROUP_LAYOUTS:
            raise ValueError(f"Int8Options.group_layout must be one of {', '.join(GROUP_LAYOUTS)}, got {self.group_layout!r}")
        if self.weight_type not in WEIGHT_TYPES:
            raise ValueError(f"Int8Options.weight_type must be one of {', '.join(WEIGHT_TYPES)}, got {self.weight_type!r}")
        if self.zero_point_term not in ZERO_POINT_TERMS:
            raise ValueError(f"Int8Options.zero_point_term must be one of {', '.join(ZERO_POINT_TERMS)}, got {self.zero_point_term!r}")
        if self.activation_levels not in (1, 2):
            raise ValueError(f"Int8Options.activation_levels must be 1 or 2, got {self.activation_levels!r}")
        if self.activation_levels == 2 and (self.activations != "row" or self.groups or self.zero_point_term != "fp32"):
            raise ValueError('Int8Options.activation_levels 2 needs activations "row", no groups and zero_point_term "fp32"')
        if self.head_exact_top < 0 or (self.head_exact_top and not self.head):
            raise ValueError(f"Int8Options.head_exact_top must be 0, or > 0 with head=True, got {self.head_exact_top!r}")
        if self.activations == "row_symmetric" and (self.outliers or self.groups or self.weight_levels != 1):
            raise ValueError("Int8Options.activations \"row_symmetric\" takes no outliers, groups or weight_levels: they are \"row\" only")


GROUP_LAYOUTS = ("loop", "batched")
# The activations that round per row (the others are "tensor" and "static").
ROW_ACTIVATIONS = ("row", "row_symmetric")
WEIGHT_TYPES = ("s8", "u8", "s7")
ZERO_POINT_TERMS = ("int32", "fp32")
# The largest weight magnitude each type rounds to.
WEIGHT_QMAX = {"s8": 127, "u8": 127, "s7": 63}


def _stored_weight(g: Graph, name: str, q: np.ndarray, opts: Int8Options) -> tuple[str, str | None]:
    """q (int8 values) stored as opts.weight_type says, and its zero point (None: 0)."""
    if opts.weight_type in ("s8", "s7"):
        return g.init(name, q), None
    return g.init(name, (q.astype(np.int16) + 128).astype(np.uint8)), g.const(np.uint8(128), np.uint8)


def _matmul_integer(g: Graph, xq: str, name: str, q: np.ndarray, opts: Int8Options) -> str:
    """xq (uint8) @ q (int8 values) as int32."""
    b, b_zp = _stored_weight(g, name, q, opts)
    return g.op("MatMulInteger", [xq, b] if b_zp is None else [xq, b, "", b_zp])


def _round_int8(wt: np.ndarray, qmax: int = 127) -> tuple[np.ndarray, np.ndarray]:
    """[in, out] -> int8 in [-qmax, qmax] and one symmetric scale per output channel."""
    amax = np.abs(wt).max(axis=0)
    scale = np.where(amax > 0, amax / float(qmax), 1.0).astype(np.float32)
    return np.clip(np.rint(wt / scale), -qmax, qmax).astype(np.int8), scale


def _int8_weight(g: Graph, weights: dict, name: str, zero_rows=None, levels: int = 1, whole: bool = True,
                 qmax: int = 127) -> tuple[str | None, str, np.ndarray, np.ndarray]:
    """The int8 weight [in, out] (or [in, 2 out] with two levels), the name of its stored scales,
    those scales, and, `whole`, the name to store it under (grouped linears store it by group instead)."""
    wt = np.asarray(weights[name + ".weight"], np.float32).T  # [in, out]
    if zero_rows is not None and len(zero_rows):
        wt = wt.copy()
        wt[zero_rows] = 0
    q, scale = _round_int8(wt, qmax)
    if levels == 2:
        q2, scale2 = _round_int8(wt - q.astype(np.float32) * scale, qmax)
        q, scale = np.concatenate([q, q2], axis=1), np.concatenate([scale, scale2])
    return name + ".weight_int8" if whole else None, g.init(name + ".weight_scale", scale), q, scale


def linear_int8(g: Graph, x: str, weights: dict, name: str, opts: Int8Options | None = None) -> str:
    """x @ W^T on ONNX Runtime's integer GEMM (MLAS u8s8: AVX2, AVX-512 VNNI or AMX, picked by
    ONNX Runtime at run time from the CPU's flags), W as int8 per output channel."""
    opts = opts or Int8Options(activations="tensor")
    idx = opts.outliers.get(name) if opts.activations == "row" else None
    idx = None if idx is None or not len(idx) else np.asarray(idx, np.int64)
    levels = opts.weight_levels if opts.activations == "row" and not name.endswith(tuple(opts.one_level_linears)) else 1
    grouped = opts.activations == "row" and opts.groups.get(name) is not None
    w, s, q, w_scale = _int8_weight(g, weights, name, idx, levels, whole=not grouped, qmax=WEIGHT_QMAX[opts.weight_type])
    node = name.replace(".", "_")
    if opts.activations in ("tensor", "static"):
        w = g.init(w, q)
    if opts.activations == "tensor":
        return g.op("DynamicQuantizeMatMul", [x, w, s], name=node, domain=MS_DOMAIN)
    if opts.activations == "static":
        lo, hi = (float(v) for v in opts.ranges[name])
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        a_scale = np.float32(max(hi - lo, 1e-8) / 255.0)
        zp = np.uint8(np.clip(np.rint(-lo / a_scale), 0, 255))
        a_s, a_zp = g.const(a_scale, np.float32), g.const(zp, np.uint8)
        xq = g.op("QuantizeLinear", [x, a_s, a_zp])
        return g.op("MatMulIntegerToFloat", [xq, w, a_s, s, a_zp], name=node, domain=MS_DOMAIN)
    if opts.activations == "row_symmetric":
        return _linear_int8_row_symmetric(g, x, weights, name, w, s, q, opts)
    assert opts.activations == "row", opts.activations
    # Per row (token), as DynamicQuantizeLinear rounds a tensor: x ~ scale_r * (q - zp_r), q
    # uint8 over the row's [min, max] with 0 in it. MatMulInteger takes one zero point only,
    # so y = scale_r * s_w * (q @ W - zp_r * colsum(W)).
    k, n = (int(d) for d in reversed(np.asarray(weights[name + ".weight"]).shape))
    groups = opts.groups.get(name)
    if groups is not None:
        build = _linear_int8_groups if opts.group_layout == "loop" else _linear_int8_groups_batched
        return build(g, x, weights, name, [np.asarray(c, np.int64) for c in groups], idx, s, q, k, n, levels, opts)
    key = (x, None if idx is None else idx.tobytes(), opts.activation_levels)
    if key not in g.row_quant:
        x2 = g.op("Reshape", [x, g.const([-1, k])])  # [M, K]
        outl = None
        if idx is not None:
            outl = g.op("Gather", [x2, g.const(idx)], axis=1)  # [M, k_outliers], fp32
            mask = np.ones(k, np.float32)
            mask[idx] = 0
            x2 = g.op("Mul", [x2, g.const(mask, np.float32)])
        quantized = _quantize_rows(g, x2) if opts.activation_levels == 1 else _quantize_rows_twice(g, x2)
        g.row_quant[key] = (*quantized, outl)
    xq, row_scale, zp_i32, outl = g.row_quant[key]
    if opts.zero_point_term == "fp32":
        named = node if levels == 1 and idx is None else None
        y = _rescale_fp32(g, xq, row_scale, zp_i32, w, s, q, w_scale, opts, named if opts.activation_levels == 1 else None)
        if opts.activation_levels == 2:  # the two levels' rows [2M, ...] summed: Split and Add, as the batched groups' Sum
            width = q.shape[1]
            first, second = g.op("Split", [g.op("Reshape", [y, g.const([2, -1, width])])], n_out=2, axis=0)
            y = g.op("Reshape", [g.op("Add", [first, second]), g.const([-1, width])], name=named)
        return _finish_int8(g, y, weights, name, idx, outl, n, levels)
    colsum = g.init(name + ".weight_colsum", q.astype(np.int32).sum(axis=0).astype(np.int32))
    acc = g.op("Sub", [_matmul_integer(g, xq, w, q, opts), g.op("Mul", [zp_i32, colsum])])  # int32 [M, N or 2N]
    y = g.op("Mul", [g.op("Mul", [g.op("Cast", [acc], to=F32), s]), row_scale], name=node if levels == 1 and idx is None else None)
    return _finish_int8(g, y, weights, name, idx, outl, n, levels)


def _linear_int8_row_symmetric(g: Graph, x: str, weights: dict, name: str, w: str, s: str, q: np.ndarray, opts: Int8Options) -> str:
    """Each row rounded over [-max|x|, max|x|] to uint8 with zero point 128: one zero point
    for the whole tensor, so MatMulIntegerToFloat applies it and the weights' scales in its
    kernel, and one Mul by the rows' scales finishes (against "row": Sub, Mul, Cast, Mul, Mul)."""
    k, n = (int(d) for d in reversed(np.asarray(weights[name + ".weight"]).shape))
    key = (x, "symmetric")
    if key not in g.row_quant:
        x2 = g.op("Reshape", [x, g.const([-1, k])])  # [M, K]
        amax = g.op("ReduceMax", [g.op("Abs", [x2])], axes=[1], keepdims=1)  # [M, 1]
        scale = g.op("Max", [g.op("Mul", [amax, g.const(1.0 / 127.0, np.float32)]), g.const(1e-12, np.float32)])
        xq = g.op("QuantizeLinear", [g.op("Div", [x2, scale]), g.const(1.0, np.float32), g.const(np.uint8(128), np.uint8)])
        g.row_quant[key] = (xq, scale)
    xq, row_scale = g.row_quant[key]
    b, b_zp = _stored_weight(g, w, q, opts)
    # a_scale 1: the rows' scales differ, and the op takes one for A.
    inputs = [xq, b, g.const(1.0, np.float32), s, g.const(np.uint8(128), np.uint8)] + ([] if b_zp is None else [b_zp])
    y = g.op("Mul", [g.op("MatMulIntegerToFloat", inputs, domain=MS_DOMAIN), row_scale], name=name.replace(".", "_"))
    return _finish_int8(g, y, weights, name, None, None, n, 1)


def _rescale_fp32(g: Graph, xq: str, row_scale: str, zp_i32: str, w: str, s: str, q: np.ndarray, w_scale: np.ndarray,
                  opts: Int8Options, node: str | None) -> str:
    """scale_r * (s_w * (q @ W) - zp_r * (s_w * colsum(W))) with the weights' scales in the GEMM's
    epilogue and the zero points' term as one rank-1 Gemm on its output (Int8Options.zero_point_term "fp32")."""
    b, b_zp = _stored_weight(g, w, q, opts)
    inputs = [xq, b, g.const(1.0, np.float32), s] + ([] if b_zp is None else ["", b_zp])
    scaled = g.op("MatMulIntegerToFloat", inputs, domain=MS_DOMAIN)  # s_w * (q @ W), [M, N]
    colsum = q.astype(np.int64).sum(axis=0).astype(np.float64)
    s_colsum = g.init(w + "_scaled_colsum", (colsum * w_scale.astype(np.float64)).astype(np.float32)[None, :])  # [1, N]
    key = ("neg_zp", zp_i32)  # one per quantized input, shared by its linears (q/k/v, gate/up)
    if key not in g.row_quant:
        g.row_quant[key] = g.op("Neg", [g.op("Cast", [zp_i32], to=F32)])  # [M, 1]
    neg_zp = g.row_quant[key]
    shifted = g.op("Gemm", [neg_zp, s_colsum, scaled])  # scaled - zp_r * s_w * colsum
    return g.op("Mul", [shifted, row_scale], name=node)


def _quantize_rows_twice(g: Graph, x2: str) -> tuple[str, str, str]:
    """[M, K] -> each row rounded, then its residual rounded over its own range: uint8 [2M, K]
    (the first level's rows, then the second's), scales and int32 zero points [2M, 1]."""
    xq1, scale1, zp1 = _quantize_rows(g, x2)
    rounded = g.op("Mul", [g.op("Sub", [g.op("Cast", [xq1], to=F32), g.op("Cast", [zp1], to=F32)]), scale1])
    xq2, scale2, zp2 = _quantize_rows(g, g.op("Sub", [x2, rounded]))
    return tuple(g.op("Concat", [a, b], axis=0) for a, b in ((xq1, xq2), (scale1, scale2), (zp1, zp2)))


def _quantize_rows(g: Graph, x2: str) -> tuple[str, str, str]:
    """[M, K] fp32 -> uint8 over each row's [min, max] (0 in it), its scale [M, 1] and int32 zero point."""
    lo = g.op("Min", [g.op("ReduceMin", [x2], axes=[1], keepdims=1), g.const(0.0, np.float32)])  # [M, 1]
    hi = g.op("Max", [g.op("ReduceMax", [x2], axes=[1], keepdims=1), g.const(0.0, np.float32)])
    scale = g.op("Max", [g.op("Mul", [g.op("Sub", [hi, lo]), g.const(1.0 / 255.0, np.float32)]), g.const(1e-12, np.float32)])
    zp = g.op("Round", [g.op("Div", [g.op("Neg", [lo]), scale])])  # [M, 1], in [0, 255]
    flat = g.const([-1])
    xq = g.op("QuantizeLinear", [x2, g.op("Reshape", [scale, flat]), g.op("Reshape", [g.op("Cast", [zp], to=TensorProto.UINT8), flat])], axis=0)
    return xq, scale, g.op("Cast", [zp], to=I32)


def _linear_int8_groups(g: Graph, x: str, weights: dict, name: str, groups: list, idx, s: str, q: np.ndarray,
                        k: int, n: int, levels: int, opts: Int8Options) -> str:
    """Activations rounded per row and group of input channels (one range each): one
    MatMulInteger per group, y = s_w * sum_g scale_rg * (q_g @ W_g - zp_rg * colsum(W_g))."""
    key = (x, tuple(c.tobytes() for c in groups), None if idx is None else idx.tobytes())
    if key not in g.row_quant:
        x2 = g.op("Reshape", [x, g.const([-1, k])])  # [M, K]
        outl = None if idx is None else g.op("Gather", [x2, g.const(idx)], axis=1)
        g.row_quant[key] = ([_quantize_rows(g, g.op("Gather", [x2, g.const(c)], axis=1)) for c in groups], outl)
    quantized, outl = g.row_quant[key]
    total = None
    for j, (c, (xq, row_scale, zp_i32)) in enumerate(zip(groups, quantized)):
        qg = q[c]
        colsum = g.init(f"{name}.weight_colsum_group{j}", qg.astype(np.int32).sum(axis=0).astype(np.int32))
        acc = g.op("Sub", [_matmul_integer(g, xq, f"{name}.weight_int8_group{j}", qg, opts), g.op("Mul", [zp_i32, colsum])])
        part = g.op("Mul", [g.op("Cast", [acc], to=F32), row_scale])
        total = part if total is None else g.op("Add", [total, part])
    y = g.op("Mul", [total, s], name=name.replace(".", "_") if levels == 1 and idx is None else None)
    return _finish_int8(g, y, weights, name, idx, outl, n, levels)


def _linear_int8_groups_batched(g: Graph, x: str, weights: dict, name: str, groups: list, idx, s: str, q: np.ndarray,
                                k: int, n: int, levels: int, opts: Int8Options) -> str:
    """The rounding and sums of _linear_int8_groups, with every group in one tensor [G, M, K/G]
    (groups shorter than the longest padded with a zero channel, which changes no range, as 0
    is in each, and meets zero weight rows), so each step is one op instead of G."""
    G, kg = len(groups), max(len(c) for c in groups)
    pad = k  # the zero channel's index, after the K real ones
    order = np.concatenate([np.concatenate([c, np.full(kg - len(c), pad, np.int64)]) for c in groups])
    key = ("batched", x, order.tobytes(), None if idx is None else idx.tobytes())
    if key not in g.row_quant:
        x2 = g.op("Reshape", [x, g.const([-1, k])])  # [M, K]
        outl = None if idx is None else g.op("Gather", [x2, g.const(idx)], axis=1)
        src = x2 if kg * G == sum(map(len, groups)) else g.op("Pad", [x2, g.const([0, 0, 0, 1])])
        xg = g.op("Gather", [src, g.const(order)], axis=1)  # [M, G*kg]
        xt = g.op("Transpose", [g.op("Reshape", [xg, g.const([-1, G, kg])])], perm=[1, 0, 2])  # [G, M, kg]
        xq, row_scale, zp_i32 = _quantize_rows(g, g.op("Reshape", [xt, g.const([-1, kg])]))  # rows (group, row)
        to3 = g.const([G, -1, kg])
        col = g.const([G, -1, 1])
        g.row_quant[key] = ((g.op("Reshape", [xq, to3]), g.op("Reshape", [row_scale, col]), g.op("Reshape", [zp_i32, col])), outl)
    (xq, row_scale, zp_i32), outl = g.row_quant[key]
    wq = np.zeros((G, kg, q.shape[1]), np.int8)
    for j, c in enumerate(groups):
        wq[j, :len(c)] = q[c]
    colsum = wq.astype(np.int32).sum(axis=1, keepdims=True).astype(np.int32)  # [G, 1, N]
    prod = _matmul_integer(g, xq, f"{name}.weight_int8_groups", wq, opts)  # [G, M, N]
    acc = g.op("Sub", [prod, g.op("Mul", [zp_i32, g.init(f"{name}.weight_colsum_groups", colsum)])])
    # float(acc) * scale_rg in one pass (DequantizeLinear of int32, per (group, row)): what Cast
    # then Mul compute, to the bit.
    flat = g.op("Reshape", [acc, g.const([-1, q.shape[1]])])  # [G*M, N]
    part = g.op("DequantizeLinear", [flat, g.op("Reshape", [row_scale, g.const([-1])])], axis=0)
    # The sum over G as Split and one variadic Sum, which adds in order as the loop's Adds do and
    # runs faster than ReduceSum over axis 0 (18% of a batch-16 step).
    parts = g.op("Split", [g.op("Reshape", [part, g.const([G, -1, q.shape[1]])])], n_out=G, axis=0) if G > 1 else [part]
    total = g.op("Reshape", [g.op("Sum", parts) if G > 1 else part, g.const([-1, q.shape[1]])])  # [M, N]
    y = g.op("Mul", [total, s], name=name.replace(".", "_") if levels == 1 and idx is None else None)
    return _finish_int8(g, y, weights, name, idx, outl, n, levels)


def _finish_int8(g: Graph, y: str, weights: dict, name: str, idx, outl, n: int, levels: int) -> str:
    node = name.replace(".", "_")
    if levels == 2:  # s1 * (x @ Q1) + s2 * (x @ Q2)
        halves = [g.op("Slice", [y, g.const([a]), g.const([b]), g.const([1])]) for a, b in ((0, n), (n, 2 * n))]
        y = g.op("Add", halves, name=node if idx is None else None)
    if idx is not None:
        w_out = np.asarray(weights[name + ".weight"], np.float32).T[idx]  # [k_outliers, N]
        y = g.op("Add", [y, g.op("MatMul", [outl, g.init(name + ".weight_outliers", w_out)])], name=node)
    if n not in g.out_shapes:
        g.out_shapes[n] = g.op("Concat", [*g.bs, g.const([n])], axis=0)
    return g.op("Reshape", [y, g.out_shapes[n]])


def head_exact_top(g: Graph, logits: str, h: str, table: str, hidden: int, vocab: int, top: int) -> str:
    """logits [B, S, vocab] (int8) with each row's `top` highest recomputed as h . table[v] in
    fp32 (table: the fp32 [vocab, hidden] weights): on AMX the integer GEMM costs about a ninth
    of the fp32 one (docs/int8.md), and the few fp32 dot products keep greedy's choice fp32's."""
    top = min(top, vocab)
    flat = g.op("Reshape", [logits, g.const([-1, vocab])])  # [M, V]
    _, idx = g.op("TopK", [flat, g.const([top])], n_out=2, axis=1)  # [M, top]
    rows = g.op("Gather", [table, idx], axis=0)  # [M, top, hidden]
    h3 = g.op("Reshape", [h, g.const([-1, hidden, 1])])  # [M, hidden, 1]
    exact = g.op("Reshape", [g.op("MatMul", [rows, h3]), g.const([-1, top])])  # [M, top]
    return g.op("Reshape", [g.op("ScatterElements", [flat, idx, exact], axis=1), g.op("Shape", [logits])])
