import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../../src/kafka/admin.js';
import { KafkaSink } from '../../src/kafka/sink.js';
import { recordCodecs } from '../../src/records/codecs.js';
import type { AugmentedSample } from '../../src/records/types.js';
import { readMessages } from '../pipeline/int-support.js';
import { testKafka, uniqueName } from '../support/brokers.js';
import { loggedSpans, runCli } from '../support/run-cli.js';

const codecs = recordCodecs();
const dir = mkdtempSync(join(tmpdir(), 'teacherlm-cli-'));

describe('teacherlm produce and tail on the real broker', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  it('produces a CSV file as Avro through --map, skipping and reporting a bad row, one span per sample', async () => {
    const topic = uniqueName('produce');
    const file = join(dir, 'samples.csv');
    writeFileSync(
      file,
      [
        'ex_id,task_name,q_text,answer,context',
        'c1,CREAK,"Is ""soup"" solid? (A) True (B) False",(B),',
        'c2,CREAK,"Two, lines?\nyes (A) True (B) False",(A),some context',
        'c3,CREAK,,(A),',
        'c4,CREAK,Last? (A) True (B) False,(A),',
      ].join('\n'),
    );
    const errors = join(dir, 'errors.jsonl');
    const result = await runCli([
      'produce', file, '--topic', topic, '--value-format', 'avro', '--errors', errors,
      '--map', 'id=ex_id,task=task_name,question=q_text',
    ]);
    expect(result.stdout).toContain(`sent 3 samples to ${topic}`);
    expect(result.stderr).toContain(`${file}:5: question (read from 'q_text'): expected a non-empty string`);
    expect(result.code).toBe(1);
    expect(JSON.parse(readFileSync(errors, 'utf8'))).toMatchObject({ line: 5 });

    const messages = await readMessages(kafka, topic, 3);
    const byId = new Map(messages.map((m) => [m.key!.toString(), m]));
    expect([...byId.keys()].sort()).toEqual(['c1', 'c2', 'c4']);
    expect(codecs.rawSample.decode(byId.get('c1')!.value!)).toMatchObject({ question: 'Is "soup" solid? (A) True (B) False', context: null });
    expect(codecs.rawSample.decode(byId.get('c2')!.value!)).toMatchObject({ question: 'Two, lines?\nyes (A) True (B) False', context: 'some context' });

    // Each record carries the context of the span `produce` made for its sample.
    const spans = loggedSpans(result.stderr);
    expect(spans).toHaveLength(3);
    for (const [id, message] of byId) {
      const span = spans.find((s) => s.attributes['teacherlm.sample.id'] === id)!;
      expect(message.headers?.traceparent?.toString()).toBe(`00-${span.traceId}-${span.spanId}-01`);
    }
  });

  it('fails in one line naming the file when it cannot be read', async () => {
    const result = await runCli(['produce', join(dir, 'missing.jsonl'), '--topic', 'x']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot read '.*missing\.jsonl'.*\[IO_FAILED\]/);
  });

  it('tails augmented records as JSON lines from the beginning, continuing each sample trace', async () => {
    const topic = uniqueName('augmented');
    await ensureTopics(kafka, [{ topic, partitions: 2 }]);
    const sink = new KafkaSink({ kafka });
    const parents: string[] = [];
    const samples: AugmentedSample[] = Array.from({ length: 4 }, (_, i) => ({
      id: `a${i}`,
      task: 'CREAK',
      question: `Q${i}? (A) True (B) False`,
      answer: '(A)',
      context: null,
      metadata: { n: String(i) },
      fundamentals: { text: `fundamentals ${i}`, modelId: 'echo', promptTokens: 5, generatedTokens: 2, finishReason: 'eos', quality: null },
      chainOfThought: null,
      commonMistakes: null,
      source: { topic: 'samples.raw', partition: 0, offset: i },
      sourceTimestamp: 1,
      augmentedAt: 2,
    }));
    await sink.send(
      samples.map((s, i) => {
        const spanId = `00000000000000a${i}`;
        parents.push(spanId);
        return { topic, key: s.id, value: codecs.augmentedSample.encode(s), headers: { traceparent: `00-0000000000000000000000000000beef-${spanId}-01` } };
      }),
    );
    await sink.close();

    const result = await runCli(['tail', '--from-beginning', '--max', '4', '--topic', topic]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as AugmentedSample);
    expect(lines.map((l) => l.id).sort()).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(lines.find((l) => l.id === 'a2')).toEqual(samples[2]);
    const spans = loggedSpans(result.stderr);
    expect(spans.map((s) => s.parentSpanId).sort()).toEqual(parents);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set(['0000000000000000000000000000beef']));
  });
});
