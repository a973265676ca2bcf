import { describe, expect, it } from 'vitest';
import { toJsonLine } from '../../src/tail/json-line.js';

describe('toJsonLine', () => {
  it('prints bytes as text when UTF-8, else base64, inside any record', () => {
    const record = { key: Buffer.from('k'), value: Buffer.from([0xff, 0x00]), nested: [{ note: Buffer.from('ok') }], count: 3, none: null };
    expect(JSON.parse(toJsonLine(record))).toEqual({ key: 'k', value: { base64: '/wA=' }, nested: [{ note: 'ok' }], count: 3, none: null });
  });
});
