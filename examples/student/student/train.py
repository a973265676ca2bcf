"""Fine-tunes a causal-LM student on the augmented topic, continuously.

    python -m student.train --topic samples.augmented --kinds cot --run-dir RUN

Each optimizer step takes ``--batch-size`` samples from the topic (all their sequences of
``--kinds``), in the order the consumer reads them. Every ``--checkpoint-every`` steps the
steps are appended to ``RUN/steps.jsonl`` (fsync'd), then a checkpoint with the offsets
they cover is saved, then those offsets are committed to the group: kill -9 anywhere and
the restart resumes at the checkpoint, with the step log cut back to it, so no id is
trained twice and none is skipped. Logs JSON lines on stderr (loss, samples/s, held-out
CREAK accuracy every ``--eval-every`` steps).
"""
import argparse
import json
import os
import pathlib
import sys
import time

import torch

from . import checkpoint
from .evaluate import accuracy, load_heldout
from .kafka_dataset import KafkaSamples
from .model import encode_batch, load_student
from .sequences import parse_kinds, sequences_of


def log(fields):
    sys.stderr.write(json.dumps({"ts": round(time.time(), 3), **fields}) + "\n")
    sys.stderr.flush()


def positive(value):
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return n


def parse_args(argv):
    p = argparse.ArgumentParser(prog="student.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--brokers", default=os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"))
    p.add_argument("--topic", default="samples.augmented")
    p.add_argument("--group", default="teacherlm-student", help="one group per run folder")
    p.add_argument("--run-dir", required=True, help="checkpoint, steps.jsonl, evals.jsonl")
    p.add_argument("--student", default="tiny", help="'tiny' (a 2-layer Llama, CPU) or a from_pretrained name or folder")
    p.add_argument("--kinds", default="cot", type=parse_kinds, help="from qa,cot,fundamentals,mistakes (default cot)")
    p.add_argument("--batch-size", type=positive, default=8, help="samples per optimizer step")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-tokens", type=positive, default=2048, help="keep the last N tokens of a sequence (reference: 2048)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=positive, default=1)
    p.add_argument("--eval-every", type=int, default=0, help="held-out CREAK accuracy every N steps (0: off); also before the first step")
    p.add_argument("--eval-samples", type=positive, default=None, help="first N held-out samples (default all)")
    p.add_argument("--max-steps", type=positive, default=None)
    p.add_argument("--until-idle", type=positive, default=None, metavar="MS", help="stop after MS with no record, counted once partitions are assigned")
    p.add_argument("--threads", type=positive, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run_dir = pathlib.Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    model, tokenizer = load_student(args.student, seed=args.seed)
    model.to(args.device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    state = checkpoint.load(run_dir)
    step, offsets, log_bytes = 0, {}, 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        step, offsets, log_bytes = state["step"], state["offsets"], state["log_bytes"]
        log({"event": "resumed", "step": step, "offsets": offsets})
    else:
        torch.manual_seed(args.seed)
    heldout = load_heldout(limit=args.eval_samples) if args.eval_every > 0 else []
    steps_log = checkpoint.StepLog(run_dir, log_bytes)

    def evaluate():
        acc = accuracy(model, tokenizer, heldout, args.device)
        line = {"event": "eval", "step": step, "accuracy": acc, "samples": len(heldout), "kinds": args.kinds}
        log(line)
        with open(run_dir / "evals.jsonl", "a") as f:
            f.write(json.dumps(line) + "\n")

    if heldout and state is None:
        evaluate()

    dataset = KafkaSamples(args.brokers, args.topic, args.group, start_offsets=offsets, idle_ms=args.until_idle, log=log)
    pending = []

    def save_checkpoint():
        nonlocal pending, log_bytes
        if not pending:
            return
        log_bytes = steps_log.append(pending)
        checkpoint.save(run_dir, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(),
                                  "step": step, "offsets": dict(offsets), "log_bytes": log_bytes})
        dataset.commit(offsets)
        pending = []

    def train_on(items):
        nonlocal step
        started = time.monotonic()
        seqs = [(item["sample"]["id"], kind, text) for item in items if item["sample"] is not None
                for kind, text in sequences_of(item["sample"], args.kinds)]
        loss_value = None
        if seqs:
            ids, mask, labels = encode_batch(tokenizer, [t for _, _, t in seqs], args.max_tokens, args.device)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_value = loss.item()
        step += 1
        for item in items:
            offsets[item["partition"]] = max(offsets.get(item["partition"], 0), item["offset"] + 1)
        seconds = time.monotonic() - started
        line = {"step": step, "ts": round(time.time(), 3), "loss": loss_value, "samples": len(items), "sequences": len(seqs),
                "samples_per_s": round(len(items) / seconds, 2), "ids": sorted({i for i, _, _ in seqs}),
                "records": [[item["partition"], item["offset"]] for item in items]}
        log({"event": "step", **{k: v for k, v in line.items() if k not in ("ids", "records")}})
        pending.append(json.dumps(line))
        if step % args.checkpoint_every == 0:
            save_checkpoint()
        if heldout and step % args.eval_every == 0:
            evaluate()

    batch = []
    try:
        for item in dataset:
            batch.append(item)
            if len(batch) == args.batch_size:
                train_on(batch)
                batch = []
                if args.max_steps is not None and step >= args.max_steps:
                    break
        if batch and (args.max_steps is None or step < args.max_steps):
            train_on(batch)  # the last, smaller batch: nothing read is left untrained
        save_checkpoint()
        if heldout and step % args.eval_every != 0:
            evaluate()
    finally:
        dataset.close()
        steps_log.close()
    log({"event": "summary", "step": step, "offsets": offsets, "skipped": dataset.skipped})
    return 0


if __name__ == "__main__":
    sys.exit(main())
