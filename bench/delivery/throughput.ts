/**
 * Throughput of exactly-once against at-least-once on one service and one backlog:
 * rounds interleaved (the order flips each round), each a new consumer group, timed from
 * the first record taken to the pipeline's end after `n` records were written (under
 * exactly-once that is after their transaction committed, so it includes the wait for
 * the last commit). Exactly-once's start (fencing and seeking each partition, a one-off
 * like the group join, which neither mode's rate counts) is reported on its own.
 * Best round of each mode.
 */
import { tap } from 'rxjs';
import type { RecordSource } from '../../src/pipeline/ports.js';
import { withRecords } from './timed-source.js';
import { round } from './workload.js';
import type { Topology } from '../../src/pipeline/topology.js';
import type { PipelineService } from '../../src/service/pipeline-service.js';

type Delivery = Topology['delivery'];

/**
 * Records/s from the first record taken to the end, and the start: from the first record
 * delivered to the last seek (exactly-once fences each partition's previous owner and
 * seeks to its committed offset first, dropping what arrived meanwhile; 0 otherwise).
 */
async function timeRun(service: PipelineService, group: string, delivery: Delivery, n: number): Promise<{ rate: number; startSeconds: number }> {
  let deliveredAt = 0;
  let firstAt = 0;
  let soughtAt = 0;
  const timed = (source: RecordSource): RecordSource => {
    const wrapped = withRecords(source, () => source.records().pipe(tap(() => ((deliveredAt ||= performance.now()), (firstAt ||= performance.now())))));
    if (source.seek) {
      wrapped.seek = (topic, partition, offset) => {
        source.seek!(topic, partition, offset);
        soughtAt = performance.now();
        firstAt = 0; // the clock starts again at the first record after the seek
      };
    }
    return wrapped;
  };
  const handle = await service.run({ group, delivery, maxRecords: n, source: { lagRefreshMs: 0 }, wrap: { source: timed } });
  const summary = await handle.done;
  if (summary.augmented + summary.deadLettered < n) throw new Error(`${delivery} round wrote ${summary.augmented + summary.deadLettered} of ${n}`);
  return { rate: n / ((performance.now() - firstAt) / 1000), startSeconds: soughtAt ? (soughtAt - deliveredAt) / 1000 : 0 };
}

export async function compareThroughput(service: PipelineService, topology: Topology, n: number, rounds: number, log: (line: string) => void) {
  const rates: Record<Delivery, number[]> = { 'at-least-once': [], 'exactly-once': [] };
  const starts: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order: Delivery[] = r % 2 === 0 ? ['at-least-once', 'exactly-once'] : ['exactly-once', 'at-least-once'];
    for (const delivery of order) {
      const { rate, startSeconds } = await timeRun(service, `${topology.consumer.group}-${delivery}-${r}`, delivery, n);
      rates[delivery].push(rate);
      if (delivery === 'exactly-once') starts.push(round(startSeconds, 2));
      log(`${topology.name ?? 'topology'} round ${r + 1} ${delivery}: ${rates[delivery].at(-1)!.toFixed(2)} records/s`);
    }
  }
  const best = (xs: number[]) => Math.max(...xs);
  return { records: n, rounds, atLeastOnce: rates['at-least-once'].map((x) => round(x, 2)), exactlyOnce: rates['exactly-once'].map((x) => round(x, 2)), ratio: round(best(rates['exactly-once']) / best(rates['at-least-once'])), exactlyOnceStartSeconds: starts };
}
