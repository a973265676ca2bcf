/**
 * Degenerate repetition: the share of an annotation's word n-grams that repeat an
 * earlier one. "The answer is (A). The answer is (A). ..." scores near 1; ordinary
 * prose scores near 0 (a phrase said twice in 60 words moves it a few percent).
 * An n-gram made only of the question's words does not count as a repeat: quoting the
 * question twice is restating it (its own check), not looping.
 */
import { wordsOf } from './words.js';

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
