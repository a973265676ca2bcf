/**
 * The continuation scorer's worker thread (continuation-scorer.ts): one ONNX Runtime
 * session of the teacher's model, scoring one batch of continuations at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BufferedDecoder } from './buffered-decoder.js';
import type { CacheDecoder } from './cache-decoder.js';
import { scoreContinuations, type ContinuationRequest } from './continuation-score.js';
import { openSession } from './device.js';
import { loadModelFiles } from './model-files.js';
import { describeModel } from './model-io.js';
import { OptimumDecoder } from './optimum-decoder.js';
import { ModelTokenizer } from './tokenizer.js';
import { serializeError, type SerializedError, type WorkerInit } from './worker-protocol.js';

export type ScoreMessage = { type: 'score'; id: number; requests: ContinuationRequest[] } | { type: 'shutdown' };
export type ScoreReply = { type: 'ready' } | { type: 'init-error'; error: SerializedError } | { type: 'scores'; id: number; scores: number[] } | { type: 'error'; id: number; error: SerializedError };

const port = parentPort!;
const init = workerData as WorkerInit;
const reply = (message: ScoreReply) => port.postMessage(message);

async function start() {
  const ort = await import('onnxruntime-node');
  const files = loadModelFiles(init.modelDir, { onnxFile: init.onnxPath });
  const tokenizer = new ModelTokenizer(files);
  const { session } = await openSession(files.onnxPath, init, ort);
  const io = describeModel(session.inputMetadata, session.outputMetadata, files.config);
  const padId = tokenizer.special.padId;
  // The same choice of cache layout as the generation loop (generate-batch.ts); the
  // Optimum prefill computes the last position's logits only, all that scoring reads.
  const decoder = (): CacheDecoder =>
    io.cacheLayout === 'buffered' ? new BufferedDecoder(session, io, ort.Tensor, padId) : new OptimumDecoder(session, io, ort.Tensor, padId, true);
  reply({ type: 'ready' });
  return { tokenizer, io, decoder };
}

start().then(
  (loaded) => {
    port.on('message', (message: ScoreMessage) => {
      if (message.type === 'shutdown') return port.close();
      scoreContinuations(loaded.decoder(), loaded.tokenizer, loaded.io, message.requests).then(
        (scores) => reply({ type: 'scores', id: message.id, scores }),
        (err: unknown) => reply({ type: 'error', id: message.id, error: serializeError(err, 'GENERATION_FAILED') }),
      );
    });
  },
  (err: unknown) => {
    reply({ type: 'init-error', error: serializeError(err, 'MODEL_INVALID') });
    port.close();
  },
);
