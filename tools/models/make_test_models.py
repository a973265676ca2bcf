"""Write the tiny random-weight test models (Optimum ONNX layout) under
test/fixtures/models/{tiny-llama,tiny-bloom}: onnx/model.onnx (fp32), and for tiny-llama
its fp16 and int8 variants, onnx/model_fp16.onnx and onnx/model_quantized.onnx
(model_variants.py; the engine reads a model's precision the same way whatever its
architecture, so one model's variants cover it and the fixtures stay small), and
onnx/model_buffered.onnx, the fp32 weights in the engine's fast layout
(onnx_decoder.build_llama(buffered=True)).
Deterministic: fixed seeds, a byte-level BPE tokenizer trained on the CREAK dev questions.

  .cache/py/venv/bin/python tools/models/make_test_models.py [--out test/fixtures/models]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_variants import write_variants  # noqa: E402
from onnx_decoder import BloomSpec, LlamaSpec, build_bloom, build_llama  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CREAK = ROOT / "test" / "fixtures" / "creak" / "creak-dev.jsonl"
VOCAB_SIZE = 768
TRANSFORMERS_VERSION = "4.46.0"

LLAMA_SPECIALS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
BLOOM_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]

# ChatML, as SmolLM2 / Qwen instruct models use it.
LLAMA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
BLOOM_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
    "{% else %}{{ 'Assistant: ' + message['content'] + eos_token + '\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

TRIGGERS = [
    "Let's think step by step.",
    "The common mistakes are:",
    "The fundamental of this question is:",
]


def training_texts() -> list[str]:
    texts = []
    for line in CREAK.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        base = f"Q: {row['question']} A: The answer is {row['answer']}."
        texts.extend([base, row.get("analysis", "")] + [f"{base} {t}" for t in TRIGGERS])
    return texts


def train_tokenizer(specials: list[str], add_bos: bool) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(training_texts(), trainer)
    if add_bos:
        bos = specials[1]
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    return tok


def added_tokens_decoder(tok: Tokenizer, specials: list[str]) -> dict:
    return {
        str(tok.token_to_id(s)): {
            "content": s, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": True,
        }
        for s in specials
    }


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def normal(rng: np.random.Generator, shape, std: float) -> np.ndarray:
    return (rng.standard_normal(shape) * std).astype(np.float32)


def llama_weights(spec: LlamaSpec, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    H, KV, D, E, I = spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.hidden_size, spec.intermediate_size
    w = {"model.embed_tokens.weight": normal(rng, (spec.vocab_size, E), 0.35)}
    for i in range(spec.num_layers):
        p = f"model.layers.{i}"
        w[f"{p}.input_layernorm.weight"] = 1.0 + normal(rng, (E,), 0.1)
        w[f"{p}.self_attn.q_proj.weight"] = normal(rng, (H * D, E), 0.2)
        w[f"{p}.self_attn.k_proj.weight"] = normal(rng, (KV * D, E), 0.2)
        w[f"{p}.self_attn.v_proj.weight"] = normal(rng, (KV * D, E), 0.15)
        w[f"{p}.self_attn.o_proj.weight"] = normal(rng, (E, H * D), 0.1)
        w[f"{p}.post_attention_layernorm.weight"] = 1.0 + normal(rng, (E,), 0.1)
        w[f"{p}.mlp.gate_proj.weight"] = normal(rng, (I, E), 0.15)
        w[f"{p}.mlp.up_proj.weight"] = normal(rng, (I, E), 0.15)
        w[f"{p}.mlp.down_proj.weight"] = normal(rng, (E, I), 0.1)
    w["model.norm.weight"] = 1.0 + normal(rng, (E,), 0.1)
    return w


def bloom_weights(spec: BloomSpec, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    E = spec.hidden_size
    # Larger than llama's: with std 0.35/0.2 greedy BLOOM collapses to one token for most prompts.

    def ln(name: str) -> None:
        w[f"{name}.weight"] = 1.0 + normal(rng, (E,), 0.1)
        w[f"{name}.bias"] = normal(rng, (E,), 0.02)

    w = {"transformer.word_embeddings.weight": normal(rng, (spec.vocab_size, E), 0.525)}
    ln("transformer.word_embeddings_layernorm")
    for i in range(spec.num_layers):
        p = f"transformer.h.{i}"
        ln(f"{p}.input_layernorm")
        w[f"{p}.self_attention.query_key_value.weight"] = normal(rng, (3 * E, E), 0.3)
        w[f"{p}.self_attention.query_key_value.bias"] = normal(rng, (3 * E,), 0.02)
        w[f"{p}.self_attention.dense.weight"] = normal(rng, (E, E), 0.15)
        w[f"{p}.self_attention.dense.bias"] = normal(rng, (E,), 0.02)
        ln(f"{p}.post_attention_layernorm")
        w[f"{p}.mlp.dense_h_to_4h.weight"] = normal(rng, (4 * E, E), 0.225)
        w[f"{p}.mlp.dense_h_to_4h.bias"] = normal(rng, (4 * E,), 0.02)
        w[f"{p}.mlp.dense_4h_to_h.weight"] = normal(rng, (E, 4 * E), 0.15)
        w[f"{p}.mlp.dense_4h_to_h.bias"] = normal(rng, (E,), 0.02)
    ln("transformer.ln_f")
    return w


def save_model(model: onnx.ModelProto, folder: Path, file: str = "model.onnx") -> None:
    onnx.checker.check_model(model)
    (folder / "onnx").mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "onnx" / file))


def make_llama(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(LLAMA_SPECIALS, add_bos=True)
    tok.save(str(folder / "tokenizer.json"))
    ids = {s: tok.token_to_id(s) for s in LLAMA_SPECIALS}
    spec = LlamaSpec(
        vocab_size=VOCAB_SIZE, hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2,
        intermediate_size=160, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
    )
    write_json(folder / "config.json", {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": ids["<s>"],
        "eos_token_id": ids["</s>"],
        "head_dim": spec.head_dim,
        "hidden_act": "silu",
        "hidden_size": spec.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": spec.intermediate_size,
        "max_position_embeddings": 2048,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": spec.num_heads,
        "num_hidden_layers": spec.num_layers,
        "num_key_value_heads": spec.num_kv_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": spec.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": spec.rope_theta,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": spec.vocab_size,
    })
    write_json(folder / "generation_config.json", {
        "_from_model_config": True,
        "bos_token_id": ids["<s>"],
        # Like Llama-3 instruct: plain EOS or the end of a chat turn.
        "eos_token_id": [ids["</s>"], ids["<|im_end|>"]],
        "transformers_version": TRANSFORMERS_VERSION,
    })
    write_json(folder / "tokenizer_config.json", {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": added_tokens_decoder(tok, LLAMA_SPECIALS),
        "bos_token": "<s>",
        "chat_template": LLAMA_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "model_max_length": 2048,
        "pad_token": "<unk>",
        "padding_side": "left",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": "<unk>",
    })
    weights = llama_weights(spec, seed=1234)
    save_model(build_llama(spec, weights), folder)
    write_variants(folder / "onnx")
    save_model(build_llama(spec, weights, buffered=True), folder, "model_buffered.onnx")


def make_bloom(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(BLOOM_SPECIALS, add_bos=False)
    tok.save(str(folder / "tokenizer.json"))
    ids = {s: tok.token_to_id(s) for s in BLOOM_SPECIALS}
    spec = BloomSpec(vocab_size=VOCAB_SIZE, hidden_size=64, num_layers=2, num_heads=4, layer_norm_epsilon=1e-5)
    write_json(folder / "config.json", {
        "apply_residual_connection_post_layernorm": False,
        "architectures": ["BloomForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": ids["<s>"],
        "eos_token_id": ids["</s>"],
        "hidden_dropout": 0.0,
        "hidden_size": spec.hidden_size,
        "initializer_range": 0.02,
        "layer_norm_epsilon": spec.layer_norm_epsilon,
        "model_type": "bloom",
        "n_head": spec.num_heads,
        "n_layer": spec.num_layers,
        "pad_token_id": ids["<pad>"],
        "pretraining_tp": 1,
        "slow_but_exact": False,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": spec.vocab_size,
    })
    write_json(folder / "generation_config.json", {
        "_from_model_config": True,
        "bos_token_id": ids["<s>"],
        "eos_token_id": ids["</s>"],
        "pad_token_id": ids["<pad>"],
        "transformers_version": TRANSFORMERS_VERSION,
    })
    write_json(folder / "tokenizer_config.json", {
        "add_prefix_space": False,
        "added_tokens_decoder": added_tokens_decoder(tok, BLOOM_SPECIALS),
        "bos_token": "<s>",
        "chat_template": BLOOM_CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "model_max_length": 2048,
        "pad_token": "<pad>",
        "padding_side": "left",
        "tokenizer_class": "BloomTokenizer",
        "unk_token": "<unk>",
    })
    save_model(build_bloom(spec, bloom_weights(spec, seed=5678)), folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "test" / "fixtures" / "models"))
    out = Path(parser.parse_args().out)
    make_llama(out / "tiny-llama")
    make_bloom(out / "tiny-bloom")
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out}/tiny-llama and {out}/tiny-bloom ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
