import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TeacherlmError } from '../../src/errors.js';
import type { GenerationTask, SampleJob, TaskOutcome } from '../../src/pipeline/items.js';
import { emptyQualityCounts, qualityGate } from '../../src/pipeline/quality-gate.js';
import { DEFAULT_QUALITY, type QualitySpec } from '../../src/quality/quality-options.js';
import type { ContinuationScorer } from '../../src/teacher/continuation-scorer.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from '../../src/teacher/types.js';
import { sourceRecord, teacherSpec } from './fakes.js';

const QUESTION = 'Determine the correctness of the following sentence. Eating soup means eating only solids. (A) True (B) False';
const GOOD = 'The answer is (B). Soup is mostly water or broth, so eating it means taking in a liquid.';
const WRONG = 'The answer is (A). Soup is a solid food that people chew and swallow every day.';

function result(text: string): GenerationResult {
  return { text, promptTokens: 3, generatedTokens: 9, finishReason: 'eos', timings: { queuedMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 } };
}

/** A generator answering each call from a list of texts, recording the requests. */
class Replies implements TextGenerator {
  readonly modelId = 'replies';
  readonly concurrency = 1;
  readonly requests: GenerationRequest[] = [];
  constructor(private readonly texts: (string | TeacherlmError)[]) {}
  countTokens(): number {
    return 1;
  }
  async generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
    this.requests.push(...requests);
    const next = this.texts.shift();
    if (next === undefined) throw new Error('no more replies scripted');
    if (next instanceof TeacherlmError) throw next;
    return requests.map(() => result(next));
  }
  async close(): Promise<void> {}
}

function firstOutcome(text: string, finishReason = 'eos', banInventedOptions = false): Extract<TaskOutcome, { ok: true }> {
  const job: SampleJob = { record: sourceRecord(0), sample: { id: 's1', task: 't', question: QUESTION, answer: '(B)' }, expected: 1, outcomes: [] };
  const teacher = { ...teacherSpec('cot'), generation: { maxNewTokens: 32, temperature: 0, seed: 7 }, ...(banInventedOptions ? { banInventedOptions } : {}) };
  const task: GenerationTask = { job, teacher, engineKey: 'e', prompt: 'Q: ... step by step.', promptTokens: 3 };
  return { task, ok: true, result: { ...result(text), finishReason: finishReason as GenerationResult['finishReason'] }, attempts: 1 };
}

async function run(spec: QualitySpec, first: string | Extract<TaskOutcome, { ok: true }>, replies: (string | TeacherlmError)[], scorer?: ContinuationScorer) {
  const generator = new Replies(replies);
  const counts = emptyQualityCounts();
  const scorers = scorer ? new Map([['e', scorer]]) : undefined;
  const checks: string[] = [];
  const metrics = { qualityCheck: (check: string, passed: boolean) => checks.push(`${check}:${passed ? 'pass' : 'fail'}`) };
  const [out] = await firstValueFrom(from([typeof first === 'string' ? firstOutcome(first) : first]).pipe(qualityGate({ spec, generators: new Map([['e', generator]]), scorers, counts, metrics }), toArray()));
  return { out: out as TaskOutcome, generator, counts, checks };
}

describe('qualityGate', () => {
  it('with trimTruncated, keeps a cut annotation trimmed to its last sentence when that passes, and records the repair', async () => {
    const cut = `${GOOD} It is also served`;
    const spec = { ...DEFAULT_QUALITY, trimTruncated: true };
    const { out, generator, counts } = await run(spec, firstOutcome(cut, 'length'), []);
    expect(out).toMatchObject({ ok: true, result: { text: GOOD, finishReason: 'length' }, quality: { passed: true, failedChecks: [], attempts: 1, repairs: ['trimmed'] } });
    expect(generator.requests).toEqual([]);
    expect(counts).toMatchObject({ checked: 1, passed: 1, repaired: { trimmed: 1 } });
    // Without it the cut fails `truncated` and is regenerated.
    const untrimmed = await run(DEFAULT_QUALITY, firstOutcome(cut, 'length'), [GOOD]);
    expect(untrimmed.out).toMatchObject({ result: { text: GOOD }, quality: { attempts: 2, repairs: [] } });
  });

  it('regenerates with the invented-options guard of a teacher that bans them', async () => {
    const { generator } = await run(DEFAULT_QUALITY, firstOutcome(WRONG, 'eos', true), [GOOD]);
    expect(generator.requests[0]!.options.badWords).toContain(' (C');
    expect(generator.requests[0]!.options.badWords).not.toContain(' (A');
  });

  it('passes a good annotation through with its outcome, generating nothing more', async () => {
    const { out, generator, counts } = await run(DEFAULT_QUALITY, GOOD, []);
    expect(out).toMatchObject({ ok: true, quality: { passed: true, failedChecks: [], attempts: 1 }, dropped: false });
    expect(generator.requests).toEqual([]);
    expect(counts).toMatchObject({ checked: 1, passed: 1, regenerations: 0 });
  });

  it('regenerates a failing annotation with the regeneration temperature and a new seed per attempt, and keeps the one that passes', async () => {
    const { out, generator, counts } = await run(DEFAULT_QUALITY, WRONG, [WRONG, GOOD]);
    expect(out).toMatchObject({ ok: true, result: { text: GOOD }, quality: { passed: true, failedChecks: [], attempts: 3 } });
    expect(generator.requests.map((r) => [r.options.temperature, r.options.seed, r.options.maxNewTokens])).toEqual([
      [0.7, 8, 32],
      [0.7, 9, 32],
    ]);
    expect(counts).toMatchObject({ checked: 1, passed: 1, regenerations: 2, failedByCheck: {} });
  });

  it('after the last attempt keeps the attempt with the fewest failed checks, recording them (onFailure: keep)', async () => {
    // 'The answer is (A).' fails too-short and contradiction, WRONG contradiction alone, 'A' too-short alone (a tie: the earlier stays).
    const { out, counts, checks } = await run(DEFAULT_QUALITY, 'The answer is (A).', [WRONG, 'A']);
    expect(out).toMatchObject({ ok: true, result: { text: WRONG }, quality: { passed: false, failedChecks: ['contradiction'], attempts: 3 }, dropped: false });
    expect(counts).toMatchObject({ checked: 1, passed: 0, failedByCheck: { contradiction: 1 } });
    // The metrics count the kept attempt's verdict, one outcome per check it ran.
    expect(checks).toContain('contradiction:fail');
    expect(checks.filter((c) => c.endsWith(':fail'))).toEqual(['contradiction:fail']);
    expect(checks.length).toBeGreaterThan(1);
  });

  it('drops the annotation or dead-letters the sample, as the topology says', async () => {
    const dropped = await run({ ...DEFAULT_QUALITY, attempts: 1, onFailure: 'drop' }, WRONG, []);
    expect(dropped.out).toMatchObject({ ok: true, dropped: true, quality: { passed: false } });
    expect(dropped.counts.dropped).toBe(1);
    const dead = await run({ ...DEFAULT_QUALITY, attempts: 1, onFailure: 'dead-letter' }, WRONG, []);
    expect(dead.out.ok).toBe(false);
    const error = (dead.out as Extract<TaskOutcome, { ok: false }>).error;
    expect(error.code).toBe('QUALITY_FAILED');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(`cot of sample 's1' failed the quality gate after 1 attempts: contradiction (asserts (A)`);
    expect(dead.counts.deadLettered).toBe(1);
  });

  it('keeps what it has when a regeneration fails, so an engine fault loses nothing', async () => {
    const { out } = await run(DEFAULT_QUALITY, WRONG, [new TeacherlmError('WORKER_CRASHED', 'gone')]);
    expect(out).toMatchObject({ ok: true, result: { text: WRONG }, quality: { passed: false, attempts: 1 } });
  });

  it('scores faithfulness with the engine key\'s scorer when the spec turns it on, and regenerates what the teacher does not follow', async () => {
    const ANOTHER = 'The answer is (B). Broth and water are liquids, and soup is made of them.';
    // The teacher prefers (A) after GOOD, (B) after ANOTHER.
    const scorer: ContinuationScorer = {
      score: async (requests) => requests.map((r) => (r.context.includes('Broth') ? (r.continuation === 'B' ? -0.1 : -3) : r.continuation === 'A' ? -0.1 : -3)),
      close: async () => {},
    };
    const spec = { ...DEFAULT_QUALITY, checks: { ...DEFAULT_QUALITY.checks, faithfulness: true } };
    const { out, counts } = await run(spec, GOOD, [ANOTHER], scorer);
    expect(out).toMatchObject({ ok: true, result: { text: ANOTHER }, quality: { passed: true, attempts: 2 } });
    expect(counts).toMatchObject({ checked: 1, passed: 1, regenerations: 1 });
    const once = await run({ ...spec, attempts: 1 }, GOOD, [], scorer);
    expect(once.out).toMatchObject({ ok: true, quality: { passed: false, failedChecks: ['faithfulness'] } });
  });

  it('lets failed outcomes pass untouched', async () => {
    const failed = { ...firstOutcome(GOOD), ok: false as const, error: new TeacherlmError('GENERATION_FAILED', 'x') };
    const out = await firstValueFrom(from([failed as TaskOutcome]).pipe(qualityGate({ spec: DEFAULT_QUALITY, generators: new Map() })));
    expect(out).toBe(failed);
  });
});
