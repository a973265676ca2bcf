/**
 * What a layout tuning is valid for. The file is found by its key: the ONNX file's path,
 * the core count, the CPU's matrix flags and the device. It is valid only while the model
 * file's content (size and a hash of its first and last MiB: a re-import or another dtype
 * changes it, a copy or a `touch` does not) and the onnxruntime version are those it was
 * measured with; otherwise it is stale.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../project-root.js';
import { readCpu } from './cpu-flags.js';

export type TunedDevice = 'cpu' | 'cuda';

export interface MachineIdentity {
  cores: number;
  /** The matrix flags (cpu-flags.ts). */
  cpuFlags: string[];
  device: TunedDevice;
}

export interface ModelIdentity {
  /** Absolute path of the ONNX file, links resolved (a models/ link and its target are one file). */
  path: string;
  bytes: number;
  /** `sha256:` of the size and the file's first and last MiB. */
  fingerprint: string;
}

const EDGE_BYTES = 1 << 20;

/** The identity of the ONNX file at `onnxPath`; undefined when it cannot be read (the engine then fails with its own message). */
export function modelIdentity(onnxPath: string): ModelIdentity | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(onnxPath, 'r');
    const bytes = fstatSync(fd).size;
    const hash = createHash('sha256').update(String(bytes));
    const head = Buffer.alloc(Math.min(EDGE_BYTES, bytes));
    readSync(fd, head, 0, head.length, 0);
    hash.update(head);
    const tail = Buffer.alloc(Math.min(EDGE_BYTES, Math.max(0, bytes - head.length)));
    readSync(fd, tail, 0, tail.length, bytes - tail.length);
    hash.update(tail);
    return { path: realpathSync(onnxPath), bytes, fingerprint: `sha256:${hash.digest('hex')}` };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function machineIdentity(device: TunedDevice, cpuFlags: string[] = readCpu().flags, cores: number = availableParallelism()): MachineIdentity {
  return { cores, cpuFlags: [...cpuFlags], device };
}

/** 16 hex digits naming the tuning file of one model path on one machine and device. */
export function tuningKey(modelPath: string, machine: MachineIdentity): string {
  const text = JSON.stringify([resolve(modelPath), machine.cores, [...machine.cpuFlags].sort(), machine.device]);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** `.cache/tune/` of the project, or TEACHERLM_CACHE_DIR/tune when set (as the broker's and registry's caches). */
export function tuningDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.TEACHERLM_CACHE_DIR ? resolve(env.TEACHERLM_CACHE_DIR) : join(PROJECT_ROOT, '.cache');
  return join(base, 'tune');
}

export function tuningPath(key: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(tuningDir(env), `${key}.json`);
}

/** The installed onnxruntime-node's version, read from its package.json (loading the binding is not needed). */
export function onnxruntimeVersion(): string {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
