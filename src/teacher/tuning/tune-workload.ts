/**
 * The fixed decode workload `teacherlm tune` measures each layout on: TeacherLM prompts of
 * the bundled CREAK samples (data/creak-demo.jsonl), greedy, at batch 16 and 1, enough
 * prompts for every worker of the widest layout to get its own batches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../project-root.js';
import { buildRawPrompt } from '../prompts.js';
import { ANNOTATION_KINDS } from '../types.js';

export interface TuneWorkload {
  /** Closed batches of each size, all sent at once (as bench:engine's). */
  batchSizes: number[];
  maxNewTokens: number;
  /** Interleaved passes over the layouts; each figure is the median of its rounds. */
  rounds: number;
}

// Three interleaved rounds, each figure their median: on a shared machine one pass moves by 10 to 20%,
// more than the gap between layouts at some batch sizes (docs/engine-performance.md, "Where the time goes").
export const DEFAULT_TUNE_WORKLOAD: TuneWorkload = { batchSizes: [16, 1], maxNewTokens: 32, rounds: 3 };

const SAMPLES = join(PROJECT_ROOT, 'data', 'creak-demo.jsonl');

/** Prompts at batch size `b` for layouts of up to `workers` sessions: two batches' worth at batch 1, one per worker above. */
export function promptCountAt(batchSize: number, workers: number): number {
  return Math.max(batchSize, 2) * workers;
}

/** `count` TeacherLM prompts of the bundled samples, cycling through the three kinds (and the samples when more are asked). */
export function tunePrompts(count: number, samplesPath: string = SAMPLES): string[] {
  const rows = readFileSync(samplesPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { question: string; answer: string });
  return Array.from({ length: count }, (_, i) => buildRawPrompt(rows[Math.floor(i / 3) % rows.length]!, ANNOTATION_KINDS[i % 3]!));
}
