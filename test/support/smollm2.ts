/**
 * The default teacher, SmolLM2-135M-Instruct, as `teacherlm model import smollm2` makes it,
 * and the tools' Python venv that import creates. The `model` project's global setup
 * (test/setup/model-global-setup.ts) makes both on demand; tests check for them here.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_MODELS, venvPython } from '../../src/teacher/model-import.js';
import { prerequisite } from './prerequisite.js';

export const PROJECT_DIR = join(import.meta.dirname, '..', '..');
export const SMOLLM2 = KNOWN_MODELS.smollm2!;
export const SMOLLM2_DIR = join(PROJECT_DIR, SMOLLM2.outDir);

/** A finished import: the converter writes manifest.json last and removes it first. */
export function smollm2Imported(dir: string = SMOLLM2_DIR): boolean {
  return existsSync(join(dir, 'manifest.json'));
}

/** Whether the import in `dir` wrote the int8 files too (`--int8`), as its manifest records. */
export function smollm2ImportedInt8(dir: string = SMOLLM2_DIR): boolean {
  return importInputs(dir).int8 === true;
}

/** What the import's manifest.json records of its inputs. */
function importInputs(dir: string): { int8?: boolean; converter_sha256?: Record<string, string> } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { inputs?: ReturnType<typeof importInputs> };
  return manifest.inputs ?? {};
}

/**
 * Converter files whose hash differs from the one the import recorded in its manifest:
 * the model in `dir` was made by another version of the graph builder (an old checkout's
 * import keeps its old graph layout otherwise, since the setup imports only what is missing).
 */
export function smollm2StaleConverters(dir: string = SMOLLM2_DIR): string[] {
  const recorded = importInputs(dir).converter_sha256 ?? {};
  return Object.entries(recorded)
    .filter(([name, sha]) => {
      const file = join(PROJECT_DIR, 'tools', 'models', name);
      return !existsSync(file) || createHash('sha256').update(readFileSync(file)).digest('hex') !== sha;
    })
    .map(([name]) => name);
}

export function smollm2Prerequisite(skips: string): boolean {
  return prerequisite({
    name: `the default teacher (${SMOLLM2.outDir})`,
    present: smollm2Imported(),
    install: 'teacherlm model import smollm2, which the model tests\' global setup runs; see its log',
    skips,
  });
}

export function venvPrerequisite(skips: string): boolean {
  return prerequisite({
    name: 'the tools\' Python venv (.cache/py/venv)',
    present: existsSync(venvPython(PROJECT_DIR)),
    install: 'made by teacherlm model import and the model tests\' global setup: needs Python 3.10+ with venv, and PyPI',
    skips,
  });
}
