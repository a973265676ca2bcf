import { describe, expect, it } from 'vitest';
import { CALL_COST_TOKENS, prefillGroups } from '../../src/teacher/prefill-groups.js';

/** Padded tokens plus the per-call cost of a grouping. */
function cost(lengths: number[], groups: number[][], callCost = CALL_COST_TOKENS): number {
  return groups.reduce((n, g) => n + g.length * Math.max(...g.map((i) => lengths[i]!)) + callCost, 0);
}

/** Every way to cut the sorted order into runs (2^(n-1)), for a brute-force check. */
function allCuts(lengths: number[]): number[][][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out: number[][][] = [];
  for (let mask = 0; mask < 1 << (order.length - 1); mask++) {
    const groups: number[][] = [[order[0]!]];
    for (let k = 1; k < order.length; k++) {
      if (mask & (1 << (k - 1))) groups.push([]);
      groups[groups.length - 1]!.push(order[k]!);
    }
    out.push(groups);
  }
  return out;
}

describe('prefillGroups', () => {
  it('keeps prompts of like lengths in one call', () => {
    expect(prefillGroups([44, 45, 44, 46])).toEqual([[0, 1, 2, 3]]);
  });

  it('splits off a long prompt when padding the rest to it costs more than a call', () => {
    // One call: 5 x 200 = 1000 tokens; two: 4 x 40 + 24 + 200 + 24 = 408.
    expect(prefillGroups([40, 200, 38, 39, 40])).toEqual([[0, 2, 3, 4], [1]]);
  });

  it('puts every index in exactly one group', () => {
    const lengths = [53, 40, 41, 47, 44, 52, 49, 43, 45, 40, 46, 48, 42, 50, 44, 41];
    const groups = prefillGroups(lengths);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  });

  it('finds the cheapest cut of the sorted prompts (brute force over every cut)', () => {
    const cases = [
      [53, 40, 41, 47, 44, 52, 49, 43, 45, 40, 46],
      [120, 110, 138, 115, 130, 112, 124],
      [5, 500, 6, 480, 7, 9, 250],
      [1],
    ];
    for (const lengths of cases) {
      const best = Math.min(...allCuts(lengths).map((g) => cost(lengths, g)));
      expect(cost(lengths, prefillGroups(lengths))).toBe(best);
    }
  });

  it('never splits when calls cost more than any padding could save', () => {
    expect(prefillGroups([10, 90, 50], 1e9)).toHaveLength(1);
  });
});
