import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkFaithfulness, faithfulnessContext } from '../../src/quality/faithfulness.js';
import { addFaithfulness, judge } from '../../src/quality/gate.js';
import { DEFAULT_QUALITY, parseQuality } from '../../src/quality/quality-options.js';
import { createContinuationScorer, type ContinuationRequest, type ContinuationScorer } from '../../src/teacher/continuation-scorer.js';

const QUESTION = 'Determine the correctness of the following sentence. Eating soup means eating only solids. (A) True (B) False';
const COT = 'Soup is mostly water or broth, so eating it means taking in a liquid.';

/** Scores each option letter from a table, recording the requests. */
function fakeScorer(byLetter: Record<string, number>): ContinuationScorer & { requests: ContinuationRequest[] } {
  const s = {
    requests: [] as ContinuationRequest[],
    score: async (requests: readonly ContinuationRequest[]) => (s.requests.push(...requests), requests.map((r) => byLetter[r.continuation]!)),
    close: async () => {},
  };
  return s;
}

describe('faithfulness', () => {
  it("scores each option letter after the chain of thought and zero-shot CoT's answer trigger", async () => {
    expect(faithfulnessContext(QUESTION, `  ${COT}\n`)).toBe(`Q: ${QUESTION} A: Let's think step by step. ${COT} Therefore, the answer is (`);
    const scorer = fakeScorer({ A: -2, B: -0.5 });
    const [result] = await checkFaithfulness(scorer, [{ question: QUESTION, answer: '(B)', text: COT }]);
    expect(scorer.requests.map((r) => r.continuation)).toEqual(['B', 'A']);
    expect(result).toEqual({ check: 'faithfulness', passed: true, value: 1.5, threshold: 0 });
  });

  it('fails when any other option scores at least as high as the gold one, naming the best of them', async () => {
    const question = 'Which is a liquid? (A) stone (B) soup (C) wood';
    const [result] = await checkFaithfulness(fakeScorer({ A: -3, B: -1, C: -0.25 }), [{ question, answer: '(B)', text: COT }]);
    expect(result).toMatchObject({ passed: false, value: -0.75, detail: 'after the chain of thought the teacher prefers (C) by 0.75 nats' });
    const [tie] = await checkFaithfulness(fakeScorer({ A: -1, B: -1 }), [{ question: QUESTION, answer: '(B)', text: COT }]);
    expect(tie!.passed).toBe(false);
  });

  it('scores nothing for a question without labelled options, and the gate counts it passed', async () => {
    const scorer = fakeScorer({});
    expect(await checkFaithfulness(scorer, [{ question: 'Is soup a liquid?', answer: 'yes', text: COT }])).toEqual([undefined]);
    const spec = { ...DEFAULT_QUALITY, checks: { ...DEFAULT_QUALITY.checks, faithfulness: true } };
    const verdict = judge(spec, 'cot', COT, 'eos', { question: 'Is soup a liquid? Explain.', answer: 'yes' });
    await addFaithfulness(spec, scorer, [{ kind: 'cot', text: COT, sample: { question: 'Is soup a liquid? Explain.', answer: 'yes' }, verdict }]);
    expect(verdict.results.at(-1)).toMatchObject({ check: 'faithfulness', passed: true });
  });

  it('is off unless the topology turns it on, scores chains of thought only, and needs a scorer', async () => {
    expect(parseQuality({})!.checks.faithfulness).toBeUndefined();
    expect(parseQuality({ checks: { faithfulness: true } })!.checks.faithfulness).toBe(true);
    expect(() => parseQuality({ checks: { faithfulness: 'yes' } })).toThrow('quality.checks.faithfulness: expected true or false');
    const spec = { ...DEFAULT_QUALITY, checks: { ...DEFAULT_QUALITY.checks, faithfulness: true } };
    const sample = { question: QUESTION, answer: '(B)' };
    const scorer = fakeScorer({ A: 0, B: -1 });
    const cot = { kind: 'cot' as const, text: COT, sample, verdict: judge(spec, 'cot', COT, 'eos', sample) };
    const mistakes = { kind: 'mistakes' as const, text: COT, sample, verdict: judge(spec, 'mistakes', COT, 'eos', sample) };
    await addFaithfulness(spec, scorer, [cot, mistakes]);
    expect(scorer.requests).toHaveLength(2);
    expect(cot.verdict.passed).toBe(false);
    expect(mistakes.verdict.results.map((r) => r.check)).not.toContain('faithfulness');
    await expect(addFaithfulness(spec, undefined, [cot])).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('on a tiny model, passes exactly when the model itself prefers the gold letter after the chain of thought', async () => {
    const scorer = await createContinuationScorer({ modelDir: join(import.meta.dirname, '..', 'fixtures', 'models', 'tiny-llama') });
    try {
      const inputs = ['(A)', '(B)'].flatMap((answer) => ['Soup is a liquid.', 'Soup is solid food, people chew it.', COT].map((text) => ({ question: QUESTION, answer, text })));
      const results = await checkFaithfulness(scorer, inputs);
      for (const [i, input] of inputs.entries()) {
        const context = faithfulnessContext(input.question, input.text);
        const [a, b] = await scorer.score([{ context, continuation: 'A' }, { context, continuation: 'B' }]);
        const gold = input.answer === '(A)' ? a! - b! : b! - a!;
        expect(results[i]!.passed, `input ${i}`).toBe(gold > 0);
        expect(results[i]!.value).toBeCloseTo(gold, 3);
      }
      // Gold (A) and gold (B) of the same text are mirror images.
      expect(results.slice(0, 3).map((r) => r!.value)).toEqual(results.slice(3).map((r) => expect.closeTo(-r!.value, 3)));
    } finally {
      await scorer.close();
    }
  });
});
