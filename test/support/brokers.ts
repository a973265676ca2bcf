/**
 * What integration tests (`*.int.test.ts`) use to reach the run's Kafka, resolved once by
 * test/setup/kafka-global-setup.ts.
 *
 * @example
 * const kafka = testKafka();
 * const topic = uniqueName('samples');
 * await ensureTopics(kafka, [{ topic, partitions: 3 }]);
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createKafka, type KafkaClientOptions } from '../../src/kafka/client.js';

/** Bootstrap list of the run's broker (host:port). */
export function kafkaBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!brokers || brokers.length === 0) {
    throw new Error('no Kafka brokers provided: integration tests must run in the vitest "integration" project (name them *.int.test.ts)');
  }
  return brokers;
}

/** A kafkajs client on the run's broker with the project's defaults. */
export function testKafka(options: Partial<KafkaClientOptions> = {}): Kafka {
  return createKafka({ clientId: 'teacherlm-test', ...options, brokers: kafkaBrokers() });
}

/**
 * A topic / group / transactional id no other test (or earlier run on a reused broker)
 * has used. Topics are never auto-created: create them with ensureTopics.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
