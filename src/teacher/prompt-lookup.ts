/**
 * Prompt-lookup drafting (Saxena 2023; Hugging Face's `prompt_lookup_num_tokens`, vLLM's
 * n-gram speculator): the tokens a row is likely to generate next are guessed from its own
 * sequence, prompt and output so far, with no draft model. The sequence's last n tokens
 * are looked up earlier in it, and what followed the most recent earlier occurrence is the
 * draft. Explanations copy many spans of their question, so the drafts are often right;
 * the model then checks them all in one call (generate-batch.ts), which is exact under
 * greedy decoding: a draft token is kept only where the model picks it.
 */

/** The longest and shortest n-grams looked up, longest first: a longer match is a surer guess. */
export const MAX_NGRAM = 3;
export const MIN_NGRAM = 1;

/**
 * Up to `maxTokens` draft tokens for the sequence `prompt` + `generated`: for n from
 * `maxNgram` down to `minNgram`, the tokens after the most recent earlier occurrence of
 * its last n tokens (to the sequence's end at most). Empty when nothing matches.
 */
export function draftTokens(
  prompt: ArrayLike<number>,
  generated: readonly number[],
  maxTokens: number,
  maxNgram = MAX_NGRAM,
  minNgram = MIN_NGRAM,
): number[] {
  const length = prompt.length + generated.length;
  if (maxTokens <= 0) return [];
  const at = (i: number): number => (i < prompt.length ? prompt[i]! : generated[i - prompt.length]!);
  for (let n = Math.min(maxNgram, length - 1); n >= minNgram; n--) {
    const tail = length - n;
    // Occurrences that end before the tail ends; the most recent first.
    for (let start = tail - 1; start >= 0; start--) {
      let match = true;
      for (let j = 0; j < n && match; j++) match = at(start + j) === at(tail + j);
      if (!match) continue;
      const from = start + n;
      const to = Math.min(from + maxTokens, length);
      const draft: number[] = [];
      for (let i = from; i < to; i++) draft.push(at(i));
      return draft;
    }
  }
  return [];
}

/** When the engine speculates: `tokens` drafted per greedy row (0: never), while a batch holds at most `maxRows` rows. */
export interface PromptLookup {
  tokens: number;
  maxRows: number;
}

export const NO_PROMPT_LOOKUP: PromptLookup = { tokens: 0, maxRows: 0 };
/** The engine's default (engine-options.ts), measured with bench/engine.bench.ts: see the README's "Speculative decoding". */
export const DEFAULT_PROMPT_LOOKUP: PromptLookup = { tokens: 4, maxRows: 2 };
/** Most tokens a row may draft per step: every drafted token is a position the model computes. */
export const MAX_DRAFT_TOKENS = 16;
