/** The chaos topologies: their own topics and group, echo or the tiny test model, either delivery mode. */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { DeliveryMode } from '../../../src/pipeline/topology.js';

export type ChaosTeacher = 'echo' | 'tiny';

export interface ChaosTopology {
  name: string;
  file: string;
  input: string;
  output: string;
  deadLetter: string;
  group: string;
  partitions: number;
}

export interface TopologyOptions {
  mode: DeliveryMode;
  teacher: ChaosTeacher;
  partitions: number;
  outputPartitions: number;
  /** Undefined: the topology default (10 s). */
  sessionTimeoutMs?: number;
}

const TINY_MODEL = resolve(import.meta.dirname, '..', '..', 'fixtures', 'models', 'tiny-llama');

export function writeTopology(dir: string, name: string, o: TopologyOptions): ChaosTopology {
  const t: ChaosTopology = { name, file: join(dir, `${name}.yaml`), input: `${name}-raw`, output: `${name}-aug`, deadLetter: `${name}-dl`, group: `${name}-g`, partitions: o.partitions };
  const teacher =
    o.teacher === 'echo'
      ? { annotation: 'cot', kind: 'echo' }
      : { annotation: 'cot', model: TINY_MODEL, promptStyle: 'chat', generation: { maxNewTokens: 4, temperature: 0 } };
  const doc = {
    name,
    input: { topic: t.input, partitions: o.partitions, format: 'auto' },
    output: { topic: t.output, partitions: o.outputPartitions },
    deadLetter: { topic: t.deadLetter },
    consumer: { group: t.group, ...(o.sessionTimeoutMs ? { sessionTimeoutMs: o.sessionTimeoutMs, heartbeatIntervalMs: Math.floor(o.sessionTimeoutMs / 6) } : {}) },
    delivery: o.mode,
    teachers: [teacher],
    batching: { maxBatchSize: o.teacher === 'echo' ? 64 : 16, maxWaitMs: 5, queueLimit: 256 },
    ...(o.teacher === 'tiny' ? { engine: { workers: 1, threads: 1, device: 'cpu' } } : {}),
  };
  writeFileSync(t.file, stringify(doc));
  return t;
}
