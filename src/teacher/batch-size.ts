/**
 * `maxBatchSize: auto`: how many prompts one worker's running batch holds. Larger batches
 * amortize each step's weight reads over more rows until the step turns compute-bound;
 * beyond that they only add latency and cache memory. The figure comes from bench:engine's
 * large-batch sweep of the fp32 buffered file on the machines we measure (2 cores, AVX-512):
 * see the README's engine section. Explicit numbers are honoured up to MAX_BATCH_SIZE.
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
