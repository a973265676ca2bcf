/**
 * The demo's readable output: each sample's question and gold answer, then its three
 * explanations (or why it was dead-lettered), in the order of the demo file.
 */
import type { Annotation, AugmentedSample, DeadLetter } from '../records/types.js';
import type { DemoOutcome } from './watch-results.js';

const LABELS: [keyof Pick<AugmentedSample, 'fundamentals' | 'chainOfThought' | 'commonMistakes'>, string][] = [
  ['fundamentals', 'Fundamentals'],
  ['chainOfThought', 'Chain of thought'],
  ['commonMistakes', 'Common mistakes'],
];

/** Wraps `text` at `width` columns, indenting every line. */
export function wrap(text: string, indent: string, width = 88): string {
  const lines: string[] = [];
  for (const paragraph of text.trim().split(/\n+/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        lines.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(indent + line);
  }
  return lines.length > 0 ? lines.join('\n') : `${indent}(empty)`;
}

/** What the quality gate found, when the topology has one: ` [passed]`, ` [failed: contradiction; 3 attempts]`, ` [passed; trimmed to its last sentence]`. */
function gate(value: Annotation): string {
  const q = value.quality;
  if (!q) return '';
  const attempts = q.attempts > 1 ? `; ${q.attempts} attempts` : '';
  const trimmed = (q.repairs ?? []).includes('trimmed') ? '; trimmed to its last sentence' : '';
  return q.passed ? ` [passed${attempts}${trimmed}]` : ` [failed: ${q.failedChecks.join(', ')}${attempts}${trimmed}]`;
}

function annotation(label: string, value: Annotation | null): string {
  if (!value) return `  ${label}: (not generated)`;
  const cut = value.finishReason === 'length' ? ' [cut at the token limit]' : '';
  return `  ${label}${cut}${gate(value)}:\n${wrap(value.text, '    ')}`;
}

function augmented(index: number, total: number, s: AugmentedSample): string {
  return [
    `[${index}/${total}] ${s.id}  (${s.task})`,
    `  Question: ${s.question}`,
    `  Answer:   ${s.answer}`,
    ...LABELS.map(([field, label]) => annotation(label, s[field])),
  ].join('\n');
}

function deadLettered(index: number, total: number, id: string, d: DeadLetter): string {
  return [`[${index}/${total}] ${id}`, `  dead-lettered at ${d.stage} after ${d.attempts} attempt(s): ${d.errorCode}: ${d.errorMessage}`].join('\n');
}

export function renderResults(ids: readonly string[], outcomes: ReadonlyMap<string, DemoOutcome>): string {
  return ids
    .map((id, i) => {
      const outcome = outcomes.get(id);
      if (!outcome) return `[${i + 1}/${ids.length}] ${id}\n  (no result)`;
      return outcome.kind === 'augmented'
        ? augmented(i + 1, ids.length, outcome.record)
        : deadLettered(i + 1, ids.length, id, outcome.record);
    })
    .join('\n\n');
}
