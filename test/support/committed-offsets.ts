/** What a consumer group has committed on a topic, read through the broker's admin API. */
import type { Kafka } from 'kafkajs';

/** The sum over the topic's partitions of the group's committed offsets (none committed: 0). */
export async function committedTotal(kafka: Kafka, group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Polls until the group has committed `total` offsets on the topic, or `deadlineMs` passes;
 * returns the last total read. A worker commits every consumer.commitIntervalMs, so what it
 * has written can be ahead of what Kafka shows for a moment.
 */
export async function awaitCommitted(kafka: Kafka, group: string, topic: string, total: number, deadlineMs = 15_000): Promise<number> {
  const until = Date.now() + deadlineMs;
  let committed = await committedTotal(kafka, group, topic);
  while (committed < total && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    committed = await committedTotal(kafka, group, topic);
  }
  return committed;
}
