/**
 * Picking the next token from one row of logits: greedy argmax, or sampling with
 * temperature, then top-k, then top-p (the order Hugging Face's logits warpers apply).
 */
import type { Rng } from './prng.js';

export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  /** Keep the k most likely tokens; 0 or undefined keeps all. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 or undefined keeps all. */
  topP?: number;
}

/** Index of the largest logit in `logits[offset, offset + size)`; the first one on ties. */
export function argmax(logits: Float32Array, offset: number, size: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < size; i++) {
    const v = logits[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * Samples a token id from `logits[offset, offset + size)`. `scratch` (length >= size) is
 * reused across calls to avoid allocating per token.
 */
export function sampleToken(logits: Float32Array, offset: number, size: number, params: SamplingParams, rng: Rng, scratch: Float32Array): number {
  if (!(params.temperature > 0)) return argmax(logits, offset, size);
  const probs = scratch.subarray(0, size);
  const invT = 1 / params.temperature;
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, logits[offset + i]!);
  // Only tokens at or above `floor` survive top-k / top-p; -Infinity keeps all.
  let floor = -Infinity;
  const k = params.topK ?? 0;
  if (k > 0 && k < size) floor = kthLargest(logits, offset, size, k);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const l = logits[offset + i]!;
    const p = l >= floor ? Math.exp((l - max) * invT) : 0;
    probs[i] = p;
    sum += p;
  }
  const topP = params.topP ?? 1;
  if (topP < 1) {
    // The nucleus: smallest probability a kept token may have.
    const sorted = Float32Array.from(probs).sort().reverse();
    let mass = 0;
    let threshold = 0;
    for (let i = 0; i < sorted.length; i++) {
      mass += sorted[i]!;
      threshold = sorted[i]!;
      if (mass >= topP * sum) break;
    }
    sum = 0;
    for (let i = 0; i < size; i++) {
      if (probs[i]! < threshold) probs[i] = 0;
      sum += probs[i]!;
    }
  }
  let u = rng.next() * sum;
  let last = 0;
  for (let i = 0; i < size; i++) {
    const p = probs[i]!;
    if (p <= 0) continue;
    last = i;
    u -= p;
    if (u < 0) return i;
  }
  return last;
}

/** The k-th largest value of a row (k >= 1), by sorting a copy: fine for one row per step. */
function kthLargest(logits: Float32Array, offset: number, size: number, k: number): number {
  const copy = logits.slice(offset, offset + size).sort();
  return copy[size - k]!;
}
