"""Training and evaluation texts in the format of TeacherLM's reference code.

Training: one causal-LM sequence per (sample, kind), the whole teacher text, e.g.
``Q: {question} A: The answer is {answer}. Let's think step by step. {cot}``, cleaned as the
reference cleans prompts: one pass of ``replace("  ", " ")``, then trailing spaces stripped.
``qa`` is the sequence without any annotation (``Q: ... A: The answer is (B).``), the
baseline the paper compares against. The same builder as the feed's
(src/student-feed/sequences.ts); the tests pin both to the same strings.

Evaluation: zero-shot log-likelihood of each option letter after
``Q: {question} A: The answer is (``.
"""
import re

TRIGGERS = {
    "fundamentals": "The fundamental of this question is:",
    "cot": "Let's think step by step.",
    "mistakes": "The common mistakes are:",
}
# Avro field of each annotation kind (schemas/augmented-sample.avsc).
FIELDS = {"fundamentals": "fundamentals", "cot": "chainOfThought", "mistakes": "commonMistakes"}
KINDS = ("qa", "cot", "fundamentals", "mistakes")


def clean_whitespace(text):
    return text.replace("  ", " ").rstrip(" ")


def question_stem(sample):
    question = f"{sample['context']} {sample['question']}" if sample.get("context") else sample["question"]
    return "Q: " + question + " A: The answer is " + sample["answer"] + "."


def build_sequence(sample, kind, annotation=None):
    if kind == "qa":
        return clean_whitespace(question_stem(sample))
    return clean_whitespace(question_stem(sample) + " " + TRIGGERS[kind] + " " + annotation)


def sequences_of(sample, kinds):
    """(kind, text) for each kind the sample has; an annotation the teacher did not write is left out."""
    out = []
    for kind in kinds:
        if kind == "qa":
            out.append((kind, build_sequence(sample, kind)))
            continue
        note = sample.get(FIELDS[kind])
        if note is not None:
            out.append((kind, build_sequence(sample, kind, note["text"])))
    return out


def parse_kinds(value):
    kinds = [k.strip() for k in value.split(",")]
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"--kinds: unknown kind {kind!r}, expected some of {', '.join(KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"--kinds: a kind is named twice in {value!r}")
    return kinds


def eval_prompt(sample):
    """The reference's evaluation prompt: the option letter's log-likelihood is read after it."""
    question = f"{sample['context']} {sample['question']}" if sample.get("context") else sample["question"]
    return clean_whitespace("Q: " + question) + " A: The answer is ("


def option_letters(question):
    """The letters of the options written inline, e.g. ``(A) True (B) False`` -> ['A', 'B']."""
    return re.findall(r"\(([A-Z])\)", question)
