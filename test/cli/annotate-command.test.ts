import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREAK_DEV, CREAK_DEV_PROMPTS } from '../support/creak.js';
import { faithfulnessContext } from '../../src/quality/faithfulness.js';
import { createContinuationScorer } from '../../src/teacher/continuation-scorer.js';

const root = join(import.meta.dirname, '..', '..');

function cli(args: string[]) {
  return spawnSync(process.execPath, [join(root, 'bin', 'teacherlm.js'), 'annotate', ...args], {
    env: { ...process.env, TEACHERLM_FROM_SOURCE: '1' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe('teacherlm annotate --dry-run', () => {
  it('prints the reference TeacherLM prompts for all 1,371 CREAK dev rows, byte for byte', () => {
    const run = cli(['--dry-run', '--in', CREAK_DEV, '--map', 'id=ex_id,task=task_name']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const ours = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; prompts: Record<string, string> });
    const reference = readFileSync(CREAK_DEV_PROMPTS, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(reference).toHaveLength(1371);
    expect(ours).toHaveLength(1371);
    let compared = 0;
    ours.forEach((row, i) => {
      const ref = reference[i]!;
      expect(row.id).toBe(ref.ex_id);
      expect(Object.keys(row.prompts)).toEqual(['fundamentals', 'cot', 'mistakes']);
      // Buffers compare bytes, not just JS string equality after any normalisation.
      expect(Buffer.from(row.prompts.fundamentals!)).toEqual(Buffer.from(ref.fundamental_text!));
      expect(Buffer.from(row.prompts.cot!)).toEqual(Buffer.from(ref.cot_text!));
      expect(Buffer.from(row.prompts.mistakes!)).toEqual(Buffer.from(ref.error_text!));
      compared += 3;
    });
    expect(compared).toBe(3 * 1371);
  });

  it('reports a malformed line with its line number in the errors file and keeps every other sample', () => {
    const dir = mkdtempSync(join(tmpdir(), 'annotate-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify({ id: 'a', task: 't', question: 'Q1? (A) yes (B) no', answer: '(A)' }),
        '{"id": "b", "task": ',
        JSON.stringify({ id: 'c', task: 't', answer: '(B)' }),
        '',
        JSON.stringify({ id: 'd', task: 't', question: 'Q4?', answer: '(B)' }),
      ].join('\n') + '\n',
    );
    const errors = join(dir, 'errors.jsonl');
    const run = cli(['--dry-run', '--in', input, '--kinds', 'cot', '--errors', errors]);
    expect(run.status).toBe(0);
    expect(run.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['a', 'd']);
    expect(run.stderr).toContain('2 malformed line(s)');
    const bad = readFileSync(errors, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(bad.map((b) => b.line)).toEqual([2, 3]);
    expect(bad[0]).toMatchObject({ code: 'DECODE_FAILED', input: '{"id": "b", "task": ' });
    expect(bad[1]).toMatchObject({ code: 'INVALID_SAMPLE' });
    expect(bad[1]!.error).toContain('question: expected a non-empty string, got nothing');
  });

  it('names the bad option', () => {
    const run = cli(['--dry-run', '--in', 'x.jsonl', '--max-new-tokens', 'lots']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('--max-new-tokens');
    const minNew = cli(['--dry-run', '--in', 'x.jsonl', '--max-new-tokens', '16', '--min-new-tokens', '32']);
    expect(minNew.stderr).toContain('--min-new-tokens: expected at most --max-new-tokens (16), got "32"');
    const penalty = cli(['--dry-run', '--in', 'x.jsonl', '--repetition-penalty', '0']);
    expect(penalty.stderr).toContain('--repetition-penalty: expected a number from 0.01 to 100, got "0"');
    const lookup = cli(['--dry-run', '--in', 'x.jsonl', '--prompt-lookup-tokens', '17']);
    expect(lookup.stderr).toContain('--prompt-lookup-tokens: expected an integer from 0 to 16, got "17"');
    const batching = cli(['--dry-run', '--in', 'x.jsonl', '--batching', 'dynamic']);
    expect(batching.stderr).toContain('--batching: expected one of continuous, static, got "dynamic"');
    const map = cli(['--dry-run', '--in', 'x.jsonl', '--map', 'ident=ex_id']);
    expect(map.stderr).toContain('--map: expected a sample field (id, task, question, answer, context, metadata), got "ident"');
    const missing = cli(['--dry-run', '--in', join(tmpdir(), 'does-not-exist.jsonl')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('IO_FAILED');
    expect(missing.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('names the bad quality gate option, and reads the gate from a topology the way run does', () => {
    const action = cli(['--dry-run', '--in', 'x.jsonl', '--quality-on-failure', 'explode']);
    expect(action.stderr).toContain('--quality-on-failure: expected one of keep, drop, dead-letter, got "explode"');
    const dir = mkdtempSync(join(tmpdir(), 'annotate-quality-'));
    writeFileSync(join(dir, 'none.yaml'), 'name: x\n');
    expect(cli(['--dry-run', '--in', 'x.jsonl', '--quality', join(dir, 'none.yaml')]).stderr).toContain("has no 'quality:' section");
    writeFileSync(join(dir, 'bad.yaml'), 'quality:\n  checks: { minWords: -1 }\n');
    expect(cli(['--dry-run', '--in', 'x.jsonl', '--quality', join(dir, 'bad.yaml')]).stderr).toContain('quality.checks.minWords: expected');
  });
});

describe('teacherlm annotate with a model', () => {
  const model = join(root, 'test', 'fixtures', 'models', 'tiny-llama');

  it('annotates every valid sample, one JSON line each in input order, and skips a malformed line into the errors file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'annotate-run-'));
    const input = join(dir, 'in.jsonl');
    const lines = readFileSync(CREAK_DEV, 'utf8').split('\n').slice(0, 5);
    lines.splice(2, 0, '{"ex_id": "dev_x", "task_name": "CREAK", "question": "  ", "answer": "(A)"}');
    writeFileSync(input, lines.join('\n') + '\n');
    const out = join(dir, 'out.jsonl');
    const run = cli([
      '--model', model, '--in', input, '--out', out, '--map', 'id=ex_id,task=task_name',
      '--max-new-tokens', '8', '--max-batch-size', '4', '--threads', '1', '--device', 'cpu',
    ]);
    expect(run.status, run.stderr).toBe(0);
    type Stats = { generatedTokens: number; promptTokens: number; finishReason: string; acceptedDrafts?: number };
    type Row = { id: string; model: string; annotations: Record<string, string>; stats: Record<string, Stats> };
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
    expect(rows.map((r) => r.id)).toEqual(['dev_0', 'dev_1', 'dev_2', 'dev_3', 'dev_4']);
    for (const row of rows) {
      expect(row.model).toBe('tiny-llama');
      expect(Object.keys(row.annotations)).toEqual(['fundamentals', 'cot', 'mistakes']);
      for (const kind of ['fundamentals', 'cot', 'mistakes']) {
        const stats = row.stats[kind]!;
        expect(stats.generatedTokens).toBeGreaterThan(0);
        expect(stats.generatedTokens).toBeLessThanOrEqual(8);
        expect(stats.promptTokens).toBeGreaterThan(20);
        expect(['eos', 'length']).toContain(stats.finishReason);
      }
    }
    const errors = readFileSync(`${out}.errors.jsonl`, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 3, code: 'INVALID_SAMPLE' });
    expect(run.stderr).toContain('1 malformed line(s)');
    expect(run.stderr).toContain('annotated 5 sample(s)');
    // Batching is invisible: closed batches of 4 give every sample the same annotations.
    const staticOut = join(dir, 'static.jsonl');
    const statically = cli([
      '--model', model, '--in', input, '--out', staticOut, '--map', 'id=ex_id,task=task_name',
      '--max-new-tokens', '8', '--max-batch-size', '4', '--threads', '1', '--device', 'cpu', '--batching', 'static',
    ]);
    expect(statically.status, statically.stderr).toBe(0);
    const staticRows = readFileSync(staticOut, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
    expect(staticRows.map((r) => [r.id, r.annotations])).toEqual(rows.map((r) => [r.id, r.annotations]));
    // So is speculation: every row drafting (any batch) and none drafting give the same annotations.
    for (const [name, flags] of [['always', ['--prompt-lookup-max-rows', '1024']], ['never', ['--prompt-lookup-tokens', '0']]] as const) {
      const specOut = join(dir, `speculate-${name}.jsonl`);
      const speculated = cli([
        '--model', model, '--in', input, '--out', specOut, '--map', 'id=ex_id,task=task_name',
        '--max-new-tokens', '8', '--threads', '1', '--device', 'cpu', ...flags,
      ]);
      expect(speculated.status, speculated.stderr).toBe(0);
      const specRows = readFileSync(specOut, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
      expect(specRows.map((r) => [r.id, r.annotations])).toEqual(rows.map((r) => [r.id, r.annotations]));
      const accepted = specRows.flatMap((r) => Object.values(r.stats).map((s) => s.acceptedDrafts ?? 0)).reduce((a, b) => a + b, 0);
      if (name === 'always') expect(accepted).toBeGreaterThan(0);
      else expect(accepted).toBe(0);
    }
  });

  it('gates every annotation with the topology\'s quality section: regenerates, records the outcome, drops what still fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'annotate-gate-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, readFileSync(CREAK_DEV, 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    const out = join(dir, 'out.jsonl');
    const run = cli([
      '--model', model, '--in', input, '--out', out, '--map', 'id=ex_id,task=task_name', '--max-new-tokens', '8',
      '--threads', '1', '--device', 'cpu', '--quality', join(root, 'topologies', 'default.yaml'), '--quality-attempts', '2', '--quality-on-failure', 'drop',
    ]);
    expect(run.status, run.stderr).toBe(0);
    type Outcome = { passed: boolean; failedChecks: string[]; attempts: number };
    type Row = { annotations: Record<string, string | null>; quality: Record<string, Outcome> };
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
    expect(rows).toHaveLength(3);
    let failed = 0;
    for (const row of rows) {
      for (const kind of ['fundamentals', 'cot', 'mistakes']) {
        const q = row.quality[kind]!;
        // A failing first generation was regenerated once; what still fails is dropped.
        if (!q.passed) failed++;
        expect(q.passed ? q.failedChecks : q.attempts).toEqual(q.passed ? [] : 2);
        expect(row.annotations[kind] === null).toBe(!q.passed);
      }
    }
    // The random tiny model's 8 tokens fail the default checks.
    expect(failed).toBeGreaterThan(0);
    expect(run.stderr).toContain(`quality: 9 checked, ${9 - failed} passed`);
    expect(run.stderr).toContain(`${failed} dropped`);
  });

  it('scores the chains of thought with the teacher itself when the quality section turns faithfulness on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'annotate-faithful-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, readFileSync(CREAK_DEV, 'utf8').split('\n').slice(0, 6).join('\n') + '\n');
    writeFileSync(join(dir, 'quality.yaml'), 'quality:\n  checks: { faithfulness: true }\n  attempts: 1\n');
    const out = join(dir, 'out.jsonl');
    const run = cli([
      '--model', model, '--in', input, '--out', out, '--map', 'id=ex_id,task=task_name', '--max-new-tokens', '8',
      '--kinds', 'cot', '--threads', '1', '--device', 'cpu', '--quality', join(dir, 'quality.yaml'),
    ]);
    expect(run.status, run.stderr).toBe(0);
    type Row = { question: string; answer: string; annotations: { cot: string }; quality: { cot: { failedChecks: string[] } } };
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Row);
    expect(rows).toHaveLength(6);
    const scorer = await createContinuationScorer({ modelDir: model });
    try {
      for (const row of rows) {
        const context = faithfulnessContext(row.question, row.annotations.cot);
        const [a, b] = await scorer.score([{ context, continuation: 'A' }, { context, continuation: 'B' }]);
        const prefersGold = row.answer === '(A)' ? a! > b! : b! > a!;
        expect(row.quality.cot.failedChecks.includes('faithfulness')).toBe(!prefersGold);
      }
    } finally {
      await scorer.close();
    }
  });

  it('renders chat-style prompts through the model chat template in --dry-run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'annotate-chat-'));
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, JSON.stringify({ id: 'a', task: 't', question: 'Soup is solid. (A) True (B) False', answer: '(B)' }) + '\n');
    const run = cli(['--dry-run', '--model', model, '--in', input, '--prompt-style', 'chat', '--kinds', 'cot']);
    expect(run.status, run.stderr).toBe(0);
    const { prompts } = JSON.parse(run.stdout) as { prompts: Record<string, string> };
    expect(prompts).toEqual({
      cot: "<|im_start|>user\nQ: Soup is solid. (A) True (B) False A: The answer is (B). Let's think step by step.<|im_end|>\n<|im_start|>assistant\n",
    });
  });
});

