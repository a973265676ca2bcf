/**
 * `workers` / `intraOpThreads: 'auto'`: how many sessions, of how many intra-op threads
 * each, the engine runs on this machine. The rule comes from bench:engine on the machines
 * we measure (2 cores, AVX-512): one single-threaded session per core beats fewer sessions
 * with more threads at every batch size (2x1 against 1x2 in fp32 at batch 16: 1.71x at a
 * load of 5 to 9, 1.21x on a quiet machine), and
 * ONNX Runtime's integer GEMM is faster on one thread than on two at decode shapes, so
 * sessions scale with cores until their weights would fill half the memory. On CUDA one
 * session owns the device. This rule is what `auto` falls back to when `teacherlm tune` has
 * not measured the machine (tuning/layout-choice.ts); `npm run bench:engine` prints its pick
 * next to the best layout it measured.
 */
import { availableParallelism, totalmem } from 'node:os';
import { statSync } from 'node:fs';

export const AUTO = 'auto';
export type Auto = typeof AUTO;

export interface Layout {
  workers: number;
  intraOpThreads: number;
}

/** The most sessions auto starts: beyond this, batches rarely fill them all. */
const MAX_AUTO_WORKERS = 8;

export interface MachineFacts {
  cores: number;
  memoryBytes: number;
  /** Bytes one session holds: about its ONNX file's size. */
  sessionBytes: number;
  cuda: boolean;
}

export function machineFacts(onnxPath: string, cuda: boolean): MachineFacts {
  let sessionBytes = 0;
  try {
    sessionBytes = statSync(onnxPath).size;
  } catch {
    // A missing file fails later, with the model folder's own message.
  }
  return { cores: availableParallelism(), memoryBytes: totalmem(), sessionBytes, cuda };
}

/** The most CPU sessions auto runs: at most 8, and as many as half the memory holds. */
export function maxAutoWorkers(facts: Pick<MachineFacts, 'memoryBytes' | 'sessionBytes'>): number {
  const byMemory = facts.sessionBytes > 0 ? Math.floor((0.5 * facts.memoryBytes) / facts.sessionBytes) : MAX_AUTO_WORKERS;
  return Math.max(1, Math.min(MAX_AUTO_WORKERS, byMemory));
}

/** Fills `auto` (or absent threads) by the rule above; explicit numbers stay. */
export function resolveLayout(workers: number | Auto, threads: number | Auto | undefined, facts: MachineFacts): Layout {
  let w: number;
  if (workers !== AUTO) w = workers;
  else if (facts.cuda) w = 1;
  else w = Math.min(facts.cores, maxAutoWorkers(facts));
  const t = threads === undefined || threads === AUTO ? Math.max(1, Math.floor(facts.cores / w)) : threads;
  return { workers: w, intraOpThreads: t };
}
