/**
 * The engine: a pool of worker threads, each holding one ONNX Runtime session and one
 * batch at a time. Batches queue in order. A prompt is encoded once: `countTokens` (on
 * the main thread, for token-budgeted batching) keeps its ids until the prompt is sent,
 * and the worker encodes only prompts that arrive without them. Workers send back each
 * row's text and token counts (the generated ids stay in the worker). A
 * worker that dies fails only the batch it held, with a retriable WORKER_CRASHED error,
 * and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { TeacherlmError } from '../errors.js';
import type { GenerationRequest, GenerationResult, TextGenerator } from './types.js';
import type { ModelTokenizer } from './tokenizer.js';
import { validateRequests } from './generation-options.js';
import { workerScript } from './worker-script.js';
import { deserializeError, type WorkerInit, type WorkerReply, type GenerateMessage, type WorkerMessage } from './worker-protocol.js';

/** Prompts counted and not yet sent whose ids are kept; beyond it the oldest are dropped (the worker then encodes them). */
export const MAX_COUNTED_PROMPTS = 4096;

/** How long a worker may take to finish its current step before it is terminated anyway. */
export const WORKER_STOP_TIMEOUT_MS = 60_000;

/**
 * Asks a worker to stop after its current step and waits for it to end. `terminate()`
 * inside a native ORT call can abort the whole process, so it is only the last resort.
 */
async function stopWorker(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage({ type: 'shutdown' } satisfies WorkerMessage);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), WORKER_STOP_TIMEOUT_MS);
    timer.unref();
  });
  if ((await Promise.race([exited, timeout])) === 'timeout') await worker.terminate();
  clearTimeout(timer);
}

export interface WorkerPoolOptions {
  modelId: string;
  workers: number;
  init: WorkerInit;
  tokenizer: ModelTokenizer;
  log: (message: string) => void;
}

interface Job {
  id: number;
  requests: GenerationRequest[];
  enqueuedAt: number;
  startedAt?: number;
  resolve(results: GenerationResult[]): void;
  reject(err: TeacherlmError): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  /** Set once the slot's worker is gone (crashed or terminated). */
  dead: boolean;
}

export class WorkerPool implements TextGenerator {
  readonly modelId: string;
  readonly concurrency: number;
  /** The device the sessions run on, known after {@link start}. */
  provider: 'cpu' | 'cuda' | undefined;

  get device(): string | undefined {
    return this.provider;
  }
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  /** Ids of counted prompts, oldest first, until a batch sends them. */
  private readonly counted = new Map<string, Int32Array>();
  private closed = false;
  private fatal: TeacherlmError | undefined;

  constructor(private readonly options: WorkerPoolOptions) {
    this.modelId = options.modelId;
    this.concurrency = options.workers;
  }

  /** Starts every worker and resolves when all sessions are loaded (or rejects with why not). */
  async start(): Promise<void> {
    const starts = Array.from({ length: this.options.workers }, () => this.spawn());
    try {
      await Promise.all(starts);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  countTokens(prompt: string): number {
    const ids = Int32Array.from(this.options.tokenizer.encode(prompt));
    this.counted.delete(prompt);
    this.counted.set(prompt, ids);
    if (this.counted.size > MAX_COUNTED_PROMPTS) this.counted.delete(this.counted.keys().next().value as string);
    return ids.length;
  }

  generate(requests: GenerationRequest[]): Promise<GenerationResult[]> {
    if (this.closed) return Promise.reject(new TeacherlmError('SHUT_DOWN', 'the engine is closed'));
    try {
      validateRequests(requests);
    } catch (err) {
      return Promise.reject(err);
    }
    if (requests.length === 0) return Promise.resolve([]);
    if (this.slots.size === 0 && this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, requests, enqueuedAt: performance.now(), resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const shutDown = new TeacherlmError('SHUT_DOWN', 'the engine was closed with work pending');
    for (const job of this.queue.splice(0)) job.reject(shutDown);
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) {
      slot.dead = true;
      slot.job?.reject(shutDown);
      slot.job = undefined;
    }
    await Promise.all(slots.map((s) => stopWorker(s.worker)));
  }

  private spawn(): Promise<void> {
    const script = workerScript('generation-worker');
    const worker = new Worker(script.url, { workerData: this.options.init, argv: script.argv });
    const slot: Slot = { worker, ready: false, dead: false };
    this.slots.add(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerReply) => {
        if (message.type === 'ready') {
          slot.ready = true;
          if (this.provider === undefined) {
            this.provider = message.provider;
            if (message.fallbackReason) this.options.log(`device auto: running on the CPU (${message.fallbackReason})`);
          }
          resolve();
          this.dispatch();
        } else if (message.type === 'init-error') {
          this.retire(slot);
          reject(deserializeError(message.error));
        } else {
          this.finishJob(slot, message);
        }
      });
      const crashed = (reason: string): void => {
        if (slot.dead) return;
        this.retire(slot);
        if (!slot.ready) {
          reject(new TeacherlmError('WORKER_CRASHED', `an engine worker failed to start: ${reason}`));
          return;
        }
        const job = slot.job;
        slot.job = undefined;
        job?.reject(new TeacherlmError('WORKER_CRASHED', `the engine worker running this batch died (${reason})`, { retriable: true }));
        if (this.closed) return;
        this.options.log(`engine worker died (${reason}); starting a replacement`);
        this.spawn().catch((err: unknown) => {
          this.fatal = err instanceof TeacherlmError ? err : new TeacherlmError('WORKER_CRASHED', String(err));
          this.options.log(`replacement worker failed to start: ${this.fatal.message}`);
          this.failIfNoWorkers();
        });
      };
      worker.on('error', (err) => crashed(err.message));
      worker.on('exit', (code) => crashed(`exit code ${code}`));
    });
  }

  private retire(slot: Slot): void {
    slot.dead = true;
    this.slots.delete(slot);
  }

  /** With no worker left and none coming, queued work would wait forever: fail it. */
  private failIfNoWorkers(): void {
    if (this.slots.size > 0 || !this.fatal) return;
    for (const job of this.queue.splice(0)) job.reject(this.fatal);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.dead || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      job.startedAt = performance.now();
      const ids = job.requests.map((r) => this.takeCounted(r.prompt));
      const message: GenerateMessage = {
        type: 'generate',
        id: job.id,
        prompts: job.requests.map((r) => r.prompt),
        ids,
        options: job.requests.map((r) => r.options),
      };
      slot.worker.postMessage(message, ids.filter((row) => row !== null).map((row) => row.buffer as ArrayBuffer));
    }
  }

  /** The ids `countTokens` kept for `prompt`, handed over once (a prompt counted twice in a batch is sent once with ids). */
  private takeCounted(prompt: string): Int32Array | null {
    const ids = this.counted.get(prompt);
    if (ids === undefined) return null;
    this.counted.delete(prompt);
    return ids;
  }

  private finishJob(slot: Slot, message: Exclude<WorkerReply, { type: 'ready' } | { type: 'init-error' }>): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    slot.job = undefined;
    if (message.type === 'error') {
      job.reject(deserializeError(message.error));
    } else {
      const queuedMs = job.startedAt! - job.enqueuedAt;
      job.resolve(
        message.rows.map((row) => ({
          text: row.text,
          promptTokens: row.promptTokens,
          generatedTokens: row.generatedTokens,
          finishReason: row.finishReason,
          timings: { queuedMs, prefillMs: row.prefillMs, decodeMs: row.decodeMs, totalMs: queuedMs + row.prefillMs + row.decodeMs },
        })),
      );
    }
    this.dispatch();
  }
}
