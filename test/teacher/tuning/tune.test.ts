import { afterEach, describe, expect, it, vi } from 'vitest';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { tune } from '../../../src/teacher/tuning/tune.js';
import { resolveEngineOptions } from '../../../src/teacher/engine-options.js';
import type { MeasureLayout } from '../../../src/teacher/tuning/tune-layouts.js';
import { modelDir } from '../support/models.js';

/** A fake engine on which more threads per session is faster: the tuning's winner is 1 x cores, not the rule's cores x 1. */
const threadsWin: MeasureLayout = async (layout) => ({ provider: 'cpu', tokensPerSec: { '16': 10 * layout.intraOpThreads, '1': 5 * layout.intraOpThreads } });
const cores = availableParallelism();

describe('tune, then auto', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('records the winner for this model file and machine, and auto then runs it', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'tune-'));
    vi.stubEnv('TEACHERLM_CACHE_DIR', cache);
    const lines: string[] = [];
    const { tuning, path } = await tune({ modelDir: modelDir('tiny-llama'), device: 'cpu', measure: threadsWin, log: (l) => lines.push(l) });
    expect(path).toBe(join(cache, 'tune', `${tuning.key}.json`));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(tuning);
    expect(tuning.winner).toEqual({ workers: 1, intraOpThreads: cores, name: `1x${cores}` });
    expect(tuning.model.path).toBe(join(modelDir('tiny-llama'), 'onnx', 'model_buffered.onnx'));
    expect(tuning.machine).toMatchObject({ cores, device: 'cpu', node: process.version, onnxruntime: '1.30.0' });
    expect(tuning.workload).toMatchObject({ batchSizes: [16, 1], maxNewTokens: 32, rounds: 3 });
    expect(lines.some((l) => l.startsWith(`1x${cores} round 3: batch 1 `))).toBe(true);

    for (const device of ['cpu', 'auto'] as const) {
      const resolved = resolveEngineOptions({ modelDir: modelDir('tiny-llama'), workers: 'auto', intraOpThreads: 'auto', device });
      expect(resolved).toMatchObject({ workers: 1, intraOpThreads: cores, layoutChoice: { source: 'tuned' } });
    }
    // Another dtype is another file, not tuned; explicit numbers are honoured.
    expect(resolveEngineOptions({ modelDir: modelDir('tiny-llama'), workers: 'auto', dtype: 'int8' }).layoutChoice.source).toBe('rule');
    expect(resolveEngineOptions({ modelDir: modelDir('tiny-llama'), workers: cores, intraOpThreads: 1 })).toMatchObject({ workers: cores, intraOpThreads: 1 });
  });

  it('is ignored with a warning once the model file changes', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'tune-'));
    vi.stubEnv('TEACHERLM_CACHE_DIR', cache);
    const dir = join(realpathSync(mkdtempSync(join(tmpdir(), 'tune-model-'))), 'tiny-llama');
    cpSync(modelDir('tiny-llama'), dir, { recursive: true });
    const { path } = await tune({ modelDir: dir, device: 'cpu', measure: threadsWin });
    appendFileSync(join(dir, 'onnx', 'model_buffered.onnx'), Buffer.from([0]));
    const { layoutChoice } = resolveEngineOptions({ modelDir: dir, workers: 'auto', device: 'cpu' });
    expect(layoutChoice.source).toBe('rule');
    expect(layoutChoice.warnings).toEqual([expect.stringContaining(`ignoring the layout tuning ${path}: stale: ${join(dir, 'onnx', 'model_buffered.onnx')} changed since it was measured`)]);
    expect(existsSync(path)).toBe(true);
  });

  it('names a missing model folder before measuring anything', async () => {
    const measure = vi.fn(threadsWin);
    await expect(tune({ modelDir: '/no/such/model', measure })).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('model folder not found') });
    expect(measure).not.toHaveBeenCalled();
  });
});
