/**
 * The input stream: `samples` JSON samples keyed `q0..q{n-1}`, sample i on input partition
 * i % partitions, sent in slices spread evenly over `durationMs` so that faults land while
 * input is still arriving. The producer is idempotent and never gives up (a broker outage
 * only delays it), so each id is in the input topic exactly once; `count.ts` checks that.
 */
import type { Kafka, Producer, ProducerRecord } from 'kafkajs';
import { createKafka } from '../../../src/kafka/client.js';
import { isHandshakePending } from '../../../src/kafka/handshake-pending.js';
import { connectPatiently } from './patient-connect.js';

export const sampleId = (i: number): string => `q${i}`;
export const partitionOfId = (id: string, partitions: number): number => Number(id.slice(1)) % partitions;

export interface StreamOptions {
  brokers: string[];
  topic: string;
  partitions: number;
  samples: number;
  durationMs: number;
  questionChars: number;
  /** Where the stream notes its own milestones (connects, the first and any slow send, kafkajs's warnings), timed from `t0`. */
  timeline?: Timeline;
}

/** Events of the test's own producer, so a slow run shows whether the input or the worker stalled. */
export class Timeline {
  readonly events: string[] = [];
  constructor(private readonly t0: number = Date.now()) {}
  note(what: string): void {
    if (this.events.length < 40) this.events.push(`+${((Date.now() - this.t0) / 1000).toFixed(1)}s ${what.slice(0, 160)}`);
  }
}

/** A send this slow is noted: a normal one acknowledges within a second. */
const SLOW_SEND_MS = 2_000;

export function sampleValue(i: number, questionChars: number): string {
  const head = `Q${i} `;
  return JSON.stringify({ id: sampleId(i), task: 't', question: head + 'x'.repeat(Math.max(0, questionChars - head.length)), answer: 'A' });
}

async function connect(producer: Producer, t: Timeline): Promise<void> {
  t.note('connecting');
  await connectPatiently(producer, 'the chaos input stream', { deadlineMs: 150_000 });
  t.note('connected');
}

export async function streamSamples(o: StreamOptions): Promise<void> {
  const t = o.timeline ?? new Timeline();
  const kafka: Kafka = createKafka({
    brokers: o.brokers,
    clientId: 'chaos-stream',
    logLevel: 'warn',
    log: (level, message, extra) => t.note(`kafkajs ${level}: ${message}${typeof extra.error === 'string' ? `: ${extra.error}` : ''}`),
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connect(producer, t);
  try {
    const slices = Math.max(1, Math.ceil(o.durationMs / 250));
    const per = Math.ceil(o.samples / slices);
    const started = Date.now();
    for (let s = 0, next = 0; next < o.samples; s++) {
      const wait = started + (s * o.durationMs) / slices - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const end = Math.min(o.samples, next + per);
      const messages = [];
      for (let i = next; i < end; i++) messages.push({ key: sampleId(i), value: sampleValue(i, o.questionChars), partition: i % o.partitions });
      // Under the broker's 1 MiB request cap even with 1 KB questions.
      for (let c = 0; c < messages.length; c += 256) {
        const sentAt = Date.now();
        await send(producer, { topic: o.topic, messages: messages.slice(c, c + 256) }, t);
        const ms = Date.now() - sentAt;
        if (next === 0 && c === 0) t.note(`first send acknowledged in ${ms} ms`);
        else if (ms > SLOW_SEND_MS) t.note(`send of ${Math.min(256, messages.length - c)} acknowledged in ${ms} ms`);
      }
      next = end;
    }
    t.note(`all ${o.samples} acknowledged`);
  } finally {
    await producer.disconnect();
  }
}

/**
 * A send that meets a broker whose handshake failed (a loaded machine) fails, and so does
 * every later one until the producer connects again: reconnect and send it again, for up
 * to a minute. Only a request written with its ack lost could then repeat, and `count.ts`
 * would report that id's duplicate in the input.
 */
async function send(producer: Producer, record: ProducerRecord, t: Timeline): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await producer.send(record);
      return;
    } catch (err) {
      if (!isHandshakePending(err) || Date.now() > deadline) throw err;
      t.note(`send failed (${(err as Error).message}), reconnecting`);
      await producer.disconnect().catch(() => {});
      await connect(producer, t);
    }
  }
}
