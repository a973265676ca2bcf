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
 * Samples a token id from `logits[offset, offset + size)`. `scratch` (length >= 2 * size)
 * is reused across calls so no token allocates. Top-k and top-p select rather than sort
 * the vocabulary: a full sort of 49k logits per row per token cost more than the rest.
 */
export function sampleToken(logits: Float32Array, offset: number, size: number, params: SamplingParams, rng: Rng, scratch: Float32Array): number {
  if (!(params.temperature > 0)) return argmax(logits, offset, size);
  if (scratch.length < 2 * size) scratch = new Float32Array(2 * size);
  const probs = scratch.subarray(0, size);
  const work = scratch.subarray(size, 2 * size);
  const invT = 1 / params.temperature;
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, logits[offset + i]!);
  // Only tokens at or above `floor` survive top-k / top-p; -Infinity keeps all.
  let floor = -Infinity;
  const k = params.topK ?? 0;
  if (k > 0 && k < size) {
    work.set(logits.subarray(offset, offset + size));
    floor = kthLargest(work, size, k);
  }
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const l = logits[offset + i]!;
    const p = l >= floor ? Math.exp((l - max) * invT) : 0;
    probs[i] = p;
    sum += p;
  }
  const topP = params.topP ?? 1;
  if (topP < 1) {
    work.set(probs);
    const threshold = nucleusThreshold(work, size, topP * sum);
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

/** The k-th largest of `values[0, size)` (k >= 1); reorders `values`. */
function kthLargest(values: Float32Array, size: number, k: number): number {
  selectLargest(values, size, k);
  let kth = Infinity;
  for (let i = 0; i < k; i++) kth = Math.min(kth, values[i]!);
  return kth;
}

/**
 * The smallest probability inside the nucleus: walking `values[0, size)` from the largest
 * down, the value at which the running mass first reaches `mass` (the same walk, in the
 * same order, as sorting them all). Sorts only the largest 64, 256, ... until the
 * nucleus fits; reorders `values`.
 */
function nucleusThreshold(values: Float32Array, size: number, mass: number): number {
  let m = Math.min(size, 64);
  for (;;) {
    selectLargest(values, size, m);
    const top = values.subarray(0, m).sort();
    let acc = 0;
    for (let i = m - 1; i >= 0; i--) {
      acc += top[i]!;
      if (acc >= mass) return top[i]!;
    }
    if (m === size) return top[0]!;
    m = Math.min(size, m * 4);
  }
}

/**
 * Quickselect with three-way partitioning (many probabilities are equal zeros): moves the
 * m largest of `a[0, n)` into `a[0, m)`, in no particular order.
 */
function selectLargest(a: Float32Array, n: number, m: number): void {
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const pivot = medianOf3(a[lo]!, a[(lo + hi) >>> 1]!, a[hi - 1]!);
    // [lo, lt) > pivot, [lt, gt) == pivot, [gt, hi) < pivot
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i < gt) {
      const v = a[i]!;
      if (v > pivot) {
        a[i] = a[lt]!;
        a[lt++] = v;
        i++;
      } else if (v < pivot) {
        a[i] = a[--gt]!;
        a[gt] = v;
      } else i++;
    }
    if (m < lt) hi = lt;
    else if (m <= gt) return;
    else lo = gt;
  }
}

function medianOf3(x: number, y: number, z: number): number {
  return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
}
