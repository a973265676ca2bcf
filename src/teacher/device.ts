/**
 * Creating an ONNX Runtime session on the requested device. ORT throws when the CUDA
 * provider's libraries are missing instead of falling back, so `auto` tries CUDA first
 * and falls back to the CPU itself, reporting why.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TeacherlmError } from '../errors.js';

/** Where the engine runs: `auto` tries CUDA and falls back to the CPU. */
export const DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

export interface SessionSettings {
  intraOpThreads: number;
  device: Device;
}

export interface OpenedSession {
  session: InferenceSession;
  /** The provider the session actually runs on. */
  provider: 'cpu' | 'cuda';
  /** Why `auto` ended up on the CPU, if it did. */
  fallbackReason?: string;
}

function sessionOptions(settings: SessionSettings, provider: 'cpu' | 'cuda'): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

type Ort = typeof import('onnxruntime-node');

/**
 * Why CUDA cannot be used, as far as can be told before trying (undefined: worth trying).
 * Checking for the provider library first spares ORT's native error print on every start.
 */
export function cudaUnavailableReason(ort: Ort): string | undefined {
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda) return 'this onnxruntime-node build has no CUDA execution provider';
  if (cuda.bundled) return undefined;
  const binDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const library = join(binDir, 'libonnxruntime_providers_cuda.so');
  if (process.platform === 'linux' && !existsSync(library)) {
    return `the CUDA provider library is not installed (${library} is missing; onnxruntime-node was installed without its CUDA binaries)`;
  }
  return undefined;
}

export async function openSession(onnxPath: string, settings: SessionSettings, ort?: Ort): Promise<OpenedSession> {
  const lib = ort ?? (await import('onnxruntime-node'));
  const create = (provider: 'cpu' | 'cuda') => lib.InferenceSession.create(onnxPath, sessionOptions(settings, provider));
  if (settings.device !== 'cpu') {
    let reason = cudaUnavailableReason(lib);
    if (reason === undefined) {
      try {
        return { session: await create('cuda'), provider: 'cuda' };
      } catch (err) {
        reason = `CUDA execution provider failed to start: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    if (settings.device === 'cuda') {
      throw new TeacherlmError('DEVICE_UNAVAILABLE', `device 'cuda' requested but unavailable: ${reason}`, {
        hint: "install the CUDA 12 runtime and cuDNN 9 and reinstall onnxruntime-node with its CUDA binaries, or use device 'cpu' or 'auto'",
      });
    }
    return { session: await openCpu(create, onnxPath), provider: 'cpu', fallbackReason: reason };
  }
  return { session: await openCpu(create, onnxPath), provider: 'cpu' };
}

async function openCpu(create: (p: 'cpu') => Promise<InferenceSession>, onnxPath: string): Promise<InferenceSession> {
  try {
    return await create('cpu');
  } catch (err) {
    throw new TeacherlmError('MODEL_INVALID', `ONNX Runtime cannot load ${onnxPath}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}
