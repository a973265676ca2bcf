import type { SamplingParams } from '../../../src/teacher/sampling.js';

/**
 * The obvious sampler, sorting the whole row for top-k and again for top-p: what
 * `sampleToken`'s selection must draw exactly (its unit test) and what it is timed
 * against (bench/sampling.bench.ts). `u` is the uniform draw in [0, 1).
 */
export function sortingSample(row: Float32Array, params: SamplingParams, u: number): number {
  let max = -Infinity;
  for (const l of row) max = Math.max(max, l);
  const k = params.topK ?? 0;
  const floor = k > 0 && k < row.length ? row.slice().sort()[row.length - k]! : -Infinity;
  const probs = new Float32Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += probs[i] = row[i]! >= floor ? Math.exp((row[i]! - max) / params.temperature) : 0;
  if ((params.topP ?? 1) < 1) {
    const sorted = Float32Array.from(probs).sort().reverse();
    let mass = 0;
    let threshold = 0;
    for (const p of sorted) {
      mass += p;
      threshold = p;
      if (mass >= params.topP! * sum) break;
    }
    sum = 0;
    for (let i = 0; i < probs.length; i++) sum += probs[i] = probs[i]! < threshold ? 0 : probs[i]!;
  }
  let left = u * sum;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    last = i;
    left -= probs[i]!;
    if (left < 0) return i;
  }
  return last;
}
