/**
 * End-to-end latency per delivery mode: inputs produced at a steady pace into a running
 * pipeline (already assigned), each timed from its input record's timestamp to its
 * output's arrival at a read_committed consumer (not ours to commit), at the topology's
 * commit interval. p50 and p99 over `n` records.
 */
import type { Kafka } from 'kafkajs';
import type { Topology } from '../../src/pipeline/topology.js';
import { openPipelineService } from '../../src/service/pipeline-service.js';
import { creakSamples, freshTopology, quantile } from './workload.js';

export async function measureLatency(kafka: Kafka, base: Topology, delivery: Topology['delivery'], n: number, perSecond: number) {
  const topology = { ...freshTopology(base, `latency-${delivery}`), delivery };
  const service = await openPipelineService({ kafka, topology });
  const producedAt = new Map<string, number>();
  const latencies: number[] = [];
  const reader = kafka.consumer({ groupId: `${topology.consumer.group}-reader`, maxWaitTimeInMs: 10 });
  let handle: Awaited<ReturnType<PipelineService['run']>> | undefined;
  const producer = kafka.producer();
  try {
    await reader.connect();
    await reader.subscribe({ topics: [topology.output.topic], fromBeginning: true });
    let seen!: () => void;
    const warm = new Promise<void>((resolve) => (seen = resolve));
    await reader.run({
      eachMessage: async ({ message }) => {
        const id = message.key?.toString() ?? '';
        if (id === 'warm-up') return seen();
        const at = producedAt.get(id);
        if (at !== undefined) latencies.push(Date.now() - at);
      },
    });
    handle = await service.run({ source: { lagRefreshMs: 0 } });
    await producer.connect();
    const [warmUp] = creakSamples(1, 'warm-up');
    await producer.send({ topic: topology.input.topic, messages: [{ key: 'warm-up', value: JSON.stringify({ ...warmUp, id: 'warm-up' }) }] });
    await warm; // the pipeline holds its partitions and the reader reads
    const samples = creakSamples(n, `latency-${delivery}`);
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
    for (let i = 0; i < samples.length; i += perTick) {
      const started = Date.now();
      const batch = samples.slice(i, i + perTick);
      for (const s of batch) producedAt.set(s.id, started);
      await producer.send({ topic: topology.input.topic, messages: batch.map((s) => ({ key: s.id, value: JSON.stringify(s), timestamp: String(started) })) });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, tickMs - (Date.now() - started))));
    }
    for (const deadline = Date.now() + 60_000; latencies.length < n && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await producer.disconnect().catch(() => {});
    await handle?.stop();
    await reader.disconnect().catch(() => {});
    await service.close();
  }
  return { delivery, records: latencies.length, perSecond, commitIntervalMs: topology.consumer.commitIntervalMs, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

type PipelineService = Awaited<ReturnType<typeof openPipelineService>>;
