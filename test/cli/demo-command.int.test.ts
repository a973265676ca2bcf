import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { uniqueName } from '../support/brokers.js';
import { registryPrerequisite, registryUrl } from '../support/registry.js';
import { loggedSpans, runCli } from '../support/run-cli.js';

describe('teacherlm demo', () => {
  it('sends the 24 bundled CREAK samples through the pipeline (echo teacher) and prints each with its explanations', async () => {
    // Fresh topics and group, so other runs on this broker do not matter.
    const topologyFile = join(mkdtempSync(join(tmpdir(), 'teacherlm-demo-')), 'echo.yaml');
    writeFileSync(
      topologyFile,
      stringify({
        name: 'demo-test',
        input: { topic: uniqueName('demo-raw'), partitions: 3, format: 'auto' },
        output: { topic: uniqueName('demo-augmented'), partitions: 3 },
        deadLetter: { topic: uniqueName('demo-dead') },
        consumer: { group: uniqueName('demo'), fromBeginning: true },
        teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, kind: 'echo' })),
      }),
    );
    const result = await runCli(['demo', '--topology', topologyFile, '--timeout', '120']);
    expect(result.stderr).toContain('produced 24 samples');
    expect(result.code).toBe(0);
    const blocks = result.stdout.trim().split('\n\n');
    expect(blocks).toHaveLength(25); // 24 samples and the summary
    expect(blocks[0]).toMatch(/^\[1\/24\] dev_0 {2}\(CREAK\)\n {2}Question: .*Eating soup means eating only solids\. \(A\) True \(B\) False\n {2}Answer: {3}\(B\)/);
    for (const label of ['Fundamentals:', 'Chain of thought:', 'Common mistakes:']) expect(blocks[23]).toContain(label);
    expect(blocks[24]).toMatch(/^24 samples: 24 augmented, 0 dead-lettered, in [\d.]+ s \(topology demo-test\)$/);

    // Traced (spans logged as JSON lines): each sample's pipeline span is a child of its send span.
    const spans = loggedSpans(result.stderr);
    const sends = spans.filter((s) => s.span.endsWith(' send'));
    const processes = spans.filter((s) => s.span.endsWith(' process'));
    expect(sends).toHaveLength(24);
    expect(processes).toHaveLength(24);
    for (const send of sends) {
      const child = processes.find((p) => p.parentSpanId === send.spanId);
      expect(child?.traceId).toBe(send.traceId);
    }
  });
});

describe.skipIf(!registryPrerequisite('the demo with format confluent'))('teacherlm demo with format confluent', () => {
  it('registers the schemas, writes Confluent records and reads them back through the registry', async () => {
    const output = uniqueName('demo-augmented');
    const topologyFile = join(mkdtempSync(join(tmpdir(), 'teacherlm-demo-')), 'confluent.yaml');
    writeFileSync(
      topologyFile,
      stringify({
        name: 'demo-confluent',
        input: { topic: uniqueName('demo-raw'), partitions: 3, format: 'auto' },
        output: { topic: output, partitions: 3, format: 'confluent' },
        deadLetter: { topic: uniqueName('demo-dead') },
        consumer: { group: uniqueName('demo'), fromBeginning: true },
        teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, kind: 'echo' })),
      }),
    );
    const result = await runCli(['demo', '--topology', topologyFile, '--timeout', '120'], { SCHEMA_REGISTRY_URL: registryUrl() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`schemas registered in ${registryUrl()}`);
    expect(result.stdout).toMatch(/24 samples: 24 augmented, 0 dead-lettered/);
    const versions = (await (await fetch(`${registryUrl()}/subjects/${output}-value/versions`)).json()) as number[];
    expect(versions).toHaveLength(1);
  });
});
