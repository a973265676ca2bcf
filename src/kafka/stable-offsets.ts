/**
 * A group's committed offsets read with `require_stable` (OffsetFetch v7, KIP-447).
 *
 * Why: a transaction's offsets (TxnOffsetCommit) stay pending in the group coordinator
 * until its commit marker is applied there, which happens a moment after EndTxn returns
 * or after a new owner's initProducerId fenced the old one. kafkajs's OffsetFetch (v4)
 * answers the offset from before the pending commit meanwhile, and redoing that range
 * writes it twice. With require_stable the broker answers UNSTABLE_OFFSET_COMMIT for a
 * partition with pending transactional offsets instead, so a read here either returns
 * the offset after the last transaction or waits (retries with backoff) until it can.
 *
 * The request goes through kafkajs's own connection to the group coordinator (same
 * brokers, TLS, SASL, client id and logger as the client), taken from the client's
 * cluster factory: kafkajs 2.2.4 (pinned) keeps it under a private symbol.
 *
 * @example
 * const offsets = new StableOffsets({ kafka, groupId: 'teacherlm' });
 * await offsets.fetch([{ topic: 'samples.raw', partition: 0 }]); // [{ topic, partition, offset: '1042' }]
 * await offsets.close();
 */
import type { Kafka } from 'kafkajs';
import { TeacherlmError } from '../errors.js';
import { intOption, nonEmptyString, rejectOption } from '../options.js';
import { partitionKey } from '../pipeline/ports.js';
import {
  KAFKA_ERRORS,
  OFFSET_FETCH_API_KEY,
  OFFSET_FETCH_STABLE_VERSION,
  decodeOffsetFetchV7,
  encodeOffsetFetchV7,
  type OffsetFetchResponse,
} from './offset-fetch-v7.js';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

/** '-1': the group has no committed offset there. */
export interface StableOffset extends TopicPartitionRef {
  offset: string;
}

/** Sends one encoded OffsetFetch v7 payload to the group's coordinator and returns the raw reply. */
export type OffsetFetchTransport = {
  send(payload: Buffer): Promise<Buffer>;
  /** The coordinator answered NOT_COORDINATOR or similar: find it again before the next send. */
  reset(): void;
  close(): Promise<void>;
};

export interface StableOffsetsOptions {
  kafka: Kafka;
  groupId: string;
  /** How long a read waits for pending transactions to settle before OFFSETS_UNAVAILABLE. Default 60 000 ms (kafkajs's transaction timeout: the coordinator aborts a transaction by then). */
  timeoutMs?: number;
  /** First pause between attempts, ms; doubles up to 1 s. Default 20. */
  initialBackoffMs?: number;
  /** Unit tests: a transport instead of kafkajs's connection. */
  transport?: OffsetFetchTransport;
  /** Unit tests: the pause between attempts. */
  wait?: (ms: number) => Promise<void>;
}

const RETRIED = new Set([14, 15, 16, 88]);
const COORDINATOR_MOVED = new Set([15, 16]);
const MAX_BACKOFF_MS = 1_000;

export class StableOffsets {
  private readonly groupId: string;
  private readonly timeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly transport: OffsetFetchTransport;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(options: StableOffsetsOptions) {
    nonEmptyString('groupId', options.groupId);
    this.groupId = options.groupId;
    this.timeoutMs = intOption('timeoutMs', options.timeoutMs, 60_000);
    this.initialBackoffMs = intOption('initialBackoffMs', options.initialBackoffMs, 20);
    this.wait = options.wait ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    if (options.transport) this.transport = options.transport;
    else if (options.kafka && typeof options.kafka.producer === 'function') this.transport = kafkaJsTransport(options.kafka, options.groupId);
    else rejectOption('kafka', 'a kafkajs Kafka client', options.kafka);
  }

  /** The committed offset of each partition once no transaction on it is pending, in the order asked. */
  async fetch(partitions: TopicPartitionRef[]): Promise<StableOffset[]> {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      const list = byTopic.get(topic) ?? [];
      if (!list.includes(partition)) list.push(partition);
      byTopic.set(topic, list);
    }
    const payload = encodeOffsetFetchV7({
      groupId: this.groupId,
      topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })),
      requireStable: true,
    });
    const started = Date.now();
    for (let backoff = this.initialBackoffMs; ; backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)) {
      const reply = decodeOffsetFetchV7(await this.transport.send(payload));
      const code = firstError(reply);
      if (code === 0) return this.ordered(partitions, reply);
      if (COORDINATOR_MOVED.has(code)) this.transport.reset();
      const name = KAFKA_ERRORS[code] ?? `Kafka error code ${code}`;
      if (!RETRIED.has(code)) {
        throw new TeacherlmError('OFFSETS_UNAVAILABLE', `could not read the committed offsets of group ${this.groupId}: ${name}`, { retriable: false });
      }
      if (Date.now() - started >= this.timeoutMs) {
        throw new TeacherlmError('OFFSETS_UNAVAILABLE', `the committed offsets of group ${this.groupId} were not stable within ${this.timeoutMs} ms: ${name}`);
      }
      await this.wait(backoff);
    }
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private ordered(partitions: TopicPartitionRef[], reply: OffsetFetchResponse): StableOffset[] {
    const found = new Map(reply.offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]));
    return partitions.map(({ topic, partition }) => ({ topic, partition, offset: found.get(partitionKey(topic, partition)) ?? '-1' }));
  }
}

function firstError(reply: OffsetFetchResponse): number {
  if (reply.errorCode !== 0) return reply.errorCode;
  return reply.offsets.find((o) => o.errorCode !== 0)?.errorCode ?? 0;
}

/** The parts of kafkajs's internal Cluster and Broker this uses (kafkajs 2.2.4). */
interface KafkaJsBroker {
  versions: Record<number, { minVersion: number; maxVersion: number }> | null;
  connectionPool: {
    send(protocol: {
      request: { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<{ buf: Buffer; buffer: Buffer }> };
      response: { decode: (payload: Buffer) => Promise<Buffer>; parse: (payload: Buffer) => Promise<Buffer> };
    }): Promise<Buffer>;
  };
}
interface KafkaJsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(args: { groupId: string }): Promise<KafkaJsBroker>;
}

const CREATE_CLUSTER = 'private:Kafka:createCluster';

/** A new cluster (connections) made by the client's own factory, so it shares its brokers, TLS, SASL and logger. */
function clusterOf(kafka: Kafka): KafkaJsCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const createCluster = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof createCluster !== 'function') {
    throw new TeacherlmError('OFFSETS_UNAVAILABLE', 'this kafkajs has no cluster factory to send OffsetFetch v7 through (the project pins kafkajs 2.2.4)', { retriable: false });
  }
  return (createCluster as (o: object) => KafkaJsCluster)({ allowAutoTopicCreation: false });
}

function kafkaJsTransport(kafka: Kafka, groupId: string): OffsetFetchTransport {
  let cluster: Promise<KafkaJsCluster> | undefined;
  let coordinator: Promise<KafkaJsBroker> | undefined;
  const connected = (): Promise<KafkaJsCluster> =>
    (cluster ??= (async () => {
      const c = clusterOf(kafka);
      try {
        await c.connect();
      } catch (err) {
        throw new TeacherlmError('OFFSETS_UNAVAILABLE', `could not connect to read committed offsets: ${(err as Error).message}`, { cause: err });
      }
      return c;
    })().catch((err: unknown) => {
      cluster = undefined;
      throw err;
    }));
  const coordinatorOf = (): Promise<KafkaJsBroker> =>
    (coordinator ??= connected()
      .then((c) => c.findGroupCoordinator({ groupId }))
      .then((broker) => {
        const max = broker.versions?.[OFFSET_FETCH_API_KEY]?.maxVersion ?? -1;
        if (max < OFFSET_FETCH_STABLE_VERSION) {
          throw new TeacherlmError('OFFSETS_UNAVAILABLE', `the broker serves OffsetFetch up to v${max}; reading stable offsets needs v${OFFSET_FETCH_STABLE_VERSION} (Kafka 2.5 or later)`, { retriable: false });
        }
        return broker;
      })
      .catch((err: unknown) => {
        coordinator = undefined;
        throw err;
      }));
  return {
    async send(payload) {
      const broker = await coordinatorOf();
      try {
        return await broker.connectionPool.send({
          request: {
            apiKey: OFFSET_FETCH_API_KEY,
            apiVersion: OFFSET_FETCH_STABLE_VERSION,
            apiName: 'OffsetFetch',
            encode: async () => ({ buf: payload, buffer: payload }),
          },
          response: { decode: async (raw) => raw, parse: async (raw) => raw },
        });
      } catch (err) {
        coordinator = undefined; // a closed connection or a moved coordinator: find it again
        throw new TeacherlmError('OFFSETS_UNAVAILABLE', `OffsetFetch v7 to the coordinator of group ${groupId} failed: ${(err as Error).message}`, { cause: err });
      }
    },
    reset() {
      coordinator = undefined;
    },
    async close() {
      const c = cluster;
      cluster = undefined;
      coordinator = undefined;
      await c?.then((x) => x.disconnect()).catch(() => {});
    },
  };
}
