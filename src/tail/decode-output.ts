/**
 * What `teacherlm tail` prints: a record of the augmented (or dead-letter) topic decoded
 * with the pipeline's codecs, as one JSON line. The writer schema's fingerprint picks the
 * codec, so `--topic samples.dead-letter` works too. Bytes (a dead letter's original key
 * and value) print as text when they are valid UTF-8, else as `{ "base64": ... }`.
 */
import { TeacherlmError, isTeacherlmError } from '../errors.js';
import type { RecordCodecs } from '../records/codecs.js';
import type { AugmentedSample, DeadLetter } from '../records/types.js';

export type OutputRecord = { kind: 'augmented'; record: AugmentedSample } | { kind: 'dead-letter'; record: DeadLetter };

export function decodeOutputRecord(value: Buffer | null, codecs: RecordCodecs): OutputRecord {
  if (value === null || value.length === 0) throw new TeacherlmError('DECODE_FAILED', 'empty record value');
  try {
    return { kind: 'augmented', record: codecs.augmentedSample.decode(value) };
  } catch (err) {
    if (!isTeacherlmError(err, 'DECODE_FAILED') || !err.message.startsWith('unknown writer schema')) throw err;
  }
  try {
    return { kind: 'dead-letter', record: codecs.deadLetter.decode(value) };
  } catch (err) {
    if (isTeacherlmError(err, 'DECODE_FAILED') && err.message.startsWith('unknown writer schema')) {
      throw new TeacherlmError('DECODE_FAILED', 'neither an AugmentedSample nor a DeadLetter (unknown writer schema)', { cause: err });
    }
    throw err;
  }
}

export function toJsonLine(value: unknown): string {
  return JSON.stringify(plain(value));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) {
    try {
      return utf8.decode(value);
    } catch {
      return { base64: value.toString('base64') };
    }
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
