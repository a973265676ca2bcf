/**
 * Cut at the token limit in mid-sentence: the engine stopped for `length` and the text
 * does not end a sentence. A text that hit the limit right after a full stop is whole.
 */

const SENTENCE_END = /[.!?…]["')\]»”’]*$/u;

export function cutMidSentence(text: string, finishReason: string): boolean {
  return finishReason === 'length' && !SENTENCE_END.test(text.trimEnd());
}
