/**
 * A model folder in the Hugging Face Optimum ONNX layout: config.json, tokenizer.json,
 * tokenizer_config.json, optional generation_config.json, and onnx/<file>.onnx.
 * Reading it loads no ONNX session (the `--dry-run` path needs only the configs).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { TeacherlmError } from '../errors.js';
import { choiceOption } from '../options.js';
import { INT8_S8_FILE, INT8_U8_FILE, u8s8Saturates } from './int8-kernels.js';
import { readCpu } from './tuning/cpu-flags.js';

/** Weight formats and the file Optimum / transformers.js name them by. */
export const MODEL_DTYPES = { fp32: 'model.onnx', fp16: 'model_fp16.onnx', int8: 'model_quantized.onnx' } as const;
export type ModelDtype = keyof typeof MODEL_DTYPES;

/**
 * The same weights in the engine's fast layout (shared KV cache buffer, see model-io.ts),
 * written by our importer beside the Optimum files; the engine loads them when present.
 * int8: integer GEMM (`teacherlm model import <name> --int8`, README "Teacher models").
 */
export const FAST_LAYOUT_FILES: Partial<Record<ModelDtype, string>> = { fp32: 'model_buffered.onnx', int8: INT8_S8_FILE };

/** What makes a missing dtype's file: the import flag that writes it. */
const IMPORT_HINT: Partial<Record<ModelDtype, string>> = {
  int8: 'int8 weights come from `teacherlm model import smollm2 --int8` (or an Optimum export\'s onnx/model_quantized.onnx); or choose dtype fp32',
};

export interface ModelFileOptions {
  /**
   * Which weights to load; default fp32 (`onnx/model_buffered.onnx` when present, else `onnx/model.onnx`);
   * int8: `onnx/model_buffered_int8.onnx` when present (`model_buffered_int8_u8.onnx` on a CPU without VNNI or AMX),
   * else `onnx/model_quantized.onnx`, else MODEL_INVALID naming the import flag.
   */
  dtype?: ModelDtype;
  /** An explicit file under `onnx/` (or an absolute path); overrides `dtype`. */
  onnxFile?: string;
}

export interface ModelFiles {
  /** Absolute path of the model folder. */
  dir: string;
  /** The folder's name, used as the model id in output records. */
  modelId: string;
  onnxPath: string;
  config: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
}

function readJson(path: string, required: boolean): Record<string, unknown> | undefined {
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw new TeacherlmError('MODEL_INVALID', `model folder lacks ${basename(path)} (${path})`, {
      hint: 'a model folder needs the Optimum ONNX layout; see README "Annotate files"',
    });
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new TeacherlmError('MODEL_INVALID', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The ONNX file a dtype / onnxFile choice points at, inside `dir`: the fast-layout file when the folder has one.
 * For int8 on a CPU whose u8s8 kernel saturates (`cpuFlags`, default this machine's; int8-kernels.ts), the
 * uint8-weight file; a folder with only the int8-weight one is refused, as its output would be clipped.
 */
export function onnxPathFor(dir: string, options: ModelFileOptions = {}, cpuFlags: readonly string[] = readCpu().flags): string {
  if (options.onnxFile) return resolve(dir, 'onnx', options.onnxFile);
  const dtype = choiceOption('dtype', options.dtype, Object.keys(MODEL_DTYPES) as ModelDtype[], 'fp32');
  if (dtype === 'int8' && u8s8Saturates(cpuFlags)) {
    if (existsSync(join(dir, 'onnx', INT8_U8_FILE))) return join(dir, 'onnx', INT8_U8_FILE);
    if (existsSync(join(dir, 'onnx', INT8_S8_FILE))) {
      throw new TeacherlmError('MODEL_INVALID', `dtype int8: ${dir} has onnx/${INT8_S8_FILE} but not onnx/${INT8_U8_FILE}, and this CPU has no VNNI or AMX, so ONNX Runtime's int8-weight GEMM would clip its sums`, {
        hint: `import the model again with --int8 (it writes ${INT8_U8_FILE}), or pass onnxFile ${INT8_S8_FILE} to run it anyway`,
      });
    }
  }
  const fast = FAST_LAYOUT_FILES[dtype];
  if (fast !== undefined && existsSync(join(dir, 'onnx', fast))) return join(dir, 'onnx', fast);
  const standard = join(dir, 'onnx', MODEL_DTYPES[dtype]);
  const hint = IMPORT_HINT[dtype];
  if (hint !== undefined && existsSync(dir) && !existsSync(standard)) {
    throw new TeacherlmError('MODEL_INVALID', `dtype ${dtype}: ${dir} has neither onnx/${fast} nor onnx/${MODEL_DTYPES[dtype]}`, { hint });
  }
  return standard;
}

/** Reads and checks a model folder's configuration files. Throws MODEL_INVALID with the missing piece. */
export function loadModelFiles(modelDir: string, options: ModelFileOptions = {}): ModelFiles {
  const dir = resolve(modelDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TeacherlmError('MODEL_INVALID', `model folder not found: ${modelDir}`, {
      hint: 'pass --model DIR; `teacherlm model import smollm2` makes the default model',
    });
  }
  const onnxPath = onnxPathFor(dir, options);
  if (!existsSync(onnxPath)) {
    throw new TeacherlmError('MODEL_INVALID', `model folder lacks ${onnxPath}`, {
      hint: 'choose the weights with dtype (fp32, fp16, int8) or onnxFile',
    });
  }
  return {
    dir,
    modelId: basename(dir),
    onnxPath,
    config: readJson(join(dir, 'config.json'), true)!,
    tokenizerJson: readJson(join(dir, 'tokenizer.json'), true)!,
    tokenizerConfig: readJson(join(dir, 'tokenizer_config.json'), true)!,
    generationConfig: readJson(join(dir, 'generation_config.json'), false) ?? {},
  };
}

/** Reads only what prompt building needs (no tokenizer.json, no ONNX file check). */
export function loadTokenizerConfig(modelDir: string): Record<string, unknown> {
  return readJson(join(resolve(modelDir), 'tokenizer_config.json'), true)!;
}

/** Reads what a tokenizer needs (config, tokenizer and generation files; no ONNX file), e.g. to count a served model's prompt tokens. */
export function loadTokenizerFiles(modelDir: string): Pick<ModelFiles, 'config' | 'generationConfig' | 'tokenizerConfig' | 'tokenizerJson'> {
  const dir = resolve(modelDir);
  return {
    config: readJson(join(dir, 'config.json'), true)!,
    tokenizerJson: readJson(join(dir, 'tokenizer.json'), true)!,
    tokenizerConfig: readJson(join(dir, 'tokenizer_config.json'), true)!,
    generationConfig: readJson(join(dir, 'generation_config.json'), false) ?? {},
  };
}
