/**
 * Which Kafka to talk to, decided in this one place for tests and runtime alike:
 *
 * 1. `KAFKA_BROKERS` set (comma-separated host:port): use it, start nothing.
 * 2. else a Docker engine that really answers (testcontainers finds a working runtime;
 *    a docker CLI without an engine does not count): a `@testcontainers/kafka` container.
 * 3. else the local broker (./local/broker.ts) on 127.0.0.1, started on demand.
 *
 * @example
 * const resolved = await resolveBrokers();
 * try { const kafka = createKafka({ brokers: resolved.brokers }); ... } finally { await resolved.stop(); }
 */
import { TeacherlmError } from '../errors.js';
import { describeValue, intArg, rejectOption } from '../options.js';
import { acquireLocalBroker, DEFAULT_KAFKA_PORT, type LocalBrokerOptions } from './local/broker.js';

export type BrokerSource = 'env' | 'testcontainers' | 'local';

export interface ResolvedBrokers {
  brokers: string[];
  source: BrokerSource;
  /** True when this call started the broker (a container, or the local broker). */
  startedHere: boolean;
  /**
   * Gives back what this call holds: stops a container it started, releases its lease on
   * the local broker (which stops an on-demand broker once nobody uses it). Idempotent.
   */
  stop(): Promise<void>;
}

export interface ResolveBrokersOptions {
  /** Default process.env. Read: KAFKA_BROKERS, TEACHERLM_KAFKA_PORT, TEACHERLM_KAFKA_IMAGE, TEACHERLM_KAFKA_DOCKER. */
  env?: NodeJS.ProcessEnv;
  /** Options for the local broker (port default TEACHERLM_KAFKA_PORT or 9092). */
  local?: LocalBrokerOptions;
  /** Progress lines. Default: silent. */
  log?: (line: string) => void;
  /** Replaceable for unit tests. */
  probeDocker?: () => Promise<boolean>;
  startContainer?: (image: string) => Promise<{ brokers: string[]; stop(): Promise<void> }>;
}

/**
 * Confluent's image, because @testcontainers/kafka 11.14 drives the Confluent start
 * scripts (/etc/confluent/docker/run); cp-kafka 8.1 is Apache Kafka 4.1, like the local broker.
 */
export const DEFAULT_KAFKA_IMAGE = 'confluentinc/cp-kafka:8.1.0';

/** Parses `host:port[,host:port...]`; the message names the variable. */
export function parseBrokerList(value: string, field = 'KAFKA_BROKERS'): string[] {
  const brokers = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (brokers.length === 0) rejectOption(field, 'at least one host:port', value);
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s/]+):(\d{1,5})$/.exec(b);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw new TeacherlmError('INVALID_OPTIONS', `${field}: expected host:port entries, got ${describeValue(b)}`, { hint: 'e.g. KAFKA_BROKERS=127.0.0.1:9092,10.0.0.5:9092' });
    }
  }
  return brokers;
}

function parsePort(value: string | undefined): number | undefined {
  return value === '' ? undefined : intArg('TEACHERLM_KAFKA_PORT', value, { min: 1, max: 65535 });
}

/** True only when a container engine answers; the message of its absence is expected here. */
async function dockerEngineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false; // "Could not find a working container runtime strategy"
  }
}

async function startKafkaContainer(image: string): Promise<{ brokers: string[]; stop(): Promise<void> }> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(image)
    .withEnvironment({
      // The module sets min ISR 1 but not the replication factor (default 3): transactions
      // would never initialise on its single broker.
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .start();
  return {
    brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
    stop: async () => {
      await container.stop();
    },
  };
}

export async function resolveBrokers(options: ResolveBrokersOptions = {}): Promise<ResolvedBrokers> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});

  if (env.KAFKA_BROKERS !== undefined && env.KAFKA_BROKERS.trim() !== '') {
    return { brokers: parseBrokerList(env.KAFKA_BROKERS), source: 'env', startedHere: false, stop: async () => {} };
  }

  // TEACHERLM_KAFKA_DOCKER=0 skips the Docker probe (a developer with Docker who wants the local broker).
  const dockerAllowed = env.TEACHERLM_KAFKA_DOCKER !== '0';
  if (dockerAllowed && (await (options.probeDocker ?? dockerEngineAnswers)())) {
    const image = env.TEACHERLM_KAFKA_IMAGE || DEFAULT_KAFKA_IMAGE;
    log(`starting Kafka in Docker (${image}) through testcontainers`);
    const container = await (options.startContainer ?? startKafkaContainer)(image).catch((err: unknown) => {
      throw new TeacherlmError('BROKER_START_FAILED', `could not start a Kafka container (${image}): ${(err as Error).message}`, {
        cause: err,
        hint: 'set KAFKA_BROKERS, or TEACHERLM_KAFKA_DOCKER=0 to use the local broker',
      });
    });
    return { brokers: container.brokers, source: 'testcontainers', startedHere: true, stop: once(container.stop) };
  }

  const port = options.local?.port ?? parsePort(env.TEACHERLM_KAFKA_PORT) ?? DEFAULT_KAFKA_PORT;
  log(`using the local Kafka broker on 127.0.0.1:${port} (started on demand)`);
  const lease = await acquireLocalBroker({ log, ...options.local, port });
  return { brokers: [lease.broker.bootstrap], source: 'local', startedHere: lease.broker.startedHere, stop: once(lease.release) };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
