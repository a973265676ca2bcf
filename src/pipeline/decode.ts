/**
 * `decode`: input records to RawSamples. A record that cannot be decoded or is not a
 * valid sample becomes a dead letter with its reason, and the stream goes on.
 */
import { type OperatorFunction, map } from 'rxjs';
import type { AvroCodec } from '../records/avro-codec.js';
import { decodeRawSample, type InputFormat } from '../records/decode-raw-sample.js';
import type { RawSample } from '../records/types.js';
import { deadLetterFor } from './dead-letter.js';
import type { DecodedSample, Finished } from './items.js';
import type { SourceRecord } from './ports.js';

export interface DecodeOptions {
  format: InputFormat;
  codec: AvroCodec<RawSample>;
  /** Clock for `failedAt`; default Date.now. */
  now?: () => number;
}

/**
 * @example
 * source.records().pipe(decode({ format: 'auto', codec: recordCodecs().rawSample }))
 * // a JSON or Avro sample -> { kind: 'sample', record, sample }
 * // "not json"            -> { kind: 'dead-letter', record, value: { errorCode: 'DECODE_FAILED', stage: 'decode', ... } }
 */
export function decode(options: DecodeOptions): OperatorFunction<SourceRecord, DecodedSample | Finished> {
  const now = options.now ?? Date.now;
  return map((record) => {
    try {
      return { kind: 'sample', record, sample: decodeRawSample(record.value, options.format, options.codec) };
    } catch (error) {
      return deadLetterFor(record, { stage: 'decode', error, attempts: 1, now: now() });
    }
  });
}
