/**
 * Does an annotation only restate the question? Counts its content words that the
 * question and answer do not already hold: `"Eating soup means eating only solids" is
 * false.` adds none, an explanation adds several.
 */
import { STOPWORDS, wordsOf } from './words.js';

/** Distinct content words of `text` found neither in `question` nor in `answer`. */
export function novelContentWords(text: string, question: string, answer: string): number {
  const known = new Set([...wordsOf(question), ...wordsOf(answer)]);
  const novel = new Set<string>();
  for (const word of wordsOf(text)) {
    if (word.length < 2 || STOPWORDS.has(word) || known.has(word)) continue;
    novel.add(word);
  }
  return novel.size;
}
