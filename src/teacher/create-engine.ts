/**
 * Starts the teacher engine: `workers` worker threads, each with its own ONNX Runtime
 * session of `intraOpThreads` threads, on `device`. Resolves once every session is loaded.
 * The returned generator runs one batch per worker at a time (`concurrency`), which calls
 * join between steps (continuous batching, `continuousRows`); results of a call come back
 * in request order; `close()` stops the workers.
 *
 * Errors: INVALID_OPTIONS (names the field), MODEL_INVALID, DEVICE_UNAVAILABLE;
 * `generate` rejects with WORKER_CRASHED (retriable) when a worker dies on that batch.
 *
 * @example
 * const engine = await createEngine({ modelDir: 'models/smollm2-135m-instruct', workers: 1 });
 * const prompt = buildPrompt(sample, 'cot', 'chat', createChatTemplate(loadTokenizerConfig(modelDir)));
 * const [result] = await engine.generate([{ prompt, options: { maxNewTokens: 64, temperature: 0 } }]);
 * const cot = extractAnnotation('cot', result.text, 'chat');
 * await engine.close();
 */
import { loadModelFiles } from './model-files.js';
import { ModelTokenizer } from './tokenizer.js';
import { resolveEngineOptions, type EngineOptions } from './engine-options.js';
import { WorkerPool } from './worker-pool.js';
import { describeLayout } from './tuning/layout-choice.js';
import type { TextGenerator } from './types.js';

export async function createEngine(options: EngineOptions): Promise<TextGenerator & { readonly provider: 'cpu' | 'cuda' | undefined }> {
  const resolved = resolveEngineOptions(options);
  const { layoutChoice } = resolved;
  for (const warning of layoutChoice.warnings) resolved.log(warning);
  if (layoutChoice.source !== 'explicit') resolved.log(`engine layout ${describeLayout(layoutChoice.layout)}: ${layoutChoice.reason}`);
  const files = loadModelFiles(resolved.modelDir, { dtype: resolved.dtype, onnxFile: resolved.onnxFile });
  const pool = new WorkerPool({
    modelId: files.modelId,
    workers: resolved.workers,
    maxBatchSize: resolved.maxBatchSize,
    batching: resolved.batching,
    tokenizer: new ModelTokenizer(files),
    log: resolved.log,
    init: { modelDir: files.dir, onnxPath: files.onnxPath, intraOpThreads: resolved.intraOpThreads, device: resolved.device, promptLookup: resolved.promptLookup },
  });
  await pool.start();
  return pool;
}
