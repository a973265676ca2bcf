/**
 * `auto` workers and threads: the layout `teacherlm tune` measured best for this model
 * file on this machine when a valid tuning exists, else the rule (engine-layout.ts).
 * Explicit numbers are honoured; with one of the two explicit, the rule fills the other.
 * Returns why, for the engine to log, and a warning per tuning file it ignored.
 */
import { AUTO, resolveLayout, type Auto, type Layout, type MachineFacts } from '../engine-layout.js';
import type { Tuning, TuningLookup } from './tuning-file.js';

export interface LayoutChoice {
  layout: Layout;
  source: 'explicit' | 'tuned' | 'rule';
  /** Why this layout, in words (empty when explicit). */
  reason: string;
  /** One line per tuning file found but not used (malformed, stale). */
  warnings: string[];
}

export const layoutName = (l: Layout): string => `${l.workers}x${l.intraOpThreads}`;

export function describeLayout(l: Layout): string {
  return `${layoutName(l)} (${l.workers} worker${l.workers === 1 ? '' : 's'} x ${l.intraOpThreads} thread${l.intraOpThreads === 1 ? '' : 's'})`;
}

/** `2x1 1.40x 1x2` (the winner against each other layout measured). */
export function describeRatios(tuning: Tuning): string {
  const against = Object.entries(tuning.ratios).map(([name, r]) => `${r.toFixed(2)}x ${name}`);
  return `${tuning.winner.name}${against.length ? ` ${against.join(', ')}` : ' (the only layout measured)'}`;
}

/** `tuned on 2026-12-01: 2x1 1.40x 1x2`. */
export const describeTuning = (tuning: Tuning): string => `tuned on ${tuning.tunedAt.slice(0, 10)}: ${describeRatios(tuning)}`;

/**
 * `lookups` gives the tuning lookups to try in order (CUDA's before the CPU's under device
 * `auto`); it is called only when the layout is auto.
 */
export function chooseLayout(workers: number | Auto, threads: number | Auto | undefined, facts: MachineFacts, lookups: () => TuningLookup[]): LayoutChoice {
  const rule = resolveLayout(workers, threads, facts);
  // Absent threads beside explicit workers are the documented default (cores / workers), not auto.
  if (workers !== AUTO && threads !== AUTO) return { layout: rule, source: 'explicit', reason: '', warnings: [] };
  if (workers !== AUTO || (threads !== undefined && threads !== AUTO)) {
    const [filled, given] = workers === AUTO ? ['workers', 'threads'] : ['threads', 'workers'];
    return { layout: rule, source: 'rule', reason: `${filled} by the rule beside the explicit ${given}`, warnings: [] };
  }
  const warnings: string[] = [];
  for (const found of lookups()) {
    if (found.status === 'tuned') return { layout: { workers: found.tuning.winner.workers, intraOpThreads: found.tuning.winner.intraOpThreads }, source: 'tuned', reason: `${describeTuning(found.tuning)} (${found.path})`, warnings };
    if (found.status === 'ignored') warnings.push(`ignoring the layout tuning ${found.path}: ${found.reason} ('teacherlm tune --model DIR' measures again)`);
  }
  const how = facts.cuda ? 'one session on CUDA' : 'one single-threaded session per core, as memory allows';
  return { layout: rule, source: 'rule', reason: `no ${warnings.length ? 'usable ' : ''}tuning for this machine: the rule (${how}; 'teacherlm tune --model DIR' measures)`, warnings };
}
