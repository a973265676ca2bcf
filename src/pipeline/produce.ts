/**
 * `produce`: writes encoded records through the sink in small batches (up to
 * `maxRecords`, or whatever arrived within `lingerMs`) and emits each batch only after
 * the broker acknowledged it, which is what makes its input offsets committable.
 * Up to `maxInFlight` sends overlap; acks may come back out of order (the offset tracker
 * copes). A send that fails retriably (the broker gone longer than the sink's own
 * retries last) is sent again after a doubling wait, for as long as it takes, as
 * exactly-once's transactions are: a broker outage must not stop the worker. Records
 * the broker refused as too large even alone (`RecordsRefused`) are, with `refused`,
 * replaced (dead-lettered) and sent again, and the batch goes on. Any other failure
 * errors the stream, and nothing after it is committed.
 */
import { type OperatorFunction, type SchedulerLike, asyncScheduler, catchError, defer, from, map, mergeMap, retry, throwError, timer } from 'rxjs';
import { TeacherlmError } from '../errors.js';
import type { Encoded } from './items.js';
import { lingerBuffer } from './linger-buffer.js';
import type { RecordSink } from './ports.js';
import { RecordsRefused } from './refused-records.js';

/** Rounds of replacing refused records before the send fails (a dead letter refused again, e.g. a limit lowered twice). */
const REFUSED_ROUNDS = 3;

export interface ProduceOptions {
  sink: RecordSink;
  /** Most records per send. Default 256. */
  maxRecords?: number;
  /** Longest the first record of a send waits for more to join it. Default 5 ms. */
  lingerMs?: number;
  /** Sends awaiting their ack at once. Default 4. */
  maxInFlight?: number;
  /** What a record the broker refused even alone is replaced with (`refusedRecordEncoder`). Default: none, the send fails. */
  refused?: (item: Encoded, error: TeacherlmError) => Encoded;
  /** Waits before a retriably failed send is sent again: doubling from `initialMs` up to `maxMs`. Default 500 ms to 30 s. */
  sendBackoff?: { initialMs: number; maxMs: number };
  /** Event `produce-retry` for each retriably failed send, with the wait before the next try. */
  log?: (event: Record<string, unknown>) => void;
  scheduler?: SchedulerLike;
}

export const DEFAULT_SEND_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/**
 * @example
 * encoded$.pipe(produce({ sink }))
 * // e1 e2 e3 --(ack)--> [e1, e2, e3]
 */
export function produce(options: ProduceOptions): OperatorFunction<Encoded, Encoded[]> {
  const { sink, maxRecords = 256, lingerMs = 5, maxInFlight = 4 } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const backoff = options.sendBackoff ?? DEFAULT_SEND_BACKOFF;
  const log = options.log ?? (() => {});
  const again = (error: unknown, attempt: number) => {
    if (!(error instanceof TeacherlmError) || !error.retriable) return throwError(() => error);
    const waitMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
    log({ event: 'produce-retry', attempt, retryInMs: waitMs, error: error.message });
    return timer(waitMs, scheduler);
  };
  return (source) =>
    source.pipe(
      lingerBuffer<Encoded>(lingerMs, maxRecords, scheduler),
      mergeMap(
        (batch) =>
          defer(() => from(sink.send(batch.map((e) => e.out)))).pipe(
            retry({ delay: again }),
            map(() => batch),
            catchError((err: unknown) => from(replaceRefused(batch, err))),
          ),
        maxInFlight,
      ),
    );

  /** Replaces the records a RecordsRefused names and sends the replacements, for a few rounds; anything else fails. */
  async function replaceRefused(batch: Encoded[], error: unknown): Promise<Encoded[]> {
    let items = batch;
    for (let round = 1; ; round++) {
      if (!(error instanceof RecordsRefused) || !options.refused || round > REFUSED_ROUNDS) throw error;
      const refused = new Set(error.records);
      const replaced = new Map(items.filter((e) => refused.has(e.out)).map((e) => [e, options.refused!(e, error as RecordsRefused)]));
      items = items.map((e) => replaced.get(e) ?? e);
      try {
        await sink.send([...replaced.values()].map((e) => e.out));
        return items;
      } catch (err) {
        error = err;
      }
    }
  }
}
