/**
 * A typed subscription to the augmented topic for TypeScript consumers (student trainers):
 *
 * ```ts
 * const samples = subscribeAugmented({ brokers: ['127.0.0.1:9092'], topic: 'samples.augmented', group: 'trainer' });
 * for await (const { sample } of samples) await train(sample);   // sample: AugmentedSample
 * ```
 *
 * - It reads `read_committed`: records of aborted or open transactions are never seen.
 * - It decodes any of our output formats: single-object Avro with the schema files,
 *   the Confluent wire format with the registry (`registryUrl`, default
 *   SCHEMA_REGISTRY_URL), resolved into the current AugmentedSample shape.
 * - It commits a record's offset only once the loop body for it has finished, that is
 *   when the loop asks for the next record. Leaving the loop (break, return, throw) commits
 *   nothing more: the last record handed out is delivered again to the group, so no
 *   record is lost to a handler that failed.
 * - A record it cannot decode ends the iteration with DECODE_FAILED naming the record,
 *   uncommitted.
 * - With a tracing SDK registered, each record's loop body is a CONSUMER span
 *   (`<topic> process`), child of the context the pipeline put in its headers, so the
 *   trainer's work joins the sample's trace; `traceContext` lets the body parent its own spans.
 */
import { type Context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';
import { createKafka } from '../kafka/client.js';
import { nonEmptyString, rejectOption } from '../options.js';
import { OutputReader } from '../records/output-reader.js';
import type { AugmentedSample } from '../records/types.js';
import { createRegistryClient } from '../registry/client.js';
import { parseRegistryUrl } from '../registry/resolve-registry.js';
import { endSpan, messagingAttributes, startConsumerSpan } from '../telemetry/spans.js';

export interface SubscribeAugmentedOptions {
  topic: string;
  /** Consumer group: scale out by running more subscribers in one group. */
  group: string;
  /** Bootstrap brokers (host:port); or pass `kafka`. */
  brokers?: string[];
  kafka?: Kafka;
  /** Confluent-compatible registry API for `format: confluent` records. Default SCHEMA_REGISTRY_URL. */
  registryUrl?: string;
  /** Where a group with no committed offset starts. Default true (the oldest record). */
  fromBeginning?: boolean;
  /** Folder of the .avsc files for single-object records. Default: the package's `schemas/`. */
  schemasDir?: string;
}

export interface AugmentedMessage {
  sample: AugmentedSample;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** The context of this record's consumer span (ROOT_CONTEXT when not traced), e.g. for `context.with(traceContext, ...)`. */
  traceContext: Context;
}

export interface AugmentedSubscription extends AsyncIterableIterator<AugmentedMessage> {
  /** Stops consuming and leaves the group (what `break` does too). */
  close(): Promise<void>;
}

const HEARTBEAT_MS = 3_000;

function validate(options: SubscribeAugmentedOptions): void {
  nonEmptyString('topic', options.topic);
  nonEmptyString('group', options.group);
  if (!options.kafka && (!Array.isArray(options.brokers) || options.brokers.length === 0)) {
    rejectOption('brokers', 'a non-empty list of host:port (or pass kafka)', options.brokers);
  }
}

export function subscribeAugmented(options: SubscribeAugmentedOptions): AugmentedSubscription {
  validate(options);
  const registryUrl = options.registryUrl ?? (process.env.SCHEMA_REGISTRY_URL?.trim() || undefined);
  const reader = new OutputReader(registryUrl ? createRegistryClient(parseRegistryUrl(registryUrl, 'registryUrl')) : undefined, options.schemasDir);
  const kafka = options.kafka ?? createKafka({ clientId: 'teacherlm-subscriber', brokers: options.brokers! });

  // One record in hand at a time: eachMessage waits until the loop asks for the next one.
  let waiter: { resolve: (r: IteratorResult<AugmentedMessage>) => void; reject: (e: unknown) => void } | undefined;
  let ready: { message: AugmentedMessage } | { error: TeacherlmError } | undefined;
  let finishCurrent: (() => void) | undefined;
  let closed = false;
  let closedNow!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closedNow = resolve));
  let consumer: Consumer | undefined;
  let started: Promise<void> | undefined;

  const hand = (item: { message: AugmentedMessage } | { error: TeacherlmError }) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      if ('error' in item) w.reject(item.error);
      else w.resolve({ value: item.message, done: false });
    } else {
      ready = item;
    }
  };

  const eachMessage = async ({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> => {
    const coordinates = `${topic}/${partition}@${message.offset}`;
    let decoded: AugmentedMessage;
    try {
      const outcome = await reader.decodeAsync(message.value);
      if (outcome.kind !== 'augmented') throw new TeacherlmError('DECODE_FAILED', 'a DeadLetter record, not an AugmentedSample');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
      decoded = { sample: outcome.record, topic, partition, offset: message.offset, key: message.key?.toString() ?? null, headers, traceContext: ROOT_CONTEXT };
    } catch (err) {
      const cause = asTeacherlmError(err, 'DECODE_FAILED');
      hand({ error: new TeacherlmError(cause.code, `${coordinates}: ${cause.message}`, { cause }) });
      await whenClosed; // never committed: the record is read again by the group's next consumer
      return;
    }
    const beat = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_MS);
    // Spans the loop body: ended when the loop asks for the next record (or leaves).
    const span = startConsumerSpan(`${topic} process`, message.headers, messagingAttributes('process', { topic, partition, offset: message.offset }));
    if (span.isRecording()) decoded.traceContext = trace.setSpan(ROOT_CONTEXT, span);
    try {
      await new Promise<void>((done) => {
        finishCurrent = done;
        hand({ message: decoded });
      });
    } finally {
      clearInterval(beat);
      endSpan(span);
    }
    if (closed) return;
    await consumer!.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
  };

  const start = async () => {
    consumer = kafka.consumer({ groupId: options.group, readUncommitted: false, maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({ autoCommit: false, eachMessage });
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    closedNow();
    finishCurrent?.(); // released uncommitted (see `if (closed)` in eachMessage)
    finishCurrent = undefined;
    waiter?.resolve({ value: undefined, done: true });
    waiter = undefined;
    await started?.catch(() => {});
    await consumer?.disconnect();
  };

  const iterator: AugmentedSubscription = {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (closed) return { value: undefined, done: true };
      started ??= start();
      await started;
      // The loop body of the previous record has finished: its offset may be committed.
      const finish = finishCurrent;
      finishCurrent = undefined;
      finish?.();
      if (ready) {
        const item = ready;
        ready = undefined;
        if ('error' in item) throw item.error;
        return { value: item.message, done: false };
      }
      return new Promise((resolve, reject) => (waiter = { resolve, reject }));
    },
    async return() {
      await close();
      return { value: undefined, done: true };
    },
    close,
  };
  return iterator;
}
