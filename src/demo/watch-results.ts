/**
 * Waits, like a student trainer would, for the demo's samples on the augmented and
 * dead-letter topics. Reads through a throwaway consumer group from the beginning and
 * keeps only this run's records (the run id travels in each sample's metadata), so
 * earlier runs or other producers on the same topics do not confuse it.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { TeacherlmError } from '../errors.js';
import { KafkaSource } from '../kafka/source.js';
import type { OutputReader } from '../records/output-reader.js';
import type { AugmentedSample, DeadLetter } from '../records/types.js';
import type { SourceRecord } from '../pipeline/ports.js';

/** Metadata key carrying the demo run id. */
export const RUN_ID_KEY = 'teacherlm_demo_run';

export type DemoOutcome = { kind: 'augmented'; record: AugmentedSample } | { kind: 'dead-letter'; record: DeadLetter };

export interface WatchOptions {
  kafka: Kafka;
  topics: string[];
  /** Decodes either output format (the registry's when the topology writes `confluent`). */
  reader: OutputReader;
  runId: string;
  ids: readonly string[];
  onOutcome?: (id: string, outcome: DemoOutcome, seen: number) => void;
}

export interface Watch {
  /** Resolves with one outcome per id once all are in. */
  done: Promise<Map<string, DemoOutcome>>;
  /** What arrived so far. */
  outcomes: Map<string, DemoOutcome>;
  stop(): Promise<void>;
}

/** Which demo sample a decoded output record belongs to, or undefined when it is not this run's. */
export function belongsTo(outcome: DemoOutcome, runId: string, ids: ReadonlySet<string>): string | undefined {
  if (outcome.kind === 'augmented') {
    const { id, metadata } = outcome.record;
    return ids.has(id) && metadata[RUN_ID_KEY] === runId ? id : undefined;
  }
  const { sampleId, value } = outcome.record;
  if (sampleId !== null && ids.has(sampleId) && value !== null && value.includes(runId)) return sampleId;
  return undefined;
}

export function watchResults(options: WatchOptions): Watch {
  const ids = new Set(options.ids);
  const outcomes = new Map<string, DemoOutcome>();
  const source = new KafkaSource({
    kafka: options.kafka,
    groupId: `teacherlm-demo-watch-${randomUUID()}`,
    topics: options.topics,
    fromBeginning: true,
    lagRefreshMs: 0,
  });
  const done = new Promise<Map<string, DemoOutcome>>((resolve, reject) => {
    const consider = (record: SourceRecord) => {
      let outcome: DemoOutcome;
      try {
        outcome = options.reader.decode(record.value);
      } catch {
        return; // not ours: another writer's record on a shared topic
      }
      const id = belongsTo(outcome, options.runId, ids);
      if (id === undefined || outcomes.has(id)) return;
      outcomes.set(id, outcome);
      options.onOutcome?.(id, outcome, outcomes.size);
      if (outcomes.size === ids.size) {
        resolve(outcomes);
        void source.stop();
      }
    };
    source.records().subscribe({
      next: (record) => {
        // A Confluent writer id seen for the first time is looked up once; order does not matter here.
        const pending = options.reader.prepare(record.value);
        if (pending) pending.then(() => consider(record), () => {});
        else consider(record);
      },
      error: reject,
      complete: () => {
        if (outcomes.size < ids.size) reject(new TeacherlmError('SHUT_DOWN', `the watch stopped with ${outcomes.size} of ${ids.size} samples`));
      },
    });
  });
  done.catch(() => {}); // observed by the caller; never an unhandled rejection
  return { done, outcomes, stop: () => source.stop() };
}
