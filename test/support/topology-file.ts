/** A topology written as a YAML file, for tests that run `teacherlm run --topology FILE`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Topology } from '../../src/pipeline/topology.js';

/** Writes the topology as YAML (echo teachers, small queue, and `extra` fields such as `quality`) and returns its path. */
export function topologyFile(topology: Topology, extra: Record<string, unknown> = {}): string {
  const doc = {
    name: 'run-test',
    input: { topic: topology.input.topic, partitions: topology.input.partitions, format: topology.input.format },
    output: { topic: topology.output.topic, partitions: topology.output.partitions, format: topology.output.format },
    deadLetter: { topic: topology.deadLetter.topic },
    consumer: { group: topology.consumer.group },
    teachers: topology.teachers.map((t) => ({ annotation: t.annotation, kind: 'echo' })),
    batching: { maxBatchSize: 64, maxWaitMs: 5, queueLimit: 64 },
    ...extra,
  };
  const path = join(mkdtempSync(join(tmpdir(), 'run-')), 'topology.yaml');
  writeFileSync(path, stringify(doc));
  return path;
}
