/**
 * Word-level views of an annotation, shared by the quality checks: lower-cased words
 * with surrounding punctuation removed, so "(A)." and "(a)" are the same word.
 */

/** The words of `text`, lower-cased, punctuation trimmed from each end; empty pieces dropped. */
export function wordsOf(text: string): string[] {
  const words: string[] = [];
  for (const piece of text.toLowerCase().split(/\s+/)) {
    const word = piece.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
    if (word !== '') words.push(word);
  }
  return words;
}

/**
 * Function words that carry no content of their own: an annotation made only of these
 * and the question's words explains nothing new.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then so because as of to in on at by for with from into about than ' +
    'is are was were be been being am do does did has have had it its this that these those ' +
    'there here which who whom what when where why how not no yes i you he she we they them ' +
    'his her our their my your me us can could would should will shall may might must ' +
    'answer question sentence statement following correctness determine true false correct ' +
    'incorrect option options'
  ).split(' '),
);
