/**
 * Log-likelihoods of given continuations: for each `{context, continuation}`, the sum of
 * the model's log-probabilities of the continuation's tokens after the context, as
 * lm-evaluation-harness scores options (and as TeacherLM evaluates its students: the
 * log-likelihood of each option letter). The continuation's tokens are those that
 * encoding context + continuation adds after the context's own tokens.
 *
 * Runs wherever it is called (the scorer's worker thread): one prefill of the contexts,
 * then one step per continuation token through the model's KV cache.
 */
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { TeacherlmError } from '../errors.js';
import type { CacheDecoder } from './cache-decoder.js';
import type { ModelIO } from './model-io.js';
import { halfToFloat, type HalfData } from './tensor-rows.js';
import type { ModelTokenizer } from './tokenizer.js';

export interface ContinuationRequest {
  context: string;
  continuation: string;
}

/** The ids of context + continuation, split where the context's own encoding ends (at the longest common prefix). */
export function splitContinuation(tokenizer: ModelTokenizer, request: ContinuationRequest): { context: number[]; continuation: number[] } {
  const whole = tokenizer.encode(request.context + request.continuation);
  const alone = tokenizer.encode(request.context);
  let split = 0;
  while (split < alone.length && split < whole.length - 1 && alone[split] === whole[split]) split++;
  if (split === 0) throw new TeacherlmError('GENERATION_FAILED', 'a scored context encodes to no tokens', { retriable: false });
  return { context: whole.slice(0, split), continuation: whole.slice(split) };
}

function logProb(logits: OrtTensor, row: number, token: number, io: ModelIO, scratch: { row: Float32Array }): number {
  const [, steps, vocab] = logits.dims as [number, number, number];
  const offset = (row * steps + steps - 1) * vocab;
  if (io.logitsType === 'float16' && scratch.row.length < vocab) scratch.row = new Float32Array(vocab);
  const data = io.logitsType === 'float16' ? halfToFloat(logits.data as HalfData, offset, vocab, scratch.row) : (logits.data as Float32Array).subarray(offset, offset + vocab);
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (data[v]! > max) max = data[v]!;
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(data[v]! - max);
  return data[token]! - max - Math.log(sum);
}

/** The summed log-probability of each request's continuation, in request order. */
export async function scoreContinuations(
  decoder: CacheDecoder,
  tokenizer: ModelTokenizer,
  io: ModelIO,
  requests: readonly ContinuationRequest[],
): Promise<number[]> {
  const rows = requests.map((r) => splitContinuation(tokenizer, r));
  const longest = Math.max(...rows.map((r) => r.continuation.length));
  const scratch = { row: new Float32Array(0) };
  const scores = rows.map(() => 0);
  let logits = await decoder.join(rows.map((r) => r.context), longest);
  let active = rows.map((_, i) => i);
  for (let t = 0; ; t++) {
    active.forEach((r, b) => (scores[r]! += logProb(logits, b, rows[r]!.continuation[t]!, io, scratch)));
    const done = active.flatMap((r, b) => (rows[r]!.continuation.length > t + 1 ? [] : [b]));
    if (done.length === active.length) break;
    // The decoder's row order after the finished rows leave (entry i: the old row now at i).
    if (done.length > 0) active = decoder.remove(done).map((b) => active[b]!);
    logits = await decoder.step(active.map((r) => rows[r]!.continuation[t]!));
  }
  return scores;
}
