/**
 * The augmented topic read by an outside reader, examples/python/consume.py (confluent-kafka
 * and fastavro from PyPI, in .cache/py/consumer), against the real broker and registry:
 * `format: confluent` through confluent-kafka's AvroDeserializer, `format: avro` through
 * fastavro with the schema files; and the JVM reader, examples/jvm/ConsumeAugmented.java, with
 * Apicurio's Avro deserializer. Every augmented sample is decoded (ids compared as sets).
 */
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutputFormat } from '../../src/pipeline/topology.js';
import { kafkaBrokers, testKafka, uniqueName } from '../support/brokers.js';
import { jvmConsume, pythonConsume, registryPrerequisite, registryUrl, ROOT } from '../support/registry.js';
import { runCli } from '../support/run-cli.js';
import { topologyFile } from '../support/topology-file.js';
import { produceInputs, testTopology } from '../pipeline/int-support.js';

describe.skipIf(!registryPrerequisite('the outside readers tests'))('outside readers: Python and the JVM', () => {
  let kafka: Kafka;
  beforeAll(() => {
    kafka = testKafka();
  });

  async function augment(format: OutputFormat) {
    const topology = testTopology({ echo: true });
    topology.output.format = format;
    const inputs = await produceInputs(kafka, topology, 120);
    const run = await runCli(['run', '--topology', topologyFile(topology), '--until-idle', '1500'], { SCHEMA_REGISTRY_URL: registryUrl() }, { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    return { topology, inputs };
  }

  it('decodes every record of format confluent with AvroDeserializer and the registry', async () => {
    const { topology, inputs } = await augment('confluent');
    const { records } = await pythonConsume([
      '--brokers', kafkaBrokers().join(','), '--topic', topology.output.topic, '--group', uniqueName('py'),
      '--registry', registryUrl(), '--max', String(inputs.validIds.size), '--idle', '20',
    ]);
    expect(new Set(records.map((r) => r.id))).toEqual(inputs.validIds);
    expect(records[0]).toMatchObject({ task: 'CREAK', fundamentals: { modelId: 'echo' } });

    // The JVM: a Kafka Java consumer with Apicurio's Avro deserializer reads the same topic.
    const jvmIds = await jvmConsume({
      brokers: kafkaBrokers().join(','),
      topic: topology.output.topic,
      group: uniqueName('jvm'),
      registryRoot: registryUrl().replace(/\/apis\/ccompat\/v7$/, ''),
      max: inputs.validIds.size,
    });
    expect(new Set(jvmIds)).toEqual(inputs.validIds);
  });

  it('decodes every record of format avro (single-object) with the schema files', async () => {
    const { topology, inputs } = await augment('avro');
    const { records } = await pythonConsume([
      '--brokers', kafkaBrokers().join(','), '--topic', topology.output.topic, '--group', uniqueName('py'),
      '--schemas', join(ROOT, 'schemas'), '--max', String(inputs.validIds.size), '--idle', '20',
    ]);
    expect(new Set(records.map((r) => r.id))).toEqual(inputs.validIds);
  });
});
