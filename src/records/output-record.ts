/**
 * A record of the augmented (or dead-letter) topic decoded with the pipeline's codecs:
 * the writer schema's fingerprint picks the codec, so either topic decodes.
 */
import { TeacherlmError, isTeacherlmError } from '../errors.js';
import type { RecordCodecs } from './codecs.js';
import type { AugmentedSample, DeadLetter } from './types.js';

const isUnknownWriter = (err: unknown): boolean => isTeacherlmError(err, 'DECODE_FAILED') && err.detail === 'unknown-writer-schema';

export type OutputRecord = { kind: 'augmented'; record: AugmentedSample } | { kind: 'dead-letter'; record: DeadLetter };

export function decodeOutputRecord(value: Buffer | null, codecs: RecordCodecs): OutputRecord {
  if (value === null || value.length === 0) throw new TeacherlmError('DECODE_FAILED', 'empty record value');
  try {
    return { kind: 'augmented', record: codecs.augmentedSample.decode(value) };
  } catch (err) {
    if (!isUnknownWriter(err)) throw err;
  }
  try {
    return { kind: 'dead-letter', record: codecs.deadLetter.decode(value) };
  } catch (err) {
    if (isUnknownWriter(err)) {
      throw new TeacherlmError('DECODE_FAILED', 'neither an AugmentedSample nor a DeadLetter (unknown writer schema)', { cause: err });
    }
    throw err;
  }
}
