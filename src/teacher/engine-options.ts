/**
 * Engine options, validated at the public boundary with messages naming the bad field;
 * the engine core trusts what comes out of {@link resolveEngineOptions}.
 */
import { availableParallelism } from 'node:os';
import { TeacherlmError } from '../errors.js';
import { MODEL_DTYPES, type ModelDtype } from './model-files.js';
import { rejectOption } from './generation-options.js';

export const DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

export interface EngineOptions {
  /** Model folder in the Optimum ONNX layout. */
  modelDir: string;
  /** Weights to load: fp32 `onnx/model.onnx` (default), fp16, int8 `onnx/model_quantized.onnx`. */
  dtype?: ModelDtype;
  /** Explicit file under `<modelDir>/onnx/`; overrides `dtype`. */
  onnxFile?: string;
  /** Worker threads, each with its own ONNX Runtime session. Default 1. */
  workers?: number;
  /** Intra-op threads per session. Default: available cores / workers, at least 1. */
  intraOpThreads?: number;
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
  device: Device;
  log: (message: string) => void;
}

function positiveInt(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) rejectOption(field, `an integer from 1 to ${max}`, value);
  return value;
}

/** Checks every field and fills defaults. Throws INVALID_OPTIONS naming the field. */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  if (options === null || typeof options !== 'object') throw new TeacherlmError('INVALID_OPTIONS', 'engine options: expected an object');
  if (typeof options.modelDir !== 'string' || options.modelDir === '') {
    throw new TeacherlmError('INVALID_OPTIONS', 'modelDir: expected the path of a model folder');
  }
  const dtype = options.dtype ?? 'fp32';
  if (!Object.hasOwn(MODEL_DTYPES, dtype)) rejectOption('dtype', `one of ${Object.keys(MODEL_DTYPES).join(', ')}`, dtype);
  if (options.onnxFile !== undefined && (typeof options.onnxFile !== 'string' || options.onnxFile === '')) {
    throw new TeacherlmError('INVALID_OPTIONS', 'onnxFile: expected a file name under <modelDir>/onnx/');
  }
  const device = options.device ?? 'auto';
  if (!(DEVICES as readonly string[]).includes(device)) rejectOption('device', `one of ${DEVICES.join(', ')}`, device);
  if (options.log !== undefined && typeof options.log !== 'function') throw new TeacherlmError('INVALID_OPTIONS', 'log: expected a function');
  const workers = positiveInt('workers', options.workers, 1, 64);
  const cores = availableParallelism();
  const intraOpThreads = positiveInt('intraOpThreads', options.intraOpThreads, Math.max(1, Math.floor(cores / workers)), 256);
  return {
    modelDir: options.modelDir,
    dtype,
    onnxFile: options.onnxFile,
    workers,
    intraOpThreads,
    device,
    log: options.log ?? (() => {}),
  };
}
