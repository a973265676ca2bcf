/**
 * `teacherlm tune`: measures the candidate layouts of one model file on this machine and
 * records the winner with its figures in `.cache/tune/<key>.json`, where `auto` finds it
 * (layout-choice.ts). Errors: INVALID_OPTIONS, MODEL_INVALID, DEVICE_UNAVAILABLE, and the
 * engine's own.
 */
import { cpus } from 'node:os';
import { TeacherlmError } from '../../errors.js';
import { machineFacts, type Layout } from '../engine-layout.js';
import { resolveEngineOptions } from '../engine-options.js';
import { loadModelFiles, type ModelDtype } from '../model-files.js';
import { cudaUnavailableReason, type Device } from '../device.js';
import { readCpu } from './cpu-flags.js';
import { engineMeasurer } from './engine-measure.js';
import { writeTuning, TUNING_FORMAT, type Tuning } from './tuning-file.js';
import { machineIdentity, modelIdentity, onnxruntimeVersion, tuningKey, tuningPath } from './tuning-identity.js';
import { candidateLayouts, tuneLayouts, type MeasureLayout } from './tune-layouts.js';
import { DEFAULT_TUNE_WORKLOAD, promptCountAt, type TuneWorkload } from './tune-workload.js';

export interface TuneOptions {
  modelDir: string;
  dtype?: ModelDtype;
  onnxFile?: string;
  device?: Device;
  /** Default: every split of the cores (tune-layouts.ts `candidateLayouts`). */
  layouts?: Layout[];
  workload?: TuneWorkload;
  log?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Default: the real engine (engine-measure.ts). */
  measure?: MeasureLayout;
}

export async function tune(options: TuneOptions): Promise<{ tuning: Tuning; path: string }> {
  const started = performance.now();
  const resolved = resolveEngineOptions({ modelDir: options.modelDir, dtype: options.dtype, onnxFile: options.onnxFile, device: options.device, workers: 1 });
  const files = loadModelFiles(resolved.modelDir, { dtype: resolved.dtype, onnxFile: resolved.onnxFile });
  const model = modelIdentity(files.onnxPath);
  if (!model) throw new TeacherlmError('MODEL_INVALID', `cannot read ${files.onnxPath}`);
  const workload = options.workload ?? DEFAULT_TUNE_WORKLOAD;
  // Whether `auto` will run on CUDA decides the candidates; asking needs the binding, so only when CUDA may be used.
  const cuda = options.layouts === undefined && resolved.device !== 'cpu' && cudaUnavailableReason(await import('onnxruntime-node')) === undefined;
  const candidates = options.layouts ?? candidateLayouts(machineFacts(files.onnxPath, cuda));
  const widest = Math.max(...candidates.map((l) => l.workers));
  const log = options.log ?? (() => {});
  // Each layout starts an engine, which would repeat the same device message every time.
  const said = new Set<string>();
  const engineLog = (message: string) => {
    if (said.has(message)) return;
    said.add(message);
    log(message);
  };
  const measure =
    options.measure ??
    engineMeasurer({ modelDir: resolved.modelDir, dtype: resolved.dtype, onnxFile: resolved.onnxFile, device: resolved.device, log: engineLog }, workload, widest);
  const result = await tuneLayouts(candidates, measure, workload.rounds, log);
  const machine = machineIdentity(result.provider);
  const key = tuningKey(model.path, machine);
  const tuning: Tuning = {
    format: TUNING_FORMAT,
    tunedAt: new Date().toISOString(),
    key,
    machine: { ...machine, cpu: readCpu().model ?? cpus()[0]?.model, node: process.version, onnxruntime: onnxruntimeVersion() },
    model,
    workload: {
      batchSizes: workload.batchSizes,
      prompts: Object.fromEntries(workload.batchSizes.map((b) => [String(b), promptCountAt(b, widest)])),
      maxNewTokens: workload.maxNewTokens,
      rounds: workload.rounds,
    },
    layouts: result.layouts,
    winner: result.winner,
    ratios: result.ratios,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  const path = tuningPath(key, options.env);
  writeTuning(path, tuning);
  return { tuning, path };
}
