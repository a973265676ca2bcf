import { describe, expect, it } from 'vitest';
import { validateRawSample } from '../../src/records/validate-sample.js';

const good = { id: 'a', task: 'CREAK', question: 'q?', answer: '(A)' };

describe('validateRawSample', () => {
  it('accepts a sample and fills defaults', () => {
    expect(validateRawSample({ ...good, extra: 1 })).toEqual({ ...good, context: null, metadata: {} });
    expect(validateRawSample({ ...good, context: 'c', metadata: { k: 'v' } })).toMatchObject({ context: 'c', metadata: { k: 'v' } });
  });

  it('takes numbers in the text fields as their text, as produce does, whoever sent the sample', () => {
    expect(validateRawSample({ ...good, id: 777, answer: 1 })).toMatchObject({ id: '777', answer: '1' });
  });

  it.each([
    [null, 'sample: expected an object, got null'],
    [[1], 'sample: expected an object, got an array'],
    [{ ...good, id: true }, 'id: expected a non-empty string, got true'],
    [{ ...good, id: Number.NaN }, 'id: expected a non-empty string, got NaN'],
    [{ ...good, question: '  ' }, 'question: expected a non-empty string, got "  "'],
    [{ ...good, answer: undefined }, 'answer: expected a non-empty string, got nothing'],
    [{ ...good, context: 3 }, 'context: expected a string or null, got 3'],
    [{ ...good, metadata: { k: 1 } }, 'metadata.k: expected a string, got 1'],
  ])('rejects %j naming the field', (value, message) => {
    expect(() => validateRawSample(value)).toThrow(message);
  });
});
