/**
 * One batch's model calls, for one cache layout (see model-io.ts): a prefill of the
 * prompts, then one token per surviving row per step. The generation loop
 * (generate-batch.ts) only picks tokens from the logits these return.
 */
import type { Tensor as OrtTensor } from 'onnxruntime-node';

export interface CacheDecoder {
  /**
   * Runs the prompts; `maxNewTokens` is the most tokens any row may generate. Returns
   * logits [rows, steps, vocab] whose last step is each row's next token.
   */
  prefill(prompts: readonly ArrayLike<number>[], maxNewTokens: number): Promise<OrtTensor>;
  /**
   * Feeds `tokens[b]` to the previous call's row `keep[b]` (`keep` ascending; rows not in
   * it have finished and leave the batch). Returns logits as prefill does.
   */
  step(tokens: readonly number[], keep: readonly number[]): Promise<OrtTensor>;
}
