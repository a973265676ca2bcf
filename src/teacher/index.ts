/**
 * The teacher engine's public API.
 *
 * @example
 * const engine = await createEngine({ modelDir: 'models/smollm2-135m-instruct', workers: 1 });
 * const model = loadModel('models/smollm2-135m-instruct');
 * const prompt = buildPrompt(sample, 'cot', 'chat', model.chatTemplate);
 * const [result] = await engine.generate([{ prompt, options: { maxNewTokens: 64, temperature: 0 } }]);
 * const cot = extractAnnotation('cot', result.text, 'chat');
 * await engine.close();
 */
import { loadModelFiles, type ModelFileOptions, type ModelFiles } from './model-files.js';
import { createChatTemplate, type ChatTemplate } from './chat-template.js';
import { ModelTokenizer } from './tokenizer.js';
import { resolveEngineOptions, type EngineOptions } from './engine-options.js';
import { WorkerPool } from './worker-pool.js';
import type { TextGenerator } from './types.js';

export * from './types.js';
export { buildPrompt, buildRawPrompt, extractAnnotation, cleanWhitespace, TRIGGERS } from './prompts.js';
export type { ChatTemplate } from './chat-template.js';
export { DEVICES, resolveEngineOptions, type Device, type EngineOptions } from './engine-options.js';
export { MODEL_DTYPES, type ModelDtype, type ModelFileOptions } from './model-files.js';
export { ModelTokenizer } from './tokenizer.js';
export { OpenAiTeacher, type OpenAiTeacherOptions } from './openai/openai-teacher.js';
export { OPENAI_DIALECTS, type OpenAiDialect, type OpenAiServerSpec } from './openai/openai-options.js';

/** A model folder's configuration, tokenizer and chat template, without an ONNX session. */
export interface LoadedModel {
  files: ModelFiles;
  modelId: string;
  tokenizer: ModelTokenizer;
  /** Undefined when tokenizer_config.json has no `chat_template` (use the raw prompt style). */
  chatTemplate: ChatTemplate | undefined;
}

/**
 * Reads a model folder (Optimum ONNX layout) for prompt building and token counting.
 * Loads no ONNX session. Throws MODEL_INVALID naming what is missing.
 */
export function loadModel(modelDir: string, options: ModelFileOptions = {}): LoadedModel {
  const files = loadModelFiles(modelDir, options);
  return { files, modelId: files.modelId, tokenizer: new ModelTokenizer(files), chatTemplate: createChatTemplate(files.tokenizerConfig) };
}

/**
 * Starts the engine: `workers` worker threads, each with its own ONNX Runtime session of
 * `intraOpThreads` threads, on `device`. Resolves once every session is loaded.
 * The returned generator runs one batch per worker at a time (`concurrency`); results of a
 * batch come back in request order; `close()` stops the workers.
 *
 * Errors: INVALID_OPTIONS (names the field), MODEL_INVALID, DEVICE_UNAVAILABLE;
 * `generate` rejects with WORKER_CRASHED (retriable) when a worker dies on that batch.
 */
export async function createEngine(options: EngineOptions): Promise<TextGenerator & { readonly provider: 'cpu' | 'cuda' | undefined }> {
  const resolved = resolveEngineOptions(options);
  const files = loadModelFiles(resolved.modelDir, { dtype: resolved.dtype, onnxFile: resolved.onnxFile });
  const pool = new WorkerPool({
    modelId: files.modelId,
    workers: resolved.workers,
    tokenizer: new ModelTokenizer(files),
    log: resolved.log,
    init: { modelDir: files.dir, onnxPath: files.onnxPath, intraOpThreads: resolved.intraOpThreads, device: resolved.device },
  });
  await pool.start();
  return pool;
}
