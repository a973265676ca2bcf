/**
 * Vitest global setup of the `integration` project: resolves Kafka once per run
 * (KAFKA_BROKERS, else Docker through testcontainers, else the local broker started on
 * demand), provides the bootstrap list to tests, and gives back only what it holds.
 */
import type { TestProject } from 'vitest/node';
import { resolveBrokers, type ResolvedBrokers } from '../../src/kafka/brokers.js';

let resolved: ResolvedBrokers | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const began = Date.now();
  resolved = await resolveBrokers({ log: (line) => console.error(`[kafka] ${line}`) });
  const how = resolved.startedHere ? `started in ${((Date.now() - began) / 1000).toFixed(1)} s` : 'already running';
  console.error(`[kafka] ${resolved.source} broker at ${resolved.brokers.join(',')} (${how})`);
  project.provide('kafkaBrokers', resolved.brokers);
  return async () => {
    await resolved?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
  }
}
