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
  merge,
} from 'rxjs';
import { TeacherlmError, asTeacherlmError } from '../errors.js';
import { intOption } from '../options.js';
import { recordCodecs, type PipelineCodecs } from '../records/codecs.js';
import type { TextGenerator } from '../teacher/types.js';
import { batch } from './batch.js';
import { decode } from './decode.js';
import { encode } from './encode.js';
import { expand } from './expand.js';
import { FlowControl } from './flow-control.js';
import { gather } from './gather.js';
import { emptyQualityCounts, qualityGate, type QualityCounts } from './quality-gate.js';
import { generate } from './generate.js';
import type { DecodedSample, Finished, GenerationTask } from './items.js';
import { OffsetTracker } from './offset-tracker.js';
import { partitionKey, type RecordSink, type RecordSource, type SourceRecord, type TopicPartition } from './ports.js';
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
  /** Default: single-object Avro ({@link recordCodecs}); `topologyCodecs` builds the Confluent ones. */
  codecs?: PipelineCodecs;
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
  scheduler?: SchedulerLike;
}

export interface PipelineStats {
  consumed: number;
  augmented: number;
  deadLettered: number;
  inFlight: number;
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
  const bindings = bindTeachers(topology, generators);
  const tracker = new OffsetTracker();
  const flow = new FlowControl(source, { queueLimit: topology.batching.queueLimit });
  const counters = { consumed: 0, augmented: 0, deadLettered: 0, commits: 0 };
  const qualityCounts = topology.quality ? emptyQualityCounts() : undefined;
  /** Partitions delivered so far, paused at shutdown; only kept for a source without `assigned`. */
  const seenPartitions = new Map<string, TopicPartition>();
  const subscriptions: Subscription[] = [];
  let fetching = true;
  let lastActivity = scheduler.now();
  let fatal: TeacherlmError | undefined;

  const modelIds = new Map([...generators].map(([key, g]) => [key, g.modelId]));
  // Same keys, same order (first teacher of each engine) as the bindings' engine keys; bindTeachers checked each has a generator.
  const engines = [...enginesOf(topology).keys()].map((key) => {
    const generator = generators.get(key) as TextGenerator;
    return { key, generator, slots: new WorkerSlots(generator.concurrency) };
  });

  // Input: tracked and counted before anything else sees it.
  const input$ = new Subject<SourceRecord>();
  const onRecord = (record: SourceRecord): void => {
    if (!fetching) return; // arrived after stop: not tracked, so never committed; read again on restart
    counters.consumed++;
    lastActivity = scheduler.now();
    if (!source.assigned) {
      const key = partitionKey(record.topic, record.partition);
      if (!seenPartitions.has(key)) seenPartitions.set(key, { topic: record.topic, partition: record.partition });
    }
    tracker.track(record);
    flow.added(record.topic, record.partition, tracker.inFlight);
    input$.next(record);
  };

  // Once stopping, the partitions stay paused: whatever they delivered would be dropped.
  const queueShrank = (): void => {
    if (fetching) flow.removed(tracker.inFlight);
  };

  const generateAll = (tasks$: Observable<GenerationTask>) =>
    merge(
      ...engines.map(({ key, generator, slots }) =>
        tasks$.pipe(
          filter((task) => task.engineKey === key),
          batch({ ...topology.batching, tokensOf: (task) => task.promptTokens, slots, scheduler }),
          generate({ generator, retry: topology.retry, slots, scheduler }),
        ),
      ),
    );

  const written$ = input$.pipe(
    decode({ format: topology.input.format, codec: codecs.rawSample, ...(codecs.confluentRawSample ? { confluent: codecs.confluentRawSample } : {}) }),
    connect((decoded$) =>
      merge(
        decoded$.pipe(filter(isFinished)),
        decoded$.pipe(
          filter(isSample),
          expand(bindings),
          connect(generateAll),
          topology.quality && qualityCounts ? qualityGate({ spec: topology.quality, generators, counts: qualityCounts }) : identity,
          gather({ modelIds }),
        ),
      ),
    ),
    encode({
      codecs,
      outputTopic: topology.output.topic,
      deadLetterTopic: topology.deadLetter.topic,
      ...(sink.maxRecordBytes ? { maxRecordBytes: (topic: string) => sink.maxRecordBytes?.(topic) } : {}),
    }),
    produce({ ...options.produce, sink, scheduler }),
  );

  let drained!: () => void;
  const drainedPromise = new Promise<void>((resolve) => (drained = resolve));
  subscriptions.push(
    written$.subscribe({
      next: (acked) => {
        for (const item of acked) {
          if (!tracker.complete(item.record)) continue;
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
  const commitNow = (): Promise<void> => {
    committing = committing.catch(() => {}).then(async () => {
      const offsets = tracker.committable();
      if (offsets.length === 0) return;
      await source.commit(offsets);
      tracker.markCommitted(offsets);
      counters.commits++;
    });
    return committing;
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
      const quiet = tracker.inFlight === 0 && scheduler.now() - lastActivity >= idleMs;
      if (quiet && (source.caughtUp?.() ?? true)) void handle.stop('idle');
      else this.schedule(undefined, Math.max(10, Math.floor(idleMs / 4)));
    }, idleMs));
  }

  const rebalances = source.rebalances?.();
  if (rebalances) {
    subscriptions.push(
      rebalances.subscribe(({ revoked }) => {
        tracker.forget(revoked);
        queueShrank();
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
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
          timer.unref();
        });
        const finished = await Promise.race([drainedPromise.then(() => !fatal), timedOut]);
        clearTimeout(timer);
        if (!finished) abandon();
        return finished;
      },
      flush: () => sink.flush(),
      commit: () => (fatal && fatal.code === 'CONSUME_FAILED' ? Promise.resolve() : commitNow()),
      disconnect: async () => {
        for (const s of subscriptions) s.unsubscribe();
        sourceSubscription.unsubscribe();
        const results = await Promise.allSettled([source.stop(), sink.close()]);
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
      inFlight: tracker.inFlight,
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
      abandon();
      sourceSubscription.unsubscribe();
      await Promise.allSettled([source.stop(), sink.close()]);
      const error = new TeacherlmError('SHUT_DOWN', 'the pipeline was aborted');
      settle.reject(error);
      stopping ??= Promise.reject(error);
      stopping.catch(() => {});
    },
  };
  done.catch(() => {});
  return handle;
}
