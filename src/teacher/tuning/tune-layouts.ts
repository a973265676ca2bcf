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
/** 0 when any value is 0: a layout that generated nothing at one batch size scores nothing. */
const geomean = (xs: number[]): number => (xs.length > 0 && xs.every((x) => x > 0) ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : 0);

/**
 * Runs `rounds` interleaved passes over the candidates. The winner and its ratios come from
 * each round's own figures (the median over rounds of a layout's score against the others'
 * in the same round), so a load that changes between rounds, or one disturbed
 * measurement, does not decide; the figures recorded are the medians of each batch size.
 */
export async function tuneLayouts(candidates: Layout[], measure: MeasureLayout, rounds: number, log: (m: string) => void = () => {}): Promise<TuneResult> {
  if (candidates.length === 0) throw new RangeError('tuneLayouts: no candidate layouts');
  const names = candidates.map(layoutName);
  const runs = new Map<string, LayoutMeasurement[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const layout of candidates) {
      const m = await measure(layout);
      runs.get(layoutName(layout))!.push(m);
      log(`${layoutName(layout)}${rounds > 1 ? ` round ${r + 1}` : ''}: ${Object.entries(m.tokensPerSec).map(([b, t]) => `batch ${b} ${t.toFixed(1)} tokens/s`).join(', ')}`);
    }
  }
  const scoreOf = (name: string, r: number) => geomean(Object.values(runs.get(name)![r]!.tokensPerSec));
  // A layout's score over the geometric mean of the round's (non-zero) scores, median over rounds.
  const standing = new Map<string, number>();
  for (const name of names) {
    const relative = Array.from({ length: rounds }, (_, r) => {
      const mean = geomean(names.map((n) => scoreOf(n, r)).filter((x) => x > 0));
      return mean > 0 ? scoreOf(name, r) / mean : 0;
    });
    standing.set(name, median(relative));
  }
  const layouts: Record<string, LayoutFigures> = {};
  for (const [name, ms] of runs) {
    const tokensPerSec: Record<string, number> = {};
    for (const b of Object.keys(ms[0]!.tokensPerSec)) tokensPerSec[b] = round(median(ms.map((m) => m.tokensPerSec[b] ?? 0)));
    layouts[name] = { tokensPerSec, score: round(geomean(Object.values(tokensPerSec))) };
  }
  // Ties keep the earlier candidate (more workers: the rule's order).
  const best = candidates.reduce((a, b) => (standing.get(layoutName(b))! > standing.get(layoutName(a))! ? b : a));
  const bestName = layoutName(best);
  const ratios: Record<string, number> = {};
  for (const name of names) {
    if (name === bestName) continue;
    // Only rounds where the other layout generated something (JSON has no Infinity).
    const paired = Array.from({ length: rounds }, (_, r) => [scoreOf(bestName, r), scoreOf(name, r)] as const).filter(([, other]) => other > 0);
    if (paired.length > 0) ratios[name] = round(median(paired.map(([w, other]) => w / other)));
  }
  return { layouts, winner: { ...best, name: bestName }, ratios, provider: runs.get(bestName)![0]!.provider };
}
