import { describe, expect, it } from 'vitest';
import { parseSampleLine } from '../../src/annotate/parse-sample.js';
import { IDENTITY_FIELD_MAP, parseFieldMap } from '../../src/records/field-map.js';
import { isTeacherlmError } from '../../src/errors.js';

const good = { id: 7, task: 'CREAK', question: 'Is it? (A) True (B) False', answer: '(A)' };

function failure(line: string, map = IDENTITY_FIELD_MAP): Error {
  try {
    parseSampleLine(line, map);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected parseSampleLine to throw');
}

describe('parseSampleLine', () => {
  it('reads a sample, a numeric id as text, context and metadata when present', () => {
    expect(parseSampleLine(JSON.stringify({ ...good, context: 'c', metadata: { k: 'v' } }), IDENTITY_FIELD_MAP)).toEqual({
      ...good,
      id: '7',
      context: 'c',
      metadata: { k: 'v' },
    });
  });

  it('fills an absent context and metadata as the stream does', () => {
    expect(parseSampleLine(JSON.stringify(good), IDENTITY_FIELD_MAP)).toEqual({ ...good, id: '7', context: null, metadata: {} });
  });

  it('names the bad field, and the input field it was read from under a map', () => {
    const map = parseFieldMap('question=q,context=passage');
    const missing = failure(JSON.stringify({ ...good, question: undefined }), map);
    expect(isTeacherlmError(missing, 'INVALID_SAMPLE')).toBe(true);
    expect(missing.message).toBe("question (read from 'q'): expected a non-empty string, got nothing");
    const context = failure(JSON.stringify({ ...good, q: 'x', passage: 3 }), map);
    expect(context.message).toBe("context (read from 'passage'): expected a string or null, got 3");
    expect(failure(JSON.stringify({ ...good, metadata: { n: 1 } })).message).toBe('metadata.n: expected a string, got 1');
  });

  it('fails bad JSON with DECODE_FAILED', () => {
    expect(isTeacherlmError(failure('{"id": '), 'DECODE_FAILED')).toBe(true);
  });
});
