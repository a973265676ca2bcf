/**
 * `ensureTopics`, retried while a just-created topic is not yet in the broker's metadata.
 * A broker that has just started can answer the metadata request that follows a
 * CreateTopics with UNKNOWN_TOPIC_OR_PARTITION, and kafkajs does not retry that error
 * (seen with the local broker started on demand); a later attempt finds the topics.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { isTeacherlmError } from '../errors.js';
import { ensureTopics, type EnsureTopicsResult, type TopicSpec } from './admin.js';

export interface EnsureTopicsReadyOptions {
  /** Default 10. */
  attempts?: number;
  /** Waits `250 ms × attempt` by default. */
  delay?: (attempt: number) => Promise<unknown>;
}

export async function ensureTopicsReady(
  client: Kafka | Admin,
  specs: readonly TopicSpec[],
  options: EnsureTopicsReadyOptions = {},
): Promise<EnsureTopicsResult> {
  const attempts = options.attempts ?? 10;
  const delay = options.delay ?? ((attempt: number) => sleep(250 * attempt));
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureTopics(client, specs);
    } catch (err) {
      const cause = isTeacherlmError(err, 'ADMIN_REFUSED') ? (err.cause as { type?: string } | undefined) : undefined;
      if (attempt >= attempts || cause?.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      await delay(attempt);
    }
  }
}
