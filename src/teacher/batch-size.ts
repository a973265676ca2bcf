/**
 * `maxBatchSize: auto`: how many prompts one worker's running batch holds. Larger batches
 * amortize each step's weight reads over more rows until the step turns compute-bound;
 * beyond that they only add latency and cache memory. 32 is a provisional pick, twice the
 * old fixed 16 so that continuous batching has rows to refill: the sweep that should set it
 * (`npm run bench:engine -- --layouts 2x1 --batch-sizes 16,32,64 --skip-stream`) could
 * not be judged on our shared 2-core machines (load 20 to 37). Explicit numbers are
 * honoured up to MAX_BATCH_SIZE.
 */
import { AUTO, type Auto } from './engine-layout.js';
import { integerWords, rejectOption } from '../options.js';

export const AUTO_MAX_BATCH_SIZE = 32;
export const MAX_BATCH_SIZE = 256;

/** Validates `maxBatchSize` (a positive integer up to MAX_BATCH_SIZE, or auto) and fills auto; `field` names it in errors. */
export function resolveMaxBatchSize(field: string, value: unknown, fallback: number | Auto = AUTO): number {
  const v = value === undefined ? fallback : value;
  if (v === AUTO) return AUTO_MAX_BATCH_SIZE;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_BATCH_SIZE) {
    rejectOption(field, `auto or ${integerWords({ min: 1, max: MAX_BATCH_SIZE })}`, v);
  }
  return v;
}
