"""The trainer's texts, pinned to the same strings as the feed's (test/student-feed/sequences.test.ts)."""
import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from student.sequences import build_sequence, eval_prompt, option_letters, parse_kinds, sequences_of  # noqa: E402

QUESTION = "Is the following sentence plausible? Eating soup means eating only solids. (A) True (B) False"


def note(text):
    return {"text": text, "modelId": "m", "promptTokens": 1, "generatedTokens": 1, "finishReason": "eos"}


SAMPLE = {
    "id": "creak-1", "task": "CREAK", "question": QUESTION, "answer": "(B)", "context": None,
    "fundamentals": note("Soup is a liquid food."),
    "chainOfThought": note("Soup is mostly liquid. So the answer is (B)."),
    "commonMistakes": note("Thinking of chunky soups as solid."),
}


class Sequences(unittest.TestCase):
    def test_reference_format_per_kind(self):
        self.assertEqual(sequences_of(SAMPLE, ["qa", "cot", "fundamentals", "mistakes"]), [
            ("qa", f"Q: {QUESTION} A: The answer is (B)."),
            ("cot", f"Q: {QUESTION} A: The answer is (B). Let's think step by step. Soup is mostly liquid. So the answer is (B)."),
            ("fundamentals", f"Q: {QUESTION} A: The answer is (B). The fundamental of this question is: Soup is a liquid food."),
            ("mistakes", f"Q: {QUESTION} A: The answer is (B). The common mistakes are: Thinking of chunky soups as solid."),
        ])

    def test_whitespace_clean_up_is_one_pass_then_rstrip(self):
        sample = {"question": "Is it?  (A) True    (B) False", "answer": "(A)", "context": None}
        self.assertEqual(build_sequence(sample, "cot", "Because  so.  "),
                         "Q: Is it? (A) True  (B) False A: The answer is (A). Let's think step by step. Because so.")

    def test_missing_annotation_is_left_out(self):
        self.assertEqual([k for k, _ in sequences_of({**SAMPLE, "chainOfThought": None}, ["cot", "mistakes"])], ["mistakes"])

    def test_eval_prompt_and_letters(self):
        self.assertEqual(eval_prompt(SAMPLE), f"Q: {QUESTION} A: The answer is (")
        self.assertEqual(option_letters(QUESTION), ["A", "B"])

    def test_kinds_are_checked(self):
        self.assertEqual(parse_kinds("qa,cot"), ["qa", "cot"])
        with self.assertRaisesRegex(ValueError, "unknown kind 'answers'"):
            parse_kinds("qa,answers")


if __name__ == "__main__":
    unittest.main()
