/**
 * The engine: a pool of worker threads, each holding one ONNX Runtime session and one
 * running batch. Calls (groups of prompts) queue in order. With continuous batching (the
 * default, where the model's layout allows) a call goes to the worker with the fewest
 * rows that has room for it within `maxBatchSize` rows, and joins its running batch at
 * the next step; otherwise (static batching) a worker holds one call at a time. An
 * `isolated` call (a retry) runs on an idle worker and nothing joins it, so one poisoned
 * prompt fails only its own call. A prompt is encoded once: `countTokens` (on
 * the main thread, for token-budgeted batching) keeps its ids until the prompt is sent,
 * and the worker encodes only prompts that arrive without them. Workers send back each
 * row's text and token counts (the generated ids stay in the worker). A
 * worker that dies fails only the batch it held, with a retriable WORKER_CRASHED error,
 * and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { TeacherlmError } from '../errors.js';
import type { GenerateCallOptions, GenerationRequest, GenerationResult, TextGenerator } from './types.js';
import type { ModelTokenizer } from './tokenizer.js';
import { validateRequests } from './generation-options.js';
import { workerScript } from './worker-script.js';
import { deserializeError, type WorkerInit, type WorkerReply, type GenerateMessage, type WorkerMessage } from './worker-protocol.js';
import type { Batching } from './batching.js';

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
  /** Rows one worker's running batch holds at most (continuous batching; a larger call still runs, alone). */
  maxBatchSize: number;
  batching: Batching;
  init: WorkerInit;
  tokenizer: ModelTokenizer;
  log: (message: string) => void;
}

interface Job {
  id: number;
  requests: GenerationRequest[];
  isolated: boolean;
  enqueuedAt: number;
  startedAt?: number;
  resolve(results: GenerationResult[]): void;
  reject(err: TeacherlmError): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Whether the worker's model lets calls join a running batch. */
  continuous: boolean;
  jobs: Map<number, Job>;
  /** Prompts of the calls it holds. */
  rows: number;
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

  /**
   * Rows in flight at once over all workers when every worker batches continuously
   * (callers may then send prompts one at a time: they join running batches); otherwise
   * undefined.
   */
  get continuousRows(): number | undefined {
    if (this.options.batching !== 'continuous' || this.slots.size === 0) return undefined;
    for (const slot of this.slots) if (!slot.continuous) return undefined;
    return this.options.workers * this.options.maxBatchSize;
  }

  generate(requests: GenerationRequest[], call: GenerateCallOptions = {}): Promise<GenerationResult[]> {
    if (this.closed) return Promise.reject(new TeacherlmError('SHUT_DOWN', 'the engine is closed'));
    try {
      validateRequests(requests);
    } catch (err) {
      return Promise.reject(err);
    }
    if (requests.length === 0) return Promise.resolve([]);
    if (this.slots.size === 0 && this.fatal) return Promise.reject(this.fatal);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, requests, isolated: call.isolated === true, enqueuedAt: performance.now(), resolve, reject });
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
      for (const job of slot.jobs.values()) job.reject(shutDown);
      slot.jobs.clear();
    }
    await Promise.all(slots.map((s) => stopWorker(s.worker)));
  }

  private spawn(): Promise<void> {
    const script = workerScript('generation-worker');
    const worker = new Worker(script.url, { workerData: this.options.init, argv: script.argv });
    const slot: Slot = { worker, ready: false, continuous: false, jobs: new Map(), rows: 0, dead: false };
    this.slots.add(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerReply) => {
        if (message.type === 'ready') {
          slot.ready = true;
          slot.continuous = message.continuous;
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
        const jobs = [...slot.jobs.values()];
        slot.jobs.clear();
        for (const job of jobs) job.reject(new TeacherlmError('WORKER_CRASHED', `the engine worker running this batch died (${reason})`, { retriable: true }));
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
    // In order: a call that fits nowhere yet holds back the ones behind it.
    while (this.queue.length > 0) {
      const job = this.queue[0]!;
      const slot = this.slotFor(job);
      if (!slot) return;
      this.queue.shift();
      slot.jobs.set(job.id, job);
      slot.rows += job.requests.length;
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

  /** The worker that takes `job` now: an idle one, or (joining) the one with the fewest rows that has room. */
  private slotFor(job: Job): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.ready || slot.dead) continue;
      const idle = slot.jobs.size === 0;
      const joins =
        this.options.batching === 'continuous' &&
        slot.continuous &&
        !job.isolated &&
        ![...slot.jobs.values()].some((j) => j.isolated) &&
        slot.rows + job.requests.length <= this.options.maxBatchSize;
      if ((idle || joins) && (best === undefined || slot.rows < best.rows)) best = slot;
    }
    return best;
  }

  /** The ids `countTokens` kept for `prompt`, handed over once (a prompt counted twice in a batch is sent once with ids). */
  private takeCounted(prompt: string): Int32Array | null {
    const ids = this.counted.get(prompt);
    if (ids === undefined) return null;
    this.counted.delete(prompt);
    return ids;
  }

  private finishJob(slot: Slot, message: Exclude<WorkerReply, { type: 'ready' } | { type: 'init-error' }>): void {
    const job = slot.jobs.get(message.id);
    if (!job) return;
    slot.jobs.delete(message.id);
    slot.rows -= job.requests.length;
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
          acceptedDrafts: row.acceptedDrafts,
        })),
      );
    }
    this.dispatch();
  }
}
