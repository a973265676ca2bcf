/**
 * Kafka for the user-facing commands (produce, tail, demo): brokers chosen by
 * `resolveBrokers` (KAFKA_BROKERS, else Docker, else the local broker on demand), a
 * client whose log lines go to stderr, and the topology whose topics they default to.
 */
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { resolveBrokers, type ResolvedBrokers } from '../kafka/brokers.js';
import { createKafka } from '../kafka/client.js';
import { PROJECT_ROOT } from '../kafka/local/paths.js';
import { loadTopology, type Topology } from '../pipeline/topology.js';

export { PROJECT_ROOT };
const DEFAULT_TOPOLOGY_PATH = join(PROJECT_ROOT, 'topologies', 'default.yaml');

export interface CliKafka {
  kafka: Kafka;
  brokers: ResolvedBrokers;
}

export async function connectKafka(clientId: string): Promise<CliKafka> {
  const brokers = await resolveBrokers({ log: (line) => process.stderr.write(`teacherlm: ${line}\n`) });
  return { kafka: createKafka({ brokers: brokers.brokers, clientId }), brokers };
}

/**
 * `--topology FILE`, or the default topology. Relative model paths of a user's file
 * resolve against the working directory; those of the bundled default against the
 * project root, so `teacherlm demo` works from any directory.
 */
export function topologyOption(path: string | undefined): Topology {
  return path === undefined ? loadTopology(DEFAULT_TOPOLOGY_PATH, PROJECT_ROOT) : loadTopology(path);
}
