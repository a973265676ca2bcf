/**
 * Precision and recall of the quality gate's checks (src/quality/checks.ts, at the
 * defaults of src/quality/quality-options.ts) against the hand-labelled annotations in
 * test/fixtures/quality/labelled-annotations.jsonl, per split and per check (the fixture's
 * README says which splits tuned which check and which are held out). An annotation counts for
 * a check only when it was labelled for it (`labelled`; absent: every text check). Prints JSON.
 *
 *   npx tsx tools/quality/detector-scores.ts [--errors]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { checkAnnotation, failedChecks, TEXT_CHECKS, type QualityCheckName } from '../../src/quality/checks.js';
import { DEFAULT_QUALITY } from '../../src/quality/quality-options.js';
import type { AnnotationKind } from '../../src/teacher/types.js';

export interface LabelledAnnotation {
  id: string;
  split: 'dev' | 'test' | 'test-2' | 'dev-2' | 'test-3' | 'test-4';
  question: string;
  answer: string;
  kind: AnnotationKind;
  finishReason: string;
  text: string;
  labels: QualityCheckName[];
  /** The checks it was labelled for; absent: all of TEXT_CHECKS. */
  labelled?: QualityCheckName[];
  /** How it was generated, for the lines added with `labelled`: `old-defaults` or `default-topology`. */
  generation?: string;
}

/** Whether `a` was labelled for `check`. */
export const labelledFor = (a: LabelledAnnotation, check: QualityCheckName): boolean => a.labelled === undefined || a.labelled.includes(check);

export interface Score {
  check: QualityCheckName;
  split: string;
  positives: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
}

export const LABELLED_FILE = join(PROJECT_ROOT, 'test', 'fixtures', 'quality', 'labelled-annotations.jsonl');

/**
 * The repetition check's own tuning and held-out splits: rule v3 of the fixture's README was
 * applied to dev, test and test-2 after they had been read, so they tune it with dev-2; test-3
 * was labelled by that rule before any detector ran on it.
 */
export const REPETITION_SPLITS = { tuning: ['dev', 'test', 'test-2', 'dev-2'], heldOut: ['test-3', 'test-4'] } as const;

export function readLabelled(path = LABELLED_FILE): LabelledAnnotation[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LabelledAnnotation);
}

/** Predicted failures of each annotation at the default thresholds. */
export function predict(a: LabelledAnnotation): QualityCheckName[] {
  return failedChecks(checkAnnotation(a, DEFAULT_QUALITY.checks));
}

export function scores(items: readonly LabelledAnnotation[], split: string): Score[] {
  return TEXT_CHECKS.map((check) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const a of items) {
      if (!labelledFor(a, check)) continue;
      const predicted = predict(a).includes(check);
      const actual = a.labels.includes(check);
      if (predicted && actual) tp++;
      else if (predicted) fp++;
      else if (actual) fn++;
    }
    return {
      check, split, positives: tp + fn, truePositives: tp, falsePositives: fp, falseNegatives: fn,
      precision: tp + fp === 0 ? 1 : tp / (tp + fp),
      recall: tp + fn === 0 ? 1 : tp / (tp + fn),
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const all = readLabelled();
  const report: Record<string, unknown> = {};
  for (const split of [...new Set(all.map((a) => a.split)), 'all']) {
    const items = split === 'all' ? all : all.filter((a) => a.split === split);
    report[split] = { annotations: items.length, checks: scores(items, split).map(({ split: _s, ...s }) => ({ ...s, precision: +s.precision.toFixed(3), recall: +s.recall.toFixed(3) })) };
  }
  for (const [name, splits] of Object.entries(REPETITION_SPLITS)) {
    const items = all.filter((a) => (splits as readonly string[]).includes(a.split));
    const [s] = scores(items, name).filter((x) => x.check === 'repetition');
    report[`repetition ${name} (${splits.join(', ')})`] = { ...s, split: undefined, precision: +s!.precision.toFixed(3), recall: +s!.recall.toFixed(3) };
  }
  if (process.argv.includes('--errors')) {
    report.errors = all.flatMap((a) => {
      const p = predict(a);
      const wrong = TEXT_CHECKS.filter((c) => labelledFor(a, c) && p.includes(c) !== a.labels.includes(c));
      return wrong.length ? [{ id: a.id, kind: a.kind, split: a.split, labels: a.labels, predicted: p, text: a.text.slice(0, 160) }] : [];
    });
  }
  console.log(JSON.stringify(report, null, 1));
}
