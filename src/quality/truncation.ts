/**
 * Cut at the token limit in mid-sentence: the engine stopped for `length` and the text
 * does not end a sentence. A text that hit the limit right after a full stop is whole.
 *
 * `trimToLastSentence` is the gate's repair for such a cut (`quality.trimTruncated`): the
 * text up to its last complete sentence, which must then pass every other check.
 */

const SENTENCE_END = /[.!?…]["')\]»”’]*$/u;
// A sentence end followed by white space: "3.5" and "e.g.," do not end a sentence here,
// nor does a list's number alone on its line ("\n2. "), which opens the next item.
const SENTENCE_BREAK = /[.!?…]["')\]»”’]*(?=\s)/gu;
const LIST_NUMBER = /(?:^|\n)[ \t]*\d+\.$/u;

export function cutMidSentence(text: string, finishReason: string): boolean {
  return finishReason === 'length' && !SENTENCE_END.test(text.trimEnd());
}

/** `text` up to the end of its last complete sentence, or undefined when it has none. */
export function trimToLastSentence(text: string): string | undefined {
  let end = -1;
  for (const m of text.matchAll(SENTENCE_BREAK)) {
    const at = m.index + m[0].length;
    if (!LIST_NUMBER.test(text.slice(0, at))) end = at;
  }
  return end > 0 ? text.slice(0, end).trimEnd() : undefined;
}
