/**
 * Kafka for the user-facing commands (run, produce, tail, demo): brokers chosen by
 * `resolveBrokers` (KAFKA_BROKERS, else Docker, else the local broker on demand), a
 * client whose log lines go to stderr, and the topology whose topics they default to.
 */
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { resolveBrokers, type ResolvedBrokers } from '../kafka/brokers.js';
import { createKafka } from '../kafka/client.js';
import { waitForBrokers } from '../kafka/wait-for-brokers.js';
import { loadTopology, type Topology } from '../pipeline/topology.js';
import { PROJECT_ROOT } from '../project-root.js';
import { startTelemetry, type Telemetry } from '../telemetry/setup.js';

const DEFAULT_TOPOLOGY_PATH = join(PROJECT_ROOT, 'topologies', 'default.yaml');

export interface CliKafka {
  kafka: Kafka;
  brokers: ResolvedBrokers;
}

/** One line, at once, when no broker answers (kafkajs alone would log a minute of retries first). */
export async function connectKafka(clientId: string): Promise<CliKafka> {
  const brokers = await resolveBrokers({ log: (line) => process.stderr.write(`teacherlm: ${line}\n`) });
  try {
    await waitForBrokers(brokers.brokers);
  } catch (err) {
    await brokers.stop();
    throw err;
  }
  return { kafka: createKafka({ brokers: brokers.brokers, clientId }), brokers };
}

export interface CliSession extends CliKafka {
  telemetry: Telemetry;
  /** Stops the brokers, then shuts telemetry down (after everything traced). */
  close(): Promise<void>;
}

/**
 * Telemetry started (before anything traced), then Kafka connected with `name` as both
 * service name and client id; when connecting fails, telemetry is shut down again and
 * the error rethrown. Callers end with `close()`, or its two steps when something of
 * their own goes between them.
 */
export async function openCliKafka(name: string): Promise<CliSession> {
  const telemetry = startTelemetry({ serviceName: name });
  const { kafka, brokers } = await connectKafka(name).catch(async (err: unknown) => {
    await telemetry.shutdown();
    throw err;
  });
  return {
    kafka,
    brokers,
    telemetry,
    close: async () => {
      await brokers.stop();
      await telemetry.shutdown();
    },
  };
}

/**
 * `--topology FILE`, or the default topology. Relative model paths of a user's file
 * resolve against the working directory; those of the bundled default against the
 * project root, so `teacherlm demo` works from any directory.
 */
export function topologyOption(path: string | undefined): Topology {
  return path === undefined ? loadTopology(DEFAULT_TOPOLOGY_PATH, PROJECT_ROOT) : loadTopology(path);
}
