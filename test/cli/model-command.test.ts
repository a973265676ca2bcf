// `teacherlm model` as a command: what it refuses, before any Python runs. The import
// itself, end to end, is in model-import.model.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'teacherlm.js');

function model(args: string[], cwd: string) {
  const res = spawnSync(process.execPath, [BIN, 'model', ...args], { cwd, env: { ...process.env, TEACHERLM_FROM_SOURCE: '1' }, encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout.trim(), stderr: res.stderr.trim() };
}

describe('teacherlm model', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'model-command-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('prints its usage: on --help with exit code 0, without an action with 1', () => {
    const help = model(['--help'], root);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: teacherlm model import <name> \[options\]/);
    expect(help.stdout).toContain('known: smollm2');
    expect(model([], root)).toMatchObject({ code: 1, stdout: help.stdout });
  });

  it('names what is wrong in one line, and creates nothing under the root', () => {
    const cases: [string[], string][] = [
      [['export', 'smollm2'], "teacherlm: unknown action 'export' (expected 'import') [INVALID_OPTIONS]"],
      [['import'], 'teacherlm: model import needs a model name (known: smollm2) [INVALID_OPTIONS]'],
      [['import', 'gpt5'], "teacherlm: unknown model 'gpt5' (known: smollm2) [INVALID_OPTIONS]"],
      [['import', 'constructor'], "teacherlm: unknown model 'constructor' (known: smollm2) [INVALID_OPTIONS]"],
      [['import', 'smollm2', 'extra'], "teacherlm: unexpected argument 'extra' [INVALID_OPTIONS]"],
    ];
    for (const [args, message] of cases) {
      const res = model([...args, '--root', root], root);
      expect(res, args.join(' ')).toEqual({ code: 1, stdout: '', stderr: message });
    }
    expect(readdirSync(root)).toEqual([]);
  });
});
