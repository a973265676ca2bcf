/**
 * Turns an input record value into a RawSample. Input may be Avro (single-object
 * encoding, see `wire-format.ts`) or JSON for plain clients (kcat, scripts): a UTF-8
 * object with the RawSample fields. `auto` tells them apart by the first bytes: the Avro
 * marker C3 01, or `{` after optional whitespace.
 */
import { TeacherlmError } from '../errors.js';
import type { AvroCodec } from './avro-codec.js';
import type { RawSample } from './types.js';
import { validateRawSample } from './validate-sample.js';
import { isSingleObject } from './wire-format.js';

export const INPUT_FORMATS = ['avro', 'json', 'auto'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Parses JSON bytes into a RawSample; DECODE_FAILED for bad JSON, INVALID_SAMPLE for a bad shape. */
export function decodeJsonSample(bytes: Buffer): RawSample {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new TeacherlmError('DECODE_FAILED', `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateRawSample(parsed);
}

function looksLikeJson(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b; // '{'
  }
  return false;
}

/** Decodes and validates one input value in the given format. */
export function decodeRawSample(value: Buffer | null, format: InputFormat, codec: AvroCodec<RawSample>): RawSample {
  if (value === null || value.length === 0) {
    throw new TeacherlmError('DECODE_FAILED', 'empty record value');
  }
  if (format === 'json' || (format === 'auto' && !isSingleObject(value) && looksLikeJson(value))) {
    return decodeJsonSample(value);
  }
  if (format === 'auto' && !isSingleObject(value)) {
    throw new TeacherlmError('DECODE_FAILED', 'value is neither Avro (single-object encoding) nor a JSON object');
  }
  return validateRawSample(codec.decode(value));
}
