/**
 * Does an annotation only restate the question? It does when it reuses the question's
 * content words and adds fewer than a few of its own: `"Eating soup means eating only
 * solids" is false.` adds none, an explanation adds several. Words that frame without
 * explaining ("the sentence doesn't provide any information about ...") add nothing, and
 * a word counts as the question's when its stem is (practice, practicing). A text that
 * does not reuse the question at all ("A", "True") restates nothing: too short is its own
 * check.
 */
import { STOPWORDS, wordsOf } from './words.js';

/** Framing words that carry no explanation of their own. */
const FRAMING = new Set(
  (
    "doesn't don't isn't aren't wasn't it's that's there's provide provides provided any information " +
    'factual fact facts mention mentions specify specifies original given possible entirely indeed ' +
    'actually also just only very really common mistake mistakes fundamental fundamentals step think'
  ).split(' '),
);

/** A crude stem, enough to match practicing/practice and takes/take across question and text. */
function stem(word: string): string {
  return word.replace(/(?:ing|ed|es|s|ly)$/, '') || word;
}

const content = (word: string): boolean => word.length >= 2 && !STOPWORDS.has(word) && !FRAMING.has(word);

export interface Restatement {
  /** Distinct content words also in the question (by stem). */
  reused: number;
  /** Distinct content words the question does not have. */
  novel: number;
}

export function restatementOf(text: string, question: string, answer: string): Restatement {
  const known = new Set([...wordsOf(question), ...wordsOf(answer)].map(stem));
  const reused = new Set<string>();
  const novel = new Set<string>();
  for (const word of wordsOf(text)) {
    if (!content(word)) continue;
    (known.has(stem(word)) ? reused : novel).add(stem(word));
  }
  return { reused: reused.size, novel: novel.size };
}

/** Distinct content words of `text` found neither in `question` nor in `answer`. */
export function novelContentWords(text: string, question: string, answer: string): number {
  return restatementOf(text, question, answer).novel;
}

/** Reuses at least `minReused` of the question's content words and adds fewer than `minNovel`. */
export function restatesQuestion(text: string, question: string, answer: string, minNovel: number, minReused = 2): boolean {
  const { reused, novel } = restatementOf(text, question, answer);
  return reused >= minReused && novel < minNovel;
}
