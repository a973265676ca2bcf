/**
 * `maxBatchSize: auto`: how many prompts one worker's running batch holds. Larger batches
 * amortize each step's weight reads over more rows: a decode step of SmolLM2-135M on one
 * thread costs about 42 ms (every weight read once) plus 2.3 ms a row, so a row's step
 * costs 5.0 ms at 16 rows, 3.7 at 32 and 3.0 at 64 (onnxruntime, interleaved), and
 * bench:engine measured 2x1's tokens/s at 16, 32 and 64 as 107, 129 and 144 in one run
 * (`npm run bench:engine -- --layouts 2x1,1x2 --batch-sizes 1,16,32,64`, 2-core AVX-512).
 * Beyond 64 the gain shrinks while the cache memory and each row's latency grow. The
 * bench prints this pick next to the best batch size it measured (`autoMaxBatchSize`).
 * Explicit numbers are honoured up to MAX_BATCH_SIZE.
 */
import { AUTO, type Auto } from './engine-layout.js';
import { integerWords, rejectOption } from '../options.js';

export const AUTO_MAX_BATCH_SIZE = 64;
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
