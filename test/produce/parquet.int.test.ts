/**
 * `teacherlm produce` reads a Parquet file of CREAK samples written by pyarrow (as Hugging
 * Face datasets are), with --map, and every row arrives on the topic.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { ensureVenv } from '../../src/python/ensure-venv.js';
import { readMessages } from '../pipeline/int-support.js';
import { testKafka, uniqueName } from '../support/brokers.js';
import { ROOT, runProcess } from '../support/registry.js';
import { runCli } from '../support/run-cli.js';

/** Writes the demo's CREAK rows as Parquet (two row groups, snappy, pyarrow's default), ids as int64. */
const WRITE_PARQUET = `
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
table = pa.table({
    "ex_id": pa.array([int(r["ex_id"].split("_")[1]) for r in rows], pa.int64()),
    "task_name": [r["task_name"] for r in rows],
    "question": [r["question"] for r in rows],
    "answer": [r["answer"] for r in rows],
    "analysis": [r["analysis"] for r in rows],
})
pq.write_table(table, sys.argv[2], row_group_size=10)
print(table.num_rows)
`;

describe('teacherlm produce from Parquet', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('sends every row of a pyarrow-written file, mapped with --map', async () => {
    const python = await ensureVenv('parquet', join(ROOT, 'test', 'fixtures', 'python', 'parquet-requirements.txt'), { log: (l) => console.error(`[python] ${l}`) });
    const file = join(mkdtempSync(join(tmpdir(), 'teacherlm-parquet-')), 'creak.parquet');
    const source = join(ROOT, 'data', 'creak-demo.jsonl');
    const wrote = await runProcess(python, ['-c', WRITE_PARQUET, source, file]);
    expect(wrote.code, wrote.stderr).toBe(0);
    const rows = readFileSync(source, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    expect(Number(wrote.stdout.trim())).toBe(rows.length);

    const topic = uniqueName('parquet');
    await ensureTopics(kafka, [{ topic, partitions: 3, replicationFactor: 1, configs: {} }]);
    const result = await runCli(['produce', file, '--topic', topic, '--map', 'id=ex_id,task=task_name']);
    expect(result.code, result.stderr).toBe(0);

    const messages = await readMessages(kafka, topic, rows.length);
    const sent = messages.map((m) => JSON.parse(m.value!.toString()) as Record<string, unknown>);
    expect(new Set(sent.map((s) => s.id))).toEqual(new Set(rows.map((r) => r.ex_id!.split('_')[1])));
    const first = sent.find((s) => s.id === '0');
    expect(first).toMatchObject({ task: 'CREAK', question: rows[0]!.question, answer: rows[0]!.answer, context: null });
  });
});
