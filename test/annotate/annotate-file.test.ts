import { type SchedulerLike, asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { annotateFile } from '../../src/annotate/annotate-file.js';
import { IDENTITY_FIELD_MAP } from '../../src/records/field-map.js';
import type { LineWriter } from '../../src/annotate/line-writer.js';
import { TeacherlmError } from '../../src/errors.js';
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
