import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { frame, isSingleObject, unframe } from '../../src/records/wire-format.js';

describe('single-object wire format', () => {
  it('frames and unframes', () => {
    const fp = Buffer.from('0102030405060708', 'hex');
    const bytes = frame(fp, Buffer.from('body'));
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
    expect(isSingleObject(bytes)).toBe(true);
    const { fingerprint, body } = unframe(bytes);
    expect(fingerprint).toEqual(fp);
    expect(body.toString()).toBe('body');
  });

  it('rejects bytes without the marker', () => {
    expect(isSingleObject(Buffer.from('{"id":"1"}'))).toBe(false);
    try {
      unframe(Buffer.from('{"id":"1"}'));
      expect.unreachable();
    } catch (err) {
      expect(isTeacherlmError(err, 'DECODE_FAILED')).toBe(true);
    }
  });
});
