import { describe, expect, it } from 'vitest';
import { argmax, sampleToken } from '../../src/teacher/sampling.js';
import { createRng, requestRng } from '../../src/teacher/prng.js';
import { sortingSample } from './support/sorting-sample.js';

const logits = Float32Array.from([0.5, 3, 2.9, -1, 1]);
const scratch = new Float32Array(16);

function histogram(params: Parameters<typeof sampleToken>[3], draws = 4000, seed = 1): number[] {
  const rng = createRng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits, 0, logits.length, params, rng, scratch)]! += 1;
  return counts;
}

describe('sampling', () => {
  it('argmax takes the first of equal maxima, within the given row', () => {
    expect(argmax(Float32Array.from([1, 5, 5, 0]), 0, 4)).toBe(1);
    expect(argmax(Float32Array.from([9, 9, 0, 2, 1]), 2, 3)).toBe(1);
  });

  it('temperature 0 is greedy', () => {
    expect(sampleToken(logits, 0, 5, { temperature: 0 }, createRng(1), scratch)).toBe(1);
  });

  it('top-k 2 only ever draws the two most likely tokens', () => {
    const counts = histogram({ temperature: 1, topK: 2 });
    expect(counts[0]! + counts[3]! + counts[4]!).toBe(0);
    expect(counts[1]).toBeGreaterThan(0);
    expect(counts[2]).toBeGreaterThan(0);
  });

  it('top-p keeps the smallest nucleus reaching p', () => {
    // softmax([0.5,3,2.9,-1,1]): token 1 alone holds ~0.46, tokens 1 and 2 ~0.88.
    expect(histogram({ temperature: 1, topP: 0.4 }).filter((c) => c > 0)).toHaveLength(1);
    const two = histogram({ temperature: 1, topP: 0.85 });
    expect(two[0]! + two[3]! + two[4]!).toBe(0);
  });

  it('follows the softmax at temperature 1, and sharpens at low temperature', () => {
    const counts = histogram({ temperature: 1 }, 20000);
    const z = Array.from(logits, (l) => Math.exp(l));
    const total = z.reduce((a, b) => a + b, 0);
    counts.forEach((c, i) => expect(Math.abs(c / 20000 - z[i]! / total)).toBeLessThan(0.02));
    expect(histogram({ temperature: 0.05 })[1]).toBeGreaterThan(histogram({ temperature: 1 })[1]!);
  });
});

describe('sampling by selection', () => {
  it('draws exactly what sorting the whole row would, on large rows with ties', () => {
    const rng = createRng(7);
    const size = 3000;
    const big = new Float32Array(2 * size);
    for (let trial = 0; trial < 80; trial++) {
      // Every other row is coarse: many exact ties, the hard case for a partition.
      const value = trial % 2 === 0 ? () => Math.round(rng.next() * 40) / 4 - 5 : () => rng.next() * 10 - 5;
      const row = Float32Array.from({ length: size }, value);
      const params = {
        temperature: [0.3, 0.7, 1, 1.5][trial % 4]!,
        topK: [0, 1, 40, 1500, 2999][trial % 5],
        topP: [1, 0.05, 0.9, 0.999][(trial >> 1) % 4],
      };
      const u = rng.next();
      const drawn = sampleToken(row, 0, size, params, { next: () => u }, big);
      expect(drawn, JSON.stringify(params)).toBe(sortingSample(row, params, u));
    }
  });

  it('works with a scratch buffer that is too small', () => {
    expect(sampleToken(logits, 0, 5, { temperature: 1, topP: 0.4 }, createRng(1), new Float32Array(1))).toBe(1);
  });
});

describe('prng', () => {
  it('reproduces a stream from its seed and separates seeds and prompts', () => {
    const take = (rng: { next(): number }) => Array.from({ length: 5 }, () => rng.next());
    expect(take(createRng(42))).toEqual(take(createRng(42)));
    expect(take(createRng(42))).not.toEqual(take(createRng(43)));
    expect(take(requestRng(1, 'a'))).toEqual(take(requestRng(1, 'a')));
    expect(take(requestRng(1, 'a'))).not.toEqual(take(requestRng(1, 'b')));
    for (const x of take(createRng(0))) expect(x >= 0 && x < 1).toBe(true);
  });
  it('separates request seeds that differ only above bit 32', () => {
    const take = (rng: { next(): number }) => Array.from({ length: 5 }, () => rng.next());
    expect(take(requestRng(1, 'a'))).not.toEqual(take(requestRng(2 ** 32 + 1, 'a')));
  });
});
