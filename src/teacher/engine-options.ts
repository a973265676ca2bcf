/**
 * Engine options, validated at the public boundary with messages naming the bad field;
 * the engine core trusts what comes out of {@link resolveEngineOptions}.
 */
import { MODEL_DTYPES, onnxPathFor, type ModelDtype } from './model-files.js';
import { choiceOption, intOption, rejectOption } from '../options.js';
import { AUTO, machineFacts, type Auto } from './engine-layout.js';
import { chooseLayout, type LayoutChoice } from './tuning/layout-choice.js';
import { lookupTunings } from './tuning/tuning-lookup.js';
import { resolveMaxBatchSize } from './batch-size.js';
import { BATCHING_MODES, type Batching } from './batching.js';
import { DEFAULT_PROMPT_LOOKUP, MAX_DRAFT_TOKENS, type PromptLookup } from './prompt-lookup.js';
import { DEVICES, type Device } from './device.js';

export interface EngineOptions {
  /** Model folder in the Optimum ONNX layout. */
  modelDir: string;
  /** Weights to load: fp32 (default), fp16, int8; the files each picks: model-files.ts `onnxPathFor`. */
  dtype?: ModelDtype;
  /** Explicit file under `<modelDir>/onnx/`; overrides `dtype`. */
  onnxFile?: string;
  /**
   * Worker threads, each with its own ONNX Runtime session. Default 1; `auto` (with
   * `intraOpThreads` auto or absent): the layout `teacherlm tune` measured for this model
   * file on this machine, else one single-threaded session per core, as memory allows
   * (tuning/layout-choice.ts).
   */
  workers?: number | Auto;
  /** Intra-op threads per session. Default (and `auto`): the tuned layout's beside workers `auto`, else available cores / workers, at least 1. */
  intraOpThreads?: number | Auto;
  /**
   * `continuous` (default): prompts join a worker's running batch at step boundaries and
   * leave it when they finish (models in the buffered layout; others batch statically);
   * `static`: a worker runs one call's batch to its end before the next.
   */
  batching?: Batching;
  /** Prompts one worker's running batch holds (continuous batching). Default `auto` (batch-size.ts: 64, 32 batching statically). */
  maxBatchSize?: number | Auto;
  /**
   * Speculative decoding by prompt lookup (prompt-lookup.ts): tokens drafted per greedy row
   * and step from the row's own prompt and output, checked by the model in one call; the
   * output is the same. 0 turns it off. Models in the buffered layout whose graph takes
   * `logits_to_keep` only (our importer's); others decode as without. Default 4.
   */
  promptLookupTokens?: number;
  /** Speculate only while a worker's running batch holds at most this many rows (above, steps are compute-bound). Default 2. */
  promptLookupMaxRows?: number;
  /** `auto` tries CUDA and falls back to CPU (logging why); `cuda` fails when unavailable. Default auto. */
  device?: Device;
  /** Receives operational messages (device fallback, worker replacement). Default: none. */
  log?: (message: string) => void;
}

export interface ResolvedEngineOptions {
  modelDir: string;
  dtype: ModelDtype;
  onnxFile: string | undefined;
  workers: number;
  intraOpThreads: number;
  /** How workers x intraOpThreads was chosen, for the log. */
  layoutChoice: LayoutChoice;
  batching: Batching;
  maxBatchSize: number;
  promptLookup: PromptLookup;
  device: Device;
  log: (message: string) => void;
}

/** Checks every field and fills defaults. Throws INVALID_OPTIONS naming the field. */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  if (options === null || typeof options !== 'object') rejectOption('engine options', 'an object', options);
  if (typeof options.modelDir !== 'string' || options.modelDir === '') rejectOption('modelDir', 'the path of a model folder', options.modelDir);
  const dtype = choiceOption('dtype', options.dtype, Object.keys(MODEL_DTYPES) as ModelDtype[], 'fp32');
  if (options.onnxFile !== undefined && (typeof options.onnxFile !== 'string' || options.onnxFile === '')) {
    rejectOption('onnxFile', 'a file name under <modelDir>/onnx/', options.onnxFile);
  }
  const device = choiceOption('device', options.device, DEVICES, 'auto');
  const batching = choiceOption('batching', options.batching, BATCHING_MODES, 'continuous');
  const maxBatchSize = resolveMaxBatchSize('maxBatchSize', options.maxBatchSize, AUTO, batching);
  if (options.log !== undefined && typeof options.log !== 'function') rejectOption('log', 'a function', options.log);
  const promptLookup: PromptLookup = {
    tokens: intOption('promptLookupTokens', options.promptLookupTokens, DEFAULT_PROMPT_LOOKUP.tokens, { min: 0, max: MAX_DRAFT_TOKENS }),
    maxRows: intOption('promptLookupMaxRows', options.promptLookupMaxRows, DEFAULT_PROMPT_LOOKUP.maxRows, { min: 1, max: 1024 }),
  };
  const workers = options.workers === AUTO ? AUTO : intOption('workers', options.workers, 1, { max: 64 });
  const threads = options.intraOpThreads === AUTO ? AUTO : options.intraOpThreads === undefined ? undefined : intOption('intraOpThreads', options.intraOpThreads, 1, { max: 256 });
  const onnxPath = onnxPathFor(options.modelDir, { dtype, onnxFile: options.onnxFile });
  const layoutChoice = chooseLayout(workers, threads, machineFacts(onnxPath, device === 'cuda'), () => lookupTunings(onnxPath, device));
  const { layout } = layoutChoice;
  return {
    modelDir: options.modelDir,
    dtype,
    onnxFile: options.onnxFile,
    workers: layout.workers,
    intraOpThreads: layout.intraOpThreads,
    layoutChoice,
    batching,
    maxBatchSize,
    promptLookup,
    device,
    log: options.log ?? (() => {}),
  };
}
