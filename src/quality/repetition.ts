/**
 * Degenerate repetition: the share of an annotation's word n-grams that repeat an
 * earlier one. "The answer is (A). The answer is (A). ..." scores near 1; ordinary
 * prose scores near 0 (a phrase said twice in 60 words moves it a few percent).
 */
import { wordsOf } from './words.js';

/** Repeated n-grams over all n-grams of `text`'s words; 0 when it has fewer than `n` words. */
export function repeatedNgramShare(text: string, n: number): number {
  const words = wordsOf(text);
  const total = words.length - n + 1;
  if (total <= 0) return 0;
  const seen = new Set<string>();
  let repeated = 0;
  for (let i = 0; i < total; i++) {
    const gram = words.slice(i, i + n).join(' ');
    if (seen.has(gram)) repeated++;
    else seen.add(gram);
  }
  return repeated / total;
}
