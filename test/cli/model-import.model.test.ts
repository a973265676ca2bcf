// `teacherlm model import smollm2` end to end, as a command: a real conversion into a
// root of its own (its tools/ and the Python venv are the project's, so nothing is
// installed twice; the GGUF is downloaded into the project's .cache/pkgs when missing),
// then a second run that finds the output current and converts nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR, SMOLLM2, SMOLLM2_DIR, smollm2Imported, venvPrerequisite } from '../support/smollm2.js';

const BIN = join(PROJECT_DIR, 'bin', 'teacherlm.js');
const ready = venvPrerequisite('the teacherlm model import command test');

interface Manifest {
  inputs: unknown;
  files: Record<string, string>;
}
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;

function importSmollm2(root: string) {
  const res = spawnSync(process.execPath, [BIN, 'model', 'import', 'smollm2', '--root', root], {
    env: { ...process.env, TEACHERLM_FROM_SOURCE: '1' },
    encoding: 'utf8',
    timeout: 590_000,
  });
  return { code: res.status, stdout: res.stdout.trim(), stderr: res.stderr.trim() };
}

describe.skipIf(!ready)('teacherlm model import smollm2', () => {
  const root = mkdtempSync(join(tmpdir(), 'model-import-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('converts into <root>/models, then finds it up to date', () => {
    symlinkSync(join(PROJECT_DIR, 'tools'), join(root, 'tools'));
    mkdirSync(join(root, '.cache'));
    mkdirSync(join(PROJECT_DIR, '.cache', 'pkgs'), { recursive: true });
    for (const shared of ['py', 'pkgs']) symlinkSync(join(PROJECT_DIR, '.cache', shared), join(root, '.cache', shared));
    const out = join(root, SMOLLM2.outDir);

    const first = importSmollm2(root);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^smollm2 imported in ${out} \\(\\d+\\.\\d s\\)$`));
    expect(first.stderr).toContain(`teacherlm: converting ${SMOLLM2.displayName} into ${SMOLLM2.outDir}`);
    const made = manifestOf(out);
    expect(Object.keys(made.files).sort()).toEqual([
      'MODEL_CARD.md', 'config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model_buffered.onnx',
      'tokenizer.json', 'tokenizer_config.json',
    ]);
    // The conversion is deterministic: the same inputs give the project's model byte for byte.
    if (smollm2Imported() && JSON.stringify(manifestOf(SMOLLM2_DIR).inputs) === JSON.stringify(made.inputs)) {
      expect(made.files).toEqual(manifestOf(SMOLLM2_DIR).files);
    }

    const second = importSmollm2(root);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`^smollm2 already up to date in ${out} \\(\\d+\\.\\d s\\)$`));
    expect(manifestOf(out)).toEqual(made);
  });
});
