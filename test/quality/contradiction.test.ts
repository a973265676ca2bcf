import { describe, expect, it } from 'vitest';
import { findAssertions, findContradiction } from '../../src/quality/contradiction.js';

const Q = 'Determine the correctness of the following sentence. Eating soup means eating only solids. (A) True (B) False';
const MCQ = 'Where do you keep milk? (A) fridge (B) oven (C) shelf';

describe('findContradiction', () => {
  it('flags a chain of thought that states another option than the gold one', () => {
    const f = findContradiction('A: The answer is (A). Soup is a solid food.', Q, '(B)');
    expect(f.contradicting).toMatchObject({ label: 'A', negated: false });
  });

  it('passes text that asserts the gold option, by label or by its text', () => {
    expect(findContradiction('Soup is mostly liquid, so the answer is (B).', Q, '(B)').contradicting).toBeUndefined();
    expect(findContradiction('Soup is mostly liquid. The sentence is false.', Q, '(B)').contradicting).toBeUndefined();
    expect(findContradiction('The answer is False because soup is liquid.', Q, '(B)').contradicting).toBeUndefined();
  });

  it('reads option text, true/false verdicts and negations', () => {
    expect(findContradiction('The sentence is true: soup is solid.', Q, '(B)').contradicting?.label).toBe('A');
    // An option's text in a label's parentheses, as a teacher barred from inventing '(C)' writes it.
    expect(findContradiction('The answer is (True), as soup has solid bits.', Q, '(B)').contradicting?.label).toBe('A');
    expect(findContradiction('The answer is (False), as soup is a liquid.', Q, '(B)').contradicting).toBeUndefined();
    expect(findContradiction('The statement is not false.', Q, '(B)').contradicting).toMatchObject({ label: 'B', negated: true });
    expect(findContradiction('(B) is incorrect, soup is solid.', Q, '(B)').contradicting).toMatchObject({ label: 'B', negated: true });
    expect(findContradiction('(A) is incorrect because soup is a liquid.', Q, '(B)').contradicting).toBeUndefined();
    expect(findContradiction('The answer is not (A).', Q, '(B)').contradicting).toBeUndefined();
    expect(findContradiction('The answer is oven.', MCQ, '(A)').contradicting).toBeUndefined(); // no option text match: 'oven' is B
  });

  it('matches an option by its text in a multiple-choice question', () => {
    const f = findAssertions('Milk spoils warm, so the answer is (C).', MCQ);
    expect(f.map((a) => a.label)).toEqual(['C']);
    expect(findContradiction('Milk spoils warm, so the answer is (C).', MCQ, '(A)').contradicting?.label).toBe('C');
  });

  it('does not take reported beliefs for assertions', () => {
    const text = 'A common mistake is to think the answer is (A), because soup has solid bits.';
    expect(findContradiction(text, Q, '(B)').contradicting).toBeUndefined();
    expect(findContradiction('People may assume the sentence is true.', Q, '(B)').contradicting).toBeUndefined();
  });

  it('takes a parenthesized label the question does not offer for a wrong option, a bare letter not, and has no verdict without a gold label', () => {
    expect(findContradiction('The answer is (C), which means it is not possible to tell.', Q, '(B)').contradicting?.label).toBe('C');
    expect(findAssertions('The answer is d, since nobody knows.', Q)).toEqual([]);
    expect(findContradiction('The answer is (A).', Q, 'soup').contradicting).toBeUndefined();
  });
});
