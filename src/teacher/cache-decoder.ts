/**
 * One running batch's model calls, for one cache layout (see model-io.ts). Rows join with
 * a prefill of their prompts, then each step feeds one token to every row, and rows that
 * finish leave. The generation loop (generate-batch.ts) only picks tokens from the logits
 * these return, and keeps its rows in the decoder's row order.
 */
import type { Tensor as OrtTensor } from 'onnxruntime-node';

export interface CacheDecoder {
  /**
   * Whether rows may join while others are mid-generation (continuous batching). When
   * false, {@link join} is only called on an empty batch.
   */
  readonly joinsRunning: boolean;
  /**
   * Prefills the prompts (apart from the running rows) and appends them as the last rows;
   * `maxNewTokens` is the most tokens any of them may generate. Returns their logits
   * [prompts, steps, vocab] whose last step is each new row's next token.
   */
  join(prompts: readonly ArrayLike<number>[], maxNewTokens: number): Promise<OrtTensor>;
  /** Feeds `tokens[b]` to row b of every row. Returns logits as join does, one row per row. */
  step(tokens: readonly number[]): Promise<OrtTensor>;
  /**
   * Whether {@link verify} takes several tokens per row: the model returns logits for
   * several last positions (speculative decoding's check of drafted tokens).
   */
  readonly verifies: boolean;
  /**
   * Feeds `tokens[b]` (one width W for all rows) to row b at its next W positions and
   * keeps them all in the cache. Returns logits [rows, W, vocab]: position i predicts the
   * token after `tokens[b][i]`.
   */
  verify(tokens: readonly (readonly number[])[]): Promise<OrtTensor>;
  /** Takes the last `drop[b]` tokens that {@link verify} fed to row b back out of its cache. */
  rollback(drop: readonly number[]): void;
  /**
   * Takes `rows` (distinct indices) out of the batch. Returns the new row order: entry i
   * is the old index of the row now at i.
   */
  remove(rows: readonly number[]): number[];
}
