/**
 * The decoding controls of Hugging Face `generate`, applied to one row's logits before
 * the next token is picked, exactly as transformers' logits processors do:
 *
 * - `repetitionPenalty` (RepetitionPenaltyLogitsProcessor): every token already in the
 *   sequence, prompt included, has its logit divided by the penalty when positive and
 *   multiplied by it when negative;
 * - `noRepeatNgramSize` (NoRepeatNGramLogitsProcessor): a token that would complete an
 *   n-gram already in the sequence, prompt included, is banned;
 * - `minNewTokens` (MinNewTokensLengthLogitsProcessor): end-of-sequence tokens are banned
 *   until that many tokens were generated;
 * - `badWords` (NoBadWordsLogitsProcessor, `bad_words_ids`): the last token of each banned
 *   sequence is banned when the sequence's other tokens end the sequence so far.
 *
 * Each row sees only its own sequence, so a prompt's output alone equals its output in a
 * batch.
 */
import type { GenerationOptions } from './types.js';

export interface RowSequence {
  /** The prompt's token ids. */
  prompt: ArrayLike<number>;
  /** The ids generated so far. */
  generated: readonly number[];
  /** `options.badWords` as token sequences (the row's tokenizer's). */
  badWordIds?: readonly (readonly number[])[];
}

/** True when any control is set, so rows without them skip the work entirely. */
export function hasLogitsProcessors(options: GenerationOptions): boolean {
  return (
    (options.repetitionPenalty !== undefined && options.repetitionPenalty !== 1) ||
    (options.noRepeatNgramSize ?? 0) > 0 ||
    (options.minNewTokens ?? 0) > 0 ||
    (options.badWords?.length ?? 0) > 0
  );
}

function tokenAt(seq: RowSequence, i: number): number {
  const n = seq.prompt.length;
  return i < n ? seq.prompt[i]! : seq.generated[i - n]!;
}

/** Applies the row's controls to `logits[offset, offset + vocab)` in place. */
export function applyLogitsProcessors(
  logits: Float32Array,
  offset: number,
  vocab: number,
  options: GenerationOptions,
  seq: RowSequence,
  eosIds: Iterable<number>,
): void {
  const length = seq.prompt.length + seq.generated.length;
  const penalty = options.repetitionPenalty;
  if (penalty !== undefined && penalty !== 1) {
    const seen = new Set<number>();
    for (let i = 0; i < length; i++) seen.add(tokenAt(seq, i));
    for (const token of seen) {
      if (token < 0 || token >= vocab) continue;
      const v = logits[offset + token]!;
      logits[offset + token] = v < 0 ? v * penalty : v / penalty;
    }
  }
  const n = options.noRepeatNgramSize ?? 0;
  if (n > 0 && length + 1 >= n) {
    // The last n-1 tokens; every earlier occurrence of them bans the token that followed.
    for (let start = 0; start + n <= length; start++) {
      let match = true;
      for (let j = 0; j < n - 1 && match; j++) match = tokenAt(seq, start + j) === tokenAt(seq, length - n + 1 + j);
      if (match) {
        const banned = tokenAt(seq, start + n - 1);
        if (banned >= 0 && banned < vocab) logits[offset + banned] = -Infinity;
      }
    }
  }
  for (const banned of seq.badWordIds ?? []) {
    const last = banned.length - 1;
    if (last < 0 || length < last) continue;
    let match = true;
    for (let j = 0; j < last && match; j++) match = tokenAt(seq, length - last + j) === banned[j];
    const token = banned[last]!;
    if (match && token >= 0 && token < vocab) logits[offset + token] = -Infinity;
  }
  if ((options.minNewTokens ?? 0) > seq.generated.length) {
    for (const eos of eosIds) if (eos >= 0 && eos < vocab) logits[offset + eos] = -Infinity;
  }
}
