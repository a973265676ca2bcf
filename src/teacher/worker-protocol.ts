/** Messages between the worker pool (main thread) and a generation worker. */
import { ERROR_CODES, TeacherlmError, type ErrorCode } from '../errors.js';
import type { Device } from './device.js';
import type { FinishReason, GenerationOptions } from './types.js';
import type { PromptLookup } from './prompt-lookup.js';

export interface WorkerInit {
  modelDir: string;
  onnxPath: string;
  intraOpThreads: number;
  device: Device;
  /** Speculative decoding (prompt-lookup.ts); none when absent. */
  promptLookup?: PromptLookup;
  /** Test hook: the worker exits abruptly when it is given this exact prompt. */
  crashOnPrompt?: string;
  /**
   * Test hook: in a batch with this exact prompt, after the prefill, the worker sets
   * `handshake[0]` (an Int32Array over the buffer) to 1, notifies, and waits for the main
   * thread to set `handshake[1]` before its next step; it fails the batch when no answer
   * comes within a minute (the main event loop is blocked).
   */
  holdOnPrompt?: { prompt: string; handshake: SharedArrayBuffer };
}

/**
 * A group of prompts, answered together. A worker that batches continuously admits every
 * group it holds into its running batch at the next step; the pool decides what each
 * worker holds. Prompts travel as text with their token ids where the main thread already encoded them
 * (`countTokens`, which token-budgeted batching needs before the batch exists): the
 * worker encodes only a prompt sent without ids, so no prompt is encoded twice.
 */
export interface GenerateMessage {
  type: 'generate';
  id: number;
  prompts: string[];
  /** Per prompt, its ids (buffer transferred), or null for the worker to encode. */
  ids: (Int32Array | null)[];
  options: GenerationOptions[];
}

/** Asks a worker to stop after its current step; it then closes its port and ends. */
export interface ShutdownMessage {
  type: 'shutdown';
}

export type WorkerMessage = GenerateMessage | ShutdownMessage;

export interface RowStats {
  text: string;
  promptTokens: number;
  /** How many ids the row generated, the EOS token included when it ended the row. */
  generatedTokens: number;
  finishReason: FinishReason;
  prefillMs: number;
  decodeMs: number;
  acceptedDrafts: number;
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  retriable: boolean;
  hint?: string;
}

export type WorkerReply =
  /** `continuous`: the model's layout lets groups join a running batch (generate-batch.ts). */
  | { type: 'ready'; provider: 'cpu' | 'cuda'; continuous: boolean; fallbackReason?: string }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; rows: RowStats[] }
  | { type: 'error'; id: number; error: SerializedError };

export function serializeError(err: unknown, fallback: ErrorCode): SerializedError {
  if (err instanceof TeacherlmError) return { code: err.code, message: err.message, retriable: err.retriable, hint: err.hint };
  return { code: fallback, message: err instanceof Error ? err.message : String(err), retriable: ERROR_CODES[fallback] };
}

export function deserializeError(e: SerializedError): TeacherlmError {
  return new TeacherlmError(e.code, e.message, { retriable: e.retriable, hint: e.hint });
}
