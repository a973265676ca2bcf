import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TeacherlmError } from '../../src/errors.js';
import { runPipeline } from '../../src/pipeline/pipeline.js';
import { parseTopology, type Topology } from '../../src/pipeline/topology.js';
import { recordCodecs } from '../../src/records/codecs.js';
import { EchoTeacher } from '../../src/teacher/echo-teacher.js';
import type { GenerationRequest, TextGenerator } from '../../src/teacher/types.js';
import { sourceRecord } from './fakes.js';
import { MemorySink, MemorySource } from './memory-ports.js';

const codecs = recordCodecs();

function topology(patch: Record<string, unknown> = {}): Topology {
  return parseTopology({
    input: { topic: 'in' },
    output: { topic: 'out' },
    deadLetter: { topic: 'dlq' },
    consumer: { group: 'g' },
    teachers: ['fundamentals', 'cot', 'mistakes'].map((annotation) => ({ annotation, kind: 'echo', generation: { maxNewTokens: 3 } })),
    batching: { maxBatchSize: 8, maxWaitMs: 2, queueLimit: 64 },
    retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 },
    ...patch,
  });
}

/** n records over 3 partitions; every 10th is malformed; even ones JSON, odd ones Avro. */
function inputRecords(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const sample = { id: `s${i}`, task: 'CREAK', question: `Question ${i}? (A) True (B) False`, answer: '(A)', context: null, metadata: {} };
    const value = i % 10 === 9 ? Buffer.from(`{"id": "s${i}", broken`) : i % 2 === 0 ? Buffer.from(JSON.stringify(sample)) : codecs.rawSample.encode(sample);
    return sourceRecord(Math.floor(i / 3), value, i % 3);
  });
}

const echoEngines = (generator: TextGenerator = new EchoTeacher({ concurrency: 2 })) => new Map([['echo', generator]]);

/**
 * Drives a pipeline in virtual time: timers (batch waits, commit interval, idle timeout,
 * the memory sink's ack delay) advance 1 ms at a time until it settles, so CPU load on
 * the test machine cannot change what the pipeline sees.
 */
async function settle<T>(done: Promise<T>): Promise<T> {
  let settled = false;
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let ms = 0; !settled; ms += 1) {
    if (ms > 600_000) throw new Error('pipeline did not settle within 600 s of virtual time');
    await vi.advanceTimersByTimeAsync(1);
  }
  return done;
}

describe('runPipeline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('augments every valid sample, dead-letters every malformed one and commits past the last offset', async () => {
    const source = new MemorySource(inputRecords(60));
    const sink = new MemorySink({ delayMs: 1 });
    const handle = runPipeline({ topology: topology(), source, sink, generators: echoEngines(), maxRecords: 60, commitIntervalMs: 5 });
    const summary = await settle(handle.done);
    expect(summary).toMatchObject({ consumed: 60, augmented: 54, deadLettered: 6, inFlight: 0, reason: 'max-records' });
    const augmented = sink.on('out').map((r) => codecs.augmentedSample.decode(r.value));
    expect(new Set(augmented.map((a) => a.id)).size).toBe(54);
    const first = augmented.find((a) => a.id === 's1');
    expect(first?.chainOfThought?.text).toMatch(/^echo: /);
    expect(first?.fundamentals?.modelId).toBe('echo');
    const dead = sink.on('dlq').map((r) => codecs.deadLetter.decode(r.value));
    expect(dead.map((d) => d.errorCode)).toEqual(Array(6).fill('DECODE_FAILED'));
    expect(dead.every((d) => d.value?.toString().includes('broken'))).toBe(true);
    expect(source.committed()).toEqual({ 'in/0': '20', 'in/1': '20', 'in/2': '20' });
    expect(sink.closed).toBe(true);
  });

  it('bounds the queue by pausing partitions and still finishes everything', async () => {
    const source = new MemorySource(inputRecords(90));
    const sink = new MemorySink({ delayMs: 2 });
    const handle = runPipeline({ topology: topology({ batching: { maxBatchSize: 4, maxWaitMs: 1, queueLimit: 8 } }), source, sink, generators: echoEngines(), maxRecords: 90, commitIntervalMs: 5 });
    const summary = await settle(handle.done);
    expect(summary.augmented + summary.deadLettered).toBe(90);
    expect(source.stats().pauses).toBeGreaterThan(0);
    expect(source.stats().resumes).toBeGreaterThan(0);
    // The queue filled; one record per partition may still arrive after that.
    expect(summary.peakInFlight).toBeGreaterThanOrEqual(8);
    expect(summary.peakInFlight).toBeLessThanOrEqual(8 + 3);
    expect(source.committed()).toEqual({ 'in/0': '30', 'in/1': '30', 'in/2': '30' });
  });

  it('dead-letters only the sample the engine cannot handle', async () => {
    const echo = new EchoTeacher();
    const picky: TextGenerator = {
      modelId: 'picky',
      concurrency: 1,
      countTokens: (p) => echo.countTokens(p),
      close: async () => {},
      generate: async (requests: GenerationRequest[]) => {
        if (requests.some((r) => r.prompt.includes('Question 4?'))) throw new TeacherlmError('GENERATION_FAILED', 'poisoned prompt');
        return echo.generate(requests);
      },
    };
    const source = new MemorySource(inputRecords(8));
    const sink = new MemorySink();
    const summary = await settle(runPipeline({ topology: topology(), source, sink, generators: echoEngines(picky), maxRecords: 8, commitIntervalMs: 5 }).done);
    expect(summary).toMatchObject({ augmented: 7, deadLettered: 1 });
    const [dead] = sink.on('dlq').map((r) => codecs.deadLetter.decode(r.value));
    expect(dead).toMatchObject({ sampleId: 's4', stage: 'generate', errorCode: 'GENERATION_FAILED', errorMessage: 'poisoned prompt' });
  });

  it('stops when idle, and a graceful stop commits only what was written', async () => {
    const source = new MemorySource(inputRecords(12));
    const sink = new MemorySink();
    const summary = await settle(runPipeline({ topology: topology(), source, sink, generators: echoEngines(), untilIdleMs: 30, commitIntervalMs: 5 }).done);
    expect(summary).toMatchObject({ reason: 'idle', augmented: 11, deadLettered: 1 });
    expect(source.committed()).toEqual({ 'in/0': '4', 'in/1': '4', 'in/2': '4' });
  });

  it('is not idle before the source is assigned and caught up, however long nothing arrives', async () => {
    // A source still waiting for its assignment (e.g. a dead member's session running out).
    const source = Object.assign(new MemorySource([]), { ready: false, caughtUp(this: { ready: boolean }) { return this.ready; } });
    const started = Date.now();
    setTimeout(() => (source.ready = true), 5_000);
    const summary = await settle(runPipeline({ topology: topology(), source, sink: new MemorySink(), generators: echoEngines(), untilIdleMs: 30, commitIntervalMs: 5 }).done);
    expect(summary).toMatchObject({ reason: 'idle', consumed: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
  });

  it('keeps the source paused while it drains after a stop, so nothing more is fetched only to be dropped', async () => {
    const source = new MemorySource(inputRecords(90));
    // Slow acks keep the queue full across timer ticks.
    const sink = new MemorySink({ delayMs: 50 });
    const handle = runPipeline({ topology: topology({ batching: { maxBatchSize: 4, maxWaitMs: 1, queueLimit: 8 } }), source, sink, generators: echoEngines(), commitIntervalMs: 5 });
    for (let ms = 0; handle.stats().pausedPartitions === 0; ms++) {
      if (ms > 10_000) throw new Error('the queue never filled');
      await vi.advanceTimersByTimeAsync(1);
    }
    const stopped = handle.stop();
    const remaining = source.remaining;
    const summary = await settle(stopped);
    expect(summary.inFlight).toBe(0);
    expect(source.remaining).toBe(remaining);
    expect(source.stats().consumed).toBe(summary.consumed);
  });

  it('refuses limits that make no sense, naming the field', () => {
    const start = (patch: Record<string, number>) => () => runPipeline({ topology: topology(), source: new MemorySource([]), sink: new MemorySink(), generators: echoEngines(), ...patch });
    expect(start({ commitIntervalMs: 0 })).toThrow('commitIntervalMs: expected a positive integer, got 0');
    expect(start({ maxRecords: 0 })).toThrow('maxRecords: expected a positive integer, got 0');
    expect(start({ untilIdleMs: -1 })).toThrow(/^untilIdleMs/);
    expect(start({ drainTimeoutMs: 1.5 })).toThrow(/^drainTimeoutMs/);
  });

  it('commits again after a failed commit, so the shutdown commit still covers everything written', async () => {
    const source = new MemorySource(inputRecords(12));
    const commit = source.commit.bind(source);
    let failures = 0;
    source.commit = async (offsets) => {
      if (failures++ === 0) throw new TeacherlmError('COMMIT_FAILED', 'coordinator moved', { retriable: true });
      return commit(offsets);
    };
    const log: Record<string, unknown>[] = [];
    const handle = runPipeline({ topology: topology(), source, sink: new MemorySink(), generators: echoEngines(), untilIdleMs: 30, commitIntervalMs: 5, log: (e) => log.push(e) });
    const summary = await settle(handle.done);
    expect(log.some((e) => e.event === 'commit-failed')).toBe(true);
    expect(summary.shutdown.committed).toBe(true);
    expect(source.committed()).toEqual({ 'in/0': '4', 'in/1': '4', 'in/2': '4' });
  });

  it('on a produce failure that is not retriable stops with the error and never commits the failed records', async () => {
    const source = new MemorySource(inputRecords(30));
    const sink = new MemorySink({ failWhen: (records) => records.some((r) => r.key === 's20') });
    const handle = runPipeline({ topology: topology(), source, sink, generators: echoEngines(), commitIntervalMs: 5, produce: { maxRecords: 1 } });
    await expect(settle(handle.done)).rejects.toThrow('broker said no');
    const committed = source.committed();
    // s20 is partition 2, offset 6: its partition never commits past it.
    expect(BigInt(committed['in/2'] ?? '0')).toBeLessThanOrEqual(6n);
  });

  it('reports an untyped failure as INTERNAL, not as a retriable broker fault', async () => {
    class BuggySink extends MemorySink {
      override send(): Promise<void> {
        return Promise.reject(new TypeError("Cannot read properties of undefined (reading 'key')"));
      }
    }
    const handle = runPipeline({ topology: topology(), source: new MemorySource(inputRecords(3)), sink: new BuggySink(), generators: echoEngines() });
    const err = await settle(handle.done).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TeacherlmError);
    expect(err).toMatchObject({ code: 'INTERNAL', retriable: false });
    expect((err as Error).message).toContain("reading 'key'");
    expect((err as Error).cause).toBeInstanceOf(TypeError);
  });
});

/** An engine whose batches never finish until `release()`: keeps records in flight. */
function stuckEngine() {
  const echo = new EchoTeacher({ concurrency: 2 });
  const waiting: (() => void)[] = [];
  const engine: TextGenerator = {
    modelId: 'stuck',
    concurrency: 2,
    countTokens: (p) => echo.countTokens(p),
    close: async () => {},
    generate: (requests) => new Promise((resolve) => waiting.push(() => void echo.generate(requests).then(resolve))),
  };
  return { engine, release: () => waiting.splice(0).forEach((go) => go()) };
}

/**
 * The pipeline on a VirtualTimeScheduler with real timers for the memory ports: every
 * pipeline clock (batch waits, backoff, linger, commit interval, drain timeout, record
 * timestamps) moves only when `advance` moves it, so a timer the pipeline took from
 * elsewhere would never fire here.
 */
function virtualClock() {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  let now = 0;
  const advance = async (ms: number) => {
    for (const end = now + ms; now < end; now++) {
      scheduler.maxFrames = now;
      scheduler.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { scheduler, advance, at: () => now };
}

describe('runPipeline on an injected clock', () => {
  it('abandons in-flight work at the drain timeout, commits none of it, and still closes the ports', async () => {
    const { scheduler, advance } = virtualClock();
    const { engine } = stuckEngine();
    const source = new MemorySource(inputRecords(6).filter((_, i) => i % 10 !== 9));
    const sink = new MemorySink();
    const handle = runPipeline({ topology: topology(), source, sink, generators: echoEngines(engine), commitIntervalMs: 5, drainTimeoutMs: 60_000, scheduler });
    for (let i = 0; handle.stats().inFlight < 6; i++) {
      if (i > 1_000) throw new Error('the records never arrived');
      await advance(1);
    }
    let settled = false;
    const stopped = handle.stop().finally(() => (settled = true));
    await advance(59_990);
    expect(settled).toBe(false);
    await advance(20);
    expect(settled).toBe(true);
    const summary = await stopped;
    expect(summary.shutdown).toMatchObject({ drained: false, committed: true });
    expect(summary.inFlight).toBe(6);
    expect(sink.records).toEqual([]);
    expect(source.commits).toEqual([]);
    expect(sink.closed).toBe(true);
  });

  it('drops the tracking of revoked partitions and commits them only from their second delivery', async () => {
    const { scheduler, advance } = virtualClock();
    const { engine, release } = stuckEngine();
    // Two partitions, three valid records each.
    const records = [0, 1, 2].flatMap((offset) => [0, 1].map((partition) => sourceRecord(offset, JSON.stringify({ id: `p${partition}-${offset}`, task: 't', question: 'Q? (A) yes (B) no', answer: '(A)' }), partition)));
    const source = new MemorySource(records);
    const sink = new MemorySink();
    const handle = runPipeline({ topology: topology(), source, sink, generators: echoEngines(engine), commitIntervalMs: 5, maxRecords: 6, scheduler });
    for (let i = 0; handle.stats().inFlight < 6; i++) {
      if (i > 1_000) throw new Error('the records never arrived');
      await advance(1);
    }
    source.revoke([{ topic: 'in', partition: 0 }]);
    // Partition 0's three records are no longer this pipeline's to commit.
    expect(handle.stats().inFlight).toBe(3);
    for (let i = 0; handle.stats().consumed < 9; i++) {
      if (i > 1_000) throw new Error('partition 0 was never delivered again');
      await advance(1);
    }
    expect(handle.stats().inFlight).toBe(6);
    let summary: Awaited<typeof handle.done> | undefined;
    void handle.done.then((s) => (summary = s));
    for (let i = 0; summary === undefined; i++) {
      if (i > 10_000) throw new Error('the pipeline did not finish');
      release();
      await advance(1);
    }
    expect(summary).toMatchObject({ consumed: 9, augmented: 6, deadLettered: 0, inFlight: 0 });
    expect(source.committed()).toEqual({ 'in/0': '3', 'in/1': '3' });
  });
});
