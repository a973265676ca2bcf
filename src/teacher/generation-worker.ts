/**
 * A generation worker: one ONNX Runtime session, one batch at a time. ORT's `run` is
 * synchronous native work, so it lives here and never on the main event loop.
 */
import { unlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelFiles } from './model-files.js';
import { ModelTokenizer } from './tokenizer.js';
import { openSession } from './device.js';
import { describeModel } from './model-io.js';
import { BatchGenerator } from './generate-batch.js';
import { TeacherlmError } from '../errors.js';
import { serializeError, type GenerateMessage, type WorkerInit, type WorkerMessage, type WorkerReply } from './worker-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;

/**
 * Test seam for the chaos suite (test/chaos/scenarios/engine-crash.ts): when this file
 * exists, the next batch deletes it and ends this thread after its prefill, mid-batch.
 * Only the one batch that wins the delete dies, so each file written is one crash.
 */
const CRASH_FILE = process.env.TEACHERLM_TEST_ENGINE_CRASH_FILE;

function crashIfAsked(): void {
  if (!CRASH_FILE) return;
  try {
    unlinkSync(CRASH_FILE);
  } catch {
    return;
  }
  process.exit(70); // in a worker thread this ends the thread, as a native crash would
}

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

interface Loaded {
  generator: BatchGenerator;
  tokenizer: ModelTokenizer;
}

async function start(): Promise<Loaded> {
  const ort = await import('onnxruntime-node');
  const files = loadModelFiles(init.modelDir, { onnxFile: init.onnxPath });
  const tokenizer = new ModelTokenizer(files);
  const opened = await openSession(files.onnxPath, init, ort);
  const io = describeModel(opened.session.inputMetadata, opened.session.outputMetadata, files.config);
  reply({ type: 'ready', provider: opened.provider, ...(opened.fallbackReason ? { fallbackReason: opened.fallbackReason } : {}) });
  return { generator: new BatchGenerator(opened.session, io, tokenizer, ort.Tensor), tokenizer };
}

// Terminating a thread inside a native ORT call aborts the whole process, so shutdown is
// cooperative: the generation loop checks this flag between steps.
let stopping = false;
let busy = false;

function stop(): void {
  stopping = true;
  if (!busy) port.close();
}

port.on('message', (message: WorkerMessage) => {
  if (message.type === 'shutdown') stop();
});

start().then(
  (loaded) => {
    port.on('message', (message: WorkerMessage) => {
      if (message.type === 'generate') void handle(loaded, message);
    });
  },
  (err: unknown) => {
    reply({ type: 'init-error', error: serializeError(err, 'MODEL_INVALID') });
    port.close();
  },
);

async function handle({ generator, tokenizer }: Loaded, message: GenerateMessage): Promise<void> {
  busy = true;
  try {
    if (stopping) throw new TeacherlmError('SHUT_DOWN', 'the engine is shutting down');
    if (init.crashOnPrompt !== undefined && message.prompts.includes(init.crashOnPrompt)) process.exit(70);
    const hold = init.holdOnPrompt && message.prompts.includes(init.holdOnPrompt.prompt) ? holdMidGeneration(init.holdOnPrompt.handshake) : undefined;
    generator.shouldStop = hold
      ? () => {
          hold();
          return stopping;
        }
      : () => {
          crashIfAsked();
          return stopping;
        };
    const rows = await generator.generate(
      message.prompts.map((prompt, r) => ({ prompt, ids: message.ids[r] ?? tokenizer.encode(prompt), options: message.options[r]! })),
    );
    reply({
      type: 'result',
      id: message.id,
      rows: rows.map(({ text, promptTokens, tokens, finishReason, prefillMs, decodeMs }) => ({
        text,
        promptTokens,
        generatedTokens: tokens.length,
        finishReason,
        prefillMs,
        decodeMs,
      })),
    });
  } catch (err) {
    reply({ type: 'error', id: message.id, error: serializeError(err, 'GENERATION_FAILED') });
  } finally {
    busy = false;
    if (stopping) port.close();
  }
}

const HOLD_LIMIT_MS = 60_000;

/** WorkerInit.holdOnPrompt: tells the main thread once, then waits for its answer. */
function holdMidGeneration(buffer: SharedArrayBuffer): () => void {
  const handshake = new Int32Array(buffer);
  let held = false;
  return () => {
    if (held) return;
    held = true;
    Atomics.store(handshake, 0, 1);
    Atomics.notify(handshake, 0);
    if (Atomics.wait(handshake, 1, 0, HOLD_LIMIT_MS) === 'timed-out') {
      throw new TeacherlmError('GENERATION_FAILED', `held mid-generation, no answer from the main thread within ${HOLD_LIMIT_MS / 1000} s`);
    }
  };
}
