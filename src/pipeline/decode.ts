/**
 * `decode`: input records to RawSamples. A record that cannot be decoded or is not a
 * valid sample becomes a dead letter with its reason, and the stream goes on.
 */
import { type OperatorFunction, type SchedulerLike, asyncScheduler, concatMap, map } from 'rxjs';
import type { AvroCodec } from '../records/avro-codec.js';
import type { ConfluentCodec } from '../records/confluent-codec.js';
import { decodeRawSample, type InputFormat } from '../records/decode-raw-sample.js';
import type { RawSample } from '../records/types.js';
import { deadLetterFor } from './dead-letter.js';
import type { DecodedSample, Finished } from './items.js';
import type { SourceRecord } from './ports.js';

export interface DecodeOptions {
  format: InputFormat;
  codec: AvroCodec<RawSample>;
  /** Reads Confluent wire-format input (`confluent`, or `auto` with a registry). */
  confluent?: ConfluentCodec<RawSample>;
  /** Clock for `failedAt` (the pipeline's scheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

/**
 * @example
 * source.records().pipe(decode({ format: 'auto', codec: recordCodecs().rawSample }))
 * // a JSON or Avro sample -> { kind: 'sample', record, sample }
 * // "not json"            -> { kind: 'dead-letter', record, value: { errorCode: 'DECODE_FAILED', stage: 'decode', ... } }
 */
export function decode(options: DecodeOptions): OperatorFunction<SourceRecord, DecodedSample | Finished> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const { format, codec, confluent } = options;
  const decodeOne = (record: SourceRecord): DecodedSample | Finished => {
    try {
      return { kind: 'sample', record, sample: decodeRawSample(record.value, format, codec, confluent) };
    } catch (error) {
      return deadLetterFor(record, { stage: 'decode', error, attempts: 1, now: scheduler.now() });
    }
  };
  if (!confluent) return map(decodeOne);
  // A writer schema id seen for the first time is fetched from the registry (in order:
  // concatMap keeps the records' order); every later record of that id decodes at once.
  return concatMap((record) => {
    if (record.value === null || !confluent.needsLoad(record.value)) return [decodeOne(record)];
    return confluent.load(record.value).then(
      () => decodeOne(record),
      (error: unknown) => deadLetterFor(record, { stage: 'decode', error, attempts: 1, now: scheduler.now() }),
    );
  });
}
