/**
 * How prompts that join together are split into prefill calls. One call pads every prompt
 * to the longest (left padding), and padded positions cost as much as real ones; each
 * extra call costs about one more read of every weight. So prompts are sorted by length
 * and cut into the runs of neighbours that minimize padded tokens plus CALL_COST_TOKENS
 * per call (an exact partition by dynamic programming, n is at most a batch).
 */

/**
 * A prefill call's fixed cost in prompt tokens: a call reads every weight once (a batch-1
 * decode step, about 42 ms on one thread of our 2-core AVX-512 machines) against about
 * 1.75 ms per prompt token of compute at large prefill batches (ONNX Runtime, SmolLM2-135M).
 */
export const CALL_COST_TOKENS = 24;

/** Indices of `lengths`, grouped into prefill calls, each group in index order (so one group is the input's order), groups by their longest. */
export function prefillGroups(lengths: readonly number[], callCost = CALL_COST_TOKENS): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const n = order.length;
  // best[j]: least cost of the first j sorted prompts; cut[j]: where its last group starts.
  const best = new Array<number>(n + 1).fill(Infinity);
  const cut = new Array<number>(n + 1).fill(0);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const width = lengths[order[j - 1]!]!;
    for (let i = 0; i < j; i++) {
      const cost = best[i]! + (j - i) * width + callCost;
      if (cost < best[j]!) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const groups: number[][] = [];
  for (let j = n; j > 0; j = cut[j]!) groups.unshift(order.slice(cut[j]!, j).sort((a, b) => a - b));
  return groups;
}
