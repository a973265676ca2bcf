"""ONNX graph builder for decoder-only LMs in the Hugging Face Optimum
`text-generation-with-past` layout (one builder, used by the test-model
generator and by the GGUF importer).

I/O (Optimum names and dynamic axes):
  input_ids        int64 [batch_size, sequence_length]
  attention_mask   int64 [batch_size, past_sequence_length + sequence_length]
  position_ids     int64 [batch_size, sequence_length]          (llama only)
  past_key_values.{i}.key/.value float32 [batch_size, kv_heads, past_sequence_length, head_dim]
  logits           float32 [batch_size, sequence_length, vocab]
  present.{i}.key/.value float32 [batch_size, kv_heads, past_sequence_length + sequence_length, head_dim]

Head counts and head_dim are fixed numbers in the input shapes: transformers.js
sizes the empty first-step cache from the session metadata (symbolic dims -> 0).

`build_llama(..., buffered=True)` writes the engine's fast layout instead (picked by its
output names): the same inputs, but `past_key_values.*` is a preallocated buffer the caller
keeps (columns beyond the attention mask's ones are ignored) and the outputs are only what
is new, so no step copies the cache (ONNX Runtime copies every output out to JavaScript):
  logits_to_keep   int64 scalar (in): how many of the last positions get logits
  logits           float32 [batch_size, logits_to_keep, vocab]    (the last positions only)
  new_key_values.{i}.key/.value float32 [batch_size, kv_heads, sequence_length, head_dim]
Attention scores against the buffer and against the new positions are computed apart
(FusedMatMul with transB, no transposed copy of the cache) and softmaxed together.
`int8=True` stores the linear layers as int8 per output channel (onnx_int8.py) for ONNX Runtime's
DynamicQuantizeMatMul or MatMulInteger (integer GEMM, VNNI/AMX); the LM head stays fp32 unless Int8Options.head.

Weights are passed with Hugging Face names and shapes (Linear weight = [out, in]).
Masked attention uses a large negative *finite* bias so fully masked (pad) rows
softmax to a uniform distribution instead of NaN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import onnx
from onnx import TensorProto, helper

from onnx_graph import F32, I64, MS_DOMAIN, Graph
from onnx_int8 import Int8Options, head_exact_top, linear_int8

OPSET = 17
MASK_VALUE = -1e9


@dataclass
class LlamaSpec:
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    intermediate_size: int
    rms_norm_eps: float
    rope_theta: float
    tie_word_embeddings: bool = True

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


@dataclass
class GgmlArith:
    """Mirror llama.cpp's CPU arithmetic for a quantized GGUF (AVX2 kernels, f16 KV cache,
    no flash attention) instead of plain fp32. An experiment (tools/models/q8_sensitivity.py),
    never used by the import: it is slower and only reproduces llama.cpp's rounding noise.

    - every weight MatMul first quantizes its activations per block of 32 along K, as
      ggml's quantize_row_q8_1 / q8_0: d = amax/127 (kept as fp16), q = round-half-even(x * 127/amax),
      x' = q * fp16(d); MatMul with the dequantized weights then equals llama.cpp's
      sum_b d_w*d_a*sum(q_w*q_a) + m_w*d_a*sum(q_a) up to fp32 rounding;
    - Q4_1's min term uses s = fp16(d*sum(q_a)) in llama.cpp, not fp16(d)*sum(q_a): `mins`
      (per linear, [out, K/32], the blocks' m) adds the difference m_w*(s - fp16(d)*sum(q_a));
    - K and V are rounded to fp16 (the f16 KV cache), as are Q and the softmax
      probabilities (ggml converts the f32 operand of an f16 mul_mat to f16).
    """
    mins: dict = field(default_factory=dict)
    f16_attention: bool = True


QBLOCK = 32
F16 = TensorProto.FLOAT16


def _round_f16(g: "Graph", x: str) -> str:
    return g.op("Cast", [g.op("Cast", [x], to=F16)], to=F32)


def _q8_activations(g: "Graph", x: str, k: int) -> tuple[str, str | None]:
    """x [B,S,K] -> (x' [B,S,K] fake-quantized as ggml q8_0/q8_1, s_err [B,S,K/32])."""
    nb = k // QBLOCK
    xb = g.op("Reshape", [x, g.const([0, 0, nb, QBLOCK])])
    amax = g.op("ReduceMax", [g.op("Abs", [xb])], axes=[-1], keepdims=1)
    d = g.op("Div", [amax, g.const(127.0, np.float32)])
    d16 = _round_f16(g, d)
    # 127/amax as the AVX2 kernel; an all-zero block stays zero (no 0*inf).
    inv = g.op("Div", [g.const(127.0, np.float32), g.op("Max", [amax, g.const(1e-30, np.float32)])])
    q = g.op("Round", [g.op("Mul", [xb, inv])])
    xq = g.op("Reshape", [g.op("Mul", [q, d16]), g.const([0, 0, k])])
    qsum = g.op("ReduceSum", [q, g.const([-1])], keepdims=0)  # [B,S,nb]
    d_sq = g.op("Squeeze", [d, g.const([-1])])
    d16_sq = g.op("Squeeze", [d16, g.const([-1])])
    s16 = _round_f16(g, g.op("Mul", [d_sq, qsum]))
    s_err = g.op("Sub", [s16, g.op("Mul", [d16_sq, qsum])])
    return xq, s_err


@dataclass
class BloomSpec:
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    layer_norm_epsilon: float

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


def _linear(g: Graph, x: str, weights: dict, name: str, bias: bool = False, ggml: GgmlArith | None = None) -> str:
    """x @ W^T (+ b), storing W transposed ([in, out]) for MatMul."""
    wt = np.asarray(weights[name + ".weight"], np.float32).T
    w = g.init(name + ".weight", wt)
    if ggml is None:
        y = g.op("MatMul", [x, w], name=name.replace(".", "_"))
    else:
        xq, s_err = _q8_activations(g, x, wt.shape[0])
        y = g.op("MatMul", [xq, w], name=name.replace(".", "_"))
        mins = ggml.mins.get(name)
        if mins is not None:
            m = g.init(name + ".block_min", np.asarray(mins, np.float32).T)  # [K/32, out]
            y = g.op("Add", [y, g.op("MatMul", [s_err, m])])
    if bias:
        b = g.init(name + ".bias", np.asarray(weights[name + ".bias"], np.float32))
        y = g.op("Add", [y, b])
    return y


def _rms_norm(g: Graph, x: str, weights: dict, name: str, eps: float) -> str:
    # Pow/ReduceMean/Add/Sqrt/Div: the pattern ORT fuses into SimplifiedLayerNormalization.
    var = g.op("ReduceMean", [g.op("Pow", [x, g.const(2.0, np.float32)])], axes=[-1], keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(eps, np.float32)])])
    w = g.init(name + ".weight", np.asarray(weights[name + ".weight"], np.float32))
    return g.op("Mul", [g.op("Div", [x, std]), w])


def _layer_norm(g: Graph, x: str, weights: dict, name: str, eps: float) -> str:
    w = g.init(name + ".weight", np.asarray(weights[name + ".weight"], np.float32))
    b = g.init(name + ".bias", np.asarray(weights[name + ".bias"], np.float32))
    return g.op("LayerNormalization", [x, w, b], axis=-1, epsilon=eps)


def _dims(g: Graph, input_ids: str, attention_mask: str):
    """1-element int64 tensors B, S, T and scalars S, T, past."""
    ids_shape = g.op("Shape", [input_ids])
    mask_shape = g.op("Shape", [attention_mask])
    b = g.op("Slice", [ids_shape, g.const([0]), g.const([1])])
    s = g.op("Slice", [ids_shape, g.const([1]), g.const([2])])
    t = g.op("Slice", [mask_shape, g.const([1]), g.const([2])])
    s_scalar = g.op("Squeeze", [s, g.const([0])])
    t_scalar = g.op("Squeeze", [t, g.const([0])])
    past_scalar = g.op("Sub", [t_scalar, s_scalar])
    return b, s, t, s_scalar, t_scalar, past_scalar


def _mask_bias(g: Graph, attention_mask: str, t_scalar: str, past_scalar: str) -> str:
    """[B, 1, S, T] float: 0 where query i (absolute past+i) may see key j, MASK_VALUE elsewhere."""
    key_idx = g.op("Range", [g.const(0), t_scalar, g.const(1)])  # [T]
    query_idx = g.op("Range", [past_scalar, t_scalar, g.const(1)])  # [S]
    causal = g.op(
        "LessOrEqual",
        [g.op("Unsqueeze", [key_idx, g.const([0])]), g.op("Unsqueeze", [query_idx, g.const([1])])],
    )  # [S, T]
    keep = g.op("Cast", [attention_mask], to=TensorProto.BOOL)  # [B, T]
    keep = g.op("Unsqueeze", [keep, g.const([1, 2])])  # [B, 1, 1, T]
    allowed = g.op("And", [g.op("Unsqueeze", [causal, g.const([0, 1])]), keep])  # [B, 1, S, T]
    return g.op("Where", [allowed, g.const(0.0, np.float32), g.const(MASK_VALUE, np.float32)])


def _split_heads(g: Graph, x: str, heads: int, head_dim: int) -> str:
    """[B, S, heads*head_dim] -> [B, heads, S, head_dim]."""
    x = g.op("Reshape", [x, g.const([0, 0, heads, head_dim])])
    return g.op("Transpose", [x], perm=[0, 2, 1, 3])


def _merge_heads(g: Graph, x: str, hidden: int) -> str:
    """[B, heads, S, head_dim] -> [B, S, hidden]."""
    x = g.op("Transpose", [x], perm=[0, 2, 1, 3])
    return g.op("Reshape", [x, g.const([0, 0, hidden])])


def _lm_head(g: Graph, h: str, weight_name: str, hidden: int, b: str, s: str, vocab: int) -> str:
    # logits = h @ W^T via Gemm(transB): a tied embedding table is stored once.
    h2 = g.op("Reshape", [h, g.const([-1, hidden])])
    logits2 = g.op("Gemm", [h2, weight_name], transB=1)
    shape = g.op("Concat", [b, s, g.const([vocab])], axis=0)
    return g.op("Reshape", [logits2, shape], name="lm_head_reshape")


def _io(spec_heads: int, head_dim: int, num_layers: int, with_position_ids: bool, vocab: int):
    inputs = [
        helper.make_tensor_value_info("input_ids", I64, ["batch_size", "sequence_length"]),
        helper.make_tensor_value_info(
            "attention_mask", I64, ["batch_size", "past_sequence_length + sequence_length"]
        ),
    ]
    if with_position_ids:
        inputs.append(helper.make_tensor_value_info("position_ids", I64, ["batch_size", "sequence_length"]))
    outputs = [helper.make_tensor_value_info("logits", F32, ["batch_size", "sequence_length", vocab])]
    for i in range(num_layers):
        for kind in ("key", "value"):
            inputs.append(
                helper.make_tensor_value_info(
                    f"past_key_values.{i}.{kind}", F32,
                    ["batch_size", spec_heads, "past_sequence_length", head_dim],
                )
            )
            outputs.append(
                helper.make_tensor_value_info(
                    f"present.{i}.{kind}", F32,
                    ["batch_size", spec_heads, "past_sequence_length + sequence_length", head_dim],
                )
            )
    return inputs, outputs


def _finish(g: Graph, name: str, inputs, outputs, final_outputs: dict, contrib: bool = False) -> onnx.ModelProto:
    # Name the producing nodes' outputs after the declared outputs (an Identity per
    # present.* tensor cost ~5% of a decode step: ORT copies through each one).
    rename = {tensor: out_name for out_name, tensor in final_outputs.items()}
    assert len(rename) == len(final_outputs), "one tensor routed to two outputs"
    for node in g.nodes:
        node.output[:] = [rename.get(t, t) for t in node.output]
        node.input[:] = [rename.get(t, t) for t in node.input]
    graph = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)] + ([helper.make_opsetid(MS_DOMAIN, 1)] if contrib else []),
        producer_name="teacherlm-stream tools/models/onnx_decoder.py",
    )
    model.ir_version = 8
    return model


def logits_to_keep_feed(sess, count: int = 1) -> dict:
    """The feed of the buffered layout's `logits_to_keep` input for an onnxruntime session
    that has it (none for other graphs): logits for the last `count` positions."""
    return {"logits_to_keep": np.array(count, np.int64)} if any(i.name == "logits_to_keep" for i in sess.get_inputs()) else {}


def _buffered_io(spec: LlamaSpec):
    KV, D = spec.num_kv_heads, spec.head_dim
    inputs, _ = _io(KV, D, spec.num_layers, True, spec.vocab_size)
    # How many of the last positions get logits: 1 for a prefill or a decode step, k + 1 to
    # verify k drafted tokens (speculative decoding). A scalar, as Hugging Face's argument.
    inputs.append(helper.make_tensor_value_info("logits_to_keep", I64, []))
    outputs = [helper.make_tensor_value_info("logits", F32, ["batch_size", "logits_to_keep", spec.vocab_size])]
    for i in range(spec.num_layers):
        for kind in ("key", "value"):
            outputs.append(helper.make_tensor_value_info(
                f"new_key_values.{i}.{kind}", F32, ["batch_size", KV, "sequence_length", D]))
    return inputs, outputs


def build_llama(spec: LlamaSpec, weights: dict, ggml: GgmlArith | None = None, buffered: bool = False,
                int8: bool | Int8Options = False, fp32_linears: tuple[str, ...] = ()) -> onnx.ModelProto:
    """Optimum layout by default; `buffered` and `int8`: see the module docstring (`int8=True`
    is DynamicQuantizeMatMul, Int8Options(activations="tensor")).
    `fp32_linears`: with int8, the linears (by name suffix, e.g. "mlp.down_proj") kept fp32."""
    opts = int8 if isinstance(int8, Int8Options) else Int8Options(activations="tensor", fp32_linears=fp32_linears)
    fp32_linears = tuple(fp32_linears) + tuple(opts.fp32_linears)
    assert not (ggml is not None and (buffered or int8)), "the ggml experiment uses the Optimum layout"
    g = Graph()

    def lin(x: str, name: str) -> str:
        if int8 and not name.endswith(fp32_linears):
            return linear_int8(g, x, weights, name, opts)
        return _linear(g, x, weights, name, ggml=ggml)

    f16 = (lambda x: _round_f16(g, x)) if ggml is not None and ggml.f16_attention else (lambda x: x)  # noqa: E731
    H, KV, D = spec.num_heads, spec.num_kv_heads, spec.head_dim
    rep = H // KV
    assert H % KV == 0 and D % 2 == 0
    inputs, outputs = _buffered_io(spec) if buffered else _io(KV, D, spec.num_layers, True, spec.vocab_size)
    b, s, t, s_scalar, t_scalar, past_scalar = _dims(g, "input_ids", "attention_mask")
    g.bs = (b, s)

    embed = g.init("model.embed_tokens.weight", np.asarray(weights["model.embed_tokens.weight"], np.float32))
    h = g.op("Gather", ["model.embed_tokens.weight", "input_ids"], axis=0)

    bias = _mask_bias(g, "attention_mask", t_scalar, past_scalar)  # [B,1,S,T]
    bias5 = g.op("Unsqueeze", [bias, g.const([1])])  # [B,1,1,S,T]

    # Rotary tables from position_ids (HF rotate_half convention: halves, not pairs).
    inv_freq = 1.0 / (spec.rope_theta ** (np.arange(0, D, 2, dtype=np.int64).astype(np.float32) / D))
    pos = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], to=F32), g.const([2])])  # [B,S,1]
    freqs = g.op("Mul", [pos, g.const(inv_freq.astype(np.float32), np.float32)])  # [B,S,D/2]
    emb = g.op("Concat", [freqs, freqs], axis=-1)
    cos = g.op("Unsqueeze", [g.op("Cos", [emb]), g.const([1])])  # [B,1,S,D]
    sin = g.op("Unsqueeze", [g.op("Sin", [emb]), g.const([1])])
    half = g.const([D // 2, D // 2])

    def rope(x: str) -> str:
        x1, x2 = g.op("Split", [x, half], n_out=2, axis=-1)
        rotated = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
        return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotated, sin])])

    scale = g.const(1.0 / math.sqrt(D), np.float32)
    shape5 = g.op("Concat", [b, g.const([KV, rep]), s, t], axis=0) if buffered else None  # [B,KV,rep,S,T]
    finals = {}
    for i in range(spec.num_layers):
        p = f"model.layers.{i}"
        x = _rms_norm(g, h, weights, f"{p}.input_layernorm", spec.rms_norm_eps)
        q = f16(rope(_split_heads(g, lin(x, f"{p}.self_attn.q_proj"), H, D)))  # [B,H,S,D]
        k = f16(rope(_split_heads(g, lin(x, f"{p}.self_attn.k_proj"), KV, D)))  # [B,KV,S,D]
        v = f16(_split_heads(g, lin(x, f"{p}.self_attn.v_proj"), KV, D))
        if buffered:
            finals[f"new_key_values.{i}.key"] = k
            finals[f"new_key_values.{i}.value"] = v
            ctx = _buffered_attention(g, q, k, v, i, KV, rep, D, scale, bias5, shape5)
        else:
            k_all = g.op("Concat", [f"past_key_values.{i}.key", k], axis=2)  # [B,KV,T,D]
            v_all = g.op("Concat", [f"past_key_values.{i}.value", v], axis=2)
            finals[f"present.{i}.key"] = k_all
            finals[f"present.{i}.value"] = v_all
            # Grouped-query attention without copying K/V: query head h uses kv head h // rep,
            # so view Q as [B,KV,rep,S,D] and broadcast K/V over the rep axis.
            q5 = g.op("Reshape", [g.op("Mul", [q, scale]), g.const([0, KV, rep, -1, D])])
            k5t = g.op("Transpose", [g.op("Unsqueeze", [k_all, g.const([2])])], perm=[0, 1, 2, 4, 3])  # [B,KV,1,D,T]
            scores = g.op("Add", [g.op("MatMul", [q5, k5t]), bias5])  # [B,KV,rep,S,T]
            probs = f16(g.op("Softmax", [scores], axis=-1))
            ctx = g.op("MatMul", [probs, g.op("Unsqueeze", [v_all, g.const([2])])])  # [B,KV,rep,S,D]
            ctx = g.op("Reshape", [ctx, g.const([0, H, -1, D])])
        attn = lin(_merge_heads(g, ctx, H * D), f"{p}.self_attn.o_proj")
        h = g.op("Add", [h, attn])
        x = _rms_norm(g, h, weights, f"{p}.post_attention_layernorm", spec.rms_norm_eps)
        gate = lin(x, f"{p}.mlp.gate_proj")
        up = lin(x, f"{p}.mlp.up_proj")
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
        h = g.op("Add", [h, lin(act, f"{p}.mlp.down_proj")])

    if buffered:  # logits for the last `logits_to_keep` positions only (prompts are left-padded)
        keep = g.op("Unsqueeze", [g.op("Neg", ["logits_to_keep"]), g.const([0])])
        h = g.op("Slice", [h, keep, g.const([2**62]), g.const([1])])
        s = g.op("Slice", [g.op("Shape", [h]), g.const([1]), g.const([2])])
    h = _rms_norm(g, h, weights, "model.norm", spec.rms_norm_eps)
    if ggml is not None:  # the LM head's activations too (q8_0 for a Q8_0 table: no min term)
        h = _q8_activations(g, h, spec.hidden_size)[0]
    def fp32_head() -> str:  # the fp32 [vocab, hidden] table: the tied embedding is stored once
        return embed if spec.tie_word_embeddings else g.init("lm_head.weight", np.asarray(weights["lm_head.weight"], np.float32))

    if int8 and opts.head:
        g.bs = (b, s)
        table = opts.head_weight if opts.head_weight is not None else weights.get("lm_head.weight", weights["model.embed_tokens.weight"])
        # Rescored, the head needs one level of each: its top logits are fp32's anyway.
        head_opts = replace(opts, weight_levels=1, activation_levels=1) if opts.head_exact_top else opts
        logits = linear_int8(g, h, {"lm_head.weight": table}, "lm_head", head_opts)
        if opts.head_exact_top:
            logits = head_exact_top(g, logits, h, fp32_head(), spec.hidden_size, spec.vocab_size, opts.head_exact_top)
        finals = {"logits": logits, **finals}
    else:
        finals = {"logits": _lm_head(g, h, fp32_head(), spec.hidden_size, b, s, spec.vocab_size), **finals}
    return _finish(g, "llama_buffered" if buffered else "llama", inputs, outputs, finals, contrib=buffered or int8)


def _buffered_attention(g: Graph, q: str, k: str, v: str, i: int, KV: int, rep: int, D: int, scale: str, bias5: str,
                        shape5: str) -> str:
    """Grouped-query attention of q [B,H,S,D] over the cache buffer past_key_values.{i}.*
    [B,KV,P,D] and the new k, v [B,KV,S,D], without concatenating them: query head h uses
    kv head h // rep, so Q is viewed as [B,KV,rep*S,D] against each kv head."""
    q4 = g.op("Reshape", [g.op("Mul", [q, scale]), g.const([0, KV, -1, D])])  # [B,KV,rep*S,D]
    past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
    scores_past = g.op("FusedMatMul", [q4, past_k], domain=MS_DOMAIN, transB=1, alpha=1.0)  # [B,KV,rep*S,P]
    scores_new = g.op("FusedMatMul", [q4, k], domain=MS_DOMAIN, transB=1, alpha=1.0)  # [B,KV,rep*S,S]
    scores = g.op("Concat", [scores_past, scores_new], axis=-1)  # [B,KV,rep*S,T]
    scores5 = g.op("Reshape", [scores, shape5])  # [B,KV,rep,S,T]
    probs = g.op("Softmax", [g.op("Add", [scores5, bias5])], axis=-1)
    probs = g.op("Reshape", [probs, g.op("Shape", [scores])])  # [B,KV,rep*S,T]
    past_len = g.op("Slice", [g.op("Shape", [past_k]), g.const([2]), g.const([3])])
    probs_past = g.op("Slice", [probs, g.const([0]), past_len, g.const([-1])])
    probs_new = g.op("Slice", [probs, past_len, g.const([2**62]), g.const([-1])])
    ctx = g.op("Add", [g.op("MatMul", [probs_past, past_v]), g.op("MatMul", [probs_new, v])])  # [B,KV,rep*S,D]
    return g.op("Reshape", [ctx, g.const([0, KV * rep, -1, D])])  # [B,H,S,D]


def alibi_slopes(num_heads: int) -> np.ndarray:
    """HF BLOOM build_alibi_tensor slopes."""
    closest = 2 ** math.floor(math.log2(num_heads))
    base = 2 ** (-(2 ** -(math.log2(closest) - 3)))
    slopes = [base ** p for p in range(1, 1 + closest)]
    if closest != num_heads:
        extra_base = 2 ** (-(2 ** -(math.log2(2 * closest) - 3)))
        remaining = min(closest, num_heads - closest)
        slopes += [extra_base ** p for p in range(1, 1 + 2 * remaining, 2)]
    return np.asarray(slopes, dtype=np.float32)


def build_bloom(spec: BloomSpec, weights: dict) -> onnx.ModelProto:
    g = Graph()
    H, D, hidden = spec.num_heads, spec.head_dim, spec.hidden_size
    eps = spec.layer_norm_epsilon
    inputs, outputs = _io(H, D, spec.num_layers, False, spec.vocab_size)
    b, s, t, s_scalar, t_scalar, past_scalar = _dims(g, "input_ids", "attention_mask")

    embed = g.init(
        "transformer.word_embeddings.weight",
        np.asarray(weights["transformer.word_embeddings.weight"], np.float32),
    )
    h = g.op("Gather", [embed, "input_ids"], axis=0)
    h = _layer_norm(g, h, weights, "transformer.word_embeddings_layernorm", eps)

    # ALiBi as HF: positions (cumsum(mask) - 1) * mask, so left padding shifts nothing.
    mask_f = g.op("Cast", ["attention_mask"], to=F32)  # [B,T]
    positions = g.op("Mul", [g.op("Sub", [g.op("CumSum", [mask_f, g.const(1)]), g.const(1.0, np.float32)]), mask_f])
    positions = g.op("Unsqueeze", [positions, g.const([1, 2])])  # [B,1,1,T]
    alibi = g.op("Mul", [g.const(alibi_slopes(H).reshape(1, H, 1, 1), np.float32), positions])  # [B,H,1,T]
    bias = g.op("Add", [alibi, _mask_bias(g, "attention_mask", t_scalar, past_scalar)])  # [B,H,S,T]

    scale = g.const(1.0 / math.sqrt(D), np.float32)
    finals = {}
    for i in range(spec.num_layers):
        p = f"transformer.h.{i}"
        x = _layer_norm(g, h, weights, f"{p}.input_layernorm", eps)
        qkv = _linear(g, x, weights, f"{p}.self_attention.query_key_value", bias=True)  # [B,S,3*H*D]
        # HF layout: per head, [q, k, v] of head_dim each.
        qkv = g.op("Reshape", [qkv, g.const([0, 0, H, 3, D])])
        qkv = g.op("Transpose", [qkv], perm=[3, 0, 2, 1, 4])  # [3,B,H,S,D]
        q, k, v = (g.op("Squeeze", [part, g.const([0])]) for part in g.op("Split", [qkv, g.const([1, 1, 1])], n_out=3, axis=0))
        k_all = g.op("Concat", [f"past_key_values.{i}.key", k], axis=2)
        v_all = g.op("Concat", [f"past_key_values.{i}.value", v], axis=2)
        finals[f"present.{i}.key"] = k_all
        finals[f"present.{i}.value"] = v_all
        scores = g.op("MatMul", [g.op("Mul", [q, scale]), g.op("Transpose", [k_all], perm=[0, 1, 3, 2])])
        probs = g.op("Softmax", [g.op("Add", [scores, bias])], axis=-1)
        ctx = _merge_heads(g, g.op("MatMul", [probs, v_all]), hidden)
        h = g.op("Add", [h, _linear(g, ctx, weights, f"{p}.self_attention.dense", bias=True)])
        x = _layer_norm(g, h, weights, f"{p}.post_attention_layernorm", eps)
        up = _linear(g, x, weights, f"{p}.mlp.dense_h_to_4h", bias=True)
        # bloom_gelu_forward: tanh approximation.
        inner = g.op("Mul", [g.op("Mul", [up, g.const(0.79788456, np.float32)]),
                             g.op("Add", [g.const(1.0, np.float32), g.op("Mul", [g.op("Mul", [up, up]), g.const(0.044715, np.float32)])])])
        act = g.op("Mul", [g.op("Mul", [up, g.const(0.5, np.float32)]), g.op("Add", [g.const(1.0, np.float32), g.op("Tanh", [inner])])])
        h = g.op("Add", [h, _linear(g, act, weights, f"{p}.mlp.dense_4h_to_h", bias=True)])

    h = _layer_norm(g, h, weights, "transformer.ln_f", eps)
    finals = {"logits": _lm_head(g, h, embed, hidden, b, s, spec.vocab_size), **finals}
    return _finish(g, "bloom", inputs, outputs, finals)
