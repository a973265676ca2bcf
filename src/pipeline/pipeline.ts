/**
 * The streaming dataflow, wired:
 *
 * ```
 * source ─► decode ─┬──────────────────────────────────────────────► encode ─► produce ─► offsets
 *                   └► expand ─► per engine: batch ─► generate ─► gather ─┘
 * ```
 *
 * Every consumed record is tracked until its augmented or dead-letter record is
 * acknowledged by the broker; offsets are committed by watermark (`OffsetTracker`) every
 * `commitIntervalMs` and at shutdown. The queue of records in flight is bounded by
 * pausing source partitions (`FlowControl`).
 *
 * @example
 * const handle = runPipeline({ topology, source, sink, generators });
 * process.on('SIGINT', () => void handle.stop());
 * const summary = await handle.done;
 */
import {
  type Observable,
  type SchedulerAction,
  type SchedulerLike,
  Subject,
  type Subscription,
  asyncScheduler,
  connect,
  filter,
  identity,
  map,
  merge,
} from 'rxjs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';
import { intOption } from '../options.js';
import { recordCodecs, type PipelineCodecs } from '../records/codecs.js';
import { NOOP_PIPELINE_METRICS, type EngineRef, type PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import type { TextGenerator } from '../teacher/types.js';
import { batch } from './batch.js';
import { decode } from './decode.js';
import { encode, refusedRecordEncoder, type EncodeOptions } from './encode.js';
import { expand } from './expand.js';
import { FlowControl } from './flow-control.js';
import { gather } from './gather.js';
import { emptyQualityCounts, qualityGate, type QualityCounts } from './quality-gate.js';
import type { ContinuationScorer } from '../teacher/continuation-scorer.js';
import { generate } from './generate.js';
import type { DecodedSample, Encoded, Finished, GenerationTask, TaskOutcome } from './items.js';
import { OffsetTracker } from './offset-tracker.js';
import { SampleTracing } from './sample-tracing.js';
import { tracingActive } from '../telemetry/tracing-active.js';
import { PendingOutputs } from './pending-outputs.js';
import { partitionKey, type PartitionCommitter, type RecordSink, type RecordSource, type SourceRecord, type TopicPartition, type TopicPartitionOffset } from './ports.js';
import { produce, type ProduceOptions } from './produce.js';
import { createShutdown, type ShutdownReport } from './shutdown.js';
import { bindTeachers, enginesOf } from './teacher-bindings.js';
import type { Topology } from './topology.js';
import { WorkerSlots } from './worker-slots.js';

export interface PipelineOptions {
  topology: Topology;
  source: RecordSource;
  sink: RecordSink;
  /** Engines by key (`engineKeyOf`): `echo`, `onnx:<model folder>`. The caller closes them. */
  generators: ReadonlyMap<string, TextGenerator>;
  /** Continuation scorers by engine key, for the gate's `checks.faithfulness` (src/quality/faithfulness-scorers.ts). */
  scorers?: ReadonlyMap<string, ContinuationScorer>;
  /** Default: single-object Avro ({@link recordCodecs}); `topologyCodecs` builds the Confluent ones. */
  codecs?: PipelineCodecs;
  /**
   * Exactly-once: outputs are held per input partition and written with their input
   * offsets in one transaction per partition at each commit, instead of through `sink`
   * (which then only tells record limits). Needs a source with `committedOffsets`, `seek`
   * and `rebalances`.
   */
  transactions?: PartitionCommitter;
  /** Default: the topology's `consumer.commitIntervalMs`. */
  commitIntervalMs?: number;
  produce?: Omit<ProduceOptions, 'sink' | 'scheduler'>;
  /** Stop gracefully once this many records were written (augmented or dead-lettered). */
  maxRecords?: number;
  /** Stop gracefully after this long with nothing consumed, nothing in flight, and the source caught up (`caughtUp`). */
  untilIdleMs?: number;
  /** How long shutdown waits for in-flight work before abandoning it. Default 30 s. */
  drainTimeoutMs?: number;
  /** Structured events (errors, commits, shutdown). Default: none. */
  log?: (event: Record<string, unknown>) => void;
  /** OpenTelemetry instruments (`startMetrics().pipeline`). Default: none, at no cost. */
  metrics?: PipelineMetrics;
  /**
   * One trace per sampled sample (sample-tracing.ts). Default: whether a tracing SDK is
   * registered (`startTelemetry`); without one the pipeline does no tracing work at all.
   */
  tracing?: boolean;
  /** The one clock of every stage (batch waits, backoff, linger, commit interval, idle and drain timeouts, record timestamps). Default asyncScheduler. */
  scheduler?: SchedulerLike;
}

export interface PipelineStats {
  consumed: number;
  augmented: number;
  deadLettered: number;
  inFlight: number;
  /** The most records in flight at once so far, counted as each arrived (so no peak goes unseen). */
  peakInFlight: number;
  /** Partitions paused by the bounded queue right now. */
  pausedPartitions: number;
  /** Pauses the source counted so far (including those of shutdown). */
  pauses: number;
  /** Partition pauses caused by the bounded queue (`batching.queueLimit`). */
  queuePauses: number;
  lag: number | undefined;
  commits: number;
  /** What the quality gate counted; absent without a gate. */
  quality?: QualityCounts;
}

export interface PipelineSummary extends PipelineStats {
  reason: string;
  shutdown: ShutdownReport;
  /** Set when the pipeline stopped because of a fatal error. */
  error?: TeacherlmError;
}

export interface PipelineHandle {
  /** Settles when the pipeline has stopped; rejects only for a fatal error. */
  readonly done: Promise<PipelineSummary>;
  /** Graceful shutdown (idempotent). */
  stop(reason?: string): Promise<PipelineSummary>;
  /** Simulates a crash: drops everything in flight and disconnects, without flushing or committing. */
  abort(): Promise<void>;
  stats(): PipelineStats;
}

const isFinished = (item: DecodedSample | Finished): item is Finished => item.kind !== 'sample';
const isSample = (item: DecodedSample | Finished): item is DecodedSample => item.kind === 'sample';

/** Counts and durations checked at the boundary: a 0 ms commit interval would reschedule itself forever. */
function validateLimits(options: PipelineOptions): void {
  const check = (field: 'commitIntervalMs' | 'maxRecords' | 'untilIdleMs' | 'drainTimeoutMs', min: number): void => {
    if (options[field] !== undefined) intOption(field, options[field], 0, { min });
  };
  check('commitIntervalMs', 1);
  check('maxRecords', 1);
  check('untilIdleMs', 0);
  check('drainTimeoutMs', 0);
}

export function runPipeline(options: PipelineOptions): PipelineHandle {
  validateLimits(options);
  const { topology, source, sink, generators } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  const log = options.log ?? (() => {});
  const codecs: PipelineCodecs = options.codecs ?? recordCodecs();
  const metrics = options.metrics ?? NOOP_PIPELINE_METRICS;
  const eos = options.transactions;
  const tracing = (options.tracing ?? tracingActive()) ? new SampleTracing({ transactional: eos !== undefined }) : undefined;
  const bindings = bindTeachers(topology, generators);
  const tracker = new OffsetTracker();
  const flow = new FlowControl(source, { queueLimit: topology.batching.queueLimit });
  const counters = { consumed: 0, augmented: 0, deadLettered: 0, commits: 0 };
  const qualityCounts = topology.quality ? emptyQualityCounts() : undefined;
  if (eos && (!source.committedOffsets || !source.seek || !source.rebalances)) {
    throw new TeacherlmError('INVALID_OPTIONS', 'transactions need a source with committedOffsets, seek and rebalances');
  }
  /** Exactly-once: outputs written but not yet committed, and partitions being re-read from their committed offset. */
  const pending = new PendingOutputs();
  const recovering = new Set<string>();
  /**
   * Exactly-once: per partition, the next input offset wanted. kafkajs may still deliver a
   * batch it fetched from its own (possibly stale) position after our seek, or a range
   * again after the seek's fetch; offsets below this are committed or already taken.
   */
  const nextWanted = new Map<string, bigint>();
  const queued = (): number => tracker.inFlight + pending.size;
  /** Partitions delivered so far, paused at shutdown; only kept for a source without `assigned`. */
  const seenPartitions = new Map<string, TopicPartition>();
  const subscriptions: Subscription[] = [];
  let fetching = true;
  let lastActivity = scheduler.now();
  let peakInFlight = 0;
  let fatal: TeacherlmError | undefined;

  const modelIds = new Map([...generators].map(([key, g]) => [key, g.modelId]));
  // Same keys, same order (first teacher of each engine) as the bindings' engine keys; bindTeachers checked each has a generator.
  const engines = [...enginesOf(topology).keys()].map((key) => {
    const generator = generators.get(key) as TextGenerator;
    // Continuous batching: a slot per row the engine runs at once, given back per task.
    const rows = generator.continuousRows;
    const slots = new WorkerSlots(rows ?? generator.concurrency);
    return { key, generator, slots, perTask: rows !== undefined, ref: { key, modelId: generator.modelId, concurrency: generator.concurrency } };
  });
  const markStopped = metrics.observe(
    { inFlight: () => tracker.inFlight, lagByPartition: () => source.lagByPartition?.() ?? [] },
    engines.map((e) => e.ref),
  );

  // Input: tracked and counted before anything else sees it.
  const input$ = new Subject<SourceRecord>();
  const onRecord = (consumed: SourceRecord): void => {
    if (!fetching) return; // arrived after stop: not tracked, so never committed; read again on restart
    // Until the partition's producer fenced its previous owner and it was sought back to its committed offset.
    if (eos) {
      const key = partitionKey(consumed.topic, consumed.partition);
      if (recovering.has(key)) return;
      const offset = BigInt(consumed.offset);
      if (offset < (nextWanted.get(key) ?? 0n)) return;
      nextWanted.set(key, offset + 1n);
    }
    // A sampled record continues as a copy whose trace headers name its process span.
    const record = tracing ? tracing.begin(consumed) : consumed;
    counters.consumed++;
    lastActivity = scheduler.now();
    if (!source.assigned) {
      const key = partitionKey(record.topic, record.partition);
      if (!seenPartitions.has(key)) seenPartitions.set(key, { topic: record.topic, partition: record.partition });
    }
    // The consume time rides in the tracker's entry (for `messaging.process.duration`), read only with metrics on.
    if (metrics.enabled) {
      tracker.track(record, performance.now());
      metrics.consumed(record);
    } else {
      tracker.track(record);
    }
    if (queued() > peakInFlight) peakInFlight = queued();
    flow.added(record.topic, record.partition, queued());
    input$.next(record);
  };

  // Once stopping, the partitions stay paused: whatever they delivered would be dropped.
  const queueShrank = (): void => {
    if (fetching) flow.removed(queued());
  };

  /** An engine's tasks, each noted as queued (for the metrics and the tracing) in the same step: no stage of its own. */
  const forEngine = (key: string, ref: EngineRef): ((task: GenerationTask) => boolean) => {
    if (!metrics.enabled && !tracing) return (task) => task.engineKey === key;
    return (task) => {
      if (task.engineKey !== key) return false;
      if (metrics.enabled) metrics.queued(ref, task);
      tracing?.queued(task);
      return true;
    };
  };
  const generateAll = (tasks$: Observable<GenerationTask>) =>
    merge(
      ...engines.map(({ key, generator, slots, perTask, ref }) =>
        tasks$.pipe(
          filter(forEngine(key, ref)),
          batch({ ...topology.batching, tokensOf: (task) => task.promptTokens, slots, perTask, scheduler }),
          generate({ generator, retry: topology.retry, slots, perTask, scheduler, metrics: { sink: metrics, engine: ref }, ...(tracing ? { tracing } : {}) }),
        ),
      ),
    );

  const encodeOptions: EncodeOptions = {
    codecs,
    outputTopic: topology.output.topic,
    deadLetterTopic: topology.deadLetter.topic,
    scheduler,
    ...(sink.maxRecordBytes ? { maxRecordBytes: (topic: string) => sink.maxRecordBytes?.(topic) } : {}),
  };
  // The tracing's and metrics' per-item hooks run inside the operators (no `tap` stage each), bound once here.
  const onFinished =
    metrics.enabled || tracing
      ? (item: Finished): void => {
          if (metrics.enabled && item.kind === 'dead-letter') metrics.deadLettered(item.value.errorCode);
          tracing?.finished(item);
        }
      : undefined;
  const written$ = input$.pipe(
    decode({
      format: topology.input.format,
      codec: codecs.rawSample,
      scheduler,
      log,
      ...(codecs.confluentRawSample ? { confluent: codecs.confluentRawSample } : {}),
      ...(tracing ? { onDecoded: (item: DecodedSample | Finished) => tracing.decoded(item) } : {}),
    }),
    connect((decoded$) =>
      merge(
        decoded$.pipe(filter(isFinished)),
        decoded$.pipe(
          filter(isSample),
          expand(bindings),
          connect(generateAll),
          topology.quality && qualityCounts ? qualityGate({ spec: topology.quality, generators, scorers: options.scorers, counts: qualityCounts, metrics }) : identity,
          gather({ modelIds, scheduler, ...(tracing && topology.quality ? { onOutcome: (outcome: TaskOutcome) => tracing.gated(outcome) } : {}) }),
        ),
      ),
    ),
    encode(encodeOptions, { ...(onFinished ? { onFinished } : {}), ...(tracing ? { onEncoded: (item: Encoded) => tracing.encoded(item) } : {}) }),
    eos ? map((item) => [item]) : produce({ ...options.produce, sink, scheduler, log, refused: refusedRecordEncoder(encodeOptions) }),
  );

  let drained!: () => void;
  const drainedPromise = new Promise<void>((resolve) => (drained = resolve));
  subscriptions.push(
    written$.subscribe({
      next: (acked) => {
        tracing?.acked(acked);
        if (eos) {
          for (const item of acked) if (tracker.complete(item.record)) pending.add(item);
          lastActivity = scheduler.now();
          // Held outputs count against the queue: commit before they fill it.
          if (pending.size * 2 >= topology.batching.queueLimit && !commitRunning) void commitNow().catch(() => {});
          return;
        }
        // One reading of the clocks for the batch: its records were acknowledged together.
        const ackClock = metrics.enabled ? metrics.ackClock() : undefined;
        for (const item of acked) {
          const consumedAt = tracker.completeAt(item.record);
          if (consumedAt === undefined) continue;
          if (ackClock) metrics.written(item.record, consumedAt, item.kind, ackClock);
          if (item.kind === 'augmented') counters.augmented++;
          else counters.deadLettered++;
        }
        lastActivity = scheduler.now();
        queueShrank();
        if (options.maxRecords !== undefined && counters.augmented + counters.deadLettered >= options.maxRecords) {
          void handle.stop('max-records');
        }
      },
      error: (err: unknown) => {
        // Every stage reports its own failures typed; anything else is a bug, not a broker fault.
        fail(asTeacherlmError(err, 'INTERNAL', `the pipeline failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`));
        drained();
      },
      complete: () => drained(),
    }),
  );

  // Commits are serialised: a commit never overtakes an earlier one. A failed commit must
  // not poison the chain, or every later commit (the shutdown one too) would fail with it.
  let committing: Promise<void> = Promise.resolve();
  let commitRunning = false;
  const serialised = (work: () => Promise<void>): Promise<void> => {
    committing = committing.catch(() => {}).then(work);
    return committing;
  };
  const commitNow = (): Promise<void> =>
    serialised(async () => {
      const offsets = tracker.committable();
      if (offsets.length === 0) return;
      if (eos) {
        commitRunning = true;
        try {
          await Promise.all(offsets.map((o) => commitPartition(eos, o)));
        } finally {
          commitRunning = false;
        }
        counters.commits++;
        queueShrank();
        if (options.maxRecords !== undefined && counters.augmented + counters.deadLettered >= options.maxRecords) void handle.stop('max-records');
        return;
      }
      const traced = tracing?.committing(offsets);
      await source.commit(offsets).catch((err: unknown) => {
        traced?.(false);
        throw err;
      });
      traced?.(true);
      tracker.markCommitted(offsets);
      counters.commits++;
      metrics.offsetsCommitted();
    });

  /** One transaction: the held outputs below the watermark, and the watermark as the group's offset. */
  const commitPartition = async (committer: PartitionCommitter, o: TopicPartitionOffset): Promise<void> => {
    const items = pending.below(o.topic, o.partition, o.offset);
    const traced = tracing?.committing([o]);
    try {
      await committer.commit(o.topic, o.partition, items.map((i) => i.out), o.offset);
      traced?.(true);
    } catch (err) {
      traced?.(false);
      const error = asTeacherlmError(err, 'TRANSACTION_FAILED');
      log({ event: 'transaction-failed', partition: `${o.topic}/${o.partition}`, error: error.message, dropped: items.length });
      await reassign([o]);
      return;
    }
    tracker.markCommitted([o]);
    pending.release(o.topic, o.partition, o.offset);
    for (const item of items) {
      if (item.kind === 'augmented') counters.augmented++;
      else counters.deadLettered++;
    }
  };

  /**
   * Exactly-once (re)start of partitions: their uncommitted work dropped, their
   * transactional producers started (fencing any previous owner), and only then their
   * committed offsets read and sought to, so nothing a fenced owner committed is redone.
   * Records that arrive meanwhile are ignored (`recovering`) and read again after the seek.
   */
  const reassign = async (partitions: { topic: string; partition: number }[]): Promise<void> => {
    if (!eos || partitions.length === 0) return;
    for (const { topic, partition } of partitions) recovering.add(partitionKey(topic, partition));
    tracker.forget(partitions);
    pending.drop(partitions);
    for (let backoff = 200; fetching; backoff = Math.min(5_000, backoff * 2)) {
      try {
        await Promise.all(partitions.map(({ topic, partition }) => eos.assign(topic, partition)));
        // Fenced: the previous owner's last commit is done, or pending and waited for (a stable read, stable-offsets.ts).
        const offsets = await source.committedOffsets!(partitions);
        // Synchronously: seek, forget what arrived before it, and let the partitions' records in again.
        for (const o of offsets) {
          source.seek!(o.topic, o.partition, o.offset);
          nextWanted.set(partitionKey(o.topic, o.partition), BigInt(o.offset));
        }
        tracker.forget(partitions);
        pending.drop(partitions);
        for (const { topic, partition } of partitions) recovering.delete(partitionKey(topic, partition));
        queueShrank();
        return;
      } catch (err) {
        log({ event: 'assign-failed', partitions: partitions.map((p) => `${p.topic}/${p.partition}`), error: (err as Error).message, retryInMs: backoff });
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
      }
    }
  };
  const commitInterval = options.commitIntervalMs ?? topology.consumer.commitIntervalMs;
  const periodicCommit = (): void => {
    commitNow().catch((err: unknown) => log({ event: 'commit-failed', error: asTeacherlmError(err, 'COMMIT_FAILED').message }));
  };
  subscriptions.push(scheduler.schedule(function (this: SchedulerAction<undefined>) {
    periodicCommit();
    this.schedule(undefined, commitInterval);
  }, commitInterval));

  if (options.untilIdleMs !== undefined) {
    const idleMs = options.untilIdleMs;
    subscriptions.push(scheduler.schedule(function (this: SchedulerAction<undefined>) {
      // Idle: nothing in flight, nothing for a while, and the source assigned and at its log ends.
      const quiet = queued() === 0 && recovering.size === 0 && scheduler.now() - lastActivity >= idleMs;
      if (quiet && (source.caughtUp?.() ?? true)) void handle.stop('idle');
      else this.schedule(undefined, Math.max(10, Math.floor(idleMs / 4)));
    }, idleMs));
  }

  const rebalances = source.rebalances?.();
  if (rebalances) {
    subscriptions.push(
      rebalances.subscribe(({ revoked, assigned = [] }) => {
        tracing?.forget(revoked);
        tracker.forget(revoked);
        pending.drop(revoked);
        queueShrank();
        if (!eos) return;
        // Ignore the new assignment's records until each partition is fenced and sought (kafkajs fetched its offsets before we could fence).
        for (const { topic, partition } of assigned) recovering.add(partitionKey(topic, partition));
        const kept = new Set(assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
        const gone = revoked.filter((tp) => !kept.has(partitionKey(tp.topic, tp.partition)));
        void serialised(async () => {
          await Promise.all(gone.map(({ topic, partition }) => eos.revoke(topic, partition)));
          await reassign(assigned);
        });
      }),
    );
  }

  const sourceSubscription = source.records().subscribe({
    next: onRecord,
    error: (err: unknown) => {
      fail(asTeacherlmError(err, 'CONSUME_FAILED'));
    },
    complete: () => input$.complete(),
  });

  let processingAbandoned = false;
  const abandon = (): void => {
    processingAbandoned = true;
    for (const s of subscriptions) s.unsubscribe();
    drained();
  };

  const shutdown = createShutdown(
    {
      stopFetching: () => {
        fetching = false;
        const partitions = source.assigned?.() ?? [...seenPartitions.values()];
        for (const { topic, partition } of partitions) source.pause(topic, partition);
        input$.complete();
      },
      drain: async (timeoutMs) => {
        if (processingAbandoned) return false;
        let timer: Subscription | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = scheduler.schedule(() => resolve(false), timeoutMs);
        });
        const finished = await Promise.race([drainedPromise.then(() => !fatal), timedOut]);
        timer?.unsubscribe();
        if (!finished) abandon();
        return finished;
      },
      flush: () => sink.flush(),
      commit: () => (fatal && fatal.code === 'CONSUME_FAILED' ? Promise.resolve() : commitNow()),
      disconnect: async () => {
        for (const s of subscriptions) s.unsubscribe();
        sourceSubscription.unsubscribe();
        const results = await Promise.allSettled([source.stop(), sink.close(), ...(eos ? [eos.close()] : [])]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    },
    { drainTimeoutMs: options.drainTimeoutMs ?? 30_000 },
  );

  const stats = (): PipelineStats => {
    const sourceStats = source.stats();
    return {
      ...counters,
      inFlight: queued(),
      peakInFlight,
      pausedPartitions: flow.pausedCount,
      pauses: sourceStats.pauses,
      queuePauses: flow.pauses,
      lag: sourceStats.lag,
      ...(qualityCounts ? { quality: structuredClone(qualityCounts) } : {}),
    };
  };

  let stopping: Promise<PipelineSummary> | undefined;
  let settle!: { resolve: (s: PipelineSummary) => void; reject: (e: unknown) => void };
  const done = new Promise<PipelineSummary>((resolve, reject) => (settle = { resolve, reject }));

  function fail(error: TeacherlmError): void {
    if (fatal) return;
    fatal = error;
    log({ event: 'fatal', code: error.code, error: error.message });
    if (error.code === 'CONSUME_FAILED') abandon();
    void handle.stop('error');
  }

  const handle: PipelineHandle = {
    done,
    stats,
    stop(reason = 'stop') {
      stopping ??= shutdown().then((report) => {
        markStopped();
        tracing?.close();
        for (const { step, error } of report.errors) log({ event: 'shutdown-step-failed', step, error: (error as Error).message });
        const summary: PipelineSummary = { ...stats(), reason, shutdown: report, ...(fatal ? { error: fatal } : {}) };
        log({ event: 'stopped', reason, drained: report.drained, committed: report.committed });
        if (fatal) settle.reject(fatal);
        else settle.resolve(summary);
        return summary;
      });
      return stopping;
    },
    async abort() {
      fetching = false;
      markStopped();
      tracing?.close();
      abandon();
      sourceSubscription.unsubscribe();
      await Promise.allSettled([source.stop(), sink.close(), ...(eos ? [eos.close()] : [])]);
      const error = new TeacherlmError('SHUT_DOWN', 'the pipeline was aborted');
      settle.reject(error);
      stopping ??= Promise.reject(error);
      stopping.catch(() => {});
    },
  };
  done.catch(() => {});
  return handle;
}
