import { describe, expect, it } from 'vitest';
import { isTeacherlmError } from '../../src/errors.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { decodeRawSample } from '../../src/records/decode-raw-sample.js';

const codec = recordCodecs().rawSample;
const sample = { id: 'x1', task: 'CREAK', question: 'q', answer: 'a', context: null, metadata: {} };
const avroBytes = codec.encode(sample);
const jsonBytes = Buffer.from(` \n${JSON.stringify({ id: 'x1', task: 'CREAK', question: 'q', answer: 'a' })}`);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isTeacherlmError(err) ? err.code : 'untyped';
  }
  return undefined;
}

describe('decodeRawSample', () => {
  it('auto-detects Avro and JSON', () => {
    expect({ ...decodeRawSample(avroBytes, 'auto', codec) }).toEqual(sample);
    expect(decodeRawSample(jsonBytes, 'auto', codec)).toEqual(sample);
  });

  it('reads JSON as kcat sends it: a leading UTF-8 BOM, a numeric id', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ id: 777, task: 'CREAK', question: 'q', answer: 'a' }))]);
    expect(decodeRawSample(bom, 'auto', codec)).toEqual({ ...sample, id: '777' });
    expect(decodeRawSample(bom, 'json', codec).id).toBe('777');
  });

  it('honours a fixed format', () => {
    expect(codeOf(() => decodeRawSample(jsonBytes, 'avro', codec))).toBe('DECODE_FAILED');
    expect(codeOf(() => decodeRawSample(avroBytes, 'json', codec))).toBe('DECODE_FAILED');
    expect(decodeRawSample(jsonBytes, 'json', codec).id).toBe('x1');
  });

  it('tells bad bytes from bad samples', () => {
    expect(codeOf(() => decodeRawSample(null, 'auto', codec))).toBe('DECODE_FAILED');
    expect(codeOf(() => decodeRawSample(Buffer.from('{"id": '), 'auto', codec))).toBe('DECODE_FAILED');
    expect(codeOf(() => decodeRawSample(Buffer.from('hello'), 'auto', codec))).toBe('DECODE_FAILED');
    expect(codeOf(() => decodeRawSample(Buffer.from('{"id":"1"}'), 'auto', codec))).toBe('INVALID_SAMPLE');
    const emptyId = codec.encode({ ...sample, id: '' });
    expect(() => decodeRawSample(emptyId, 'auto', codec)).toThrow('id: expected a non-empty string, got ""');
  });
});
