// `teacherlm tune` for real on the tiny test model (a reduced workload), then `annotate`'s auto layout.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tuning } from '../../src/teacher/tuning/tuning-file.js';

const root = join(import.meta.dirname, '..', '..');
const model = join(root, 'test', 'fixtures', 'models', 'tiny-llama');
const REDUCED = ['--batch-sizes', '4,1', '--max-new-tokens', '4', '--rounds', '1'];

function cli(args: string[], cache: string) {
  return spawnSync(process.execPath, [join(root, 'bin', 'teacherlm.js'), ...args], {
    env: { ...process.env, TEACHERLM_FROM_SOURCE: '1', TEACHERLM_CACHE_DIR: cache },
    encoding: 'utf8',
  });
}

function annotate(cache: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tune-annotate-'));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, readFileSync(join(root, 'data', 'creak-demo.jsonl'), 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
  const run = cli(['annotate', '--model', model, '--in', input, '--out', join(dir, 'out.jsonl'), '--map', 'id=ex_id,task=task_name', '--max-new-tokens', '4', '--device', 'cpu'], cache);
  return { ...run, rows: run.status === 0 ? readFileSync(join(dir, 'out.jsonl'), 'utf8').trimEnd().split('\n').length : 0 };
}

const onlyTuning = (cache: string): { path: string; tuning: Tuning } => {
  const files = readdirSync(join(cache, 'tune'));
  expect(files).toHaveLength(1);
  const path = join(cache, 'tune', files[0]!);
  return { path, tuning: JSON.parse(readFileSync(path, 'utf8')) as Tuning };
};

describe('teacherlm tune', () => {
  it('measures the layouts, records the winner, and auto then runs the winner', () => {
    const cache = mkdtempSync(join(tmpdir(), 'tune-cli-'));
    const run = cli(['tune', '--model', model, '--device', 'cpu', ...REDUCED], cache);
    expect(run.stderr).toMatch(/teacherlm: tune: \d+x\d+: batch 1 [\d.]+ tokens\/s, batch 4 [\d.]+ tokens\/s/);
    expect(run.status).toBe(0);
    const { path, tuning } = onlyTuning(cache);
    expect(tuning.workload).toMatchObject({ batchSizes: [4, 1], maxNewTokens: 4 });
    expect(Object.keys(tuning.layouts).length).toBeGreaterThanOrEqual(1);
    for (const figures of Object.values(tuning.layouts)) expect(figures.tokensPerSec['4']).toBeGreaterThan(0);
    expect(run.stdout).toContain(`auto now runs ${tuning.winner.name} (`);
    expect(run.stdout).toContain(path);

    const after = annotate(cache);
    expect(after.status).toBe(0);
    expect(after.stderr).toContain(`engine layout ${tuning.winner.name} (`);
    expect(after.stderr).toContain(`tuned on ${tuning.tunedAt.slice(0, 10)}: ${tuning.winner.name}`);
    expect(after.rows).toBe(3);
  });

  it('makes auto run a layout the rule would not pick (1x2), and a malformed file falls back to the rule with a warning', () => {
    const cache = mkdtempSync(join(tmpdir(), 'tune-cli-'));
    expect(cli(['tune', '--model', model, '--device', 'cpu', '--layouts', '1x2', ...REDUCED], cache).status).toBe(0);
    const tuned = annotate(cache);
    expect(tuned.stderr).toContain('engine layout 1x2 (1 worker x 2 threads): tuned on');
    expect(tuned.rows).toBe(3);

    const { path } = onlyTuning(cache);
    writeFileSync(path, '{"format": 1, "winner": ');
    const fallback = annotate(cache);
    expect(fallback.status).toBe(0);
    expect(fallback.stderr).toContain(`ignoring the layout tuning ${path}: malformed: not JSON`);
    expect(fallback.stderr).toMatch(/engine layout \d+x\d+ \(.*\): no usable tuning for this machine: the rule/);
    expect(fallback.rows).toBe(3);
  });

  it('names a bad option and measures nothing', () => {
    const cache = mkdtempSync(join(tmpdir(), 'tune-cli-'));
    const bad = cli(['tune', '--model', model, '--layouts', '2y1'], cache);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('teacherlm: --layouts: expected WORKERSxTHREADS entries such as 2x1,1x2, got "2y1" [INVALID_OPTIONS]\n');
    expect(cli(['tune'], cache).stderr).toContain('--model: expected the model folder');
    expect(cli(['tune', '--model', join(cache, 'none')], cache).stderr).toContain('model folder not found');
    expect(readdirSync(cache)).toEqual([]);
  });
});
