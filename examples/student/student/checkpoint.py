"""Checkpoints that carry the Kafka offsets they cover.

A checkpoint holds the model, the optimizer, the step, the RNG state, the next offset of
every partition whose records the saved weights have trained on, and the length of the
step log at that moment. It is written to a temporary name, fsync'd and renamed (then the
folder fsync'd). On restart the step log is cut back to that length: it then lists
exactly the steps the restored weights took, and training resumes at the offsets, so no
sample is trained twice and none is skipped."""
import os
import pathlib

CHECKPOINT = "checkpoint.pt"
STEP_LOG = "steps.jsonl"


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(run_dir, state):
    run_dir = pathlib.Path(run_dir)
    import torch  # here, so the report reads step logs without torch

    tmp = run_dir / f".{CHECKPOINT}.tmp"
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, run_dir / CHECKPOINT)
    _fsync_dir(run_dir)


def load(run_dir):
    import torch

    path = pathlib.Path(run_dir) / CHECKPOINT
    return torch.load(path, map_location="cpu") if path.exists() else None


class StepLog:
    """``steps.jsonl``: one JSON line per optimizer step (loss, ids, offsets), fsync'd before the checkpoint that covers it."""

    def __init__(self, run_dir, keep_bytes):
        self.path = pathlib.Path(run_dir) / STEP_LOG
        with open(self.path, "ab") as f:
            f.truncate(keep_bytes)
        self.file = open(self.path, "ab")

    def append(self, lines):
        self.file.write("".join(line + "\n" for line in lines).encode())
        self.file.flush()
        os.fsync(self.file.fileno())
        return self.file.tell()

    def close(self):
        self.file.close()
