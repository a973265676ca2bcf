/**
 * One trace per sample through the pipeline, paid for only by the samples the sampler
 * keeps (OTEL_TRACES_SAMPLER; parent-based by default, so a producer's decision holds).
 *
 * - At consume, `begin` decides the record's sampling itself, once, as the SDK's sampler
 *   would (trace-sampling.ts): from its traceparent's sampled flag (parent-based), or for a
 *   root from a trace id it draws. An unsampled record passes on untouched: no SDK call,
 *   no allocation. A sampled one gets the ids of its process span (`<topic> process`,
 *   child of the context in its headers) and its headers re-pointed at that span, so encode
 *   carries the context to the augmented record and its consumers join the trace.
 * - On its way, each stage of a sampled record only notes a timestamp (a number). The
 *   operators call these hooks inline (no rxjs `tap` stage per hook). A sampled record's
 *   trace is found by the record (the copy `begin` makes) in the open traces' map, so for
 *   an unsampled record each hook is one map lookup that finds nothing: no allocation, and
 *   no property of its own (records of two shapes made a property read on every record slow).
 * - When its output is committed, {@link emitStages} creates the stage spans at once with
 *   those times: consume, decode, and per teacher queue wait, inference (linked to the
 *   batch span), gate; then encode, produce, commit; and the process span ends.
 * - An engine call serving traced samples is one `teacherlm generate` span: child of its
 *   first traced sample's process span and linked to every traced sample's, with batch
 *   size, token counts, model and device.
 * - Every one of these spans is built finished when its end is known and handed to the
 *   registered span processors (finished-spans.ts): the SDK's tracer is not asked, as the
 *   sampling is decided here already.
 *
 * Records dropped by a rebalance, or left at shutdown, end their process span marked
 * `teacherlm.abandoned`; so do the oldest once more than `maxOpen` are open.
 */
import { type Attributes, type Context, ROOT_CONTEXT, type SpanContext, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import type { GenerationResult, TextGenerator } from '../teacher/types.js';
import { extractTraceContext, injectTraceHeaders, plainTraceparentFlags, unsampledIfValid } from '../telemetry/kafka-headers.js';
import { exceptionEvent, type FinishedSpans } from '../telemetry/finished-spans.js';
import { messagingAttributes } from '../telemetry/spans.js';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { TraceSampling } from '../telemetry/trace-sampling.js';
import { activeTracing } from '../telemetry/tracing-active.js';
import { type StageTiming, emitStages, epochNow, linkTo } from '../telemetry/stage-spans.js';
import type { DecodedSample, Encoded, Finished, GenerationTask, TaskOutcome } from './items.js';
import { partitionKey, type SourceRecord, type TopicPartition, type TopicPartitionOffset } from './ports.js';

export const DEFAULT_MAX_OPEN_TRACES = 100_000;

/** A stage span's messaging attributes: those the semantic conventions require of a Kafka operation on one destination. */
const stageMessaging = (name: string, type: 'receive' | 'send' | 'settle', topic: string): Attributes => ({
  'messaging.system': 'kafka',
  'messaging.operation.name': name,
  'messaging.operation.type': type,
  'messaging.destination.name': topic,
});

interface TaskTrace {
  task: GenerationTask;
  /** Its sample's trace. */
  sample: SampleTrace;
  queuedAt: number;
  startedAt?: number;
  inferredAt?: number;
  gatedAt?: number;
  batch?: SpanContext;
  error?: string;
}

interface SampleTrace {
  record: SourceRecord;
  /** Its process span's: the stage and batch spans' parent. */
  spanContext: SpanContext;
  /** The producer's span, when the record carried one. */
  parent: SpanContext | undefined;
  consumedAt: number;
  decodedAt?: number;
  decodeError?: string;
  tasks: TaskTrace[];
  finishedAt?: number;
  encodedAt?: number;
  ackedAt?: number;
  output?: { topic: string; kind: Finished['kind'] };
  errorCode?: string;
}

/**
 * The record's headers with its trace context replaced by `own`'s (its process span): a
 * plain version-00 `traceparent` written directly, or, when the span carries a
 * `tracestate`, the propagators' output. Copied key by key (a `delete` would leave the
 * object in dictionary mode).
 */
function headersFor(headers: SourceRecord['headers'], spanContext: SpanContext): SourceRecord['headers'] {
  const out: SourceRecord['headers'] = {};
  for (const key in headers) if (key !== 'traceparent' && key !== 'tracestate') out[key] = headers[key];
  if (spanContext.traceState !== undefined) return injectTraceHeaders(out, trace.setSpanContext(ROOT_CONTEXT, spanContext));
  out.traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags & 1}`;
  return out;
}

/** A task's entry in its sample's trace, from the slot `queued` sets on every task (undefined on most): one load from the task itself. */
const taskTraceOf = (task: GenerationTask): TaskTrace | undefined => task.trace as TaskTrace | undefined;

export interface BatchTrace {
  /** Ends the batch span with the call's outcome, and the inference stage of its traced tasks. */
  end(results: readonly GenerationResult[] | undefined, error?: unknown): void;
}

export class SampleTracing {
  /** Open traces by their record (the copy `begin` returned), oldest first (for `maxOpen`, revocations and shutdown). */
  private readonly traces = new Map<SourceRecord, SampleTrace>();
  /** Acknowledged traced records per partition, until a commit covers them. */
  private readonly awaitingCommit = new Map<string, SampleTrace[]>();
  private readonly transactional: boolean;
  private readonly maxOpen: number;

  private readonly sampling: TraceSampling;
  private readonly ids: IdGenerator;
  /** Where the spans go; undefined (no SDK registered): nothing is traced. */
  private readonly spans: FinishedSpans | undefined;

  /** `sampling`, `ids` and `spans` default to the registered SDK's ({@link activeTracing}), so both decide alike. */
  constructor(options: { transactional?: boolean; maxOpen?: number; sampling?: TraceSampling; ids?: IdGenerator; spans?: FinishedSpans } = {}) {
    this.transactional = options.transactional ?? false;
    this.maxOpen = options.maxOpen ?? DEFAULT_MAX_OPEN_TRACES;
    const active = activeTracing();
    this.sampling = options.sampling ?? active.sampling;
    this.ids = options.ids ?? active.ids;
    this.spans = options.spans ?? active.spans;
  }

  /** Traces not yet ended. */
  get open(): number {
    return this.traces.size;
  }

  begin(record: SourceRecord): SourceRecord {
    if (this.spans === undefined) return record;
    const decision = this.sampledParent(record);
    // Not sampled: the record passes on untouched, and no SDK call is made.
    if (decision === undefined) return record;
    const consumedAt = epochNow();
    // A new root's trace id was drawn with its decision.
    const parent = typeof decision === 'string' ? undefined : decision;
    const traceId = typeof decision === 'string' ? decision : decision.traceId;
    const spanContext: SpanContext = { traceId, spanId: this.ids.generateSpanId(), traceFlags: TraceFlags.SAMPLED, traceState: parent?.traceState };
    const traced: SourceRecord = { ...record, headers: headersFor(record.headers, spanContext) };
    const t: SampleTrace = { record: traced, spanContext, parent, consumedAt, tasks: [] };
    this.traces.set(traced, t);
    if (this.traces.size > this.maxOpen) this.abandon(this.traces.values().next().value as SampleTrace);
    return traced;
  }

  decoded(item: DecodedSample | Finished): void {
    const t = this.traces.get(item.record);
    if (!t) return;
    t.decodedAt = epochNow();
    if (item.kind === 'dead-letter') t.decodeError = item.value.errorCode;
  }

  queued(task: GenerationTask): void {
    const t = this.traces.get(task.job.record);
    let tt: TaskTrace | undefined;
    if (t) t.tasks.push((tt = { task, sample: t, queuedAt: epochNow() }));
    task.trace = tt;
  }

  /** Notes the batch's start for its traced tasks. */
  batchStarted(tasks: readonly GenerationTask[]): void {
    if (this.traces.size === 0) return;
    let at: number | undefined;
    for (const task of tasks) {
      const tt = taskTraceOf(task);
      if (tt && tt.startedAt === undefined) tt.startedAt = at ??= epochNow();
    }
  }

  /** A span for one engine call, when it serves a traced sample; undefined otherwise (no cost). */
  batch(tasks: readonly GenerationTask[], generator: Pick<TextGenerator, 'modelId' | 'device'>): BatchTrace | undefined {
    if (this.traces.size === 0) return undefined;
    let samples: Map<SampleTrace, TaskTrace[]> | undefined;
    for (const task of tasks) {
      const tt = taskTraceOf(task);
      if (!tt) continue;
      const t = tt.sample;
      samples ??= new Map();
      const list = samples.get(t);
      if (list) list.push(tt);
      else samples.set(t, [tt]);
    }
    if (samples === undefined) return undefined;
    const first = samples.keys().next().value as SampleTrace;
    const attributes: Attributes = {
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.request.model': generator.modelId,
      'teacherlm.batch.size': tasks.length,
      'teacherlm.device': generator.device ?? 'unknown',
    };
    const links = [...samples.keys()].map((t) => ({ context: t.spanContext }));
    const startedAt = epochNow();
    const context: SpanContext = { traceId: first.spanContext.traceId, spanId: this.ids.generateSpanId(), traceFlags: TraceFlags.SAMPLED, traceState: first.spanContext.traceState };
    for (const list of samples.values()) {
      for (const tt of list) {
        tt.batch = context;
      }
    }
    const spans = this.spans!;
    return {
      end: (results, error) => {
        // The task's inference ends with its last call: a retry or a bisected half overwrites an earlier failure.
        const at = epochNow();
        const code = error === undefined ? undefined : ((error as { code?: string }).code ?? 'GENERATION_FAILED');
        for (const list of samples.values()) {
          for (const tt of list) {
            tt.inferredAt = at;
            tt.error = code;
          }
        }
        if (results) {
          let prompt = 0;
          let generated = 0;
          for (const r of results) {
            prompt += r.promptTokens;
            generated += r.generatedTokens;
          }
          attributes['gen_ai.usage.input_tokens'] = prompt;
          attributes['gen_ai.usage.output_tokens'] = generated;
        }
        spans.emit({
          name: 'teacherlm generate',
          kind: SpanKind.INTERNAL,
          context,
          parent: first.spanContext,
          start: startedAt,
          end: at,
          attributes,
          links,
          ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error), events: [exceptionEvent(error instanceof Error ? error : String(error), at)] } : {}),
        });
      },
    };
  }

  gated(outcome: TaskOutcome): void {
    const tt = taskTraceOf(outcome.task);
    if (!tt) return;
    tt.gatedAt = epochNow();
    if (!outcome.ok && tt.error === undefined) tt.error = outcome.error.code;
  }

  finished(item: Finished): void {
    const t = this.traces.get(item.record);
    if (!t) return;
    t.finishedAt = epochNow();
    if (item.kind === 'dead-letter') t.errorCode = item.value.errorCode;
  }

  encoded(item: Encoded): void {
    const t = this.traces.get(item.record);
    if (!t) return;
    t.encodedAt = epochNow();
    t.output = { topic: item.out.topic, kind: item.kind };
  }

  /** The outputs are acknowledged (exactly-once: held for their transaction). */
  acked(items: readonly Encoded[]): void {
    let at: number | undefined;
    for (const item of items) {
      const t = this.traces.get(item.record);
      if (!t) continue;
      t.ackedAt = at ??= epochNow();
      const key = partitionKey(t.record.topic, t.record.partition);
      const list = this.awaitingCommit.get(key);
      if (list) list.push(t);
      else this.awaitingCommit.set(key, [t]);
    }
  }

  /** Call as a commit (or a partition's transaction) starts; call the result with its outcome. */
  committing(offsets: readonly TopicPartitionOffset[]): (ok: boolean) => void {
    if (this.awaitingCommit.size === 0) return () => {};
    const startedAt = epochNow();
    return (ok) => {
      if (!ok) return;
      const endedAt = epochNow();
      for (const o of offsets) {
        const key = partitionKey(o.topic, o.partition);
        const list = this.awaitingCommit.get(key);
        if (!list) continue;
        const next = Number(o.offset);
        const kept = list.filter((t) => {
          if (Number(t.record.offset) >= next) return true;
          this.end(t, startedAt, endedAt);
          return false;
        });
        if (kept.length > 0) this.awaitingCommit.set(key, kept);
        else this.awaitingCommit.delete(key);
      }
    };
  }

  /** Revoked partitions: their traced records will be read again, their traces end here. */
  forget(partitions: readonly TopicPartition[]): void {
    if (this.traces.size === 0) return;
    const gone = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    for (const t of [...this.traces.values()]) if (gone.has(partitionKey(t.record.topic, t.record.partition))) this.abandon(t);
  }

  /** Ends every open trace as abandoned (shutdown). */
  close(): void {
    for (const t of [...this.traces.values()]) this.abandon(t);
  }

  /**
   * For a record the sampler keeps, its remote parent's span context, or for a new root
   * its trace id; undefined for one it does not keep. A plain version-00 traceparent is
   * read here, without the propagators; anything else (a tracestate, another case or
   * version, a malformed value) goes through them.
   */
  private sampledParent(record: SourceRecord): SpanContext | string | undefined {
    const value = record.headers.traceparent;
    if (value === undefined) {
      for (const key in record.headers) if (key.toLowerCase() === 'traceparent') return this.sampledFrom(extractTraceContext(record.headers));
      return this.sampledRoot();
    }
    if (record.headers.tracestate !== undefined) return this.sampledFrom(extractTraceContext(record.headers));
    // A parent-based sampler traces a record whose header says "not sampled" only if the
    // header proves invalid and the ratio keeps the record as a new root. That root's draw
    // comes first: when it keeps nothing (most records), the answer is the same whatever
    // the header holds, and the header is not validated.
    let root: string | undefined;
    if (this.sampling.parentBased && unsampledIfValid(value)) {
      root = this.sampledRoot();
      if (root === undefined) return undefined;
    }
    const flags = plainTraceparentFlags(value);
    if (flags < 0) return this.sampledFrom(extractTraceContext(record.headers), root);
    const sampled = (flags & 1) === 1;
    // A parent-based sampler leaves an unsampled parent's record with no string built.
    if (this.sampling.parentBased && !sampled) return undefined;
    const text = typeof value === 'string' ? value : value.toString('latin1');
    const traceId = text.slice(3, 35);
    if (!this.sampling.follows(traceId, sampled)) return undefined;
    return { traceId, spanId: text.slice(36, 52), traceFlags: flags & 1, isRemote: true };
  }

  /** `root`: the new root's id when its draw was made already (and kept it). */
  private sampledFrom(context: Context, root?: string): SpanContext | string | undefined {
    const parent = trace.getSpanContext(context);
    if (!parent || !trace.isSpanContextValid(parent)) return root ?? this.sampledRoot();
    return this.sampling.follows(parent.traceId, (parent.traceFlags & 1) === 1) ? parent : undefined;
  }

  /** A new trace's id, drawn with the ratio's decision: undefined when it does not keep it. */
  private sampledRoot(): string | undefined {
    return this.sampling.newRootTraceId();
  }

  /** The trace is no longer open: its record, still on its way perhaps, is untraced from here. */
  private release(t: SampleTrace): void {
    this.traces.delete(t.record);
    for (const tt of t.tasks) tt.task.trace = undefined;
  }

  private detach(t: SampleTrace): void {
    this.release(t);
    const key = partitionKey(t.record.topic, t.record.partition);
    const list = this.awaitingCommit.get(key);
    if (!list) return;
    const i = list.indexOf(t);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.awaitingCommit.delete(key);
  }

  private abandon(t: SampleTrace): void {
    this.detach(t);
    const attributes = this.processAttributes(t);
    attributes['teacherlm.abandoned'] = true;
    this.emitProcess(t, attributes, epochNow());
  }

  private end(t: SampleTrace, commitStart: number, commitEnd: number): void {
    this.release(t);
    emitStages(this.spans!, this.ids, t.spanContext, this.timings(t, commitStart, commitEnd));
    const attributes = this.processAttributes(t);
    if (t.output) {
      attributes['teacherlm.output.topic'] = t.output.topic;
      attributes['teacherlm.outcome'] = t.output.kind;
    }
    if (t.errorCode !== undefined) attributes['error.type'] = t.errorCode;
    if (this.transactional) attributes['teacherlm.transactional'] = true;
    this.emitProcess(t, attributes, commitEnd);
  }

  /** The process span's messaging attributes: where its record lives. */
  private processAttributes(t: SampleTrace): Attributes {
    const { record } = t;
    return messagingAttributes('process', { topic: record.topic, partition: record.partition, offset: record.offset });
  }

  /** The sample's process span, from its consume to `end`: a CONSUMER span, child of its producer's. */
  private emitProcess(t: SampleTrace, attributes: Attributes, end: number): void {
    this.spans!.emit({ name: `${t.record.topic} process`, kind: SpanKind.CONSUMER, context: t.spanContext, parent: t.parent, start: t.consumedAt, end, attributes });
  }

  private timings(t: SampleTrace, commitStart: number, commitEnd: number): StageTiming[] {
    const { record } = t;
    const timings: StageTiming[] = [];
    const producedAt = Number(record.timestamp);
    // From the record's timestamp (its producer's clock, or the broker's) to the pipeline taking it: time waiting in Kafka.
    const receivedFrom = Number.isFinite(producedAt) && producedAt > 0 ? Math.min(producedAt, t.consumedAt) : t.consumedAt;
    // The stage spans carry what the messaging conventions require of their operation; the
    // record's partition and offset are the process span's, their parent (each attribute is
    // about a microsecond of a traced sample's CPU, in the SDK and its OTLP serialization).
    timings.push({ name: 'consume', stage: 'consume', start: receivedFrom, end: t.consumedAt, kind: SpanKind.CONSUMER, attributes: stageMessaging('receive', 'receive', record.topic) });
    const decodedAt = t.decodedAt ?? t.consumedAt;
    timings.push({ name: 'decode', stage: 'decode', start: t.consumedAt, end: decodedAt, ...(t.decodeError ? { error: t.decodeError } : {}) });
    for (const tt of t.tasks) {
      // The annotation names the teacher (and so its engine); the batch span, linked, has the model and batch size.
      const teacher = { 'teacherlm.annotation': tt.task.teacher.annotation };
      const startedAt = tt.startedAt ?? tt.inferredAt ?? tt.queuedAt;
      timings.push({ name: 'queue wait', stage: 'queue', start: tt.queuedAt, end: startedAt, attributes: teacher });
      if (tt.inferredAt !== undefined) {
        timings.push({
          name: 'inference',
          stage: 'inference',
          start: startedAt,
          end: tt.inferredAt,
          attributes: { ...teacher, 'gen_ai.prompt.tokens': tt.task.promptTokens },
          links: linkTo(tt.batch),
          ...(tt.error && tt.gatedAt === undefined ? { error: tt.error } : {}),
        });
      }
      if (tt.gatedAt !== undefined && tt.inferredAt !== undefined) {
        timings.push({ name: 'gate', stage: 'gate', start: tt.inferredAt, end: tt.gatedAt, attributes: teacher, ...(tt.error ? { error: tt.error } : {}) });
      }
    }
    const finishedAt = t.finishedAt ?? decodedAt;
    const encodedAt = t.encodedAt ?? finishedAt;
    timings.push({ name: 'encode', stage: 'encode', start: finishedAt, end: encodedAt });
    const producedUntil = this.transactional ? commitEnd : (t.ackedAt ?? encodedAt);
    const out = t.output?.topic ?? record.topic;
    timings.push({
      name: 'produce',
      stage: 'produce',
      start: encodedAt,
      end: producedUntil,
      kind: SpanKind.PRODUCER,
      attributes: stageMessaging('send', 'send', out),
    });
    timings.push({ name: 'commit', stage: 'commit', start: commitStart, end: commitEnd, attributes: stageMessaging('commit', 'settle', record.topic) });
    return timings;
  }
}
