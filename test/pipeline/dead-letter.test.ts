import { describe, expect, it } from 'vitest';
import { deadLetterFor } from '../../src/pipeline/dead-letter.js';
import { TeacherlmError } from '../../src/errors.js';
import { sourceRecord } from './fakes.js';

describe('deadLetterFor', () => {
  it("gives an untyped error its stage's code and keeps a typed error's own", () => {
    const codeOf = (stage: 'decode' | 'generate' | 'encode', error: unknown) => {
      const finished = deadLetterFor(sourceRecord(3, 'raw'), { stage, error, attempts: 1, now: 0 });
      return finished.kind === 'dead-letter' ? finished.value.errorCode : undefined;
    };
    expect(codeOf('decode', new Error('x'))).toBe('DECODE_FAILED');
    expect(codeOf('generate', new Error('x'))).toBe('GENERATION_FAILED');
    expect(codeOf('encode', new Error('x'))).toBe('ENCODE_FAILED');
    expect(codeOf('encode', new TeacherlmError('SHUT_DOWN', 'x'))).toBe('SHUT_DOWN');
  });
});
