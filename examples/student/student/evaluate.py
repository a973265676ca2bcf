"""Held-out CREAK under the reference's protocol: zero-shot, the log-likelihood of each
option letter after ``Q: {question} A: The answer is (``; the most likely letter is the
prediction."""
import json
import pathlib

import torch

from .sequences import eval_prompt, option_letters

HELDOUT = pathlib.Path(__file__).resolve().parents[3] / "data" / "creak-heldout.jsonl"


def load_heldout(path=HELDOUT, limit=None):
    rows = [json.loads(line) for line in pathlib.Path(path).read_text().splitlines() if line.strip()]
    return rows[:limit] if limit else rows


@torch.no_grad()
def accuracy(model, tokenizer, samples, device):
    model.eval()
    correct = 0
    for sample in samples:
        prompt_ids = tokenizer(eval_prompt(sample), add_special_tokens=False)["input_ids"]
        letters = option_letters(sample["question"])
        scores = []
        for letter in letters:
            ids = prompt_ids + tokenizer(letter, add_special_tokens=False)["input_ids"]
            logits = model(torch.tensor([ids], device=device)).logits[0]
            logprobs = torch.log_softmax(logits[len(prompt_ids) - 1 : len(ids) - 1].float(), dim=-1)
            target = torch.tensor(ids[len(prompt_ids) :], device=device)
            scores.append(logprobs.gather(1, target[:, None]).sum().item())
        predicted = letters[max(range(len(letters)), key=scores.__getitem__)]
        correct += predicted == sample["answer"].strip("()")
    model.train()
    return correct / len(samples)
