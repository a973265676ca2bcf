/** In-memory RecordSource and RecordSink for pipeline unit tests. */
import { Observable, Subject, type Subscriber } from 'rxjs';
import { TeacherlmError } from '../../src/errors.js';
import type { OutRecord, RecordSink, RecordSource, SourceRecord, SourceStats, TopicPartition, TopicPartitionOffset } from '../../src/pipeline/ports.js';

/**
 * Delivers the given records one per macrotask, honouring pause/resume per partition
 * (a paused partition's records wait; others go on). {@link revoke} plays a group
 * rebalance as kafkajs reports it: the partitions are announced revoked, and their
 * records after the last commit are delivered again.
 */
export class MemorySource implements RecordSource {
  readonly commits: TopicPartitionOffset[][] = [];
  readonly paused = new Set<string>();
  private readonly pending: SourceRecord[];
  private subscriber: Subscriber<SourceRecord> | undefined;
  private counters = { pauses: 0, resumes: 0, consumed: 0 };
  private stopped = false;
  private readonly delivered: SourceRecord[] = [];
  private readonly rebalanceEvents = new Subject<{ revoked: TopicPartition[] }>();
  maxPausedAtOnce = 0;

  constructor(records: SourceRecord[]) {
    this.pending = [...records];
  }

  records(): Observable<SourceRecord> {
    return new Observable((subscriber) => {
      this.subscriber = subscriber;
      this.pump();
    });
  }

  private pump(): void {
    setImmediate(() => {
      if (this.stopped) return;
      const index = this.pending.findIndex((r) => !this.paused.has(`${r.topic}/${r.partition}`) && !this.blockedBehind(r));
      if (index >= 0) {
        const [record] = this.pending.splice(index, 1);
        this.counters.consumed++;
        this.delivered.push(record as SourceRecord);
        this.subscriber?.next(record as SourceRecord);
      }
      this.pump();
    });
  }

  /** Keeps partition order: a record waits while an earlier one of its partition is pending. */
  private blockedBehind(record: SourceRecord): boolean {
    return this.pending.some((r) => r !== record && r.topic === record.topic && r.partition === record.partition && BigInt(r.offset) < BigInt(record.offset));
  }

  rebalances(): Observable<{ revoked: TopicPartition[] }> {
    return this.rebalanceEvents.asObservable();
  }

  /** Revokes `partitions` and queues their delivered records past the last commit for delivery again. */
  revoke(partitions: TopicPartition[]): void {
    this.rebalanceEvents.next({ revoked: partitions });
    const committed = this.committed();
    for (const { topic, partition } of partitions) {
      const from = BigInt(committed[`${topic}/${partition}`] ?? '0');
      const again = this.delivered.filter((r) => r.topic === topic && r.partition === partition && BigInt(r.offset) >= from);
      this.pending.unshift(...again);
    }
  }

  get remaining(): number {
    return this.pending.length;
  }

  pause(topic: string, partition: number): void {
    if (this.paused.has(`${topic}/${partition}`)) return;
    this.paused.add(`${topic}/${partition}`);
    this.counters.pauses++;
    this.maxPausedAtOnce = Math.max(this.maxPausedAtOnce, this.paused.size);
  }

  resume(topic: string, partition: number): void {
    if (this.paused.delete(`${topic}/${partition}`)) this.counters.resumes++;
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (this.stopped) throw new TeacherlmError('COMMIT_FAILED', 'stopped');
    this.commits.push(offsets);
  }

  /** The last committed offset per `topic/partition`. */
  committed(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const batch of this.commits) for (const o of batch) out[`${o.topic}/${o.partition}`] = o.offset;
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.rebalanceEvents.complete();
    this.subscriber?.complete();
  }

  stats(): SourceStats {
    return { ...this.counters, lag: this.pending.length };
  }
}

/** Acks each send after `delayMs` (on whatever timers are installed: fake ones in pipeline.test.ts), optionally failing. */
export class MemorySink implements RecordSink {
  readonly records: OutRecord[] = [];
  private inFlight = new Set<Promise<void>>();
  closed = false;

  constructor(private readonly options: { delayMs?: number; failWhen?: (records: OutRecord[]) => boolean } = {}) {}

  send(records: OutRecord[]): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        if (this.options.failWhen?.(records)) reject(new TeacherlmError('PRODUCE_FAILED', 'broker said no', { retriable: false }));
        else {
          this.records.push(...records);
          resolve();
        }
      }, this.options.delayMs ?? 0);
    });
    this.inFlight.add(p);
    p.finally(() => this.inFlight.delete(p)).catch(() => {});
    return p;
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  on(topic: string): OutRecord[] {
    return this.records.filter((r) => r.topic === topic);
  }
}
