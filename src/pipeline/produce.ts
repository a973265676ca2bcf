/**
 * `produce`: writes encoded records through the sink in small batches (up to
 * `maxRecords`, or whatever arrived within `lingerMs`) and emits each batch only after
 * the broker acknowledged it, which is what makes its input offsets committable.
 * Up to `maxInFlight` sends overlap; acks may come back out of order (the offset tracker
 * copes). A failed send errors the stream: nothing after it is committed, except
 * records the broker refused as too large even alone (`RecordsRefused`): with `refused`
 * they are replaced (dead-lettered) and sent again, and the batch goes on.
 */
import { type OperatorFunction, type SchedulerLike, asyncScheduler, catchError, from, map, mergeMap } from 'rxjs';
import type { TeacherlmError } from '../errors.js';
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
  scheduler?: SchedulerLike;
}

/**
 * @example
 * encoded$.pipe(produce({ sink }))
 * // e1 e2 e3 --(ack)--> [e1, e2, e3]
 */
export function produce(options: ProduceOptions): OperatorFunction<Encoded, Encoded[]> {
  const { sink, maxRecords = 256, lingerMs = 5, maxInFlight = 4 } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    source.pipe(
      lingerBuffer<Encoded>(lingerMs, maxRecords, scheduler),
      mergeMap(
        (batch) =>
          from(sink.send(batch.map((e) => e.out))).pipe(
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
