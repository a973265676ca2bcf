/**
 * Creates the topics a topology declares, idempotently.
 *
 * - A missing topic is created with its partitions, replication factor and configs.
 * - An existing topic with at least the declared partitions is left as it is (its
 *   configs are not altered: changing retention or cleanup policy of live data is an
 *   operator's decision, not a side effect of starting a pipeline).
 * - An existing topic with FEWER partitions is an error by default. Adding partitions
 *   moves keys (sample ids) to other partitions, which breaks per-key ordering, and it
 *   cannot be undone; so it happens only when asked (`growPartitions: true`).
 * - When the broker refuses (replication factor above the broker count, a bad config
 *   value, an invalid name) the error is ADMIN_REFUSED and names the topic.
 * - It returns only once the broker's metadata shows every topic with a leader for each
 *   partition. A broker that has just started can answer the metadata request after a
 *   CreateTopics with UNKNOWN_TOPIC_OR_PARTITION (kafkajs does not retry that), so the
 *   metadata is polled until ready, for at most `readyTimeoutMs`; then ADMIN_REFUSED
 *   names the topics that are still not ready and why.
 *
 * @example
 * await ensureTopics(kafka, [{ topic: 'samples.raw', partitions: 6, configs: { 'retention.ms': '604800000' } }]);
 */
import type { Admin, ITopicMetadata, Kafka } from 'kafkajs';
import { TeacherlmError } from '../errors.js';
import { intOption, rejectOption } from '../options.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Default 1 (this project's brokers are single-node unless KAFKA_BROKERS says otherwise). */
  replicationFactor?: number;
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>;
}

export interface EnsureTopicsOptions {
  /** Add partitions to an existing topic that has fewer than declared. Default false. */
  growPartitions?: boolean;
  /** Broker-side timeout of the create request, ms. Default 30 000. */
  timeoutMs?: number;
  /** How long to wait for the topics to show in the metadata with partition leaders, ms. Default 30 000. */
  readyTimeoutMs?: number;
  /** First wait between metadata polls, ms (doubles up to 1 s). Default 100. */
  readyPollMs?: number;
}

export interface EnsureTopicsResult {
  created: string[];
  /** Already there with enough partitions; untouched. */
  existing: string[];
  /** Partitions added because `growPartitions` was set. */
  grown: string[];
}

/** Kafka's own rule for legal topic names (kafka.common.Topic). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Checks specs at the boundary; messages name the bad field, e.g. `topics[1].partitions`. */
export function validateTopicSpecs(specs: readonly unknown[], field = 'topics'): TopicSpec[] {
  if (!Array.isArray(specs)) rejectOption(field, 'an array', specs);
  const seen = new Set<string>();
  return specs.map((raw, i) => {
    const at = `${field}[${i}]`;
    if (typeof raw !== 'object' || raw === null) rejectOption(at, 'an object', raw);
    const spec = raw as Record<string, unknown>;
    const { topic, partitions, replicationFactor, configs } = spec;
    if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
      rejectOption(`${at}.topic`, '1-249 characters of [a-zA-Z0-9._-]', topic);
    }
    if (seen.has(topic)) rejectOption(`${at}.topic`, 'a topic not declared before', topic);
    seen.add(topic);
    if (partitions === undefined) rejectOption(`${at}.partitions`, 'a positive integer', partitions);
    const partitionCount = intOption(`${at}.partitions`, partitions, 1);
    const replicas = intOption(`${at}.replicationFactor`, replicationFactor, 1);
    if (configs !== undefined) {
      if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) rejectOption(`${at}.configs`, 'an object of strings', configs);
      for (const [name, value] of Object.entries(configs)) {
        if (typeof value !== 'string') rejectOption(`${at}.configs.${name}`, 'a string', value);
      }
    }
    return {
      topic,
      partitions: partitionCount,
      replicationFactor: replicas,
      ...(configs ? { configs: { ...(configs as Record<string, string>) } } : {}),
    };
  });
}

/** Accepts a kafkajs `Kafka` (connects its own admin) or an already connected `Admin`. */
export async function ensureTopics(
  client: Kafka | Admin,
  specs: readonly TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  const topics = validateTopicSpecs(specs);
  const ownAdmin = 'admin' in client;
  const admin: Admin = ownAdmin ? client.admin() : client;
  if (ownAdmin) {
    await admin.connect().catch((err: unknown) => {
      throw new TeacherlmError('BROKER_UNREACHABLE', `could not connect the admin client: ${(err as Error).message}`, { cause: err });
    });
  }
  try {
    return await ensureWith(admin, topics, options);
  } finally {
    if (ownAdmin) await admin.disconnect();
  }
}

async function ensureWith(admin: Admin, topics: TopicSpec[], options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const timeout = options.timeoutMs ?? 30_000;
  const result: EnsureTopicsResult = { created: [], existing: [], grown: [] };
  const present = new Set(
    await admin.listTopics().catch((err: unknown) => {
      throw new TeacherlmError('BROKER_UNREACHABLE', `could not list topics: ${(err as Error).message}`, { cause: err });
    }),
  );
  const missing = topics.filter((t) => !present.has(t.topic));

  if (missing.length > 0) {
    try {
      await admin.createTopics({
        timeout,
        // kafkajs's own leader wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a fresh broker
        // answers for a moment; readyPartitionCounts below waits that out instead.
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      throw refused(err, missing.map((t) => t.topic));
    }
  }

  // Re-read everything: a concurrent creator may have won the race for a "missing" topic.
  const createdNames = new Set(missing.map((t) => t.topic));
  const counts = await readyPartitionCounts(admin, topics.map((t) => t.topic), createdNames, options);
  for (const spec of topics) {
    const have = counts.get(spec.topic) ?? 0;
    const createdNow = createdNames.has(spec.topic);
    if (have >= spec.partitions) {
      (createdNow ? result.created : result.existing).push(spec.topic);
      continue;
    }
    if (!options.growPartitions) {
      throw new TeacherlmError(
        'ADMIN_REFUSED',
        `topic '${spec.topic}' has ${have} partitions, fewer than the ${spec.partitions} declared`,
        { hint: 'adding partitions moves keys between partitions; allow it with growPartitions, or declare the existing count' },
      );
    }
    try {
      await admin.createPartitions({ timeout, topicPartitions: [{ topic: spec.topic, count: spec.partitions }] });
    } catch (err) {
      throw refused(err, [spec.topic]);
    }
    result.grown.push(spec.topic);
  }
  return result;
}

/** Metadata errors that mean "not there yet" on a broker still propagating a new topic. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

/**
 * Partition counts once every topic is in the metadata, and each just `created` one has a
 * leader serving each partition; polled with backoff for at most `readyTimeoutMs`. (An
 * existing topic with an offline partition is the operator's business, not a reason to wait.)
 */
async function readyPartitionCounts(admin: Admin, topics: string[], created: Set<string>, options: EnsureTopicsOptions): Promise<Map<string, number>> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + readyTimeoutMs;
  let wait = options.readyPollMs ?? 100;
  for (;;) {
    let why: string;
    let notReady: string[];
    let requestFailed = false;
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      const byName = new Map(meta.map((m) => [m.name, m]));
      notReady = topics.filter((t) => (created.has(t) ? !hasLeaders(byName.get(t)) : !byName.has(t)));
      why = 'not every partition has a leader yet';
      if (notReady.length === 0) {
        // A KRaft broker names a new partition's leader in its metadata a moment before that
        // leader serves it; a produce then fails with NOT_LEADER_OR_FOLLOWER and is retried,
        // which duplicates records for producers that are not idempotent. ListOffsets is
        // answered only by a serving leader.
        for (const topic of created) await admin.fetchTopicOffsets(topic);
        return new Map(meta.map((m) => [m.name, m.partitions.length]));
      }
    } catch (err) {
      const type = kafkaErrorType(err);
      if (type === undefined || !NOT_YET.has(type)) throw refused(err, topics);
      notReady = topics;
      requestFailed = true;
      why = `${(err as Error).message} (${type})`;
    }
    if (Date.now() + wait > deadline) {
      // A failed request does not say which topic it missed: ask for each on its own.
      if (requestFailed && notReady.length > 1) notReady = await unknownTopics(admin, notReady);
      const names = notReady.map((t) => `'${t}'`).join(', ');
      throw new TeacherlmError('ADMIN_REFUSED', `topic ${names} not ready in the broker's metadata after ${readyTimeoutMs} ms: ${why}`, {
        retriable: true,
        hint: 'the broker may still be starting, or a partition has no live leader; check the broker log',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 1_000);
  }
}

async function unknownTopics(admin: Admin, topics: string[]): Promise<string[]> {
  const unknown: string[] = [];
  for (const topic of topics) {
    await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => unknown.push(topic));
  }
  return unknown.length > 0 ? unknown : topics;
}

/** The protocol error type of a kafkajs error, looking through its retrier's wrapper. */
function kafkaErrorType(err: unknown): string | undefined {
  const e = err as { type?: string; cause?: { type?: string } };
  return e.type ?? e.cause?.type;
}

function hasLeaders(meta: ITopicMetadata | undefined): boolean {
  return meta !== undefined && meta.partitions.length > 0 && meta.partitions.every((p) => !p.partitionErrorCode && p.leader >= 0);
}

interface KafkaJsTopicError {
  topic?: string;
  type?: string;
  message?: string;
}

/** Turns a kafkajs admin failure into ADMIN_REFUSED naming the topic(s) the broker refused. */
export function refused(err: unknown, topics: string[]): TeacherlmError {
  const nested = (err as { errors?: unknown }).errors;
  const errors: KafkaJsTopicError[] = Array.isArray(nested) ? (nested as KafkaJsTopicError[]) : [err as KafkaJsTopicError];
  const parts = errors.map((e) => {
    const topic = e.topic ?? (topics.length === 1 ? topics[0] : topics.join(', '));
    const why = e.message ?? String(e);
    return `topic '${topic}': ${why}${e.type ? ` (${e.type})` : ''}`;
  });
  return new TeacherlmError('ADMIN_REFUSED', `the broker refused ${parts.join('; ')}`, {
    cause: err,
    hint: 'check partitions, replicationFactor (at most the number of brokers) and configs of that topic',
  });
}

