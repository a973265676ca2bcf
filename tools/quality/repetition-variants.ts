/**
 * Variants of the repetition check, each with its threshold chosen on the labelled
 * fixture's repetition tuning split only (dev, test, test-2 and dev-2, labelled by rule v3;
 * `REPETITION_SPLITS`), then scored on every split (test/fixtures/quality/). The labels of
 * the held-out test-3 are never read to choose anything. The gate's detector at its default
 * (src/quality/repetition.ts) and the measure it had before, the 4-gram share at 0.12, are
 * printed first.
 *
 *   npx tsx tools/quality/repetition-variants.ts
 *
 * Selection on the tuning split: the variant and threshold with the highest min(precision,
 * recall), then the highest F1, then the widest gap between its values on either side of the threshold
 * relative to it (a threshold in a wide gap depends less on where in it it lands). The
 * threshold is the middle of that gap.
 */
import { deflateRawSync } from 'node:zlib';
import { longestRepeat, repeatedNgramShare, repetitionWords, sentenceWords } from '../../src/quality/repetition.js';
import { DEFAULT_QUALITY } from '../../src/quality/quality-options.js';
import { wordsOf } from '../../src/quality/words.js';
import { labelledFor, readLabelled, REPETITION_SPLITS, type LabelledAnnotation } from './detector-scores.js';

export type Markers = 'kept' | 'boundary';

/** "Step 3:" anywhere; "2.", "2)", "(2)", "(A)", "A." or "A)" opening a line. */
const LIST_MARKER = /\bstep\s+\d+\s*[:.)]?|(?:^|\n)[ \t]*(?:\d+[.)]|\(\d+\)|\([a-z]\)|[a-z][.)])(?=\s)/gi;

/**
 * The text's words in runs: one run with `kept`; with `boundary`, list and step markers are
 * dropped and split the text, so no n-gram spans two items (structure, not looping).
 */
export function wordRuns(text: string, markers: Markers): string[][] {
  if (markers === 'kept') return [wordsOf(text)];
  return text.split(LIST_MARKER).map(wordsOf).filter((run) => run.length > 0);
}

function* ngrams(runs: string[][], n: number): Generator<{ run: number; start: number; gram: string[] }> {
  for (let r = 0; r < runs.length; r++) for (let i = 0; i + n <= runs[r]!.length; i++) yield { run: r, start: i, gram: runs[r]!.slice(i, i + n) };
}

/** Repeated n-grams over all n-grams (the gate's measure), within runs; question-only n-grams do not count. */
export function ngramShare(text: string, question: string, n: number, markers: Markers): number {
  const questionWords = new Set(wordsOf(question));
  const seen = new Set<string>();
  let total = 0;
  let repeated = 0;
  for (const { gram } of ngrams(wordRuns(text, markers), n)) {
    total++;
    const key = gram.join(' ');
    if (!seen.has(key)) seen.add(key);
    else if (!gram.every((w) => questionWords.has(w))) repeated++;
  }
  return total === 0 ? 0 : repeated / total;
}

/** The share of the words that lie inside a repeat of an earlier n-gram. */
export function repeatedWordCoverage(text: string, question: string, n: number, markers: Markers): number {
  const questionWords = new Set(wordsOf(question));
  const runs = wordRuns(text, markers);
  const covered = runs.map((run) => new Array<boolean>(run.length).fill(false));
  const seen = new Set<string>();
  for (const { run, start, gram } of ngrams(runs, n)) {
    const key = gram.join(' ');
    if (!seen.has(key)) seen.add(key);
    else if (!gram.every((w) => questionWords.has(w))) for (let j = start; j < start + n; j++) covered[run]![j] = true;
  }
  const words = runs.reduce((sum, run) => sum + run.length, 0);
  return words === 0 ? 0 : covered.flat().filter(Boolean).length / words;
}

/** The longest span of words said twice (not overlapping, neither crossing a run's end), not made only of the question's words. */
export function longestRepeatedSpan(text: string, question: string, markers: Markers): number {
  const questionWords = new Set(wordsOf(question));
  const words: string[] = [];
  const runOf: number[] = [];
  wordRuns(text, markers).forEach((run, r) => run.forEach((w) => { words.push(w); runOf.push(r); }));
  let best = 0;
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j < words.length; j++) {
      let length = 0;
      let content = false;
      while (j + length < words.length && i + length < j && words[i + length] === words[j + length] && runOf[i + length] === runOf[i] && runOf[j + length] === runOf[j]) {
        if (!questionWords.has(words[i + length]!)) content = true;
        length++;
      }
      if (content && length > best) best = length;
    }
  }
  return best;
}

/**
 * A repeated tail: the longest span ending within the text's last 3 words (a loop cut at
 * the token limit stops mid-repeat) that also occurs earlier, as a share of the words.
 */
export function repeatedTailShare(text: string, question: string, markers: Markers): number {
  const questionWords = new Set(wordsOf(question));
  const words = wordRuns(text, markers).flat();
  let best = 0;
  for (let end = words.length; end > Math.max(0, words.length - 4); end--) {
    for (let j = 0; j < end - 1; j++) {
      let length = 0;
      let content = false;
      while (length <= j && end - 1 - length > j && words[j - length] === words[end - 1 - length]) {
        if (!questionWords.has(words[j - length]!)) content = true;
        length++;
      }
      if (content && length > best) best = length;
    }
  }
  return words.length === 0 ? 0 : best / words.length;
}

/** 1 - the deflated size of the text's words over their size: near 0 for prose, higher the more it repeats. */
export function compressionGain(text: string): number {
  const raw = Buffer.from(repetitionWords(text).join(' '));
  return raw.length === 0 ? 0 : 1 - deflateRawSync(raw).length / raw.length;
}

/** The longest whole sentence said again (words), or 0. */
export function repeatedSentenceWords(text: string): number {
  const words = repetitionWords(text).join(' ');
  let best = 0;
  for (const s of sentenceWords(text)) {
    const key = s.join(' ');
    const first = ` ${words} `.indexOf(` ${key} `);
    if (s.length > best && first >= 0 && ` ${words} `.indexOf(` ${key} `, first + key.length + 1) >= 0) best = s.length;
  }
  return best;
}

/**
 * The gate's measure as a number: the words of the longest repeat that counts (a run said
 * twice holding an own word, a run said three times, a sentence said again), and 99 for a
 * sentence said three times when `thriceSentences`.
 */
export function repeatWords(text: string, question: string, thriceSentences: boolean): number {
  const longest = longestRepeat(text, question, 1).words;
  return thriceSentences && longestRepeat(text, question, 99).loops ? 99 : longest;
}

export interface Variant {
  name: string;
  measure: (text: string, question: string) => number;
}

export function variants(): Variant[] {
  const out: Variant[] = [];
  for (const markers of ['kept', 'boundary'] as const) {
    for (const n of [3, 4, 5, 6, 7, 8]) {
      out.push({ name: `n-gram share, n=${n}, markers ${markers}`, measure: (t, q) => ngramShare(t, q, n, markers) });
      out.push({ name: `word coverage, n=${n}, markers ${markers}`, measure: (t, q) => repeatedWordCoverage(t, q, n, markers) });
    }
    out.push({ name: `longest repeated span, markers ${markers}`, measure: (t, q) => longestRepeatedSpan(t, q, markers) });
    out.push({ name: `repeated tail, markers ${markers}`, measure: (t, q) => repeatedTailShare(t, q, markers) });
  }
  out.push({ name: 'compression gain (deflate)', measure: (t) => compressionGain(t) });
  out.push({ name: 'longest sentence said again', measure: (t) => repeatedSentenceWords(t) });
  out.push({ name: 'longest counting repeat (own word twice, any thrice, sentence again)', measure: (t, q) => repeatWords(t, q, false) });
  out.push({ name: '... and a sentence of 3+ words three times (the gate\'s)', measure: (t, q) => repeatWords(t, q, true) });
  return out;
}

export interface Counts { tp: number; fp: number; fn: number; precision: number; recall: number }

export function count(values: readonly { value: number; looping: boolean }[], threshold: number): Counts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const { value, looping } of values) {
    const flagged = value > threshold;
    if (flagged && looping) tp++;
    else if (flagged) fp++;
    else if (looping) fn++;
  }
  return { tp, fp, fn, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn) };
}

const f1 = (c: Counts): number => (c.precision + c.recall === 0 ? 0 : (2 * c.precision * c.recall) / (c.precision + c.recall));

function lexicographicallyGreater(a: readonly number[], b: readonly number[]): boolean {
  const i = a.findIndex((v, k) => v !== b[k]);
  return i >= 0 && a[i]! > b[i]!;
}

/** The threshold (flag when the value exceeds it) chosen on the tuning split by the rule in this file's header. */
export function chooseThreshold(tuning: readonly { value: number; looping: boolean }[]): { threshold: number; gap: number; tuning: Counts } {
  const distinct = [...new Set(tuning.map((d) => d.value))].sort((a, b) => a - b);
  let best: { key: number[]; threshold: number; gap: number; tuning: Counts } | undefined;
  for (let k = 0; k < distinct.length; k++) {
    const below = distinct[k]!;
    const above = distinct[k + 1] ?? below;
    const threshold = (below + above) / 2;
    const c = count(tuning, threshold);
    const gap = threshold === 0 ? 0 : (above - below) / threshold;
    const key = [Math.min(c.precision, c.recall), f1(c), gap];
    if (best === undefined || lexicographicallyGreater(key, best.key)) best = { key, threshold, gap, tuning: c };
  }
  return best ?? { threshold: 0, gap: 0, tuning: count(tuning, 0) };
}

const SPLITS = ['dev', 'test', 'test-2', 'dev-2', 'tuning', 'test-3', 'test-4', 'held out', 'all'] as const;

function inSplit(a: LabelledAnnotation, split: (typeof SPLITS)[number]): boolean {
  if (split === 'all') return true;
  if (split === 'tuning') return (REPETITION_SPLITS.tuning as readonly string[]).includes(a.split);
  if (split === 'held out') return (REPETITION_SPLITS.heldOut as readonly string[]).includes(a.split);
  return a.split === split;
}

function row(name: string, threshold: number, all: readonly LabelledAnnotation[], measure: Variant['measure']): string {
  const cells = SPLITS.map((split) => {
    const c = count(all.filter((a) => inSplit(a, split)).map((a) => ({ value: measure(a.text, a.question), looping: a.labels.includes('repetition') })), threshold);
    return `${c.precision.toFixed(2)} / ${c.recall.toFixed(2)} (${c.tp}, ${c.fp}, ${c.fn})`;
  });
  return `| ${name} | ${+threshold.toFixed(3)} | ${cells.join(' | ')} |`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const all = readLabelled().filter((a) => labelledFor(a, 'repetition'));
  const tuning = all.filter((a) => inSplit(a, 'tuning'));
  const minWords = DEFAULT_QUALITY.checks.repeatWords!;
  const chosen = variants()
    .map((v) => ({ ...v, ...chooseThreshold(tuning.map((a) => ({ value: v.measure(a.text, a.question), looping: a.labels.includes('repetition') }))) }))
    .sort((a, b) => Math.min(b.tuning.precision, b.tuning.recall) - Math.min(a.tuning.precision, a.tuning.recall) || f1(b.tuning) - f1(a.tuning) || b.gap - a.gap);
  console.log(`precision / recall (true positives, false positives, misses); thresholds chosen on the tuning split, best on it first`);
  console.log(`| variant | threshold | ${SPLITS.join(' | ')} |`);
  console.log(`|---|---|${SPLITS.map(() => '---').join('|')}|`);
  console.log(row(`the gate's default: a counting repeat of ${minWords} words or a sentence three times`, 0.5, all, (t, q) => (longestRepeat(t, q, minWords).loops ? 1 : 0)));
  console.log(row(`the gate's measure before: n-gram share, n=4`, 0.12, all, (t, q) => repeatedNgramShare(t, 4, q)));
  for (const v of chosen) console.log(row(v.name, v.threshold, all, v.measure));
}
