/**
 * Measures candidate layouts (workers x intra-op threads) on one workload and picks the
 * one with the most tokens/s, scored by the geometric mean over the batch sizes so that
 * batch 1 and batch 16 weigh alike. The measuring itself is behind {@link MeasureLayout}:
 * the real one starts the engine (engine-measure.ts).
 */
import { maxAutoWorkers, type Layout, type MachineFacts } from '../engine-layout.js';
import { layoutName } from './layout-choice.js';
import type { LayoutFigures } from './tuning-file.js';
import type { TunedDevice } from './tuning-identity.js';

export interface LayoutMeasurement {
  /** The provider the sessions ran on. */
  provider: TunedDevice;
  /** Generated tokens/s by batch size. */
  tokensPerSec: Record<string, number>;
}

export type MeasureLayout = (layout: Layout) => Promise<LayoutMeasurement>;

export interface TuneResult {
  layouts: Record<string, LayoutFigures>;
  winner: Layout & { name: string };
  ratios: Record<string, number>;
  provider: TunedDevice;
}

/**
 * Every split of the cores into workers x threads, as many workers as auto would start at
 * most, most workers first. On CUDA, where one session owns the device, one session against
 * two, the cores split between them.
 */
export function candidateLayouts(facts: Pick<MachineFacts, 'cores' | 'memoryBytes' | 'sessionBytes' | 'cuda'>): Layout[] {
  if (facts.cuda) return [1, 2].map((w) => ({ workers: w, intraOpThreads: Math.max(1, Math.floor(facts.cores / w)) }));
  const out: Layout[] = [];
  const most = Math.min(facts.cores, maxAutoWorkers(facts));
  for (let w = most; w >= 1; w--) if (facts.cores % w === 0) out.push({ workers: w, intraOpThreads: facts.cores / w });
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
const round = (x: number): number => Math.round(x * 100) / 100;

export async function tuneLayouts(candidates: Layout[], measure: MeasureLayout, rounds: number, log: (m: string) => void = () => {}): Promise<TuneResult> {
  if (candidates.length === 0) throw new RangeError('tuneLayouts: no candidate layouts');
  const runs = new Map<string, LayoutMeasurement[]>(candidates.map((l) => [layoutName(l), []]));
  for (let r = 0; r < rounds; r++) {
    for (const layout of candidates) {
      const m = await measure(layout);
      runs.get(layoutName(layout))!.push(m);
      log(`${layoutName(layout)}${rounds > 1 ? ` round ${r + 1}` : ''}: ${Object.entries(m.tokensPerSec).map(([b, t]) => `batch ${b} ${t.toFixed(1)} tokens/s`).join(', ')}`);
    }
  }
  const layouts: Record<string, LayoutFigures> = {};
  for (const [name, ms] of runs) {
    const tokensPerSec: Record<string, number> = {};
    for (const b of Object.keys(ms[0]!.tokensPerSec)) tokensPerSec[b] = round(median(ms.map((m) => m.tokensPerSec[b] ?? 0)));
    const values = Object.values(tokensPerSec);
    const score = values.every((v) => v > 0) ? Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length) : 0;
    layouts[name] = { tokensPerSec, score: round(score) };
  }
  // Ties keep the earlier candidate (more workers: the rule's order).
  const best = candidates.reduce((a, b) => (layouts[layoutName(b)]!.score > layouts[layoutName(a)]!.score ? b : a));
  const bestName = layoutName(best);
  const ratios: Record<string, number> = {};
  // A layout that generated nothing has no ratio (JSON has no Infinity).
  for (const [name, f] of Object.entries(layouts)) if (name !== bestName && f.score > 0) ratios[name] = round(layouts[bestName]!.score / f.score);
  return { layouts, winner: { ...best, name: bestName }, ratios, provider: runs.get(bestName)![0]!.provider };
}
