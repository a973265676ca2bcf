/**
 * `maxBatchSize: auto`: how many prompts one worker's running batch holds. Larger batches
 * amortize each step's weight reads over more rows: a decode step of SmolLM2-135M on one
 * thread costs about 42 ms (every weight read once) plus 2.3 ms a row, so a row's step
 * costs 5.0 ms at 16 rows, 3.7 at 32 and 3.0 at 64 (onnxruntime, interleaved), and
 * bench:engine measured 2x1's tokens/s at 16, 32 and 64 as 107, 129 and 144 in one run
 * (`npm run bench:engine -- --layouts 2x1,1x2 --batch-sizes 1,16,32,64`, 2-core AVX-512).
 * Beyond 64 the gain shrinks while the cache memory and each row's latency grow. The
 * bench prints this pick next to the best batch size it measured (`autoMaxBatchSize`).
 * Closed batches (static batching) keep 32: a closed batch stays on one worker to its end,
 * so a burst of 64 prompts would fill one worker and leave the other idle, where
 * continuous batching spreads rows over the workers as they come. Explicit numbers are
 * honoured up to MAX_BATCH_SIZE.
 */
import { AUTO, type Auto } from './engine-layout.js';
import { integerWords, rejectOption } from '../options.js';
import type { Batching } from './batching.js';

export const AUTO_MAX_BATCH_SIZE = 64;
/** `auto` for closed batches (`batching: static`). */
export const AUTO_STATIC_BATCH_SIZE = 32;
export const MAX_BATCH_SIZE = 256;

/** What `auto` means for the engine's batching mode. */
export function autoMaxBatchSize(batching: Batching): number {
  return batching === 'static' ? AUTO_STATIC_BATCH_SIZE : AUTO_MAX_BATCH_SIZE;
}

/** Validates `maxBatchSize` (a positive integer up to MAX_BATCH_SIZE, or auto) and fills auto for `batching`; `field` names it in errors. */
export function resolveMaxBatchSize(field: string, value: unknown, fallback: number | Auto = AUTO, batching: Batching = 'continuous'): number {
  const v = value === undefined ? fallback : value;
  if (v === AUTO) return autoMaxBatchSize(batching);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_BATCH_SIZE) {
    rejectOption(field, `auto or ${integerWords({ min: 1, max: MAX_BATCH_SIZE })}`, v);
  }
  return v;
}
