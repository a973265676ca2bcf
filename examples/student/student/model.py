"""The student: a causal LM from Hugging Face transformers.

``tiny`` (the CPU default) is a freshly initialised few-layer Llama with the teacher's
tokenizer (SmolLM2's, ``models/smollm2-135m-instruct/tokenizer.json``), small enough to take
real optimizer steps on two cores. Anything else is a local folder or a Hub name for
``AutoModelForCausalLM.from_pretrained`` (OPT, BLOOM, SmolLM2 ... on a GPU machine).
"""
import pathlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parents[3]
TEACHER_TOKENIZER = ROOT / "models" / "smollm2-135m-instruct" / "tokenizer.json"
TINY = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4}


def load_student(name, tokenizer_file=TEACHER_TOKENIZER, seed=0):
    """(model, tokenizer) for ``tiny`` or a from_pretrained name/folder."""
    if name == "tiny":
        if not pathlib.Path(tokenizer_file).exists():
            raise FileNotFoundError(f"{tokenizer_file}: the teacher's tokenizer is missing (run `teacherlm model import smollm2`)")
        tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file))
        torch.manual_seed(seed)
        config = LlamaConfig(vocab_size=len(tokenizer), max_position_embeddings=2048, tie_word_embeddings=True, **TINY)
        model = LlamaForCausalLM(config)
    else:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForCausalLM.from_pretrained(name)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token if tokenizer.eos_token is not None else tokenizer.convert_ids_to_tokens(0)
    return model, tokenizer


def encode_batch(tokenizer, texts, max_tokens, device):
    """Token ids padded to the longest, each capped to its LAST ``max_tokens`` tokens (the reference's cap);
    labels are the ids (loss on all tokens) with padding masked out."""
    rows = [tokenizer(text, add_special_tokens=False)["input_ids"][-max_tokens:] for text in texts]
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids.to(device), mask.to(device), labels.to(device)
