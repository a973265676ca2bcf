/**
 * {@link RecordSink} over an idempotent kafkajs producer (acks=all, producer id and
 * sequence numbers, so a retried request is never written twice).
 *
 * Batching. kafkajs serialises an idempotent producer's requests per broker anyway, so
 * the sink keeps one `sendBatch` in flight and gathers every `send` made meanwhile into
 * the next one: one request carries many callers' records when the pipeline is busy,
 * and an idle sink adds no latency (no linger timer). Gathering stops at
 * `maxBatchRecords` / `maxBatchBytes`, below what the broker accepts in one batch.
 *
 * Size. The broker refuses a partition's record batch above the topic's
 * `max.message.bytes`, so on connect the sink reads that config for its `topics` (with the
 * admin client) and caps every request at the smallest: a send larger than the cap is
 * split into several requests, whatever its records' sizes. `maxRecordBytes(topic)` tells
 * the pipeline which single records can never fit (it dead-letters them instead).
 * If the broker still answers MESSAGE_TOO_LARGE (a topic's limit was lowered after
 * connect), the sink reads the limits again and sends the refused request again in
 * parts that fit them, halving down to single records; records refused even alone
 * reject their send with {@link RecordsRefused}, every other record of it written.
 *
 * Each `send` resolves only after the broker acknowledged all of its records; kafkajs
 * retries retriable errors (`retries` times, exponential backoff) and what still fails
 * rejects the callers of that batch with PRODUCE_FAILED, retriable when the cause was.
 * kafkajs keeps using a broker whose handshake failed (a reconnect under load) and fails
 * every request on it; on that error the sink drops its connections, so the next send
 * connects afresh (an at-least-once resend of a batch whose ack was lost may then repeat it).
 *
 * @example
 * const sink = new KafkaSink({ kafka });
 * await sink.send([{ topic: 'samples.augmented', key: id, value, headers }]);
 * await sink.close();
 */
import kafkajs, { type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { TeacherlmError } from '../errors.js';
import type { OutRecord, RecordSink } from '../pipeline/ports.js';
import { RecordsRefused } from '../pipeline/refused-records.js';
import { BATCH_OVERHEAD_BYTES, recordBytes, recordLimit } from '../pipeline/record-size.js';
import { fastDefaultPartitioner } from './partitioner.js';
import { intOption, rejectOption } from '../options.js';
import { isHandshakePending } from './handshake-pending.js';
import { connectProducer } from './producer-connect.js';

export interface KafkaSinkOptions {
  /** A client from `createKafka()`. */
  kafka: Kafka;
  /** kafkajs retries of a failing request before the send fails. Default {@link DEFAULT_PRODUCE_RETRIES}. */
  retries?: number;
  /** Most records gathered into one sendBatch (a single larger send still goes whole). Default {@link DEFAULT_MAX_BATCH_RECORDS}. */
  maxBatchRecords?: number;
  /**
   * Most bytes (keys, values, headers) gathered into one sendBatch. The broker refuses a
   * partition's record batch above its `max.message.bytes` (1 MiB by default), so sends
   * are gathered only up to this; a single larger send still goes whole. Default
   * {@link DEFAULT_MAX_BATCH_BYTES}.
   */
  maxBatchBytes?: number;
  /** Broker-side ack timeout per request, ms. Default 30 000. */
  ackTimeoutMs?: number;
  /** Topics whose `max.message.bytes` is read on connect to cap requests and records. Default none. */
  topics?: string[];
  /** A cap of our own on a partition's record batch, below the topics' limits. Default none. */
  maxMessageBytes?: number;
}

export const DEFAULT_PRODUCE_RETRIES = 8;
export const DEFAULT_MAX_BATCH_RECORDS = 5_000;
/** Below the broker's default max.message.bytes (1,048,588), leaving room for batch overhead. */
export const DEFAULT_MAX_BATCH_BYTES = 900_000;
/** Kafka's default `message.max.bytes` / `max.message.bytes`, assumed for a topic whose config cannot be read. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

export interface SinkStats {
  /** Calls of send() with at least one record. */
  sends: number;
  /** Records acknowledged by the broker. */
  records: number;
  /** sendBatch requests made (fewer than sends when batching works). */
  batches: number;
  /** Records whose send failed. */
  failed: number;
}

interface Pending {
  records: OutRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: TeacherlmError) => void;
}

export class KafkaSink implements RecordSink {
  private readonly producer: Producer;
  private readonly kafka: Kafka;
  /** Most records gathered into one sendBatch. */
  readonly maxBatchRecords: number;
  private maxBatchBytes: number;
  private readonly topics: string[];
  private readonly maxMessageBytes: number | undefined;
  /** max.message.bytes per topic, read on connect. */
  private readonly topicLimits = new Map<string, number>();
  private readonly ackTimeoutMs: number;
  private readonly queue: Pending[] = [];
  private readonly outstanding = new Set<Promise<void>>();
  private connecting: Promise<void> | undefined;
  private readonly retries: number;
  private inFlight = false;
  private closing: Promise<void> | undefined;
  private readonly counters: SinkStats = { sends: 0, records: 0, batches: 0, failed: 0 };

  constructor(options: KafkaSinkOptions) {
    const { kafka } = options;
    if (!kafka || typeof kafka.producer !== 'function') rejectOption('kafka', 'a kafkajs Kafka client', kafka);
    this.retries = intOption('retries', options.retries, DEFAULT_PRODUCE_RETRIES);
    this.maxBatchRecords = intOption('maxBatchRecords', options.maxBatchRecords, DEFAULT_MAX_BATCH_RECORDS);
    this.maxBatchBytes = intOption('maxBatchBytes', options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES);
    this.ackTimeoutMs = intOption('ackTimeoutMs', options.ackTimeoutMs, 30_000);
    this.maxMessageBytes =
      options.maxMessageBytes === undefined ? undefined : intOption('maxMessageBytes', options.maxMessageBytes, 0, { min: BATCH_OVERHEAD_BYTES * 2 + 1 });
    if (options.topics !== undefined && (!Array.isArray(options.topics) || options.topics.some((t) => typeof t !== 'string'))) {
      rejectOption('topics', 'an array of topic names', options.topics);
    }
    this.topics = [...(options.topics ?? [])];
    this.kafka = kafka;
    if (this.maxMessageBytes !== undefined) this.maxBatchBytes = Math.min(this.maxBatchBytes, this.maxMessageBytes - BATCH_OVERHEAD_BYTES);
    this.producer = kafka.producer({
      idempotent: true,
      allowAutoTopicCreation: false,
      retry: { retries: this.retries },
      // The default partitioner's choices at a fraction of its per-message garbage.
      createPartitioner: fastDefaultPartitioner,
    });
  }

  /** Connects now (otherwise the first send does), so a bad address fails early. */
  connect(): Promise<void> {
    this.connecting ??= connectProducer(this.producer, { retries: this.retries }).then(
      () => this.readTopicLimits(),
      (err: unknown) => {
        this.connecting = undefined;
        throw produceFailed(err, 'could not connect the producer');
      },
    );
    return this.connecting;
  }

  /** Drops the producer's connections, so the next send connects again (the failed send stays retriable). */
  private async reconnect(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    if (connecting) await this.producer.disconnect().catch(() => {});
  }

  /**
   * The largest single record `topic` accepts, as `recordBytes` counts it: its
   * max.message.bytes (read on connect; Kafka's default when unread) under our own cap.
   */
  maxRecordBytes(topic: string): number {
    const topicLimit = this.topicLimits.get(topic) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    return recordLimit(Math.min(topicLimit, this.maxMessageBytes ?? Number.MAX_SAFE_INTEGER));
  }

  /** Reads max.message.bytes of the sink's topics; a broker that will not say leaves Kafka's default assumed. */
  async readTopicLimits(): Promise<void> {
    if (this.topics.length === 0) return;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: this.topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
      });
      for (const resource of resources) {
        const entry = resource.configEntries.find((e) => e.configName === 'max.message.bytes');
        const value = Number(entry?.configValue);
        if (Number.isInteger(value) && value > 0) this.topicLimits.set(resource.resourceName, value);
      }
    } catch {
      // Kafka's default stays assumed: a topic with a lower limit then fails its sends loudly.
    } finally {
      await admin.disconnect().catch(() => {});
    }
    for (const topic of this.topics) this.maxBatchBytes = Math.min(this.maxBatchBytes, this.maxRecordBytes(topic));
  }

  send(records: OutRecord[]): Promise<void> {
    if (this.closing) {
      return Promise.reject(new TeacherlmError('PRODUCE_FAILED', 'the sink is closed', { retriable: false }));
    }
    if (records.length === 0) return Promise.resolve();
    this.counters.sends++;
    const chunks = splitByBytes(records, this.maxBatchBytes);
    const enqueue = (chunk: { records: OutRecord[]; bytes: number }) =>
      new Promise<void>((resolve, reject) => {
        this.queue.push({ ...chunk, resolve, reject });
        this.pump();
      });
    const done = chunks.length === 1 ? enqueue(chunks[0]!) : Promise.allSettled(chunks.map(enqueue)).then(settledAll);
    const tracked = done.then(
      () => {},
      () => {},
    );
    this.outstanding.add(tracked);
    void tracked.then(() => this.outstanding.delete(tracked));
    return done;
  }

  async flush(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.all([...this.outstanding]);
  }

  close(): Promise<void> {
    this.closing ??= this.flush().then(async () => {
      if (this.connecting) await this.producer.disconnect().catch(() => {});
    });
    return this.closing;
  }

  stats(): SinkStats {
    return { ...this.counters };
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch: Pending[] = [];
    let count = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      const full = count + next.records.length > this.maxBatchRecords || bytes + next.bytes > this.maxBatchBytes;
      if (batch.length > 0 && full) break;
      batch.push(this.queue.shift()!);
      count += next.records.length;
      bytes += next.bytes;
    }
    this.inFlight = true;
    void this.produce(batch, count).finally(() => {
      this.inFlight = false;
      this.pump();
    });
  }

  private async produce(batch: Pending[], count: number): Promise<void> {
    try {
      await this.connect();
      const refused = await this.sendFitting(batch.flatMap((p) => p.records));
      this.counters.records += count - refused.size;
      this.counters.failed += refused.size;
      for (const p of batch) {
        const mine = refused.size === 0 ? [] : p.records.filter((r) => refused.has(r));
        if (mine.length === 0) p.resolve();
        else p.reject(new RecordsRefused(mine, `the broker refused ${mine.length} record(s) as larger than ${[...new Set(mine.map((r) => r.topic))].join(', ')} accepts (max.message.bytes), even alone`));
      }
    } catch (err) {
      this.counters.failed += count;
      // kafkajs keeps a broker whose handshake failed and fails every request on it: start afresh.
      if (isHandshakePending(err)) await this.reconnect();
      const topics = [...new Set(batch.flatMap((p) => p.records.map((r) => r.topic)))];
      const error = err instanceof TeacherlmError ? err : produceFailed(err, `could not produce to ${topics.join(', ')}`);
      for (const p of batch) p.reject(error);
    }
  }

  /**
   * Sends `records` in one request; on MESSAGE_TOO_LARGE reads the topics' limits again
   * and sends them again in parts that fit, halving a part the broker still refuses.
   * Resolves with the records refused even alone (none, normally). Parts go one after
   * another, so each partition's order holds.
   */
  private async sendFitting(records: OutRecord[], limitsRead = false): Promise<Set<OutRecord>> {
    try {
      this.counters.batches++;
      await this.producer.sendBatch({ acks: -1, timeout: this.ackTimeoutMs, topicMessages: byTopic([{ records }]) });
      return new Set();
    } catch (err) {
      if (!isTooLarge(err)) throw err;
      if (!limitsRead) await this.readTopicLimits();
      if (records.length === 1) return new Set(records);
      const fitting = splitByBytes(records, this.maxBatchBytes);
      const parts = fitting.length > 1 ? fitting.map((c) => c.records) : [records.slice(0, records.length >> 1), records.slice(records.length >> 1)];
      const refused = new Set<OutRecord>();
      for (const part of parts) for (const r of await this.sendFitting(part, true)) refused.add(r);
      return refused;
    }
  }
}

/** One error for a send split into several requests: a failure other than refused records first, else every refused record. */
function settledAll(results: PromiseSettledResult<void>[]): void {
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as TeacherlmError] : []));
  const other = failures.find((f) => !(f instanceof RecordsRefused));
  if (other) throw other;
  if (failures.length === 0) return;
  const refused = failures.flatMap((f) => (f as RecordsRefused).records);
  throw new RecordsRefused(refused, failures[0]!.message, failures[0]);
}

/** Whether the broker refused a request as larger than a topic accepts, at any depth of causes. */
export function isTooLarge(err: unknown): boolean {
  for (let e = err as KafkaJsLikeError | undefined, depth = 0; e && depth < 5; e = e.cause as KafkaJsLikeError | undefined, depth++) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}

/** Consecutive runs of `records` of at most `maxBytes` each (a single larger record alone). */
export function splitByBytes(records: OutRecord[], maxBytes: number): { records: OutRecord[]; bytes: number }[] {
  const chunks: { records: OutRecord[]; bytes: number }[] = [];
  let current: OutRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordBytes(r);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push({ records: current, bytes });
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  chunks.push({ records: current, bytes });
  return chunks;
}

function byTopic(batch: { records: OutRecord[] }[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const { records } of batch) {
    for (const r of records) {
      let messages = topics.get(r.topic);
      if (!messages) topics.set(r.topic, (messages = []));
      messages.push({ key: r.key, value: r.value, headers: r.headers });
    }
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

interface KafkaJsLikeError {
  name?: string;
  message?: string;
  retriable?: boolean;
  type?: string;
  cause?: unknown;
}

/**
 * Retries exhausted on a retriable cause stays retriable (the broker may come back);
 * anything kafkajs calls non-retriable (invalid topic, record too large) is not.
 * kafkajs nests retriers: an inner one that gives up on a connection error reaches the
 * outer one as non-retriable, which wraps it in a KafkaJSNonRetriableError whose cause is
 * that connection error. Its root cause decides.
 */
export function produceFailed(err: unknown, what: string): TeacherlmError {
  const e = (err ?? {}) as KafkaJsLikeError;
  let root = e;
  while (root.cause && typeof root.cause === 'object') root = root.cause as KafkaJsLikeError;
  const retriable =
    e.name === 'KafkaJSNumberOfRetriesExceeded' ? root.retriable !== false : e.name === 'KafkaJSNonRetriableError' ? root !== e && root.retriable === true : e.retriable !== false;
  const unknownTopic = root.type === 'UNKNOWN_TOPIC_OR_PARTITION';
  return new TeacherlmError('PRODUCE_FAILED', `${what}: ${root.message ?? String(err)}`, {
    cause: err,
    retriable: retriable && !unknownTopic,
    ...(unknownTopic ? { hint: 'create the topics first (teacherlm creates a topology\'s topics when it starts)' } : {}),
  });
}
