import { type SchedulerLike, asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotateFile } from '../../src/annotate/annotate-file.js';
import { IDENTITY_FIELD_MAP } from '../../src/records/field-map.js';
import type { LineWriter } from '../../src/annotate/line-writer.js';
import { TeacherlmError } from '../../src/errors.js';
import { DEFAULT_QUALITY } from '../../src/quality/quality-options.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from '../../src/teacher/types.js';

function memoryWriter(): LineWriter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: async (l) => void lines.push(l), close: async () => {} };
}

/** A TextGenerator at the interface: echoes a prompt digest, fails as told. */
function fakeGenerator(fail: (requests: GenerationRequest[], call: number) => TeacherlmError | undefined): TextGenerator & { calls: number; sizes: number[] } {
  const g = {
    modelId: 'fake',
    concurrency: 2,
    calls: 0,
    sizes: [] as number[],
    countTokens: (p: string) => p.length,
    async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
      g.calls += 1;
      g.sizes.push(requests.length);
      const err = fail(requests, g.calls);
      if (err) throw err;
      return requests.map((r) => ({
        text: ` about ${r.prompt.length} chars `,
        promptTokens: r.prompt.length,
        generatedTokens: 3,
        finishReason: 'length' as const,
        timings: { queuedMs: 0, prefillMs: 1, decodeMs: 2, totalMs: 3 },
      }));
    },
    close: async () => {},
  };
  return g;
}

function input(samples: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'annotate-file-'));
  const path = join(dir, 'in.jsonl');
  writeFileSync(path, samples.map((s) => (typeof s === 'string' ? s : JSON.stringify(s))).join('\n') + '\n');
  return path;
}

const sample = (id: string, question = `Question ${id}? (A) yes (B) no`) => ({ id, task: 't', question, answer: '(A)' });
const options = (inPath: string) => ({
  inPath,
  fieldMap: IDENTITY_FIELD_MAP,
  kinds: ['fundamentals', 'cot', 'mistakes'] as const,
  promptStyle: 'raw' as const,
  maxBatchSize: 4,
  generation: { maxNewTokens: 8, temperature: 0 },
});

describe('annotateFile', () => {
  it('writes one line per sample in input order, with annotations and stats, in batches of at most maxBatchSize', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const path = input(ids.map((id, i) => sample(id, `Q${'?'.repeat(i % 7)} (A) yes (B) no`)));
    const out = memoryWriter();
    const errors = memoryWriter();
    const gen = fakeGenerator(() => undefined);
    const summary = await annotateFile(options(path), gen, out, errors);
    expect(summary).toMatchObject({ samples: 30, malformed: 0, failed: 0, generatedTokens: 30 * 3 * 3 });
    type Row = { id: string; annotations: Record<string, string>; stats: Record<string, unknown> };
    const rows = out.lines.map((l) => JSON.parse(l) as Row);
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows[0]).toMatchObject({ model: 'fake', task: 't', answer: '(A)' });
    expect(Object.keys(rows[0]!.annotations)).toEqual(['fundamentals', 'cot', 'mistakes']);
    expect(rows[0]!.annotations.cot).toMatch(/^about \d+ chars$/);
    expect(rows[0]!.stats.cot).toMatchObject({ generatedTokens: 3, finishReason: 'length' });
    expect(Math.max(...gen.sizes)).toBeLessThanOrEqual(4);
    expect(errors.lines).toEqual([]);
  });

  it('retries a retriable failure after the backoff of the retry policy, then succeeds', async () => {
    const path = input([sample('a'), sample('b')]);
    const gen = fakeGenerator((_, call) => (call <= 2 ? new TeacherlmError('WORKER_CRASHED', 'worker died') : undefined));
    const out = memoryWriter();
    // Records the delays asked for and runs the work at once: no real waiting.
    const delays: number[] = [];
    const scheduler = {
      now: () => asyncScheduler.now(),
      schedule: (work: () => void, delay = 0, state?: unknown) => (delays.push(delay), asyncScheduler.schedule(work, 0, state)),
    } as SchedulerLike;
    const retry = { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 5_000, multiplier: 2 };
    const summary = await annotateFile({ ...options(path), maxBatchSize: 8, retry, scheduler }, gen, out, memoryWriter());
    expect(summary.samples).toBe(2);
    expect(out.lines).toHaveLength(2);
    // The one batch failed twice: backed off 100 ms, then 200 ms, as the pipeline does.
    expect(delays).toEqual([100, 200]);
  });

  it('isolates a sample whose generation keeps failing into the errors file, and keeps the rest', async () => {
    const path = input([sample('a'), '{broken', sample('poison'), sample('c')]);
    const gen = fakeGenerator((requests) =>
      requests.some((r) => r.prompt.includes('Question poison')) ? new TeacherlmError('GENERATION_FAILED', 'boom', { retriable: false }) : undefined,
    );
    const out = memoryWriter();
    const errors = memoryWriter();
    const summary = await annotateFile({ ...options(path), maxBatchSize: 3, kinds: ['cot'] }, gen, out, errors);
    const failedIds = errors.lines.map((l) => JSON.parse(l) as { id?: string; line: number; code: string });
    expect(summary.malformed).toBe(1);
    expect(failedIds[0]).toMatchObject({ line: 2, code: 'DECODE_FAILED' });
    // 'poison' shares its batch with 'a' and 'c': bisection isolates it, the others are written.
    expect(out.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['a', 'c']);
    expect(failedIds[1]).toMatchObject({ id: 'poison', line: 3, code: 'GENERATION_FAILED' });
    expect(summary.failed).toBe(1);
  });

  it('ends the run on an engine that shut down instead of failing every sample one by one', async () => {
    const path = input([sample('a'), sample('b'), sample('c')]);
    const gen = fakeGenerator(() => new TeacherlmError('SHUT_DOWN', 'the engine is closed'));
    const errors = memoryWriter();
    await expect(annotateFile({ ...options(path), kinds: ['cot'] }, gen, memoryWriter(), errors)).rejects.toMatchObject({ code: 'SHUT_DOWN' });
    expect(errors.lines).toEqual([]);
  });
});

describe('annotateFile on a continuously batching engine', () => {
  /** Prompts of odd-numbered samples take many turns of the event loop, even ones one: later samples often finish first. */
  function continuousGenerator(rows: number, fail?: (prompt: string) => TeacherlmError | undefined) {
    const g = {
      modelId: 'continuous',
      concurrency: 2,
      continuousRows: rows,
      sizes: [] as number[],
      inFlight: 0,
      peakInFlight: 0,
      finished: [] as string[],
      countTokens: (p: string) => p.length,
      async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
        g.sizes.push(requests.length);
        g.inFlight += requests.length;
        g.peakInFlight = Math.max(g.peakInFlight, g.inFlight);
        const id = /Question (s\d+)/.exec(requests[0]!.prompt)![1]!;
        for (let turns = Number(id.slice(1)) % 2 === 1 ? 40 : 1; turns > 0; turns--) await new Promise((r) => setImmediate(r));
        g.inFlight -= requests.length;
        const err = fail?.(requests[0]!.prompt);
        if (err) throw err;
        g.finished.push(id);
        return requests.map((r) => ({ text: ` about ${r.prompt.length} chars `, promptTokens: 1, generatedTokens: 3, finishReason: 'eos' as const, timings: { queuedMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 } }));
      },
      close: async () => {},
    };
    return g;
  }

  it('sends each prompt as its own call, keeps up to continuousRows in flight across samples, and writes in input order', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const path = input([...ids.slice(0, 7).map((id) => sample(id)), '{broken', ...ids.slice(7).map((id) => sample(id))]);
    const gen = continuousGenerator(9);
    const out = memoryWriter();
    const errors = memoryWriter();
    const summary = await annotateFile(options(path), gen, out, errors);
    expect(summary).toMatchObject({ samples: 20, malformed: 1, failed: 0, generatedTokens: 20 * 3 * 3 });
    expect(out.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(ids);
    expect(errors.lines.map((l) => JSON.parse(l) as { line: number })).toMatchObject([{ line: 8, code: 'DECODE_FAILED' }]);
    expect(new Set(gen.sizes)).toEqual(new Set([1]));
    // Three samples' prompts at once (9 rows, 3 kinds), never more.
    expect(gen.peakInFlight).toBe(9);
    // Samples did finish out of order: the order of the output is the file's, not the engine's.
    const firstDone = [...new Set(gen.finished)];
    expect(firstDone).not.toEqual([...firstDone].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
  });

  it('isolates a failing sample and ends the run on an engine that shut down, with no rejection left unhandled', async () => {
    const path = input([sample('s0'), sample('s1'), sample('s2')]);
    const errors = memoryWriter();
    const out = memoryWriter();
    const failing = continuousGenerator(6, (p) => (p.includes('Question s1') ? new TeacherlmError('GENERATION_FAILED', 'boom', { retriable: false }) : undefined));
    await annotateFile({ ...options(path), kinds: ['cot'] }, failing, out, errors);
    expect(out.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['s0', 's2']);
    expect(errors.lines.map((l) => JSON.parse(l) as { id: string })).toMatchObject([{ id: 's1', code: 'GENERATION_FAILED' }]);
    const closed = continuousGenerator(6, () => new TeacherlmError('SHUT_DOWN', 'the engine is closed'));
    await expect(annotateFile({ ...options(path), kinds: ['cot'] }, closed, memoryWriter(), memoryWriter())).rejects.toMatchObject({ code: 'SHUT_DOWN' });
  });
});

describe('annotateFile with the quality gate', () => {
  const QUESTION = (id: string) => `Determine the correctness of the following sentence. ${id} soup means eating only solids. (A) True (B) False`;
  const GOOD = 'The answer is (B). Soup is mostly water or broth, so eating it means taking in a liquid.';
  const WRONG = 'The answer is (A). Soup is a solid food that people chew and swallow every day.';
  /** Answers each prompt by its sample and attempt (greedy: 1; sampled: seed + 1), in batches as the engine does. */
  function scripted(texts: Record<string, string[]>): TextGenerator & { requests: GenerationRequest[][] } {
    const g = {
      modelId: 'scripted',
      concurrency: 2,
      requests: [] as GenerationRequest[][],
      countTokens: (p: string) => p.length,
      async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
        g.requests.push(requests);
        return requests.map((r) => {
          const id = Object.keys(texts).find((k) => r.prompt.includes(`${k} soup`))!;
          const attempt = r.options.temperature === 0 ? 1 : (r.options.seed ?? 0) + 1;
          const text = texts[id]![attempt - 1] ?? WRONG;
          return { text, promptTokens: 1, generatedTokens: 10, finishReason: 'eos' as const, timings: { queuedMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 } };
        });
      },
      close: async () => {},
    };
    return g;
  }
  const gated = (path: string, onFailure: 'keep' | 'drop' | 'dead-letter', attempts = 3) => ({
    ...options(path),
    kinds: ['cot'] as const,
    quality: { ...DEFAULT_QUALITY, attempts, onFailure },
  });
  const rows = (out: { lines: string[] }) =>
    out.lines.map((l) => JSON.parse(l) as { id: string; annotations: Record<string, string | null>; quality: Record<string, unknown> });
  const samples = ['s1', 's2', 's3'].map((id) => ({ id, task: 't', question: QUESTION(id), answer: '(B)' }));

  it('regenerates failing annotations in batches with the gate’s seeds, keeps the passing attempt and records every outcome', async () => {
    const gen = scripted({ s1: [GOOD], s2: [WRONG, GOOD], s3: [WRONG, WRONG, WRONG] });
    const out = memoryWriter();
    const summary = await annotateFile(gated(input(samples), 'keep'), gen, out, memoryWriter());
    const [s1, s2, s3] = rows(out);
    expect(s1).toMatchObject({ annotations: { cot: GOOD }, quality: { cot: { passed: true, failedChecks: [], attempts: 1 } } });
    expect(s2).toMatchObject({ annotations: { cot: GOOD }, quality: { cot: { passed: true, attempts: 2 } } });
    expect(s3).toMatchObject({ annotations: { cot: WRONG }, quality: { cot: { passed: false, failedChecks: ['contradiction'], attempts: 3 } } });
    // The first generation, then s2 and s3 together at seed 1 and temperature 0.7, then s3 alone at seed 2.
    expect(gen.requests.map((b) => b.map((r) => [r.options.temperature, r.options.seed ?? 0]))).toEqual([
      [[0, 0], [0, 0], [0, 0]],
      [[0.7, 1], [0.7, 1]],
      [[0.7, 2]],
    ]);
    expect(summary.quality).toEqual({ checked: 3, passed: 2, regenerations: 3, repaired: {}, failedByCheck: { contradiction: 1 }, dropped: 0, deadLettered: 0 });
    expect(summary.generatedTokens).toBe(6 * 10);
  });

  it('writes null for an annotation that failed (drop), and sends its sample to the errors file (dead-letter)', async () => {
    const texts = { s1: [GOOD], s2: [WRONG], s3: [GOOD] };
    const dropOut = memoryWriter();
    const dropped = await annotateFile(gated(input(samples), 'drop', 1), scripted(texts), dropOut, memoryWriter());
    expect(rows(dropOut).map((r) => r.annotations.cot)).toEqual([GOOD, null, GOOD]);
    expect(dropped.quality).toMatchObject({ dropped: 1, passed: 2 });

    const deadOut = memoryWriter();
    const errors = memoryWriter();
    const dead = await annotateFile(gated(input(samples), 'dead-letter', 1), scripted(texts), deadOut, errors);
    expect(rows(deadOut).map((r) => r.id)).toEqual(['s1', 's3']);
    expect(errors.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ id: 's2', line: 2, code: 'QUALITY_FAILED', error: expect.stringContaining("sample 's2' failed the quality gate: cot after 1 attempts: contradiction (asserts (A)") }),
    ]);
    expect(dead).toMatchObject({ samples: 2, rejected: 1, failed: 0, quality: { deadLettered: 1 } });
  });

  it('trims a cut annotation with trimTruncated, and bans invented options in every generation with banInventedOptions', async () => {
    const gen = scripted({ s1: [`${GOOD} It is also`], s2: [WRONG, GOOD], s3: [GOOD] });
    const cutOnce: TextGenerator = {
      ...gen,
      generate: async (requests) => (await gen.generate(requests)).map((r) => (r.text.endsWith('also') ? { ...r, finishReason: 'length' as const } : r)),
    };
    const out = memoryWriter();
    const summary = await annotateFile({ ...gated(input(samples), 'keep'), quality: { ...DEFAULT_QUALITY, trimTruncated: true }, banInventedOptions: true }, cutOnce, out, memoryWriter());
    const [s1, s2] = rows(out);
    expect(s1).toMatchObject({ annotations: { cot: GOOD }, quality: { cot: { passed: true, attempts: 1, repairs: ['trimmed'] } } });
    expect(s2).toMatchObject({ annotations: { cot: GOOD }, quality: { cot: { passed: true, attempts: 2, repairs: [] } } });
    expect(summary.quality).toMatchObject({ repaired: { trimmed: 1 } });
    expect(gen.requests.flat().every((r) => r.options.badWords?.includes(' (C') && !r.options.badWords.includes(' (B'))).toBe(true);
  });

  it('writes no quality field without a gate', async () => {
    const out = memoryWriter();
    const summary = await annotateFile({ ...options(input(samples)), kinds: ['cot'] }, scripted({ s1: [WRONG], s2: [WRONG], s3: [WRONG] }), out, memoryWriter());
    expect(rows(out)[0]).not.toHaveProperty('quality');
    expect(summary.quality).toBeUndefined();
  });
});
