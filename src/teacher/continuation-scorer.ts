/**
 * `createContinuationScorer`: the log-likelihood of given continuations under a teacher
 * model (continuation-score.ts), in a worker thread of its own with its own session, so
 * the generation engine is untouched and pays nothing when nothing scores. Requests are
 * answered in order, one batch at a time.
 *
 * @example
 * const scorer = await createContinuationScorer({ modelDir: 'models/smollm2-135m-instruct' });
 * const [a, b] = await scorer.score([{ context: 'Q: ... The answer is (', continuation: 'A' }, { context: '...', continuation: 'B' }]);
 * await scorer.close();
 */
import { Worker } from 'node:worker_threads';
import { TeacherlmError } from '../errors.js';
import type { ContinuationRequest } from './continuation-score.js';
import type { ScoreMessage, ScoreReply } from './continuation-score-worker.js';
import type { Device } from './device.js';
import { loadModelFiles, type ModelDtype } from './model-files.js';
import { deserializeError } from './worker-protocol.js';
import { workerScript } from './worker-script.js';

export type { ContinuationRequest } from './continuation-score.js';

export interface ContinuationScorer {
  /** Per request, the summed log-probability of its continuation's tokens after its context. */
  score(requests: readonly ContinuationRequest[]): Promise<number[]>;
  close(): Promise<void>;
}

export interface ContinuationScorerOptions {
  modelDir: string;
  dtype?: ModelDtype;
  onnxFile?: string;
  device?: Device;
  intraOpThreads?: number;
}

export async function createContinuationScorer(options: ContinuationScorerOptions): Promise<ContinuationScorer> {
  const files = loadModelFiles(options.modelDir, { dtype: options.dtype, onnxFile: options.onnxFile });
  const script = workerScript('continuation-score-worker', import.meta.url);
  const worker = new Worker(script.url, {
    argv: script.argv,
    workerData: { modelDir: files.dir, onnxPath: files.onnxPath, intraOpThreads: options.intraOpThreads ?? 1, device: options.device ?? 'cpu' },
  });
  const waiting = new Map<number, { resolve(scores: number[]): void; reject(err: TeacherlmError): void }>();
  let nextId = 0;
  let failure: TeacherlmError | undefined;
  const failAll = (err: TeacherlmError) => {
    failure = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (message: ScoreReply) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'init-error') reject(deserializeError(message.error));
      else {
        const w = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.type === 'scores') w?.resolve(message.scores);
        else w?.reject(deserializeError(message.error));
      }
    });
    worker.on('error', (err) => {
      const e = new TeacherlmError('WORKER_CRASHED', `the continuation scorer's worker failed: ${err.message}`, { cause: err });
      reject(e);
      failAll(e);
    });
    worker.on('exit', () => failAll(new TeacherlmError('SHUT_DOWN', 'the continuation scorer is closed')));
  });
  return {
    score(requests) {
      if (failure) return Promise.reject(failure);
      if (requests.length === 0) return Promise.resolve([]);
      const id = nextId++;
      return new Promise<number[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ type: 'score', id, requests: [...requests] } satisfies ScoreMessage);
      });
    },
    async close() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'shutdown' } satisfies ScoreMessage);
      await exited;
    },
  };
}
