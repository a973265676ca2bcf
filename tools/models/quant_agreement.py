"""Teacher-forced top-1 agreement of a quantized model file with our fp32 model, on the 20
verification prompts of verify_llamacpp.py: each prompt followed by the fp32 model's greedy
continuation (32 tokens or up to EOS); at every position, does the quantized file's argmax
equal the fp32 one? Also the mean KL divergence of its next-token distribution from fp32's
over the same positions: near-ties flip a top-1, not the KL. Files in the buffered layout
(onnx_decoder.build_llama(buffered=True)) are run one token per step, as the engine
decodes; Optimum-layout files in one pass.

  .cache/py/venv/bin/python tools/models/quant_agreement.py --model models/smollm2-135m-instruct \
      --files model_buffered_int8.onnx model_quantized.onnx
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_test_models import Runner  # noqa: E402
from onnx_decoder import logits_to_keep_feed  # noqa: E402
from verify_llamacpp import MAX_NEW, model_prompts  # noqa: E402


class BufferedRunner:
    """Steps a buffered-layout file one token at a time, keeping the cache as the engine does."""

    def __init__(self, folder: Path, onnx_file: str, threads: int):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.sess = ort.InferenceSession(str(folder / "onnx" / onnx_file), so, providers=["CPUExecutionProvider"])
        self.past = [i for i in self.sess.get_inputs() if i.name.startswith("past_key_values.")]
        self.outputs = [o.name for o in self.sess.get_outputs()]

    def logits_each_position(self, seq: list[int]) -> np.ndarray:
        cache = {i.name: np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32) for i in self.past}
        rows = []
        for t, token in enumerate(seq):
            feed = {"input_ids": np.array([[token]], np.int64), "attention_mask": np.ones((1, t + 1), np.int64),
                    "position_ids": np.array([[t]], np.int64), **cache, **logits_to_keep_feed(self.sess)}
            out = dict(zip(self.outputs, self.sess.run(self.outputs, feed)))
            rows.append(out["logits"][0, -1])
            for name in cache:
                cache[name] = np.concatenate([cache[name], out[name.replace("past_key_values.", "new_key_values.")]], axis=2)
        return np.stack(rows)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """Per position (last axis), in float64: a KL of small differences needs the precision."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--files", nargs="+", default=["model_buffered_int8.onnx"])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    folder = Path(args.model)
    cases, _, eos = model_prompts(folder)
    ref = Runner(folder)
    seqs, ref_top1, ref_logp = [], [], []
    for case in cases:
        ids = ref.encode(case["prompt"])
        seq = ids + ref.greedy(ids, MAX_NEW, eos)
        seqs.append(seq)
        logits, _ = ref.run(np.array([seq]), np.ones((1, len(seq)), np.int64), None)
        ref_top1.append(logits[0].argmax(-1))
        ref_logp.append(_log_softmax(logits[0]))
    results = {"model": str(folder), "prompts": len(cases), "positions": int(sum(map(len, seqs))), "files": {}}
    for file in args.files:
        fast = "new_key_values.0.key" in {o.name for o in ort.InferenceSession(str(folder / "onnx" / file)).get_outputs()}
        runner = BufferedRunner(folder, file, args.threads) if fast else Runner(folder, file)
        hits, kl = 0, 0.0
        for seq, top1, logp in zip(seqs, ref_top1, ref_logp):
            if fast:
                logits = runner.logits_each_position(seq)
            else:
                logits = runner.run(np.array([seq]), np.ones((1, len(seq)), np.int64), None)[0][0]
            hits += int((logits.argmax(-1) == top1).sum())
            kl += float((np.exp(logp) * (logp - _log_softmax(logits))).sum())
        results["files"][file] = {"layout": "buffered" if fast else "optimum", "top1_agreement_with_fp32": round(hits / results["positions"], 4),
                                  "mean_kl_from_fp32": round(kl / results["positions"], 5)}
        print(json.dumps({file: results["files"][file]}), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
