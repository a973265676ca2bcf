import { describe, expect, it } from 'vitest';
import { ERROR_CODES, TeacherlmError, asTeacherlmError, isTeacherlmError } from '../src/errors.js';

describe('TeacherlmError', () => {
  it('takes its retriability from the code unless overridden', () => {
    expect(new TeacherlmError('BROKER_UNREACHABLE', 'x').retriable).toBe(ERROR_CODES.BROKER_UNREACHABLE);
    expect(new TeacherlmError('DECODE_FAILED', 'x').retriable).toBe(false);
    expect(new TeacherlmError('DECODE_FAILED', 'x', { retriable: true }).retriable).toBe(true);
  });

  it('keeps the cause and serialises without it', () => {
    const cause = new Error('root');
    const err = new TeacherlmError('IO_FAILED', 'cannot read', { cause });
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({ name: 'TeacherlmError', code: 'IO_FAILED', message: 'cannot read', retriable: false });
  });

  it('wraps foreign errors and passes its own through', () => {
    const own = new TeacherlmError('SHUT_DOWN', 'bye');
    expect(asTeacherlmError(own, 'IO_FAILED')).toBe(own);
    const wrapped = asTeacherlmError(new Error('boom'), 'GENERATION_FAILED');
    expect(isTeacherlmError(wrapped, 'GENERATION_FAILED')).toBe(true);
    expect(wrapped.message).toBe('boom');
    expect(wrapped.retriable).toBe(true);
  });
});
