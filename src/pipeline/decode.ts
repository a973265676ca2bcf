/**
 * `decode`: input records to RawSamples. A record that cannot be decoded or is not a
 * valid sample becomes a dead letter with its reason, and the stream goes on.
 *
 * A schema registry that does not answer is not the record's fault: the lookup of its
 * writer schema is retried with backoff until the registry answers, and the records
 * behind it wait (they count as in flight, so the bounded queue pauses their partitions).
 * Only what the registry does answer (an id it does not know, a schema that cannot be
 * read) dead-letters, beside bad bytes.
 */
import { Observable, Subscription, type OperatorFunction, type SchedulerLike, asyncScheduler, map } from 'rxjs';
import { asTeacherlmError } from '../errors.js';
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
  /** Clock for `failedAt` and the registry backoff (the pipeline's scheduler). Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Waits between lookups while the registry does not answer: doubling from `initialMs` up to `maxMs`. Default 500 ms to 30 s. */
  registryBackoff?: { initialMs: number; maxMs: number };
  /** Events `registry-unreachable` (each failed lookup, with the wait before the next) and `registry-answered`. */
  log?: (event: Record<string, unknown>) => void;
  /** Told of each item as it leaves (the pipeline's tracing), inline rather than as a stage of its own. */
  onDecoded?: (item: DecodedSample | Finished) => void;
}

export const DEFAULT_REGISTRY_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/**
 * @example
 * source.records().pipe(decode({ format: 'auto', codec: recordCodecs().rawSample }))
 * // a JSON or Avro sample -> { kind: 'sample', record, sample }
 * // "not json"            -> { kind: 'dead-letter', record, value: { errorCode: 'DECODE_FAILED', stage: 'decode', ... } }
 */
export function decode(options: DecodeOptions): OperatorFunction<SourceRecord, DecodedSample | Finished> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const { format, codec, confluent } = options;
  const decodeRecord = (record: SourceRecord): DecodedSample | Finished => {
    try {
      return { kind: 'sample', record, sample: decodeRawSample(record.value, format, codec, confluent) };
    } catch (error) {
      return deadLetterFor(record, { stage: 'decode', error, attempts: 1, now: scheduler.now() });
    }
  };
  const failedRecord = (record: SourceRecord, error: unknown): Finished => deadLetterFor(record, { stage: 'decode', error, attempts: 1, now: scheduler.now() });
  const { onDecoded } = options;
  const told = <A extends unknown[], R extends DecodedSample | Finished>(f: (...args: A) => R): ((...args: A) => R) =>
    onDecoded
      ? (...args: A) => {
          const item = f(...args);
          onDecoded(item);
          return item;
        }
      : f;
  const decodeOne = told(decodeRecord);
  if (!confluent) return map(decodeOne);
  const fetchWriter = withRegistryRetry(confluent, options.registryBackoff ?? DEFAULT_REGISTRY_BACKOFF, options.log ?? (() => {}));
  return inOrder(confluent, fetchWriter, scheduler, decodeOne, told(failedRecord));
}

/** `closed`: the subscriber is gone; `wait`: a timer on the pipeline's clock, cancelled with the subscription (it then never resolves). */
type FetchWriter = (bytes: Buffer, subscription: { closed(): boolean; wait(ms: number): Promise<void> }) => Promise<void>;

/**
 * `confluent.load`, retried on a retriable error (REGISTRY_UNREACHABLE: no answer, or a
 * 5xx) after a doubling wait, until it succeeds, fails for good, or the subscriber is
 * gone (the pipeline stopped: the held records were never committed, so they are read
 * again on restart).
 */
function withRegistryRetry(
  confluent: ConfluentCodec<RawSample>,
  backoff: { initialMs: number; maxMs: number },
  log: (event: Record<string, unknown>) => void,
): FetchWriter {
  return async (bytes, { closed, wait }) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await confluent.load(bytes);
        if (attempt > 1) log({ event: 'registry-answered', schemaId: bytes.readUInt32BE(1), attempts: attempt });
        return;
      } catch (err) {
        const error = asTeacherlmError(err, 'REGISTRY_UNREACHABLE');
        if (!error.retriable || closed()) throw error;
        const waitMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
        log({ event: 'registry-unreachable', schemaId: bytes.readUInt32BE(1), attempt, retryInMs: waitMs, error: error.message });
        await wait(waitMs);
      }
    }
  };
}

/**
 * Decodes synchronously while every writer schema id is known (nearly always: no inner
 * subscription per record, as concatMap would make); a record of a new id is held, with
 * every record after it, until its schema is fetched from the registry, so the order is kept.
 */
function inOrder(
  confluent: ConfluentCodec<RawSample>,
  fetchWriter: FetchWriter,
  scheduler: SchedulerLike,
  decodeOne: (record: SourceRecord) => DecodedSample | Finished,
  failed: (record: SourceRecord, error: unknown) => Finished,
): OperatorFunction<SourceRecord, DecodedSample | Finished> {
  return (source) =>
    new Observable<DecodedSample | Finished>((subscriber) => {
      const held: SourceRecord[] = [];
      let loading = false;
      let ended = false;
      const timers = new Subscription();
      const context = {
        closed: () => subscriber.closed,
        wait: (ms: number) => new Promise<void>((resolve) => timers.add(scheduler.schedule(() => resolve(), ms))),
      };
      const needsLoad = (record: SourceRecord) => record.value !== null && confluent.needsLoad(record.value);
      const drain = (): void => {
        while (held.length > 0 && !subscriber.closed) {
          const record = held[0]!;
          if (needsLoad(record)) {
            loading = true;
            fetchWriter(record.value!, context).then(
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
      return () => {
        subscription.unsubscribe();
        timers.unsubscribe();
      };
    });
}
