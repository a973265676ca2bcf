import { Observable, Subject, type Subscriber } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import type { OutRecord, PartitionCommitter, RecordSource, SourceRecord, TopicPartition } from '../../src/pipeline/ports.js';
import { parseTopology } from '../../src/pipeline/topology.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import { sourceRecord } from './fakes.js';

const sample = (offset: number) => sourceRecord(offset, JSON.stringify({ id: `s${offset}`, task: 't', question: 'Q? (A) yes (B) no', answer: '(A)' }));

/**
 * A source as kafkajs behaves after a rebalance: it had fetched from its own stale
 * position (offset 2) before the pipeline sought to the committed offset (5), and that
 * batch is delivered after the seek, followed by the seek's own fetch.
 */
class StaleFetchSource implements RecordSource {
  private subscriber: Subscriber<SourceRecord> | undefined;
  private readonly joins = new Subject<{ revoked: TopicPartition[]; assigned: TopicPartition[] }>();
  records(): Observable<SourceRecord> {
    return new Observable((subscriber) => {
      this.subscriber = subscriber;
      setTimeout(() => this.joins.next({ revoked: [], assigned: [{ topic: 'in', partition: 0 }] }), 1);
    });
  }
  rebalances() {
    return this.joins.asObservable();
  }
  async committedOffsets() {
    return [{ topic: 'in', partition: 0, offset: '5' }];
  }
  seek(_topic: string, _partition: number, offset: string): void {
    const stale = [2, 3, 4, 5, 6, 7].map(sample);
    const fresh = [5, 6, 7, 8, 9].map(sample);
    expect(offset).toBe('5');
    setTimeout(() => [...stale, ...fresh].forEach((r) => this.subscriber?.next(r)), 1);
  }
  pause(): void {}
  resume(): void {}
  async commit(): Promise<void> {}
  async stop(): Promise<void> {
    this.joins.complete();
    this.subscriber?.complete();
  }
  stats() {
    return { consumed: 0, pauses: 0, resumes: 0, lag: 0 };
  }
}

class MemoryCommitter implements PartitionCommitter {
  readonly written: OutRecord[] = [];
  async assign(): Promise<void> {}
  async revoke(): Promise<void> {}
  async commit(_topic: string, _partition: number, records: OutRecord[]): Promise<void> {
    this.written.push(...records);
  }
  async close(): Promise<void> {}
}

describe('exactly-once input after a seek', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('takes each offset from the committed one on exactly once, though a stale fetch is delivered after the seek', async () => {
    const topology = parseTopology({
      input: { topic: 'in' },
      output: { topic: 'out' },
      deadLetter: { topic: 'dlq' },
      consumer: { group: 'g' },
      delivery: 'exactly-once',
      teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, kind: 'echo', generation: { maxNewTokens: 3 } })),
      batching: { maxBatchSize: 8, maxWaitMs: 2, queueLimit: 64 },
    });
    const transactions = new MemoryCommitter();
    const sink = { send: async () => {}, flush: async () => {}, close: async () => {} };
    const generators = new Map([['echo', new EchoTeacher({ concurrency: 2 })]]);
    const handle = runPipeline({ topology, source: new StaleFetchSource(), sink, generators, transactions, commitIntervalMs: 5, untilIdleMs: 50 });
    let done = false;
    void handle.done.finally(() => (done = true));
    for (let ms = 0; !done && ms < 60_000; ms++) await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    const ids = transactions.written.map((r) => recordCodecs().augmentedSample.decode(r.value).id);
    expect(ids.sort()).toEqual(['s5', 's6', 's7', 's8', 's9']);
  });
});
