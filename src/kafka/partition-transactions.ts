/**
 * Exactly-once commits per input partition: one transactional producer per input
 * topic-partition (`transactionalId` = `<prefix>-<topic>-<partition>`, as kafkajs's
 * docs/Transactions.md keeps it), so a new owner's `initProducerId` fences the previous
 * owner of that partition. kafkajs 2.2.4 has no KIP-447 (TxnOffsetCommit carries no
 * group generation), so this id is the only fence.
 *
 * A commit is one short transaction: the outputs of a contiguous completed range of input
 * offsets (sent in requests that fit max.message.bytes), `sendOffsets` to the end of the
 * range, EndTxn. It never spans inference: the pipeline calls it with finished records.
 *
 * Failures. kafkajs does not retry AddOffsetsToTxn or EndTxn (CONCURRENT_TRANSACTIONS
 * escapes), and a producer whose EndTxn failed is stuck in COMMITTING. So any failure
 * replaces the producer (its initProducerId finishes or aborts what the old one left),
 * then reads the group's committed offset with require_stable (stable-offsets.ts, so a
 * commit whose marker is not applied yet is waited for, not read stale): at the range's
 * end, the commit went through;
 * otherwise a retriable error is retried with backoff and anything else rejects with
 * TRANSACTION_FAILED. A fenced producer (a newer owner exists) is never re-initialised,
 * which would fence the new owner in turn.
 *
 * @example
 * const tx = new PartitionTransactions({ kafka, groupId: 'teacherlm' });
 * await tx.assign('samples.raw', 0);                    // fences the previous owner
 * await tx.commit('samples.raw', 0, records, '1042');   // outputs + offset 1042, atomically
 */
import type { Kafka, Producer, TopicMessages } from 'kafkajs';
import { TeacherlmError } from '../errors.js';
import { partitionKey, type OutRecord } from '../pipeline/ports.js';
import { recordLimit } from '../pipeline/record-size.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, isTooLarge, splitByBytes } from './sink.js';
import { fastDefaultPartitioner } from './partitioner.js';
import { intOption, nonEmptyString, rejectOption } from '../options.js';
import { StableOffsets } from './stable-offsets.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import { isHandshakePending } from './handshake-pending.js';

export interface PartitionTransactionsOptions {
  kafka: Kafka;
  /** The consumer group whose offsets the transactions commit. */
  groupId: string;
  /** Start of every transactional id. Default: the group id. */
  transactionalIdPrefix?: string;
  /** Attempts of one commit before it fails. Default 8. */
  maxAttempts?: number;
  /** First backoff between attempts, ms (doubles up to 5 s). Default 100. */
  initialBackoffMs?: number;
  /** Broker-side transaction timeout, ms. Default 60 000 (kafkajs's). */
  transactionTimeoutMs?: number;
  /** Topics whose max.message.bytes caps each request; see KafkaSink. */
  maxRecordBytes?: (topic: string) => number | undefined;
  /** Called when the broker refused a request as too large (a limit lowered since the limits were read): reads them again before the commit fails and its range is redone. */
  refreshLimits?: () => Promise<void>;
  /** Events (retries, fencing). Default none. */
  onEvent?: (event: Record<string, unknown>) => void;
  /** Counts each transaction's end (`teacherlm.transactions`); default none. */
  metrics?: Pick<PipelineMetrics, 'transaction'>;
}

const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
const MAX_BACKOFF_MS = 5_000;

interface KafkaJsLikeError {
  name?: string;
  type?: string;
  retriable?: boolean;
  message?: string;
  cause?: unknown;
}

function rootOf(err: unknown): KafkaJsLikeError {
  let e = (err ?? {}) as KafkaJsLikeError;
  while (e.cause && typeof e.cause === 'object') e = e.cause as KafkaJsLikeError;
  return e;
}

export function isFenced(err: unknown): boolean {
  const e = (err ?? {}) as KafkaJsLikeError;
  return FENCED_TYPES.has(e.type ?? '') || FENCED_TYPES.has(rootOf(err).type ?? '') || /fenced/i.test(String(e.message));
}

/** Whether a failed transaction is worth redoing (exported for its tests). */
export function isRetriable(err: unknown): boolean {
  const e = (err ?? {}) as KafkaJsLikeError;
  if (isFenced(err)) return false;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return rootOf(err).retriable !== false;
  return e.retriable === true || rootOf(err).retriable === true || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSRequestTimeoutError' || isHandshakePending(err);
}

export class PartitionTransactions {
  private readonly kafka: Kafka;
  private readonly groupId: string;
  private readonly prefix: string;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly transactionTimeoutMs: number;
  private readonly limitOf: (topic: string) => number | undefined;
  private readonly refreshLimits: () => Promise<void>;
  private readonly onEvent: (event: Record<string, unknown>) => void;
  private readonly ended: (outcome: 'commit' | 'abort') => void;
  private readonly producers = new Map<string, Promise<Producer>>();
  private readonly offsets: StableOffsets;
  private closed = false;

  constructor(options: PartitionTransactionsOptions) {
    if (!options.kafka || typeof options.kafka.producer !== 'function') rejectOption('kafka', 'a kafkajs Kafka client', options.kafka);
    nonEmptyString('groupId', options.groupId);
    this.kafka = options.kafka;
    this.groupId = options.groupId;
    this.prefix = options.transactionalIdPrefix ?? options.groupId;
    this.maxAttempts = intOption('maxAttempts', options.maxAttempts, 8);
    this.initialBackoffMs = intOption('initialBackoffMs', options.initialBackoffMs, 100);
    this.transactionTimeoutMs = intOption('transactionTimeoutMs', options.transactionTimeoutMs, 60_000);
    this.limitOf = options.maxRecordBytes ?? (() => undefined);
    this.refreshLimits = options.refreshLimits ?? (async () => {});
    this.onEvent = options.onEvent ?? (() => {});
    this.offsets = new StableOffsets({ kafka: options.kafka, groupId: options.groupId });
    const metrics = options.metrics;
    this.ended = metrics ? (outcome) => metrics.transaction(outcome) : () => {};
  }

  transactionalId(topic: string, partition: number): string {
    return `${this.prefix}-${topic}-${partition}`;
  }

  /** Starts (or restarts) the partition's transactional producer: initProducerId fences its previous owner. */
  async assign(topic: string, partition: number): Promise<void> {
    await this.replace(topic, partition);
  }

  /** Disconnects the partition's producer (after its last commit). */
  async revoke(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const producer = this.producers.get(key);
    this.producers.delete(key);
    await producer?.then((p) => p.disconnect()).catch(() => {});
  }

  /**
   * Writes `records` and commits the input offset `nextOffset` of `topic/partition` for the
   * group, atomically. Resolves once committed; rejects with TRANSACTION_FAILED (retriable
   * false) after which the caller drops the partition's uncommitted work.
   */
  async commit(topic: string, partition: number, records: OutRecord[], nextOffset: string): Promise<void> {
    let backoff = this.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new TeacherlmError('TRANSACTION_FAILED', 'the transactions are closed', { retriable: false });
      try {
        const producer = await this.producerFor(topic, partition);
        await this.transact(producer, topic, partition, records, nextOffset);
        this.ended('commit');
        return;
      } catch (err) {
        const where = `${topic}/${partition}`;
        if (isFenced(err)) {
          this.ended('abort');
          await this.revoke(topic, partition);
          throw new TeacherlmError('TRANSACTION_FAILED', `the producer of ${where} was fenced by a newer owner: ${(err as Error).message}`, { cause: err, retriable: false });
        }
        // The old producer may be stuck mid-transaction: a new one resolves what it left.
        let committed: string | undefined;
        try {
          await this.replace(topic, partition);
          // The commit may have gone through: a stable read waits for its marker to apply.
          const [read] = await this.offsets.fetch([{ topic, partition }]);
          committed = read?.offset;
        } catch (resetError) {
          this.ended('abort');
          if (isFenced(resetError)) await this.revoke(topic, partition);
          if (isFenced(resetError) || attempt >= this.maxAttempts || !isRetriable(resetError)) {
            throw new TeacherlmError('TRANSACTION_FAILED', `the transaction of ${where} failed and its producer could not be restarted: ${(resetError as Error).message}`, { cause: resetError, retriable: false });
          }
        }
        if (committed === nextOffset) {
          this.ended('commit'); // it went through before the error reached us
          return;
        }
        // Aborted, by kafkajs or by the replacement producer's initProducerId.
        this.ended('abort');
        if (isTooLarge(err)) {
          // Redone from the committed offset, encoded and split under the limits read now.
          await this.refreshLimits().catch(() => {});
          throw new TeacherlmError('TRANSACTION_FAILED', `the transaction of ${where} was refused as too large; the topic limits were read again: ${(err as Error).message}`, { cause: err, retriable: false });
        }
        if (attempt >= this.maxAttempts || !isRetriable(err)) {
          throw new TeacherlmError('TRANSACTION_FAILED', `the transaction of ${where} failed after ${attempt} attempt(s): ${(err as Error).message}`, { cause: err, retriable: false });
        }
        this.onEvent({ event: 'transaction-retry', partition: where, attempt, error: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.allSettled(all.map((p) => p.then((producer) => producer.disconnect())));
    await this.offsets.close();
  }

  private producerFor(topic: string, partition: number): Promise<Producer> {
    return this.producers.get(partitionKey(topic, partition)) ?? this.replace(topic, partition);
  }

  private replace(topic: string, partition: number): Promise<Producer> {
    const key = partitionKey(topic, partition);
    const previous = this.producers.get(key);
    const next = (async () => {
      await previous?.then((p) => p.disconnect()).catch(() => {});
      const producer = this.kafka.producer({
        transactionalId: this.transactionalId(topic, partition),
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.transactionTimeoutMs,
        allowAutoTopicCreation: false,
        createPartitioner: fastDefaultPartitioner,
      });
      try {
        await producer.connect();
        // kafkajs's connect gets a plain idempotent producer id; the transactional
        // initProducerId, the one that fences the previous owner of this id (and aborts or
        // finishes its open transaction), runs at the first transaction(). Run it now: a
        // caller reads the committed offsets after this, and an owner still free to commit
        // would move them past what was read.
        await (await producer.transaction()).abort();
      } catch (err) {
        // A connect that failed (a broker outage) may still hold sockets it opened.
        await producer.disconnect().catch(() => {});
        throw err;
      }
      return producer;
    })();
    this.producers.set(key, next);
    next.catch(() => {
      if (this.producers.get(key) === next) this.producers.delete(key);
    });
    return next;
  }

  private async transact(producer: Producer, topic: string, partition: number, records: OutRecord[], nextOffset: string): Promise<void> {
    const transaction = await producer.transaction();
    try {
      const cap = Math.min(...[...new Set(records.map((r) => r.topic))].map((t) => this.limitOf(t) ?? recordLimit(KAFKA_DEFAULT_MAX_MESSAGE_BYTES)));
      for (const chunk of records.length === 0 ? [] : splitByBytes(records, cap)) {
        await transaction.sendBatch({ acks: -1, topicMessages: byTopic(chunk.records) });
      }
      await transaction.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
      await transaction.commit();
    } catch (err) {
      // Abort when the state machine still allows it; otherwise the replacement producer resolves it.
      if (transaction.isActive()) await transaction.abort().catch(() => {});
      throw err;
    }
  }

}

function byTopic(records: OutRecord[]): TopicMessages[] {
  const topics = new Map<string, TopicMessages['messages']>();
  for (const r of records) {
    let messages = topics.get(r.topic);
    if (!messages) topics.set(r.topic, (messages = []));
    messages.push({ key: r.key, value: r.value, headers: r.headers });
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
