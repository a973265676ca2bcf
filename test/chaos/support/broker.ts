/** The suite's own broker (never the shared one), which a scenario may SIGKILL and start again. */
import type { Producer } from 'kafkajs';
import { ensureTopics } from '../../../src/kafka/admin.js';
import { createKafka } from '../../../src/kafka/client.js';
import { startLocalBroker, stopLocalBroker } from '../../../src/kafka/local/broker.js';
import { connectPatiently, patiently } from './patient-connect.js';

export class ChaosBroker {
  private pid: number | undefined;
  private startedHere = false;
  /** The broker's own log; restarts append to it. */
  logFile: string | undefined;
  constructor(readonly port: number) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Fresh storage: no topics or offsets from an earlier run. Resolves once warmed up. */
  async start(log: (line: string) => void = () => {}): Promise<void> {
    const b = await startLocalBroker({ port: this.port, fresh: true, log });
    if (!b.startedHere) throw new Error(`a broker was already running on ${this.bootstrap}: the chaos suite needs its own (stop it with teacherlm kafka stop --port ${this.port})`);
    this.pid = b.pid;
    this.logFile = b.logFile;
    this.startedHere = true;
    await warmUp(this.bootstrap);
  }

  /** SIGKILL: no shutdown, no flush, as a crashed machine. */
  kill(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGKILL');
    this.pid = undefined;
  }

  /** Starts it again on its existing storage; resolves once it answers metadata requests. */
  async restart(): Promise<void> {
    const b = await startLocalBroker({ port: this.port });
    this.pid = b.pid;
  }

  async stop(): Promise<void> {
    if (this.startedHere) await stopLocalBroker({ port: this.port });
  }
}

/**
 * Pays a fresh broker's first-use costs before any scenario's clock runs: its first block
 * of producer ids, and the creation of the transaction-state and consumer-offsets topics.
 * On a loaded machine these took longer than kafkajs's request timeout, and the first
 * scenario's input stream or workers met them mid-run. A fresh broker also went quiet for
 * about 30 s (client connections timing out, nothing in its log) once the first scenario's
 * workers began their transactions, in about one run of three; with committed
 * transactions in the warm-up it did not happen in the next four.
 */
const WARM_UP_TOPIC = 'chaos-warm-up';

async function warmUp(bootstrap: string): Promise<void> {
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'chaos-warm-up', logLevel: 'nothing' });
  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await connectPatiently(idempotent, 'the warm-up producer', { deadlineMs: 120_000 });
  await idempotent.disconnect();
  // Transactions that commit: records and offsets on several transactional ids at once,
  // so every transaction-state partition, the marker writes and the offsets topic have
  // been used before a scenario's workers start theirs.
  await ensureTopics(kafka, [{ topic: WARM_UP_TOPIC, partitions: 6 }]);
  await Promise.all(
    Array.from({ length: 12 }, (_, i) => {
      let transactional: Producer | undefined;
      return connectPatiently(
        {
          connect: async () => {
            transactional = kafka.producer({ transactionalId: `chaos-warm-up-${i}`, idempotent: true, maxInFlightRequests: 1 });
            await transactional.connect();
            const tx = await transactional.transaction();
            await tx.send({ topic: WARM_UP_TOPIC, messages: [{ key: 'w', value: 'w', partition: i % 6 }] });
            await tx.sendOffsets({ consumerGroupId: 'chaos-warm-up', topics: [{ topic: WARM_UP_TOPIC, partitions: [{ partition: i % 6, offset: '1' }] }] });
            await tx.commit();
          },
          disconnect: async () => transactional?.disconnect(),
        },
        `warm-up transaction ${i}`,
        { deadlineMs: 120_000 },
      ).finally(() => transactional?.disconnect());
    }),
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    // kafkajs's fetchOffsets does not retry a coordinator that is still loading.
    await patiently('the warm-up offset fetch failed', () => admin.fetchOffsets({ groupId: 'chaos-warm-up', topics: [] }), { deadlineMs: 120_000 });
  } finally {
    await admin.disconnect();
  }
}

/**
 * What the broker logged between two instants, for a slow wait's note: its warnings and
 * errors (the last `max`), and its longest silence, since a broker that stalls may log nothing.
 */
export function brokerLogDuring(log: string, from: number, to: number, max = 6): string {
  let last = from;
  let silence = 0;
  let lines = 0;
  const flagged: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})\] (\w+) (.*)$/.exec(line);
    if (!m) continue;
    const [, day, time, ms, level, text = ''] = m;
    // The broker logs local time, as Date.parse reads a date-time without a zone.
    const at = Date.parse(`${day}T${time}.${ms}`);
    if (at < from || at > to) continue;
    lines++;
    silence = Math.max(silence, at - last);
    last = at;
    if (level === 'WARN' || level === 'ERROR') flagged.push(`${time} ${level} ${text.slice(0, 160)}`);
  }
  silence = Math.max(silence, to - last);
  return `${lines} lines, longest silence ${(silence / 1000).toFixed(1)} s${flagged.length ? `: ${flagged.slice(-max).join(' | ')}` : ''}`;
}
