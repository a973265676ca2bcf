/**
 * The tuning file, `.cache/tune/<key>.json`: the layout `teacherlm tune` measured best,
 * with its figures and what it is valid for (tuning-identity.ts). Reading never throws:
 * a malformed or stale file is reported as ignored, with the reason, and the engine falls
 * back to the rule.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TeacherlmError } from '../../errors.js';
import type { Layout } from '../engine-layout.js';
import type { MachineIdentity, ModelIdentity } from './tuning-identity.js';

export const TUNING_FORMAT = 1;

export interface LayoutFigures {
  /** Generated tokens/s (prefill included) by batch size. */
  tokensPerSec: Record<string, number>;
  /** Geometric mean of tokensPerSec over the batch sizes (the winner is chosen round by round: tune-layouts.ts). */
  score: number;
}

export interface Tuning {
  format: typeof TUNING_FORMAT;
  /** ISO time of the measurement. */
  tunedAt: string;
  key: string;
  machine: MachineIdentity & { cpu: string | undefined; node: string; onnxruntime: string };
  model: ModelIdentity;
  workload: { batchSizes: number[]; prompts: Record<string, number>; maxNewTokens: number; rounds: number };
  /** By layout name (`2x1`: 2 workers x 1 intra-op thread). */
  layouts: Record<string, LayoutFigures>;
  winner: Layout & { name: string };
  /** The winner's score over each other layout's, the median of the rounds' own ratios. */
  ratios: Record<string, number>;
  /** Wall time of the whole tuning. */
  seconds: number;
}

/** What the engine expects of a tuning to use it. */
export interface TuningExpectation {
  model: ModelIdentity;
  machine: MachineIdentity;
  onnxruntime: string;
}

export type TuningLookup =
  | { status: 'tuned'; path: string; tuning: Tuning }
  | { status: 'none'; path: string }
  | { status: 'ignored'; path: string; reason: string };

/** Writes through a temporary file and a rename, so a reader never sees half a file. Throws IO_FAILED naming the file. */
export function writeTuning(path: string, tuning: Tuning): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(tuning, null, 2) + '\n');
    renameSync(tmp, path);
  } catch (err) {
    throw new TeacherlmError('IO_FAILED', `cannot write the layout tuning ${path}: ${(err as Error).message}`, {
      cause: err,
      hint: 'TEACHERLM_CACHE_DIR names another cache folder',
    });
  }
}

export function readTuning(path: string, expected: TuningExpectation): TuningLookup {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'none', path };
    return { status: 'ignored', path, reason: `unreadable (${(err as Error).message})` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { status: 'ignored', path, reason: `malformed: not JSON (${(err as Error).message})` };
  }
  const shapeError = tuningShapeError(value);
  if (shapeError) return { status: 'ignored', path, reason: `malformed: ${shapeError}` };
  const tuning = value as Tuning;
  const stale = staleness(tuning, expected);
  if (stale) return { status: 'ignored', path, reason: `stale: ${stale}` };
  return { status: 'tuned', path, tuning };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max;

/** The first field that is not what a tuning file holds, in words; undefined when the shape is right. */
export function tuningShapeError(value: unknown): string | undefined {
  if (!isObject(value)) return 'expected a JSON object';
  if (value.format !== TUNING_FORMAT) return `format: expected ${TUNING_FORMAT}, got ${JSON.stringify(value.format)}`;
  if (typeof value.tunedAt !== 'string' || Number.isNaN(Date.parse(value.tunedAt))) return 'tunedAt: expected an ISO date';
  const { machine, model, winner, layouts, ratios } = value;
  if (!isObject(machine) || !isCount(machine.cores, 1 << 16) || !Array.isArray(machine.cpuFlags) || !machine.cpuFlags.every((f) => typeof f === 'string')) {
    return 'machine: expected cores and cpuFlags';
  }
  if (machine.device !== 'cpu' && machine.device !== 'cuda') return 'machine.device: expected cpu or cuda';
  if (typeof machine.onnxruntime !== 'string') return 'machine.onnxruntime: expected a version';
  if (!isObject(model) || typeof model.path !== 'string' || typeof model.bytes !== 'number' || typeof model.fingerprint !== 'string') {
    return 'model: expected path, bytes and fingerprint';
  }
  if (!isObject(winner) || !isCount(winner.workers, 64) || !isCount(winner.intraOpThreads, 256) || typeof winner.name !== 'string') {
    return 'winner: expected workers (1 to 64), intraOpThreads (1 to 256) and name';
  }
  if (!isObject(layouts) || !isObject(layouts[winner.name])) return `layouts: expected the winner's figures (${winner.name})`;
  if (!isObject(ratios) || !Object.values(ratios).every((r) => typeof r === 'number' && Number.isFinite(r))) return 'ratios: expected numbers';
  return undefined;
}

function staleness(tuning: Tuning, expected: TuningExpectation): string | undefined {
  const { model, machine } = tuning;
  if (model.path !== expected.model.path) return `measured on ${model.path}, not ${expected.model.path}`;
  if (model.bytes !== expected.model.bytes || model.fingerprint !== expected.model.fingerprint) return `${model.path} changed since it was measured`;
  if (machine.cores !== expected.machine.cores) return `measured on ${machine.cores} cores, this machine has ${expected.machine.cores}`;
  if ([...machine.cpuFlags].sort().join(' ') !== [...expected.machine.cpuFlags].sort().join(' ')) {
    return `measured on a CPU with ${machine.cpuFlags.join(' ') || 'none'} of the matrix flags, this one has ${expected.machine.cpuFlags.join(' ') || 'none'}`;
  }
  if (machine.device !== expected.machine.device) return `measured on ${machine.device}, not ${expected.machine.device}`;
  if (machine.onnxruntime !== expected.onnxruntime) return `measured with onnxruntime-node ${machine.onnxruntime}, now ${expected.onnxruntime}`;
  return undefined;
}
