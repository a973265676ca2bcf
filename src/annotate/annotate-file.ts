/**
 * File mode: RawSample JSON lines in, one annotated JSON line per sample out, in input
 * order. A malformed line goes to the errors file with its line number; nothing else is
 * lost. `dryRunFile` prints the exact prompts instead and loads no model.
 */
import { type SchedulerLike, lastValueFrom, toArray } from 'rxjs';
import { asTeacherlmError, TeacherlmError, type ErrorCode } from '../errors.js';
import { generationForSample } from '../quality/invented-options.js';
import { buildPrompt, extractAnnotation } from '../teacher/prompts.js';
import { DEFAULT_RETRY_POLICY, retryBisect, type RetryPolicy } from '../teacher/retry-bisect.js';
import type { ChatTemplate } from '../teacher/chat-template.js';
import type { AnnotationKind, GenerateCallOptions, GenerationOptions, GenerationResult, PromptStyle, RawSample, TextGenerator } from '../teacher/types.js';
import type { FieldMap } from '../records/field-map.js';
import { countOutcome, emptyQualityCounts, failureReasons, rejectionOf, type QualityCounts, type QualityOutcome } from '../quality/gate.js';
import type { QualitySpec } from '../quality/quality-options.js';
import type { ContinuationScorer } from '../teacher/continuation-scorer.js';
import { gateBatch } from './gate-batch.js';
import { parseSampleLine } from './parse-sample.js';
import { readLines } from './read-lines.js';
import type { LineWriter } from './line-writer.js';

export interface AnnotateFileOptions {
  inPath: string;
  fieldMap: FieldMap;
  kinds: readonly AnnotationKind[];
  promptStyle: PromptStyle;
  /** Required for the `chat` prompt style. */
  chatTemplate?: ChatTemplate;
  /** Requests per engine call. */
  maxBatchSize: number;
  generation: GenerationOptions;
  /** Ban the option labels each sample's question does not offer while decoding (src/quality/invented-options.ts). */
  banInventedOptions?: boolean;
  /** The quality gate (README, "Quality gate"); undefined: none. `dead-letter` sends the sample to the errors file with QUALITY_FAILED. */
  quality?: QualitySpec;
  /** Scores `quality.checks.faithfulness` (createContinuationScorer on the teacher's model). */
  scorer?: ContinuationScorer;
  /** Retries with backoff, then bisection: the pipeline's policy. Default {@link DEFAULT_RETRY_POLICY} (3 attempts). */
  retry?: RetryPolicy;
  /** Clock of the retry backoff. Default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** Called after each sample written (and each malformed line). */
  onProgress?: (done: number) => void;
}

export interface AnnotateSummary {
  samples: number;
  malformed: number;
  /** Samples whose generation failed for good (also written to the errors file). */
  failed: number;
  /** Samples the quality gate sent to the errors file (`onFailure: dead-letter`). */
  rejected: number;
  generatedTokens: number;
  elapsedMs: number;
  /** What the gate found, when there is one. */
  quality?: QualityCounts;
}

/** What the errors file holds per bad line or failed sample. */
export interface ErrorRecord {
  line: number;
  id?: string;
  code: string;
  error: string;
  input: string;
}

/** Generation errors that end the run instead of failing samples one by one (engine closed, bad options). */
const RUN_WIDE_ERRORS: ReadonlySet<ErrorCode> = new Set(['SHUT_DOWN', 'INVALID_OPTIONS']);

interface Pending {
  lineNo: number;
  text: string;
  sample: RawSample;
}

function errorRecord(lineNo: number, text: string, err: unknown, id?: string): string {
  const e = asTeacherlmError(err, 'INVALID_SAMPLE');
  const record: ErrorRecord = { line: lineNo, ...(id === undefined ? {} : { id }), code: e.code, error: e.message, input: text };
  return JSON.stringify(record);
}

function prompts(sample: RawSample, options: AnnotateFileOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of options.kinds) out[kind] = buildPrompt(sample, kind, options.promptStyle, options.chatTemplate);
  return out;
}

/**
 * Prints, per valid sample, `{"id":...,"prompts":{"fundamentals":...,"cot":...,"mistakes":...}}`:
 * exactly the texts the teacher would see.
 */
export async function dryRunFile(options: AnnotateFileOptions, out: LineWriter, errors: LineWriter): Promise<AnnotateSummary> {
  const started = Date.now();
  let samples = 0;
  let malformed = 0;
  for await (const { lineNo, text } of readLines(options.inPath)) {
    let sample: RawSample;
    try {
      sample = parseSampleLine(text, options.fieldMap);
    } catch (err) {
      malformed += 1;
      await errors.write(errorRecord(lineNo, text, err));
      options.onProgress?.(samples + malformed);
      continue;
    }
    await out.write(JSON.stringify({ id: sample.id, prompts: prompts(sample, options) }));
    samples += 1;
    options.onProgress?.(samples + malformed);
  }
  return { samples, malformed, failed: 0, rejected: 0, generatedTokens: 0, elapsedMs: Date.now() - started };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** A line to write, and which count it adds to once written. */
interface Line {
  to: 'out' | 'errors';
  line: string;
  counts: 'samples' | 'malformed' | 'failed' | 'rejected';
}

/**
 * Annotates every valid sample with `generator`; output lines keep the input order.
 *
 * A static engine gets windows of several batches per worker, one window after another,
 * so that length-sorting groups similar prompts. A continuous engine (`continuousRows`)
 * gets each prompt as its own call, which joins the running batch at the next step, and
 * samples keep arriving while others finish: up to `continuousRows` prompts in flight,
 * with finished samples held until every earlier one is written.
 */
export async function annotateFile(
  options: AnnotateFileOptions,
  generator: TextGenerator,
  out: LineWriter,
  errors: LineWriter,
): Promise<AnnotateSummary> {
  const started = Date.now();
  const summary: AnnotateSummary = { samples: 0, malformed: 0, failed: 0, rejected: 0, generatedTokens: 0, elapsedMs: 0, ...(options.quality ? { quality: emptyQualityCounts() } : {}) };
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const isRunWide = (error: TeacherlmError) => RUN_WIDE_ERRORS.has(error.code);
  const rows = generator.continuousRows;
  const windowSamples = rows !== undefined ? 1 : Math.max(1, Math.ceil((options.maxBatchSize * Math.max(1, generator.concurrency) * 4) / options.kinds.length));
  const windowsInFlight = rows !== undefined ? Math.max(1, Math.floor(rows / options.kinds.length)) : 1;

  const annotateWindow = async (pending: Pending[]): Promise<Line[]> => {
    type Task = { sample: number; kind: AnnotationKind; prompt: string; tokens: number; question: string; answer: string };
    const tasks: Task[] = [];
    pending.forEach((p, sample) => {
      for (const kind of options.kinds) {
        const prompt = buildPrompt(p.sample, kind, options.promptStyle, options.chatTemplate);
        tasks.push({ sample, kind, prompt, tokens: generator.countTokens(prompt), question: p.sample.question, answer: p.sample.answer });
      }
    });
    let batches: number[][];
    if (rows !== undefined) batches = tasks.map((_, i) => [i]);
    else {
      // Similar lengths in one batch waste less padding.
      const order = tasks.map((_, i) => i).sort((a, b) => tasks[b]!.tokens - tasks[a]!.tokens);
      batches = [];
      for (let i = 0; i < order.length; i += options.maxBatchSize) batches.push(order.slice(i, i + options.maxBatchSize));
    }
    const results = new Array<GenerationResult | undefined>(tasks.length);
    const failures = new Map<number, TeacherlmError>();
    // A batch that fails for good is bisected so only the requests that fail alone are lost.
    const call = (batch: readonly number[], opts: GenerateCallOptions) => generator.generate(batch.map((t) => ({ prompt: tasks[t]!.prompt, options: generationForSample(options.generation, options.banInventedOptions, tasks[t]!.question) })), opts);
    const run = async (batch: number[]): Promise<void> => {
      const outcomes = await lastValueFrom(retryBisect(batch, call, { policy, scheduler: options.scheduler, isRunWide }).pipe(toArray()));
      for (const outcome of outcomes) {
        if (outcome.ok) results[outcome.task] = outcome.result;
        else failures.set(tasks[outcome.task]!.sample, outcome.error);
      }
    };
    await mapLimit(batches, rows !== undefined ? batches.length : generator.concurrency, run);
    let qualities: (QualityOutcome | undefined)[] = [];
    let reasons: string[] = [];
    if (options.quality) {
      const gated = await gateBatch(
        tasks.map((t) => ({ kind: t.kind, prompt: t.prompt, sample: t })),
        results,
        { spec: options.quality, generation: options.generation, ...(options.banInventedOptions ? { banInventedOptions: true } : {}), promptStyle: options.promptStyle, maxBatchSize: options.maxBatchSize, scorer: options.scorer },
        generator,
      );
      qualities = gated.qualities;
      reasons = gated.verdicts.map((v) => (v && !v.passed ? failureReasons(v) : ''));
      summary.generatedTokens += gated.regeneratedTokens;
    }
    const bySample = new Map<number, Map<AnnotationKind, { result: GenerationResult; quality?: QualityOutcome; task: number }>>();
    tasks.forEach((t, i) => {
      const r = results[i];
      if (!r) return;
      let m = bySample.get(t.sample);
      if (!m) bySample.set(t.sample, (m = new Map()));
      m.set(t.kind, { result: r, quality: qualities[i], task: i });
    });
    const lines: Line[] = [];
    for (const [i, p] of pending.entries()) {
      const failure = failures.get(i);
      const annotated = [...(bySample.get(i) ?? [])];
      const spec = options.quality;
      if (!failure && spec && summary.quality) {
        for (const [, a] of annotated) countOutcome(summary.quality, a.quality!, rejectionOf(spec, a.quality!));
      }
      const rejected = failure || !spec ? [] : annotated.filter(([, a]) => rejectionOf(spec, a.quality!) === 'deadLettered');
      if (failure) {
        lines.push({ to: 'errors', line: errorRecord(p.lineNo, p.text, failure, p.sample.id), counts: 'failed' });
      } else if (rejected.length > 0) {
        const why = rejected.map(([kind, a]) => `${kind} after ${a.quality!.attempts} attempts: ${reasons[a.task]}`).join('; ');
        const error = new TeacherlmError('QUALITY_FAILED', `sample '${p.sample.id}' failed the quality gate: ${why}`);
        lines.push({ to: 'errors', line: errorRecord(p.lineNo, p.text, error, p.sample.id), counts: 'rejected' });
      } else {
        const annotations: Record<string, string | null> = {};
        const stats: Record<string, unknown> = {};
        const quality: Record<string, QualityOutcome> = {};
        for (const [kind, { result: r, quality: q }] of annotated) {
          const dropped = spec !== undefined && rejectionOf(spec, q!) === 'dropped';
          annotations[kind] = dropped ? null : extractAnnotation(kind, r.text, options.promptStyle);
          if (q) quality[kind] = q;
          stats[kind] = {
            promptTokens: r.promptTokens,
            generatedTokens: r.generatedTokens,
            finishReason: r.finishReason,
            // Tokens that came from speculation's accepted drafts (engines that speculate only).
            ...(r.acceptedDrafts !== undefined ? { acceptedDrafts: r.acceptedDrafts } : {}),
            timings: r.timings,
          };
          summary.generatedTokens += r.generatedTokens;
        }
        lines.push({ to: 'out', line: JSON.stringify({ ...p.sample, model: generator.modelId, annotations, ...(spec ? { quality } : {}), stats }), counts: 'samples' });
      }
    }
    return lines;
  };

  // Windows started (and malformed lines), in input order; each is written once all before it are.
  const inOrder: Promise<Line[]>[] = [];
  const start = (pending: Pending[]): void => {
    const lines = annotateWindow(pending);
    lines.catch(() => {}); // rethrown when its turn to be written comes
    inOrder.push(lines);
  };
  const writeNext = async (): Promise<void> => {
    for (const l of await inOrder.shift()!) {
      await (l.to === 'out' ? out : errors).write(l.line);
      summary[l.counts] += 1;
      options.onProgress?.(summary.samples + summary.malformed + summary.failed + summary.rejected);
    }
  };

  let window: Pending[] = [];
  for await (const { lineNo, text } of readLines(options.inPath)) {
    try {
      window.push({ lineNo, text, sample: parseSampleLine(text, options.fieldMap) });
    } catch (err) {
      inOrder.push(Promise.resolve([{ to: 'errors', line: errorRecord(lineNo, text, err), counts: 'malformed' }]));
    }
    if (window.length >= windowSamples) {
      start(window);
      window = [];
    }
    // Static: each window is written before the next line is read. Continuous: one less than the cap stays in flight.
    while (inOrder.length >= windowsInFlight) await writeNext();
  }
  if (window.length > 0) start(window);
  while (inOrder.length > 0) await writeNext();
  summary.elapsedMs = Date.now() - started;
  return summary;
}
