/**
 * The faithfulness check, scored by the teacher itself: does its chain of thought lead it
 * to the gold answer? TeacherLM evaluates a model by the log-likelihood of each option
 * letter after `Q: {question} A: The answer is (` (the paper's protocol); here the teacher
 * is given its own chain of thought instead of the answer, closed by zero-shot CoT's
 * answer trigger (Kojima et al., 2022):
 *
 *   Q: {question} A: Let's think step by step. {cot} Therefore, the answer is (
 *
 * and the check passes when the gold letter's log-likelihood beats every other option's
 * (as STaR keeps only rationales that lead to the right answer). The value recorded is
 * the margin in nats: gold minus the best other option.
 */
import type { ContinuationRequest, ContinuationScorer } from '../teacher/continuation-scorer.js';
import type { CheckResult } from './checks.js';
import { goldLabel, questionOptions } from './question-options.js';

export interface FaithfulnessInput {
  question: string;
  answer: string;
  /** The chain of thought. */
  text: string;
}

/** The scored context, cleaned as the reference cleans prompts (one pass of double spaces to one). */
export function faithfulnessContext(question: string, cot: string): string {
  return `Q: ${question} A: Let's think step by step. ${cot.trim()} Therefore, the answer is (`.replace(/ {2}/g, ' ');
}

/** The option letters to score, gold first; undefined when the question lists no options or the answer names none of them. */
function labelsOf(a: FaithfulnessInput): string[] | undefined {
  const gold = goldLabel(a.answer);
  const labels = [...new Set(questionOptions(a.question).map((o) => o.label))];
  if (gold === undefined || labels.length < 2 || !labels.includes(gold)) return undefined;
  return [gold, ...labels.filter((l) => l !== gold)];
}

/**
 * Checks many chains of thought in one scoring call. Per input, its result; undefined
 * where there is nothing to score (no labelled options), which the gate treats as passed.
 */
export async function checkFaithfulness(scorer: ContinuationScorer, inputs: readonly FaithfulnessInput[]): Promise<(CheckResult | undefined)[]> {
  const requests: ContinuationRequest[] = [];
  const spans = inputs.map((a) => {
    const labels = labelsOf(a);
    if (!labels) return undefined;
    const context = faithfulnessContext(a.question, a.text);
    const start = requests.length;
    for (const label of labels) requests.push({ context, continuation: label });
    return { start, labels };
  });
  const scores = await scorer.score(requests);
  return spans.map((span) => {
    if (!span) return undefined;
    const [gold, ...others] = scores.slice(span.start, span.start + span.labels.length);
    let best = 0;
    for (let i = 1; i < others.length; i++) if (others[i]! > others[best]!) best = i;
    const margin = gold! - others[best]!;
    const passed = margin > 0;
    return {
      check: 'faithfulness',
      passed,
      value: +margin.toFixed(4),
      threshold: 0,
      ...(passed ? {} : { detail: `after the chain of thought the teacher prefers (${span.labels[best + 1]}) by ${(-margin).toFixed(2)} nats` }),
    };
  });
}
