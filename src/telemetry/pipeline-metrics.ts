/**
 * The pipeline's metrics, as OpenTelemetry instruments on one meter. The pipeline (and
 * the parts around it: transactional sinks, the quality gate) call these methods; with
 * metrics off they get {@link NOOP_PIPELINE_METRICS}, whose methods do nothing and which
 * reads no clock.
 *
 * Names follow the semantic conventions where they name the metric
 * (`messaging.process.duration`, `messaging.client.consumed.messages`,
 * `gen_ai.client.token.usage`, `gen_ai.server.request.duration`,
 * `gen_ai.server.time_per_output_token`); the rest are `teacherlm.*`. Durations are in
 * seconds, as the conventions ask. Prometheus sees them through the exporter's
 * translation (dots to underscores, `_total`).
 *
 * What is recorded per record or per task goes through {@link LocalAggregates} (no
 * attribute hashing per call); the rest through the SDK's instruments.
 */
import type { Attributes, BatchObservableResult, Meter, Observable as ObservableInstrument } from '@opentelemetry/api';
import type { TopicPartition } from '../pipeline/ports.js';
import { BusyShare } from './busy-share.js';
import type { CounterSeries, HistogramSeries, LocalAggregates } from './local-aggregates.js';

/** What a pipeline exposes for the observable gauges, read at each collection. */
export interface PipelineGauges {
  /** Records consumed and not yet written (augmented or dead-lettered) and acknowledged. */
  inFlight(): number;
  /** Lag of each assigned partition whose position and log end are known. */
  lagByPartition(): readonly (TopicPartition & { lag: number })[];
}

/** A task as the metrics see it: the time it joined its queue rides on it (no lookup table per task). */
export interface QueuedTask {
  queuedAt?: number;
  /** Its sample: a sample's tasks join their queues at one instant (expand emits them back to back), so one clock read serves them all. */
  job: object;
}

/** The clocks read once for a batch of outputs acknowledged together. */
export interface AckClock {
  /** The metrics' monotonic clock (performance.now()). */
  now: number;
  /** Wall-clock epoch milliseconds, against the producers' timestamps. */
  epochMs: number;
}

/** One engine as the pipeline runs it. */
export interface EngineRef {
  key: string;
  modelId: string;
  /** Batches it may run at once, one per worker; the busy share is over this many workers. */
  concurrency: number;
}

export interface EngineCallResult {
  promptTokens: number;
  generatedTokens: number;
}

export interface PipelineMetrics {
  /** False for the no-op: callers may skip work done only to feed metrics. */
  readonly enabled: boolean;
  consumed(record: TopicPartition): void;
  /** A record's output (augmented or dead letter) was acknowledged: `startedAt` is its consume time (performance.now()). */
  written(record: TopicPartition & { timestamp: string }, startedAt: number | undefined, outcome: 'augmented' | 'dead-letter', acked?: AckClock): void;
  /** Both clocks now, for {@link written} of every record of one acknowledged batch. */
  ackClock(): AckClock;
  deadLettered(errorCode: string): void;
  /** A task joins an engine's queue (before batching): its `queuedAt` is set. */
  queued(engine: EngineRef, task: QueuedTask): void;
  /** `batch` emitted these tasks for the engine: they leave its queue. */
  batchStarted(engine: EngineRef, tasks: readonly QueuedTask[]): void;
  /** An engine call starts (a whole batch, a retry, a bisected half, or with continuous batching one task). */
  engineStarted(engine: EngineRef): void;
  /** One successful call of the engine (a whole batch, a retry or a bisected half) ended. */
  engineCall(engine: EngineRef, durationMs: number, results: readonly EngineCallResult[]): void;
  /** A failed call ended: its busy time still counts. */
  engineFailed(engine: EngineRef, durationMs: number): void;
  retried(engine: EngineRef, errorCode: string): void;
  /** For transactional sinks: one transaction ended. */
  transaction(outcome: 'commit' | 'abort'): void;
  /** For the quality gate: one sample's outcome on one check. */
  qualityCheck(check: string, passed: boolean): void;
  offsetsCommitted(): void;
  /**
   * Registers the gauges of one pipeline. The returned function marks it stopped: the
   * gauges then keep its final values (the busy share's clock stops) for the last export.
   */
  observe(gauges: PipelineGauges, engines: readonly EngineRef[]): () => void;
}

const noop = (): void => {};

export const NOOP_PIPELINE_METRICS: PipelineMetrics = {
  enabled: false,
  consumed: noop,
  written: noop,
  ackClock: () => ({ now: 0, epochMs: 0 }),
  deadLettered: noop,
  queued: noop,
  batchStarted: noop,
  engineStarted: noop,
  engineCall: noop,
  engineFailed: noop,
  retried: noop,
  transaction: noop,
  qualityCheck: noop,
  offsetsCommitted: noop,
  observe: () => noop,
};

/** Bucket bounds in seconds for stages from microseconds (echo) to minutes (a large model). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const PER_TOKEN_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const KAFKA = { 'messaging.system': 'kafka' } as const;

interface EngineState {
  attributes: Attributes;
  queueTime: HistogramSeries;
  batchSize: HistogramSeries;
  /** gen_ai.client.token.usage, input and output, fed by runs. */
  inputTokens: Runs;
  outputTokens: Runs;
  requestDuration: HistogramSeries;
  perOutputToken: HistogramSeries;
  inputTokenCount: CounterSeries;
  outputTokenCount: CounterSeries;
  queueDepth: number;
  /** Its workers' busy time (busy-share.ts). */
  busy: BusyShare;
}

/** A topic's per-record series, made once: a record then costs a few additions, no allocation. */
interface TopicSeries {
  consumed: CounterSeries;
  processDuration: HistogramSeries;
  written: Record<'augmented' | 'dead-letter', CounterSeries>;
  endToEnd: Record<'augmented' | 'dead-letter', HistogramSeries>;
}

/**
 * Feeds a histogram one update per run of equal values (a batch's rows often share a
 * prompt length or a token limit), as values come: a batch's loop feeds several at once.
 */
export class Runs {
  private value = 0;
  private count = 0;
  constructor(private readonly series: HistogramSeries) {}

  add(value: number): void {
    if (this.count > 0 && value !== this.value) {
      this.series.record(this.value, this.count);
      this.count = 0;
    }
    this.value = value;
    this.count++;
  }

  /** Records the last run: call once the batch's values are all added. */
  end(): void {
    if (this.count > 0) this.series.record(this.value, this.count);
    this.count = 0;
  }
}

/**
 * `Number(timestamp)` for a record's timestamp: a string of up to 15 digits (any epoch in
 * milliseconds) is read digit by digit, exactly (below 2^53), at about a third of the cost
 * of V8's general string-to-number conversion on 13 digits; anything else goes to `Number`.
 */
export function epochMsOf(timestamp: string): number {
  const n = timestamp.length;
  if (n === 0 || n > 15) return Number(timestamp);
  let value = 0;
  for (let i = 0; i < n; i++) {
    const digit = timestamp.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number(timestamp);
    value = value * 10 + digit;
  }
  return value;
}

export function createPipelineMetrics(meter: Meter, local: LocalAggregates, options: { now?: () => number } = {}): PipelineMetrics {
  const now = options.now ?? (() => performance.now());
  const consumedMessages = local.counter({ name: 'messaging.client.consumed.messages', unit: '{message}', description: 'Records delivered by the consumer.' });
  const processDuration = local.histogram(
    { name: 'messaging.process.duration', unit: 's', description: 'From a record consumed to its output acknowledged by the broker.' },
    DURATION_BUCKETS,
  );
  const endToEnd = local.histogram(
    { name: 'teacherlm.record.end_to_end.duration', unit: 's', description: "From the input record's producer timestamp to its output acknowledged by the broker." },
    DURATION_BUCKETS,
  );
  const written = local.counter({ name: 'teacherlm.records.written', unit: '{record}', description: 'Input records finished: augmented or dead-lettered, acknowledged.' });
  let lastQueuedJob: object | undefined;
  let lastQueuedAt = 0;
  const topics = new Map<string, TopicSeries>();
  let lastTopic: string | undefined;
  let lastSeries: TopicSeries | undefined;
  const seriesOf = (topic: string): TopicSeries => {
    if (topic === lastTopic) return lastSeries!;
    let series = topics.get(topic);
    if (!series) {
      const where = { ...KAFKA, 'messaging.destination.name': topic };
      const outcome = (o: 'augmented' | 'dead-letter') => ({ ...where, 'teacherlm.outcome': o });
      series = {
        consumed: consumedMessages(topic, where),
        processDuration: processDuration(topic, { ...KAFKA, 'messaging.operation.name': 'process', 'messaging.destination.name': topic }),
        written: { augmented: written(`${topic}\u0000augmented`, outcome('augmented')), 'dead-letter': written(`${topic}\u0000dead-letter`, outcome('dead-letter')) },
        endToEnd: { augmented: endToEnd(`${topic}\u0000augmented`, outcome('augmented')), 'dead-letter': endToEnd(`${topic}\u0000dead-letter`, outcome('dead-letter')) },
      };
      topics.set(topic, series);
    }
    lastTopic = topic;
    lastSeries = series;
    return series;
  };
  const deadLetters = meter.createCounter('teacherlm.dead_letters', { unit: '{record}', description: 'Records dead-lettered, by error code (error.type).' });
  const queueTime = local.histogram(
    { name: 'teacherlm.engine.queue.duration', unit: 's', description: "Time a task waits for its engine: from joining the engine's queue to its batch starting." },
    DURATION_BUCKETS,
  );
  const batchSize = local.histogram({ name: 'teacherlm.engine.batch.size', unit: '{task}', description: 'Tasks per batch the batcher hands an engine.' }, BATCH_BUCKETS);
  // Per engine call (per task with continuous batching): local too, so a call hashes no attributes.
  const requestDuration = local.histogram({ name: 'gen_ai.server.request.duration', unit: 's', description: 'Duration of one engine call (one batch).' }, DURATION_BUCKETS);
  const tokenUsage = local.histogram({ name: 'gen_ai.client.token.usage', unit: '{token}', description: 'Tokens per generation, by gen_ai.token.type (input, output).' }, TOKEN_BUCKETS);
  const tokens = local.counter({ name: 'teacherlm.engine.tokens', unit: '{token}', description: 'Tokens through the engines by gen_ai.token.type; rate() gives tokens/s.' });
  const perOutputToken = local.histogram(
    { name: 'gen_ai.server.time_per_output_token', unit: 's', description: "An engine call's duration over its decode steps (the most tokens any of its rows generated)." },
    PER_TOKEN_BUCKETS,
  );
  const busyTime = meter.createObservableCounter('teacherlm.engine.busy.time', {
    unit: 's',
    description: 'Worker-seconds with a call running (calls in flight, at most the workers); rate() over the workers gives the busy share.',
  });
  const retries = meter.createCounter('teacherlm.engine.retries', { unit: '{call}', description: 'Engine calls retried after a retriable error.' });
  const transactions = meter.createCounter('teacherlm.transactions', { unit: '{transaction}', description: 'Transactions ended, by teacherlm.transaction.outcome (commit, abort).' });
  const gate = meter.createCounter('teacherlm.quality_gate.outcomes', { unit: '{sample}', description: 'Quality-gate outcomes by teacherlm.quality_gate.check and outcome (pass, fail).' });
  const commits = meter.createCounter('teacherlm.offsets.commits', { unit: '{commit}', description: 'Consumer offset commits.' });

  const lag = meter.createObservableGauge('messaging.kafka.consumer.lag', { unit: '{message}', description: 'Log end minus the next offset to read, per assigned partition.' });
  const inFlight = meter.createObservableGauge('teacherlm.records.in_flight', { unit: '{record}', description: 'Records consumed and not yet written.' });
  const queueDepth = meter.createObservableGauge('teacherlm.engine.queue.depth', { unit: '{task}', description: 'Tasks waiting for an engine (not yet in a batch it runs).' });
  const utilization = meter.createObservableGauge('teacherlm.engine.utilization', {
    unit: '1',
    description: "Share of the engine's worker time with a call running since the pipeline started, in [0, 1] (the union of each worker's calls, averaged over workers).",
  });

  const engines = new Map<string, EngineState>();
  // The pipeline passes the same ref for an engine each time: the last one found is checked first, by identity.
  let lastEngine: EngineRef | undefined;
  let lastState: EngineState | undefined;
  const stateOf = (engine: EngineRef): EngineState => {
    if (engine === lastEngine) return lastState!;
    let state = engines.get(engine.key);
    if (!state) {
      const attributes = { 'gen_ai.request.model': engine.modelId, 'teacherlm.engine': engine.key };
      const usage = { ...attributes, 'gen_ai.operation.name': 'text_completion' };
      const input = { ...usage, 'gen_ai.token.type': 'input' };
      const output = { ...usage, 'gen_ai.token.type': 'output' };
      state = {
        attributes,
        queueTime: queueTime(engine.key, attributes),
        batchSize: batchSize(engine.key, attributes),
        inputTokens: new Runs(tokenUsage(`${engine.key}\u0000input`, input)),
        outputTokens: new Runs(tokenUsage(`${engine.key}\u0000output`, output)),
        requestDuration: requestDuration(engine.key, usage),
        perOutputToken: perOutputToken(engine.key, usage),
        inputTokenCount: tokens(`${engine.key}\u0000input`, input),
        outputTokenCount: tokens(`${engine.key}\u0000output`, output),
        queueDepth: 0,
        busy: new BusyShare(engine.concurrency, now()),
      };
      engines.set(engine.key, state);
    }
    lastEngine = engine;
    lastState = state;
    return state;
  };
  const partitionAttributes = (tp: TopicPartition): Attributes => ({
    ...KAFKA,
    'messaging.destination.name': tp.topic,
    'messaging.destination.partition.id': String(tp.partition),
  });

  return {
    enabled: true,
    consumed: (record) => seriesOf(record.topic).consumed.add(1),
    written: (record, startedAt, outcome, acked) => {
      const series = seriesOf(record.topic);
      series.written[outcome].add(1);
      if (startedAt !== undefined) series.processDuration.record(((acked?.now ?? now()) - startedAt) / 1000);
      const producedAt = epochMsOf(record.timestamp);
      if (Number.isFinite(producedAt) && producedAt > 0) series.endToEnd[outcome].record(Math.max(0, (acked?.epochMs ?? Date.now()) - producedAt) / 1000);
    },
    ackClock: () => ({ now: now(), epochMs: Date.now() }),
    deadLettered: (errorCode) => deadLetters.add(1, { 'error.type': errorCode }),
    queued: (engine, task) => {
      stateOf(engine).queueDepth++;
      if (task.job !== lastQueuedJob) {
        lastQueuedJob = task.job;
        lastQueuedAt = now();
      }
      task.queuedAt = lastQueuedAt;
    },
    batchStarted: (engine, tasks) => {
      const state = stateOf(engine);
      const at = now();
      // A sample's tasks queue at one instant and sit side by side in a batch: one histogram update per run of equal times.
      let since = 0;
      let run = 0;
      for (const task of tasks) {
        const queuedAt = task.queuedAt;
        if (queuedAt === undefined) continue;
        task.queuedAt = undefined;
        state.queueDepth--;
        if (queuedAt !== since || run === 0) {
          if (run > 0) state.queueTime.record((at - since) / 1000, run);
          since = queuedAt;
          run = 0;
        }
        run++;
      }
      if (run > 0) state.queueTime.record((at - since) / 1000, run);
      state.batchSize.record(tasks.length);
    },
    engineStarted: (engine) => stateOf(engine).busy.started(now()),
    engineCall: (engine, durationMs, results) => {
      const state = stateOf(engine);
      state.busy.ended(now());
      state.requestDuration.record(durationMs / 1000);
      let prompt = 0;
      let generated = 0;
      let steps = 0;
      // One pass over the batch's rows for the sums, the steps and both histograms.
      for (const r of results) {
        const p = r.promptTokens;
        const g = r.generatedTokens;
        prompt += p;
        generated += g;
        if (g > steps) steps = g;
        state.inputTokens.add(p);
        state.outputTokens.add(g);
      }
      state.inputTokens.end();
      state.outputTokens.end();
      state.inputTokenCount.add(prompt);
      state.outputTokenCount.add(generated);
      if (steps > 0) state.perOutputToken.record(durationMs / 1000 / steps);
    },
    engineFailed: (engine) => stateOf(engine).busy.ended(now()),
    retried: (engine, errorCode) => retries.add(1, { ...stateOf(engine).attributes, 'error.type': errorCode }),
    transaction: (outcome) => transactions.add(1, { 'teacherlm.transaction.outcome': outcome }),
    qualityCheck: (check, passed) => gate.add(1, { 'teacherlm.quality_gate.check': check, 'teacherlm.quality_gate.outcome': passed ? 'pass' : 'fail' }),
    offsetsCommitted: () => commits.add(1),
    observe: (gauges, refs) => {
      const startedAt = now();
      let stoppedAt: number | undefined;
      // The share is this pipeline's, from its start: what its engines did before (an earlier pipeline) is left out.
      const busyBefore = new Map(refs.map((engine) => [engine.key, stateOf(engine).busy.busyWorkerMs(startedAt)]));
      const observables: ObservableInstrument[] = [lag, inFlight, queueDepth, utilization, busyTime];
      const callback = (result: BatchObservableResult): void => {
        for (const p of gauges.lagByPartition()) result.observe(lag, p.lag, partitionAttributes(p));
        result.observe(inFlight, gauges.inFlight());
        const until = stoppedAt ?? now();
        const elapsedMs = until - startedAt;
        for (const engine of refs) {
          const state = stateOf(engine);
          result.observe(queueDepth, state.queueDepth, state.attributes);
          const busyMs = state.busy.busyWorkerMs(until);
          result.observe(busyTime, busyMs / 1000, state.attributes);
          if (elapsedMs > 0) result.observe(utilization, Math.min(1, (busyMs - (busyBefore.get(engine.key) ?? 0)) / (elapsedMs * state.busy.workers)), state.attributes);
        }
      };
      meter.addBatchObservableCallback(callback, observables);
      return () => {
        stoppedAt ??= now();
      };
    },
  };
}
