/**
 * `decode`: input records to RawSamples. A record that cannot be decoded or is not a
 * valid sample becomes a dead letter with its reason, and the stream goes on.
 */
import { Observable, type OperatorFunction, type SchedulerLike, asyncScheduler, map } from 'rxjs';
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
  return inOrder(confluent, decodeOne, (record, error) => deadLetterFor(record, { stage: 'decode', error, attempts: 1, now: scheduler.now() }));
}

/**
 * Decodes synchronously while every writer schema id is known (nearly always: no inner
 * subscription per record, as concatMap would make); a record of a new id is held, with
 * every record after it, until its schema is fetched from the registry, so the order is kept.
 */
function inOrder(
  confluent: ConfluentCodec<RawSample>,
  decodeOne: (record: SourceRecord) => DecodedSample | Finished,
  failed: (record: SourceRecord, error: unknown) => Finished,
): OperatorFunction<SourceRecord, DecodedSample | Finished> {
  return (source) =>
    new Observable<DecodedSample | Finished>((subscriber) => {
      const held: SourceRecord[] = [];
      let loading = false;
      let ended = false;
      const needsLoad = (record: SourceRecord) => record.value !== null && confluent.needsLoad(record.value);
      const drain = (): void => {
        while (held.length > 0 && !subscriber.closed) {
          const record = held[0]!;
          if (needsLoad(record)) {
            loading = true;
            confluent.load(record.value!).then(
              () => {
                loading = false;
                drain();
              },
              (error: unknown) => {
                loading = false;
                held.shift();
                subscriber.next(failed(record, error));
                drain();
              },
            );
            return;
          }
          held.shift();
          subscriber.next(decodeOne(record));
        }
        if (ended && held.length === 0) subscriber.complete();
      };
      const subscription = source.subscribe({
        next: (record) => {
          if (held.length === 0 && !needsLoad(record)) return subscriber.next(decodeOne(record));
          held.push(record);
          if (!loading) drain();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          ended = true;
          if (!loading && held.length === 0) subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
}
