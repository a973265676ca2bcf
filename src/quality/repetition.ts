/**
 * Degenerate repetition. The gate's measure is the longest verbatim repeat that counts as a
 * loop by the labelled fixture's rule (test/fixtures/quality/README.md, rule v3): a run of
 * words said twice that holds a word of the text's own, a run said three times, or a whole
 * sentence said again. A run made only of the question's words and the checks' stopwords said
 * twice is a template's frame or a quote of the question, not a loop ("The subject of the
 * sentence is "Joan of Arc" ... The object of the sentence is "Joan of Arc"").
 *
 * `repeatedNgramShare`, the share of word n-grams repeating an earlier one, was the default
 * measure before; it stays available (`maxRepeatedNgramShare`).
 */
import { STOPWORDS, wordsOf } from './words.js';

/** Repeated n-grams over all n-grams of `text`'s words; 0 when it has fewer than `n` words. */
export function repeatedNgramShare(text: string, n: number, question = ''): number {
  const words = wordsOf(text);
  const total = words.length - n + 1;
  if (total <= 0) return 0;
  const questionWords = new Set(wordsOf(question));
  const seen = new Set<string>();
  let repeated = 0;
  for (let i = 0; i < total; i++) {
    const gram = words.slice(i, i + n);
    const key = gram.join(' ');
    if (!seen.has(key)) seen.add(key);
    else if (!gram.every((w) => questionWords.has(w))) repeated++;
  }
  return repeated / total;
}

/** "1.", "2)" or "(3)" opening a line, and "Step 4:" anywhere: structure, not words. */
const LIST_MARKER = /\bstep\s+\d+\s*[:.)-]?|(?:^|\n)[ \t]*(?:\d+[.)]|\(\d+\))(?=\s)/gi;
/** A sentence ends at . ! ? or … (closing quotes or brackets after it) before white space, or at a line break. */
const SENTENCE_END = /(?<=[.!?…]["'”’)\]]*)[ \t]+|\s*\n\s*/;
const ENDS_SENTENCE = /[.!?…]["'”’)\]]*\s*$|\n\s*$/;
/** A sentence of this many words said three times loops, however short ("The answer is (A)."). */
export const THRICE_SENTENCE_WORDS = 3;

/** The longest repeat of a text that counts toward a loop, and how it counts. */
export interface Repeat {
  /** Whether it loops: `words` reach the minimum, or it is a sentence said three times. */
  loops: boolean;
  /** Its length in words; 0 when nothing repeats. */
  words: number;
  /** How often it occurs, not overlapping. */
  times: number;
  /** `own`: a run said twice or more holding a word of the text's own; `thrice`: a run said three times; `sentence`: a whole sentence said again. */
  how: 'own' | 'thrice' | 'sentence' | 'none';
  run: string;
}

/** How often `run` occurs in `words`, counting from the left without overlaps. */
function occurrences(words: readonly string[], run: readonly string[]): number {
  let count = 0;
  for (let k = 0; k + run.length <= words.length; ) {
    let same = true;
    for (let t = 0; t < run.length && same; t++) same = words[k + t] === run[t];
    if (same) { count++; k += run.length; } else k++;
  }
  return count;
}

/** The words the repetition rule counts: the checks' words, list and step markers dropped. */
export function repetitionWords(text: string): string[] {
  return wordsOf(text.replace(LIST_MARKER, ' '));
}

/** The text's complete sentences, as words; a cut text's unfinished last piece is none. */
export function sentenceWords(text: string): string[][] {
  const pieces = text.replace(LIST_MARKER, ' ').split(SENTENCE_END);
  if (!ENDS_SENTENCE.test(text)) pieces.pop();
  return pieces.map(wordsOf).filter((s) => s.length > 0);
}

/**
 * The longest repeat of `text` that counts toward a loop; it loops when it has at least
 * `minWords` words, or when it is a sentence of {@link THRICE_SENTENCE_WORDS} words or more
 * said three times.
 */
export function longestRepeat(text: string, question = '', minWords = 6): Repeat {
  const words = repetitionWords(text);
  const questionWords = new Set(wordsOf(question));
  const own = (w: string) => !questionWords.has(w) && !STOPWORDS.has(w);
  let best: Omit<Repeat, 'loops'> = { words: 0, times: 0, how: 'none', run: '' };
  let thriceSentence: Omit<Repeat, 'loops'> | undefined;
  const consider = (r: Omit<Repeat, 'loops'>) => {
    if (r.words > best.words) best = r;
  };
  // A run said twice: the longest common extension of two non-overlapping starts.
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j + best.words < words.length; j++) {
      let length = 0;
      while (j + length < words.length && i + length < j && words[i + length] === words[j + length]) length++;
      if (length <= best.words) continue;
      const run = words.slice(i, i + length);
      if (run.some(own)) consider({ words: length, times: occurrences(words, run), how: 'own', run: run.join(' ') });
    }
  }
  // A run said three times, whatever its words.
  for (let length = Math.max(best.words + 1, 1); length * 3 <= words.length; length++) {
    let found: { run: string[]; times: number } | undefined;
    for (let i = 0; i + length <= words.length && !found; i++) {
      const run = words.slice(i, i + length);
      const times = occurrences(words, run);
      if (times >= 3) found = { run, times };
    }
    if (!found) break;
    consider({ words: length, times: found.times, how: 'thrice', run: found.run.join(' ') });
  }
  // A whole sentence said again.
  for (const sentence of sentenceWords(text)) {
    if (sentence.length < THRICE_SENTENCE_WORDS) continue;
    const times = occurrences(words, sentence);
    if (times < 2) continue;
    const repeat = { words: sentence.length, times, how: 'sentence' as const, run: sentence.join(' ') };
    consider(repeat);
    if (times >= 3 && thriceSentence === undefined) thriceSentence = repeat;
  }
  if (best.words >= minWords) return { ...best, loops: true };
  return thriceSentence ? { ...thriceSentence, loops: true } : { ...best, loops: false };
}
