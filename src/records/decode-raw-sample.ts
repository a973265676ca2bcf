/**
 * Turns an input record value into a RawSample. Input may be Avro in single-object
 * encoding (`wire-format.ts`), Avro in the Confluent wire format (`confluent-codec.ts`,
 * schema ids from a registry), or JSON for plain clients (kcat, scripts): a UTF-8 object
 * with the RawSample fields. `auto` tells them apart by the first bytes: the Avro marker
 * C3 01, the Confluent magic byte 00 (when a registry is configured), or `{` after
 * optional whitespace.
 */
import { TeacherlmError } from '../errors.js';
import type { AvroCodec } from './avro-codec.js';
import { isConfluent, type ConfluentCodec } from './confluent-codec.js';
import type { RawSample } from './types.js';
import { validateRawSample } from './validate-sample.js';
import { isSingleObject } from './wire-format.js';

export const INPUT_FORMATS = ['avro', 'confluent', 'json', 'auto'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** UTF-8's byte order mark, which some editors and Windows tools write first. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const withoutBom = (bytes: Buffer): Buffer => (bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes);

/** Parses JSON bytes (a leading BOM is skipped) into a RawSample; DECODE_FAILED for bad JSON, INVALID_SAMPLE for a bad shape. */
export function decodeJsonSample(bytes: Buffer): RawSample {
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutBom(bytes).toString('utf8'));
  } catch (err) {
    throw new TeacherlmError('DECODE_FAILED', `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateRawSample(parsed);
}

function looksLikeJson(bytes: Buffer): boolean {
  for (const byte of withoutBom(bytes)) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b; // '{'
  }
  return false;
}

/**
 * Decodes and validates one input value in the given format. A Confluent record's writer
 * schema must be loaded into `confluent` first (`needsLoad`/`load`).
 */
export function decodeRawSample(
  value: Buffer | null,
  format: InputFormat,
  codec: AvroCodec<RawSample>,
  confluent?: ConfluentCodec<RawSample>,
): RawSample {
  if (value === null || value.length === 0) {
    throw new TeacherlmError('DECODE_FAILED', 'empty record value');
  }
  if (format === 'confluent' || (format === 'auto' && isConfluent(value))) {
    if (!confluent) {
      throw new TeacherlmError('DECODE_FAILED', 'value is in the Confluent wire format, but no schema registry is configured', {
        hint: "set the topology's input.format to confluent",
      });
    }
    return validateRawSample(confluent.decode(value));
  }
  if (format === 'json' || (format === 'auto' && !isSingleObject(value) && looksLikeJson(value))) {
    return decodeJsonSample(value);
  }
  if (format === 'auto' && !isSingleObject(value)) {
    throw new TeacherlmError('DECODE_FAILED', 'value is neither Avro (single-object encoding or Confluent wire format) nor a JSON object');
  }
  return validateRawSample(codec.decode(value));
}
