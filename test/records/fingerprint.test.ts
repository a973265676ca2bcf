import { describe, expect, it } from 'vitest';
import { rabinFingerprint } from '../../src/records/fingerprint.js';

// Reference values computed independently with fastavro's fingerprint(..., 'CRC-64-AVRO')
// (little-endian bytes, as single-object encoding writes them).
describe('rabinFingerprint', () => {
  it('matches the Avro reference implementation', () => {
    expect(rabinFingerprint('"null"').toString('hex')).toBe('8a8f25cce724dd63');
    expect(rabinFingerprint('{"name":"x","type":"record","fields":[{"name":"a","type":"string"}]}').toString('hex')).toBe(
      '585cd816923878d7',
    );
  });
});
