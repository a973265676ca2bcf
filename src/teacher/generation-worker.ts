/**
 * A generation worker: one ONNX Runtime session and one running batch. Groups of prompts
 * (generate messages) that arrive while it runs join it at the next step (continuous
 * batching, where the model's layout allows: BatchGenerator.run); each group is answered
 * as soon as its last row finishes. ORT's `run` is native work, so it lives here and never
 * on the main event loop.
 */
import { unlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelFiles } from './model-files.js';
import { ModelTokenizer } from './tokenizer.js';
import { openSession } from './device.js';
import { describeModel } from './model-io.js';
import { BatchGenerator, type RowGroup } from './generate-batch.js';
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
  const generator = new BatchGenerator(opened.session, io, tokenizer, ort.Tensor, true, init.promptLookup);
  reply({ type: 'ready', provider: opened.provider, continuous: generator.continuous, ...(opened.fallbackReason ? { fallbackReason: opened.fallbackReason } : {}) });
  return { generator, tokenizer };
}

// Terminating a thread inside a native ORT call aborts the whole process, so shutdown is
// cooperative: the generation loop checks this flag between steps.
let stopping = false;
let running = false;
/** Groups received and not yet admitted into the running batch. */
const pending: GenerateMessage[] = [];
/** Groups admitted and not yet answered. */
const admitted = new Set<number>();

function stop(): void {
  stopping = true;
  if (!running) port.close();
}

port.on('message', (message: WorkerMessage) => {
  if (message.type === 'shutdown') stop();
});

start().then(
  (loaded) => {
    port.on('message', (message: WorkerMessage) => {
      if (message.type !== 'generate') return;
      pending.push(message);
      // Deferred a turn, so groups posted together are prefilled together.
      if (!running) {
        running = true;
        setImmediate(() => void runBatch(loaded));
      }
    });
  },
  (err: unknown) => {
    reply({ type: 'init-error', error: serializeError(err, 'MODEL_INVALID') });
    port.close();
  },
);

async function runBatch(loaded: Loaded): Promise<void> {
  const { generator } = loaded;
  let hold: (() => void) | undefined;
  generator.shouldStop = () => {
    if (hold) hold();
    else crashIfAsked();
    return stopping;
  };
  try {
    await generator.run((_running, canJoin) => {
      if (!canJoin || stopping) return [];
      const groups = pending.splice(0).map((message) => toGroup(loaded, message));
      if (init.holdOnPrompt && groups.some((g) => g.inputs.some((r) => r.prompt === init.holdOnPrompt!.prompt))) hold = holdMidGeneration(init.holdOnPrompt.handshake);
      return groups;
    });
  } catch (err) {
    const error = serializeError(err, 'GENERATION_FAILED');
    for (const id of admitted) reply({ type: 'error', id, error });
    admitted.clear();
  }
  if (stopping) {
    const error = serializeError(new TeacherlmError('SHUT_DOWN', 'the engine is shutting down'), 'SHUT_DOWN');
    for (const message of pending.splice(0)) reply({ type: 'error', id: message.id, error });
    running = false;
    port.close();
  } else if (pending.length > 0) {
    setImmediate(() => void runBatch(loaded));
  } else {
    running = false;
  }
}

// Banned words recur on every prompt of a topology (invented-options.ts: 96 per question),
// so each is encoded once; the bound keeps a stream of ever-new words from growing it.
const encodedWords = new Map<string, number[]>();
function encodeWord(tokenizer: ModelTokenizer, word: string): number[] {
  let ids = encodedWords.get(word);
  if (!ids) {
    if (encodedWords.size >= 10_000) encodedWords.clear();
    ids = tokenizer.encodePlain(word);
    encodedWords.set(word, ids);
  }
  return ids;
}

function toGroup({ tokenizer }: Loaded, message: GenerateMessage): RowGroup {
  if (init.crashOnPrompt !== undefined && message.prompts.includes(init.crashOnPrompt)) process.exit(70);
  admitted.add(message.id);
  const answer = (reply_: WorkerReply): void => {
    if (admitted.delete(message.id)) reply(reply_);
  };
  return {
    inputs: message.prompts.map((prompt, r) => {
      const options = message.options[r]!;
      const badWordIds = options.badWords?.map((w) => encodeWord(tokenizer, w));
      return { prompt, ids: message.ids[r] ?? tokenizer.encode(prompt), options, ...(badWordIds ? { badWordIds } : {}) };
    }),
    done: (rows) =>
      answer({
        type: 'result',
        id: message.id,
        rows: rows.map(({ text, promptTokens, tokens, finishReason, prefillMs, decodeMs, acceptedDrafts }) => ({
          text,
          promptTokens,
          generatedTokens: tokens.length,
          finishReason,
          prefillMs,
          decodeMs,
          acceptedDrafts,
        })),
      }),
    failed: (err) => answer({ type: 'error', id: message.id, error: serializeError(err, 'GENERATION_FAILED') }),
  };
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
