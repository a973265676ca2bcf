/**
 * `produce`: writes encoded records through the sink in small batches (up to
 * `maxRecords`, or whatever arrived within `lingerMs`) and emits each batch only after
 * the broker acknowledged it, which is what makes its input offsets committable.
 * Up to `maxInFlight` sends overlap; acks may come back out of order (the offset tracker
 * copes). A failed send errors the stream: nothing after it is committed.
 */
import { type OperatorFunction, type SchedulerLike, asyncScheduler, from, map, mergeMap } from 'rxjs';
import type { Encoded } from './items.js';
import { lingerBuffer } from './linger-buffer.js';
import type { RecordSink } from './ports.js';

export interface ProduceOptions {
  sink: RecordSink;
  /** Most records per send. Default 256. */
  maxRecords?: number;
  /** Longest the first record of a send waits for more to join it. Default 5 ms. */
  lingerMs?: number;
  /** Sends awaiting their ack at once. Default 4. */
  maxInFlight?: number;
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
      mergeMap((batch) => from(sink.send(batch.map((e) => e.out))).pipe(map(() => batch)), maxInFlight),
    );
}
